"""WhatsApp Cloud API stand-in: `/{v}/{phone-number-id}/messages` (the 24-hour window,
templates, Graph error bodies), `/{v}/{waba-id}/message_templates` (paged), media by id and its
download, and signed webhooks (customers writing, statuses of what was sent).

Faults (`POST /_emulator/whatsapp-cloud/faults`) apply to sends: `{"status": 400, "code":
130429}` answers the send with that Graph error; a status below 300 (`{"status": 200, "code":
131026}`) accepts the send and then delivers a `failed` status webhook with that code.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import re
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from contact_center.emulator import scenarios
from contact_center.emulator.delivery import deliver
from contact_center.emulator.state import EmulatorState, FaultSpec, now_iso
from contact_center.providers.base import UnparseablePayload
from contact_center.providers.payloads import load_json
from contact_center.providers.registry import (
    EMULATOR_WHATSAPP_CLOUD_ACCESS_TOKEN,
    EMULATOR_WHATSAPP_CLOUD_APP_SECRET,
    EMULATOR_WHATSAPP_CLOUD_DISPLAY_NUMBER,
    EMULATOR_WHATSAPP_CLOUD_PHONE_NUMBER_ID,
    EMULATOR_WHATSAPP_CLOUD_WABA_ID,
)
from contact_center.providers.whatsapp_cloud import signature
from contact_center.schemas import ApiModel

WEBHOOK_PATH = "/webhooks/whatsapp-cloud"
VERSION_RE = re.compile(r"v\d{1,3}\.\d{1,2}")
PAGE_SIZE = 2  # small pages, so `paging.next` is followed even with the default set
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
PLACEHOLDER_RE = re.compile(r"\{\{\s*(\w+)\s*\}\}")

# Meta's words for the errors the emulator gives (title, details, HTTP status).
ERRORS: dict[int, tuple[str, str, int]] = {
    1: ("API Unknown", "Invalid request or possible server error.", 400),
    2: ("API Service", "Temporary due to downtime or due to being overloaded.", 503),
    100: ("Invalid parameter", "The request included invalid or misspelled parameters.", 400),
    190: ("Invalid OAuth access token - Cannot parse access token", "", 401),
    130429: (
        "Rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number in a short period of time.",
        400,
    ),
    131000: ("Something went wrong", "Message failed to send due to an unknown error.", 500),
    131016: ("Service unavailable", "A service is temporarily unavailable.", 503),
    131026: (
        "Message undeliverable",
        "Unable to deliver message. The recipient may not be a WhatsApp user or has not "
        "accepted WhatsApp's terms.",
        400,
    ),
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
        400,
    ),
    131056: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
        400,
    ),
    131057: ("Account in maintenance mode", "Business Account is in maintenance mode.", 500),
    132000: (
        "Number of parameters does not match the expected number of params",
        "The number of variable parameter values does not match the template.",
        400,
    ),
    132001: (
        "Template name does not exist in the translation",
        "The template does not exist in that language or is not approved.",
        404,
    ),
}
ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


def default_templates() -> list[dict[str, Any]]:
    """The emulated account's templates: an approved authentication template with a copy-code
    button, an approved utility template with two variables, a pending and a rejected one."""
    return [
        {
            "name": "verification_code",
            "language": "es_AR",
            "status": "APPROVED",
            "category": "AUTHENTICATION",
            "id": "400000000000001",
            "components": [
                {
                    "type": "BODY",
                    "text": "*{{1}}* es tu código de verificación. Por tu seguridad, no lo "
                    "compartas.",
                },
                {"type": "FOOTER", "text": "Este código caduca en 10 minutos."},
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {
                            "type": "URL",
                            "text": "Copiar código",
                            "url": "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}",
                        }
                    ],
                },
            ],
        },
        {
            "name": "recordatorio_pago",
            "language": "es_AR",
            "status": "APPROVED",
            "category": "UTILITY",
            "id": "400000000000002",
            "components": [
                {
                    "type": "BODY",
                    "text": "Hola {{1}}, te recordamos que el vencimiento de tu tarjeta es el "
                    "{{2}}.",
                    "example": {"body_text": [["Juana", "10 de enero"]]},
                }
            ],
        },
        {
            "name": "promo_prestamo",
            "language": "es_AR",
            "status": "PENDING",
            "category": "MARKETING",
            "id": "400000000000003",
            "components": [{"type": "BODY", "text": "Hola {{1}}, tenés un préstamo aprobado."}],
        },
        {
            "name": "aviso_rechazado",
            "language": "es_AR",
            "status": "REJECTED",
            "category": "MARKETING",
            "id": "400000000000004",
            "components": [{"type": "BODY", "text": "¡Ganaste un premio!"}],
        },
    ]


class CloudIncoming(ApiModel):
    """`POST /_emulator/whatsapp-cloud/incoming`: a customer writes to the bank's number."""

    from_: str | None = Field(default=None, alias="from", max_length=32)
    body: str | None = Field(default=None, max_length=4096)
    name: str | None = Field(default=None, max_length=200)
    media: Literal["image", "document", "audio"] | None = None
    reply_to: str | None = Field(default=None, max_length=256)


