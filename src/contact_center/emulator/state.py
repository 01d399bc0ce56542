"""The emulator's memory: what each provider received, what it will fail, what it holds."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import Field

from contact_center.schemas import ApiModel

WHATSAPP_WINDOW = timedelta(hours=24)


class FaultSpec(ApiModel):
    """`POST /_emulator/{provider}/faults`: fail the next `count` requests (or for `number`)."""

    status: int = 503
    code: int | str | None = None
    message: str | None = None
    count: int = 1
    number: str | None = None
    delay_seconds: float = 0.0
    retry_after: int | None = None


@dataclass
class Fault:
    spec: FaultSpec
    remaining: int


class CallbackLoss(ApiModel):
    """`POST /_emulator/twilio/callbacks/loss`: status callbacks that are lost (never delivered,
    as when the app was down through Twilio's retries). The message's status still moves on, so
    reading it from the API tells the truth. `statuses` empty or absent: every callback."""

    statuses: list[str] = Field(default_factory=list)
    number: str | None = None

    def drops(self, status: str, to: str) -> bool:
        if self.statuses and status not in self.statuses:
            return False
        if self.number:
            wanted = "".join(ch for ch in self.number if ch.isdigit())
            return wanted == "".join(ch for ch in to if ch.isdigit())
        return True


@dataclass
class ProviderState:
    outbox: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    requests: int = 0
    # What the provider's API answers for each resource it holds, by id (Twilio's messages).
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    callback_losses: list[CallbackLoss] = field(default_factory=list)

    def loses_callback(self, status: str, to: str) -> bool:
        return any(loss.drops(status, to) for loss in self.callback_losses)

    def take_fault(self, number: str | None) -> FaultSpec | None:
        """The first armed fault that applies to this request, counting it down."""
        digits = "".join(ch for ch in number or "" if ch.isdigit())
        for fault in self.faults:
            if fault.remaining <= 0:
                continue
            if fault.spec.number:
                wanted = "".join(ch for ch in fault.spec.number if ch.isdigit())
                if wanted != digits:
                    continue
            fault.remaining -= 1
            return fault.spec
        return None


@dataclass
class EmulatorState:
    """One per app (or per `contact-center emulator` process)."""

    target_url: str
    twilio: ProviderState = field(default_factory=ProviderState)
    builderbot: ProviderState = field(default_factory=ProviderState)
    elevenlabs: ProviderState = field(default_factory=ProviderState)
    whatsapp_cloud: ProviderState = field(default_factory=ProviderState)
    # The emulated WhatsApp Business Account's templates, and the media its customers sent.
    whatsapp_cloud_templates: list[dict[str, Any]] = field(default_factory=list)
    whatsapp_cloud_media: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Free text outside the window fails as a `failed` status webhook instead of HTTP 400.
    whatsapp_cloud_window_as_status: bool = False
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    blacklist: set[str] = field(default_factory=set)
    http: httpx.AsyncClient | None = None
    # Webhooks in flight at once. Thousands of callbacks queued on one httpx pool cost time
    # quadratic in the queue (httpcore matches every waiting request against every connection
    # each time one frees up): a busy emulator spent most of its CPU there.
    delivery_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(16))
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    callback_delays: tuple[float, float] = (0.2, 1.0)
    # WhatsApp's 24-hour window: when each customer (by digits) last wrote, as the emulator knows
    # it (its own simulated customers, `/builderbot/incoming`, or a test saying so).
    whatsapp_inbound: dict[str, datetime] = field(default_factory=dict)

    def customer_wrote(self, number: str, at: datetime | None = None) -> None:
        digits = "".join(ch for ch in number if ch.isdigit())
        self.whatsapp_inbound[digits] = at or datetime.now(UTC)

    def whatsapp_window_open(self, number: str, now: datetime | None = None) -> bool:
        """Free text may be sent: the customer wrote within the last 24 hours."""
        digits = "".join(ch for ch in number if ch.isdigit())
        last = self.whatsapp_inbound.get(digits)
        return last is not None and (now or datetime.now(UTC)) - last < WHATSAPP_WINDOW

    def provider(self, name: str) -> ProviderState:
        state: ProviderState = getattr(self, name.replace("-", "_"))
        return state

    def spawn(self, coroutine: Any) -> None:
        """Run provider-side work (callbacks, webhooks) in the background, keeping a reference."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.http is not None:
            await self.http.aclose()


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
