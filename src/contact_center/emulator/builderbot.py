"""BuilderBot stand-in: messages and blacklist API, incoming and echoed outgoing webhooks."""

from __future__ import annotations

import asyncio
import json
import random
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from contact_center.emulator import scenarios
from contact_center.emulator.delivery import deliver
from contact_center.emulator.state import EmulatorState, now_iso
from contact_center.providers.registry import (
    EMULATOR_BUILDERBOT_API_KEY,
    EMULATOR_BUILDERBOT_BOT_ID,
    EMULATOR_BUILDERBOT_TOKEN,
)
from contact_center.schemas import ApiModel

WEBHOOK_PATH = "/webhooks/builderbot/whatsapp"


class IncomingRequest(ApiModel):
    """`POST /_emulator/builderbot/incoming`: a customer writes to the bank on WhatsApp."""

    from_: str | None = Field(default=None, alias="from")
    body: str | None = None
    name: str | None = None
    media: bool = False
    bot_reply: bool = False


class CustomerWrote(ApiModel):
    """`POST /_emulator/builderbot/wrote`: the customer wrote `hours_ago` (WhatsApp's window)."""

    number: str = Field(min_length=1, max_length=32)
    hours_ago: float = Field(default=0.0, ge=0, le=24 * 365)


# WhatsApp's answer to free text outside the 24-hour window, as BuilderBot passes it on: the
# HTTP error with the Cloud API's code and words (providers.md documents no body of its own).
REENGAGEMENT_CODE = 131047
REENGAGEMENT_DETAILS = (
    "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number."
)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "message": message}, status_code=status)


def _window_closed() -> JSONResponse:
    message = f"(#{REENGAGEMENT_CODE}) Re-engagement message"
    return JSONResponse(
        {
            "error": message,
            "message": message,
            "code": REENGAGEMENT_CODE,
            "details": REENGAGEMENT_DETAILS,
        },
        status_code=400,
    )


async def send_webhook(
    state: EmulatorState, event_name: str, data: dict[str, Any], *, delay: float = 0.0
) -> None:
    body = json.dumps({"eventName": event_name, "data": data}).encode()
    headers = {"Content-Type": "application/json", "X-Webhook-Token": EMULATOR_BUILDERBOT_TOKEN}
    await deliver(
        state,
        state.target_url.rstrip("/") + WEBHOOK_PATH,
        content=body,
        headers=headers,
        delay=delay,
    )


def router(state: EmulatorState) -> APIRouter:
    api = APIRouter(prefix="/builderbot")
    provider = state.builderbot

    def refused(request: Request, bot_id: str) -> JSONResponse | None:
        provider.requests += 1
        if not secrets.compare_digest(
            request.headers.get("x-api-builderbot", ""), EMULATOR_BUILDERBOT_API_KEY
        ):
            return _error(401, "Unauthorized")
        if bot_id != EMULATOR_BUILDERBOT_BOT_ID:
            return _error(404, "Project not found")
        return None

    @api.post("/api/v2/{bot_id}/messages")
    async def send_message(bot_id: str, request: Request) -> JSONResponse:
        if (answer := refused(request, bot_id)) is not None:
            return answer
        try:
            payload = await request.json()
        except ValueError:
            return _error(400, "Invalid JSON body")
        if not isinstance(payload, dict):
            return _error(400, "Invalid body")
        number = str(payload.get("number") or "")
        messages = payload.get("messages")
        fault = provider.take_fault(number)
        if fault is not None:
            if fault.delay_seconds:
                await asyncio.sleep(fault.delay_seconds)
            return _error(fault.status, fault.message or "Injected fault")
        if not re.fullmatch(r"\d{8,15}", number):
            return _error(400, "number must be digits with country code")
        if not isinstance(messages, dict) or not isinstance(messages.get("content"), str):
            return _error(400, "messages.content is required")
        if not state.whatsapp_window_open(number):
            return _window_closed()
        content = messages["content"]
        media_url = messages.get("mediaUrl")
        provider.outbox.append(
            {
                "id": str(uuid.uuid4()),
                "number": number,
                "content": content,
                "mediaUrl": media_url,
                "receivedAt": now_iso(),
            }
        )
        # BuilderBot echoes what the API sent as a `message.outgoing` event.
        data = {"answer": content, "from": number, "projectId": bot_id}
        if media_url:
            data["urlTempFile"] = media_url
        state.spawn(send_webhook(state, "message.outgoing", data, delay=0.1))
        return JSONResponse({"status": "ok"})

    @api.post("/api/v2/{bot_id}/blacklist")
    async def blacklist(bot_id: str, request: Request) -> JSONResponse:
        if (answer := refused(request, bot_id)) is not None:
            return answer
        try:
            payload = await request.json()
        except ValueError:
            return _error(400, "Invalid JSON body")
        number = str(payload.get("number") or "") if isinstance(payload, dict) else ""
        intent = payload.get("intent") if isinstance(payload, dict) else None
        if not re.fullmatch(r"\d{8,15}", number) or intent not in {"add", "remove"}:
            return _error(400, "number and intent (add|remove) are required")
        if intent == "add":
            state.blacklist.add(number)
        else:
            state.blacklist.discard(number)
        provider.outbox.append({"blacklist": intent, "number": number, "receivedAt": now_iso()})
        return JSONResponse({"status": "ok", "number": number, "intent": intent})

    @api.get("/blacklist")
    async def blacklisted() -> dict[str, Any]:
        return {"numbers": sorted(state.blacklist)}

    @api.post("/incoming", status_code=202)
    async def incoming(body: IncomingRequest) -> dict[str, Any]:
        rng = random.Random()  # noqa: S311 - scripted customers, not security
        number = re.sub(r"\D", "", body.from_ or scenarios.random_customer_number(rng))
        name = body.name or scenarios.random_customer_name(rng)
        data: dict[str, Any] = {
            "body": body.body or scenarios.whatsapp_opening(rng, name),
            "name": name,
            "from": number,
            "attachment": [],
            "projectId": EMULATOR_BUILDERBOT_BOT_ID,
        }
        if body.media:
            url = f"https://media.example.com/wa/{uuid.uuid4().hex}.jpeg"
            data["body"] = f"_event_media__{uuid.uuid4()}"
            data["attachment"] = [{"url": url, "mimetype": "image/jpeg"}]
            data["urlTempFile"] = url
        state.customer_wrote(number)
        state.spawn(send_webhook(state, "message.incoming", data))
        if body.bot_reply and number not in state.blacklist:
            reply = {
                "answer": scenarios.whatsapp_bot_reply(rng, str(data["body"]), name),
                "from": number,
                "projectId": EMULATOR_BUILDERBOT_BOT_ID,
            }
            state.spawn(send_webhook(state, "message.outgoing", reply, delay=1.0))
        return {"from": number, "body": data["body"]}

    @api.post("/wrote", status_code=204)
    async def wrote(body: CustomerWrote) -> None:
        """Tell the emulator a customer wrote (e.g. a webhook a test posted to the app itself),
        so WhatsApp's 24-hour window is open for them: sends outside it answer 131047."""
        state.customer_wrote(body.number, datetime.now(UTC) - timedelta(hours=body.hours_ago))

    return api
