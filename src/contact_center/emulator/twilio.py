"""Twilio stand-in: `Messages.json` (send and fetch) with Basic auth, Twilio errors, signed status
callbacks (which can be lost on purpose)."""

from __future__ import annotations

import asyncio
import base64
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import phonenumbers
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from contact_center.emulator.delivery import deliver
from contact_center.emulator.state import CallbackLoss, EmulatorState, FaultSpec, now_iso
from contact_center.providers.registry import (
    EMULATOR_TWILIO_ACCOUNT_SID,
    EMULATOR_TWILIO_AUTH_TOKEN,
)
from contact_center.providers.twilio import compute_signature

# Twilio's magic test numbers (create-time errors) and the emulator's own delivery outcomes.
CREATE_ERRORS = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient."),
    "+15005550009": (21614, "'To' number is not a valid mobile number."),
}
DELIVERY_FAILURES = {
    "+15005550010": ("undelivered", "30003", "Unreachable destination handset."),
    "+15005550011": ("failed", "30005", "Unknown destination handset."),
    "+15005550012": ("undelivered", "30006", "Landline or unreachable carrier."),
}
# Statuses that never get a callback: the message stays "sent" (no carrier receipt).
NO_RECEIPT = {"+15005550013"}


def twilio_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
        headers=headers,
    )


def _basic_auth_ok(request: Request, account_sid: str) -> bool:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return (
        secrets.compare_digest(user, account_sid)
        and secrets.compare_digest(password, EMULATOR_TWILIO_AUTH_TOKEN)
        and account_sid == EMULATOR_TWILIO_ACCOUNT_SID
    )


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=False).replace("-0000", "+0000")