class CloudWrote(ApiModel):
    """`POST /_emulator/whatsapp-cloud/wrote`: the customer wrote `hours_ago` (the window)."""

    number: str = Field(min_length=1, max_length=32)
    hours_ago: float = Field(default=0.0, ge=0, le=24 * 365)


class CloudSettings(ApiModel):
    """`POST /_emulator/whatsapp-cloud/settings`: how free text outside the window fails: at
    once (HTTP 400, 131047) or accepted and then a `failed` status webhook (as Meta sometimes
    does)."""

    window_closed_as: Literal["error", "status"] = "error"


def graph_error(
    code: int, *, status: int | None = None, details: str | None = None, **extra: Any
) -> JSONResponse:
    """A Graph API error body (`{"error": {message, type, code, error_data, fbtrace_id}}`)."""
    title, default_details, default_status = ERRORS.get(code, ("Error", "", status or 400))
    error: dict[str, Any] = {
        "message": f"(#{code}) {title}",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": secrets.token_urlsafe(16),
    }
    if code != 190:  # token errors carry no error_data
        error["error_data"] = {
            "messaging_product": "whatsapp",
            "details": details or default_details,
        }
    error.update(extra)
    return JSONResponse({"error": error}, status_code=status or default_status)


def new_wamid() -> str:
    raw = b"\x15\x02\x00\x12\x18\x14" + uuid.uuid4().bytes + secrets.token_bytes(4)
    return "wamid." + base64.b64encode(raw).decode("ascii")


def _metadata() -> dict[str, str]:
    return {
        "display_phone_number": EMULATOR_WHATSAPP_CLOUD_DISPLAY_NUMBER,
        "phone_number_id": EMULATOR_WHATSAPP_CLOUD_PHONE_NUMBER_ID,
    }


