"""ASGI middleware: request id, one access log line per request, request body size cap, and
text no column takes (NUL) refused before routing."""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import parse_qsl

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contact_center.errors import answer
from contact_center.storable import REASON, storable

log = structlog.get_logger("contact_center.access")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_BODY_BYTES = 1024 * 1024
# A post-call audio webhook carries the whole call as base64 MP3.
# Meta batches up to 3 MB of WhatsApp updates in one delivery.
LARGE_BODY_PATHS = {
    "/webhooks/elevenlabs/call": 64 * 1024 * 1024,
    "/webhooks/whatsapp-cloud": 4 * 1024 * 1024,
}
# Outbound messages are short: anything over 64 KiB is refused before it is read.
SMALL_BODY_PREFIXES = ("/api/sms/", "/api/whatsapp/", "/api/otp")
SMALL_BODY_BYTES = 64 * 1024


class RequestContextMiddleware:
    """Binds `request_id` for every log line of the request and echoes it as X-Request-ID."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_code = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()


class BodySizeLimitMiddleware:
    """Refuse request bodies over the limit with 413 before anything reads them: by the declared
    Content-Length, or while a chunked body (no length) streams in. Requests within the limit then
    pass the text check (UnstorableTextMiddleware)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = UnstorableTextMiddleware(app)
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = LARGE_BODY_PATHS.get(path, self.max_bytes)
        if path.startswith(SMALL_BODY_PREFIXES):
            limit = SMALL_BODY_BYTES
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(scope, send, limit)
            return
        received = 0
        refused = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answered here, whatever the app makes of the body it could not read (a
                    # parser would turn an exception into a 400): it sees the client go away.
                    refused = True
                    if not started:
                        await _too_large(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out; what the app answers afterwards is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise


class UnstorableTextMiddleware:
    """422 for a NUL character in the path, the query string or a form-encoded body, before
    routing: no text column takes it (storable.py). JSON bodies
    are checked by the request schemas (field by field), webhooks by their parsers, which keep
    the delivery in the ledger."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = _unstorable_in_url(scope)
        if found is None and _is_form(scope) and not scope["path"].startswith(WEBHOOK_PREFIX):
            body, more = await _read_all(receive)
            found = _unstorable_in_form(body)
            receive = _replay(body, more, receive)
        if found is not None:
            response = answer(
                Request(scope),
                422,
                "validation_error",
                f"Invalid request: {found}.",
                [{"field": found, "message": REASON}],
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


WEBHOOK_PREFIX = "/webhooks/"


def _unstorable_in_url(scope: Scope) -> str | None:
    path: str = scope["path"]
    if not storable(path):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" in query:
        for key, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
            if not storable(key) or not storable(value):
                return f"query.{key if storable(key) else '?'}"
        return "query"
    return None


def _is_form(scope: Scope) -> bool:
    content_type: bytes = dict(scope["headers"]).get(b"content-type", b"")
    return content_type.split(b";", 1)[0].strip().lower() == b"application/x-www-form-urlencoded"


def _unstorable_in_form(body: bytes) -> str | None:
    text = body.decode("latin-1")
    if "%00" not in text and b"\x00" not in body:
        return None
    for key, value in parse_qsl(text, keep_blank_values=True, errors="replace"):
        if not storable(key) or not storable(value):
            return f"body.{key if storable(key) else '?'}"
    return None


async def _read_all(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body (the size limit around this bounds it), and any message after it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), []


def _replay(body: bytes, after: list[Message], receive: Receive) -> Receive:
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *after]

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    response = answer(
        Request(scope), 413, "payload_too_large", f"The request body exceeds {limit} bytes."
    )

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, nothing, send)