def router(state: EmulatorState) -> APIRouter:
    api = APIRouter(prefix="/twilio")

    @api.post("/2010-04-01/Accounts/{account_sid}/Messages.json")
    async def create_message(account_sid: str, request: Request) -> JSONResponse:
        provider = state.twilio
        provider.requests += 1
        if not _basic_auth_ok(request, account_sid):
            return twilio_error(401, 20003, "Authenticate")
        form = await request.form()
        fields = {key: str(value) for key, value in form.items()}
        to = fields.get("To", "")
        fault = provider.take_fault(to)
        if fault is not None:
            return await _fault_response(fault)
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not fields.get("From") and not fields.get("MessagingServiceSid"):
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if not fields.get("Body") and not fields.get("MediaUrl"):
            return twilio_error(400, 21602, "Message body is required.")
        if len(fields.get("Body", "")) > 1600:
            return twilio_error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if to in CREATE_ERRORS:
            error_code, error_text = CREATE_ERRORS[to]
            return twilio_error(400, error_code, error_text)
        try:
            valid = phonenumbers.is_possible_number(phonenumbers.parse(to, None))
        except phonenumbers.NumberParseException:
            valid = False
        if not to.startswith("+") or not valid:
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        sid = "SM" + secrets.token_hex(16)
        created = datetime.now(UTC)
        body = fields.get("Body", "")
        message: dict[str, Any] = {
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": _rfc2822(created),
            "date_sent": None,
            "date_updated": _rfc2822(created),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": fields.get("From"),
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(max(1, -(-len(body) // 153) if len(body) > 160 else 1)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"
            },
            "to": to,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
        }
        provider.outbox.append(
            {
                "sid": sid,
                "to": to,
                "from": fields.get("From"),
                "body": body,
                "receivedAt": now_iso(),
                "statusCallback": fields.get("StatusCallback"),
                "status": "queued",
            }
        )
        provider.resources[sid] = dict(message)
        # The message moves on whether or not anyone listens to its callbacks.
        state.spawn(_play_statuses(state, fields.get("StatusCallback"), account_sid, message))
        return JSONResponse(message, status_code=201)

    @api.get("/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json")
    async def fetch_message(account_sid: str, sid: str, request: Request) -> JSONResponse:
        """The message resource as the provider last reported it (callbacks lost or not)."""
        provider = state.twilio
        provider.requests += 1
        if not _basic_auth_ok(request, account_sid):
            return twilio_error(401, 20003, "Authenticate")
        resource = provider.resources.get(sid)
        fault = provider.take_fault(resource["to"] if resource else None)
        if fault is not None:
            return await _fault_response(fault)
        if resource is None or resource["account_sid"] != account_sid:
            return twilio_error(
                404,
                20404,
                f"The requested resource /2010-04-01/Accounts/{account_sid}/Messages/{sid}.json"
                " was not found",
            )
        return JSONResponse(resource)

    @api.post("/callbacks/loss", status_code=201)
    async def lose_callbacks(loss: CallbackLoss) -> dict[str, Any]:
        """From now on, lose the status callbacks of these `statuses` (all when empty), for one
        `number` if given: the app never hears of them, as when it was down."""
        state.twilio.callback_losses.append(loss)
        return {"losing": loss.model_dump(by_alias=True)}

    @api.delete("/callbacks/loss", status_code=204)
    async def stop_losing_callbacks() -> None:
        state.twilio.callback_losses.clear()

    return api


async def _fault_response(fault: FaultSpec) -> JSONResponse:
    if fault.delay_seconds:
        await asyncio.sleep(fault.delay_seconds)
    code = int(fault.code) if fault.code is not None else (20429 if fault.status == 429 else 20500)
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
    return twilio_error(fault.status, code, fault.message or "Injected fault", headers)


def _record_status(
    state: EmulatorState, sid: str, status: str, code: str | None, text: str | None
) -> None:
    """The status the provider now reports for the message, in its outbox and its API."""
    for record in state.twilio.outbox:
        if record["sid"] == sid:
            record["status"] = status
    resource = state.twilio.resources.get(sid)
    if resource is None:
        return
    now = _rfc2822(datetime.now(UTC))
    resource["status"] = status
    resource["date_updated"] = now
    if status == "sent":
        resource["date_sent"] = now
    if code:
        resource["error_code"] = int(code)
        resource["error_message"] = text


async def _play_statuses(
    state: EmulatorState, url: str | None, account_sid: str, message: dict[str, Any]
) -> None:
    """`sent`, then `delivered` (or the designated failure), each reported by the API and, to
    the `StatusCallback` if any, by a callback signed like Twilio's (unless set to be lost)."""
    to = message["to"]
    first_delay, second_delay = state.callback_delays
    steps: list[tuple[str, str | None, str | None]] = [("sent", None, None)]
    if to in DELIVERY_FAILURES:
        steps.append(DELIVERY_FAILURES[to])
    elif to not in NO_RECEIPT:
        steps.append(("delivered", None, None))
    for index, (status, code, text) in enumerate(steps):
        await asyncio.sleep(first_delay if index == 0 else second_delay)
        _record_status(state, message["sid"], status, code, text)
        if url is None:
            continue
        if state.twilio.loses_callback(status, to):
            state.deliveries.append({"url": url, "status": None, "lost": True, "at": now_iso()})
            continue
        form = {
            "AccountSid": account_sid,
            "ApiVersion": "2010-04-01",
            "From": message["from"] or "",
            "MessageSid": message["sid"],
            "MessageStatus": status,
            "SmsSid": message["sid"],
            "SmsStatus": status,
            "To": to,
        }
        if code:
            form["ErrorCode"] = code
        if status in {"delivered", "undelivered"}:
            form["RawDlrDoneDate"] = datetime.now(UTC).strftime("%y%m%d%H%M")
        signature = compute_signature(EMULATOR_TWILIO_AUTH_TOKEN, url, form)
        # Twilio retries a failed callback once by default.
        await deliver(state, url, form=form, headers={"X-Twilio-Signature": signature}, attempts=2)