def envelope(value: dict[str, Any]) -> dict[str, Any]:
    """One change of the `messages` field in Meta's webhook envelope."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": EMULATOR_WHATSAPP_CLOUD_WABA_ID,
                "changes": [
                    {"field": "messages", "value": {"messaging_product": "whatsapp", **value}}
                ],
            }
        ],
    }


async def send_webhook(state: EmulatorState, body: dict[str, Any], *, delay: float = 0.0) -> None:
    """POST a webhook to the app, signed over the exact bytes sent."""
    content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature(EMULATOR_WHATSAPP_CLOUD_APP_SECRET, content),
        "User-Agent": "facebookexternalua",
    }
    await deliver(
        state,
        state.target_url.rstrip("/") + WEBHOOK_PATH,
        content=content,
        headers=headers,
        delay=delay,
    )


def status_item(
    wamid: str, status: str, recipient: str, *, code: int | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if status == "sent":
        item["pricing"] = {
            "billable": False,
            "pricing_model": "PMP",
            "type": "free_customer_service",
            "category": "service",
        }
    if code is not None:
        title, details, _ = ERRORS.get(code, ("Error", "", 400))
        item["errors"] = [
            {
                "code": code,
                "title": title,
                "message": title,
                "error_data": {"details": details},
                "href": ERROR_HREF,
            }
        ]
    return item


async def send_statuses(
    state: EmulatorState, wamid: str, recipient: str, *, failed_code: int | None = None
) -> None:
    """sent → delivered → read after short delays (delivered and read sometimes in one body,
    as Meta batches them); or only `failed` with its error."""
    low, high = state.callback_delays
    if failed_code is not None:
        item = status_item(wamid, "failed", recipient, code=failed_code)
        await send_webhook(
            state, envelope({"metadata": _metadata(), "statuses": [item]}), delay=low
        )
        return
    await send_webhook(
        state,
        envelope({"metadata": _metadata(), "statuses": [status_item(wamid, "sent", recipient)]}),
        delay=low,
    )
    delivered = status_item(wamid, "delivered", recipient)
    read = status_item(wamid, "read", recipient)
    if random.random() < 0.5:  # noqa: S311 - a simulation, not security
        await send_webhook(
            state, envelope({"metadata": _metadata(), "statuses": [delivered, read]}), delay=low
        )
        return
    await send_webhook(
        state, envelope({"metadata": _metadata(), "statuses": [delivered]}), delay=low
    )
    await send_webhook(
        state, envelope({"metadata": _metadata(), "statuses": [read]}), delay=(low + high) / 2
    )


def _placeholders(text: str) -> int:
    return len(set(PLACEHOLDER_RE.findall(text)))


def _component(template: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for component in template.get("components") or []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == kind:
            return component
    return None


def _parameters(components: Any, kind: str) -> list[Any] | None:
    if not isinstance(components, list):
        return None
    for component in components:
        if isinstance(component, dict) and component.get("type") == kind:
            parameters = component.get("parameters")
            return parameters if isinstance(parameters, list) else []
    return None


def _fill(text: str, values: list[str]) -> str:
    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        index = int(key) - 1 if key.isdigit() else -1
        return values[index] if 0 <= index < len(values) else match.group(0)

    return PLACEHOLDER_RE.sub(value, text)


def check_template(
    templates: list[dict[str, Any]], content: Any
) -> tuple[JSONResponse | None, str | None]:
    """(error, None) or (None, the body text the customer reads)."""
    if not isinstance(content, dict) or not isinstance(content.get("name"), str):
        return graph_error(100, details="template.name is required"), None
    language = content.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    if not isinstance(code, str):
        return graph_error(100, details="template.language.code is required"), None
    name = content["name"]
    template = next(
        (
            t
            for t in templates
            if t.get("name") == name and t.get("language") == code and t.get("status") == "APPROVED"
        ),
        None,
    )
    if template is None:
        return graph_error(
            132001, details=f"template name ({name[:512]}) does not exist in {code[:16]}"
        ), None
    components = content.get("components")
    body = _component(template, "BODY")
    text = str(body.get("text") or "") if body else ""
    expected = _placeholders(text)
    given = _parameters(components, "body") or []
    if len(given) != expected:
        return graph_error(
            132000,
            details=f"body: number of localizable_params ({len(given)}) does not match the "
            f"expected number of params ({expected})",
        ), None
    values: list[str] = []
    for parameter in given:
        if not isinstance(parameter, dict) or not isinstance(parameter.get("text"), str):
            return graph_error(132012, status=400, details="body parameters must be text"), None
        values.append(parameter["text"])
    buttons = _component(template, "BUTTONS")
    for index, button in enumerate((buttons or {}).get("buttons") or []):
        if isinstance(button, dict) and _placeholders(str(button.get("url") or "")):
            supplied = [
                c
                for c in components or []
                if isinstance(c, dict)
                and c.get("type") == "button"
                and str(c.get("index")) == str(index)
                and isinstance(c.get("parameters"), list)
                and len(c["parameters"]) == 1
            ]
            if not supplied:
                return graph_error(
                    132000, details=f"button at index {index} needs its url parameter"
                ), None
    return None, _fill(text, values)


def router(state: EmulatorState) -> APIRouter:
    api = APIRouter(prefix="/whatsapp-cloud")
    provider = state.whatsapp_cloud
    if not state.whatsapp_cloud_templates:
        state.whatsapp_cloud_templates[:] = default_templates()

    def refused(request: Request, version: str) -> JSONResponse | None:
        provider.requests += 1
        header = request.headers.get("authorization", "")
        if not secrets.compare_digest(
            header.encode(), f"Bearer {EMULATOR_WHATSAPP_CLOUD_ACCESS_TOKEN}".encode()
        ):
            return graph_error(190)
        if not VERSION_RE.fullmatch(version):
            return graph_error(100, details=f"unknown version {version[:16]}")
        return None

    def unknown_object(object_id: str) -> JSONResponse:
        return graph_error(
            100,
            details=f"Unsupported request. Object with ID '{object_id[:64]}' does not exist.",
            error_subcode=33,
        )

    @api.get("/media/{media_id}", name="whatsapp_cloud_media_download")
    async def download(media_id: str, request: Request) -> Response:
        """The media's bytes: only with the Bearer token, as Meta's URLs."""
        header = request.headers.get("authorization", "")
        if not secrets.compare_digest(
            header.encode(), f"Bearer {EMULATOR_WHATSAPP_CLOUD_ACCESS_TOKEN}".encode()
        ):
            return Response(status_code=401)
        media = state.whatsapp_cloud_media.get(media_id)
        if media is None:
            return Response(status_code=404)
        return Response(media["content"], media_type=media["mime_type"])

    @api.post("/{version}/{phone_number_id}/messages")
    async def send_message(version: str, phone_number_id: str, request: Request) -> JSONResponse:
        if (answer := refused(request, version)) is not None:
            return answer
        if phone_number_id != EMULATOR_WHATSAPP_CLOUD_PHONE_NUMBER_ID:
            return unknown_object(phone_number_id)
        try:
            payload = load_json(await request.body())
        except UnparseablePayload:
            return graph_error(100, details="the body is not JSON")
        if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
            return graph_error(100, details="messaging_product must be whatsapp")
        to = payload.get("to")
        digits = re.sub(r"[\s+\-()]", "", to) if isinstance(to, str) else ""
        fault = provider.take_fault(digits)
        failed_code: int | None = None
        if fault is not None:
            if fault.delay_seconds:
                await asyncio.sleep(fault.delay_seconds)
            if fault.status >= 300:
                return _fault_answer(fault)
            failed_code = _code(fault) or 131026
        if not re.fullmatch(r"\d{8,15}", digits):
            return graph_error(100, details="to must be a phone number")
        kind = payload.get("type", "text")
        content = payload.get(kind) if isinstance(kind, str) else None
        item: dict[str, Any] = {"to": digits, "type": kind}
        if kind == "template":
            error, text = check_template(state.whatsapp_cloud_templates, content)
            if error is not None:
                return error
            item["template"] = content
            item["body"] = text
        else:
            if kind == "text":
                if not isinstance(content, dict) or not isinstance(content.get("body"), str):
                    return graph_error(100, details="text.body is required")
                if len(content["body"]) > 4096:
                    return graph_error(100, details="text.body is longer than 4096 characters")
                item["body"] = content["body"]
            elif kind in MEDIA_TYPES:
                if not isinstance(content, dict) or not (content.get("link") or content.get("id")):
                    return graph_error(100, details=f"{kind}.link or {kind}.id is required")
                item["body"] = content.get("caption")
                item["mediaUrl"] = content.get("link")
                item[kind] = content
            else:
                return graph_error(100, details=f"unsupported type {str(kind)[:32]}")
            if not state.whatsapp_window_open(digits):
                if not state.whatsapp_cloud_window_as_status:
                    return graph_error(131047)
                failed_code = 131047
        if isinstance(payload.get("context"), dict):
            item["replyTo"] = payload["context"].get("message_id")
        wamid = new_wamid()
        provider.outbox.append({"id": wamid, **item, "receivedAt": now_iso()})
        state.spawn(send_statuses(state, wamid, digits, failed_code=failed_code))
        message: dict[str, Any] = {"id": wamid}
        if kind == "template":
            message["message_status"] = "accepted"
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": digits}],
                "messages": [message],
            }
        )

    @api.get("/{version}/{waba_id}/message_templates")
    async def templates(
        version: str, waba_id: str, request: Request, after: str | None = None
    ) -> JSONResponse:
        if (answer := refused(request, version)) is not None:
            return answer
        if waba_id != EMULATOR_WHATSAPP_CLOUD_WABA_ID:
            return unknown_object(waba_id)
        listed = state.whatsapp_cloud_templates
        start = int(after) if after and after.isascii() and after.isdigit() else 0
        page = listed[start : start + PAGE_SIZE]
        paging: dict[str, Any] = {
            "cursors": {"before": str(start), "after": str(start + len(page))}
        }
        if start + PAGE_SIZE < len(listed):
            query = dict(request.query_params) | {"after": str(start + PAGE_SIZE)}
            paging["next"] = str(request.url.replace_query_params(**query))
        return JSONResponse({"data": page, "paging": paging})

    @api.get("/{version}/{media_id}")
    async def media_url(version: str, media_id: str, request: Request) -> JSONResponse:
        if (answer := refused(request, version)) is not None:
            return answer
        media = state.whatsapp_cloud_media.get(media_id)
        if media is None:
            return unknown_object(media_id)
        url = str(request.url_for("whatsapp_cloud_media_download", media_id=media_id))
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"{url}?ext={int(time.time()) + 300}",
                "mime_type": media["mime_type"],
                "sha256": media["sha256"],
                "file_size": str(len(media["content"])),
                "id": media_id,
            }
        )

    @api.post("/incoming", status_code=202)
    async def incoming(body: CloudIncoming) -> dict[str, Any]:
        """A customer writes (text, optionally media or a reply to one of ours): a signed
        webhook goes to the app and the customer's window opens."""
        rng = random.Random()  # noqa: S311 - scripted customers, not security
        number = re.sub(r"\D", "", body.from_ or scenarios.random_customer_number(rng))
        name = body.name or scenarios.random_customer_name(rng)
        text = body.body if body.body is not None else scenarios.whatsapp_opening(rng, name)
        body_, wamid, media_id = customer_message(
            state, number, name, text, media=body.media, reply_to=body.reply_to
        )
        state.spawn(send_webhook(state, body_))
        return {"from": number, "id": wamid, "body": text, "mediaId": media_id}

    @api.post("/wrote", status_code=204)
    async def wrote(body: CloudWrote) -> None:
        """Tell the emulator a customer wrote (e.g. a webhook a test posted to the app itself),
        so the 24-hour window is open for them: free text outside it fails with 131047."""
        state.customer_wrote(body.number, datetime.now(UTC) - timedelta(hours=body.hours_ago))

    @api.post("/settings")
    async def settings(body: CloudSettings) -> dict[str, Any]:
        state.whatsapp_cloud_window_as_status = body.window_closed_as == "status"
        return body.model_dump(by_alias=True)

    @api.post("/templates", status_code=201)
    async def put_template(request: Request) -> JSONResponse:
        """Add a template to the account (or replace the one with its name and language)."""
        try:
            template = load_json(await request.body())
        except UnparseablePayload:
            template = None
        if not isinstance(template, dict) or not all(
            isinstance(template.get(key), str) for key in ("name", "language", "status")
        ):
            return JSONResponse({"error": "name, language and status are required"}, 400)
        state.whatsapp_cloud_templates[:] = [
            t
            for t in state.whatsapp_cloud_templates
            if (t.get("name"), t.get("language")) != (template["name"], template["language"])
        ] + [template]
        return JSONResponse({"count": len(state.whatsapp_cloud_templates)}, 201)

    @api.delete("/templates", status_code=204)
    async def delete_templates(name: str | None = None, language: str | None = None) -> None:
        """Remove one template (by name, and language if given); no name: back to the
        defaults."""
        if name is None:
            state.whatsapp_cloud_templates[:] = default_templates()
            return
        state.whatsapp_cloud_templates[:] = [
            t
            for t in state.whatsapp_cloud_templates
            if not (t.get("name") == name and (language is None or t.get("language") == language))
        ]

    return api


