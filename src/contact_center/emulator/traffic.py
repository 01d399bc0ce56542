"""Simulated customers for `serve --demo`: they keep writing and calling at a gentle pace."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re

import structlog

from contact_center.emulator import builderbot, elevenlabs, scenarios, whatsapp_cloud
from contact_center.emulator.elevenlabs import CallsRequest
from contact_center.emulator.state import EmulatorState
from contact_center.providers.registry import EMULATOR_BUILDERBOT_BOT_ID

log = structlog.get_logger(__name__)


class SimulatedTraffic:
    """Every few seconds a scripted customer writes on WhatsApp (to BuilderBot, whose bot answers,
    or to the bank's Cloud API number) or calls."""

    def __init__(
        self, state: EmulatorState, *, mean_interval: float = 12.0, seed: int | None = None
    ) -> None:
        self.state = state
        self.mean_interval = mean_interval
        self.rng = random.Random(seed)  # noqa: S311 - scripted customers, not security
        self.customers: list[tuple[str, str]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        await asyncio.sleep(3)  # let the server start listening first
        while True:
            try:
                await self.step()
            except Exception as exc:  # the demo must keep going
                log.warning("simulated_traffic_step_failed", error=type(exc).__name__)
            await asyncio.sleep(self.rng.expovariate(1 / self.mean_interval))

    def _customer(self) -> tuple[str, str]:
        if self.customers and self.rng.random() < 0.3:
            return self.rng.choice(self.customers)
        customer = (
            scenarios.random_customer_number(self.rng),
            scenarios.random_customer_name(self.rng),
        )
        self.customers = [*self.customers[-50:], customer]
        return customer

    async def step(self) -> None:
        number, name = self._customer()
        if self.rng.random() < 0.6:
            digits = re.sub(r"\D", "", number)
            # The bot answers the topic the customer opened with, by the customer's name.
            opening, answer = scenarios.whatsapp_exchange(self.rng, name)
            if self.rng.random() < 0.25:
                # The bank's own number (the Cloud API) receives beside BuilderBot: no bot there.
                body, _, _ = whatsapp_cloud.customer_message(self.state, digits, name, opening)
                await whatsapp_cloud.send_webhook(self.state, body)
                return
            data = {
                "body": opening,
                "name": name,
                "from": digits,
                "attachment": [],
                "projectId": EMULATOR_BUILDERBOT_BOT_ID,
            }
            self.state.customer_wrote(digits)
            await builderbot.send_webhook(self.state, "message.incoming", data)
            if digits not in self.state.blacklist:
                reply = {
                    "answer": answer,
                    "from": digits,
                    "projectId": EMULATOR_BUILDERBOT_BOT_ID,
                }
                await builderbot.send_webhook(self.state, "message.outgoing", reply, delay=1.5)
            return
        request = CallsRequest(
            count=1,
            customer_number=number,
            abandoned=self.rng.random() < 0.08,
            seed=self.rng.randrange(2**31),
            customer_name=name,
        )
        for conversation in elevenlabs.create_conversations(self.state, request):
            await elevenlabs.send_call_webhooks(self.state, conversation, audio=True)