def customer_message(
    state: EmulatorState,
    number: str,
    name: str,
    text: str,
    *,
    media: str | None = None,
    reply_to: str | None = None,
) -> tuple[dict[str, Any], str, str | None]:
    """A customer's message as Meta's webhook carries it (with their contact), its wamid and
    the id of its media; the customer's window opens."""
    wamid = new_wamid()
    message: dict[str, Any] = {"from": number, "id": wamid, "timestamp": str(int(time.time()))}
    if reply_to:
        message["context"] = {"from": EMULATOR_WHATSAPP_CLOUD_DISPLAY_NUMBER, "id": reply_to}
    media_id = None
    if media:
        media_id = store_media(state, media)
        stored = state.whatsapp_cloud_media[media_id]
        block: dict[str, Any] = {
            "mime_type": stored["mime_type"],
            "sha256": stored["sha256"],
            "id": media_id,
        }
        if media == "audio":
            block["voice"] = True
        else:
            block["caption"] = text
        if media == "document":
            block["filename"] = "comprobante.pdf"
        message |= {"type": media, media: block}
    else:
        message |= {"type": "text", "text": {"body": text}}
    contact = {"profile": {"name": name}, "wa_id": number}
    state.customer_wrote(number)
    value = {"metadata": _metadata(), "contacts": [contact], "messages": [message]}
    return envelope(value), wamid, media_id


def _code(fault: FaultSpec) -> int | None:
    code = fault.code
    if isinstance(code, str):
        return int(code) if code.isascii() and code.isdigit() and len(code) < 10 else None
    return code


def _fault_answer(fault: FaultSpec) -> JSONResponse:
    code = _code(fault)
    if code is None:
        code = 130429 if fault.status == 429 else 131016 if fault.status >= 500 else 100
    answer = graph_error(code, status=fault.status, details=fault.message)
    if fault.retry_after is not None:
        answer.headers["Retry-After"] = str(fault.retry_after)
    return answer


# What the emulated customers send: tiny files of each kind.
_SAMPLES = {
    "image": ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00" + b"\x00" * 32),
    "document": ("application/pdf", b"%PDF-1.4\n% emulated receipt\n%%EOF\n"),
    "audio": ("audio/ogg; codecs=opus", b"OggS\x00\x02" + b"\x00" * 32),
}


def store_media(state: EmulatorState, kind: str, content: bytes | None = None) -> str:
    """Keep a media item the emulated customers send; its id (15 digits, as Meta's)."""
    mime_type, sample = _SAMPLES.get(kind, _SAMPLES["document"])
    data = content if content is not None else sample + secrets.token_bytes(8)
    media_id = str(300_000_000_000_000 + next(state.counter))
    state.whatsapp_cloud_media[media_id] = {
        "mime_type": mime_type,
        "content": data,
        "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode("ascii"),
    }
    return media_id
