"""The raw ceiling of webhook ingest: the same writes without the framework, the ORM or the logs.

A bare ASGI app on uvicorn (uvloop + httptools) with an asyncpg pool, answering
`POST /webhooks/builderbot/whatsapp` with the statements the product executed for one BuilderBot
inbound text message at commit c3fa0c0 (captured with `log_statement = 'all'`; the SQL text as
the product sent it, same casts, tables and indexes), in one transaction per request, every
statement prepared (asyncpg's per-connection statement cache, as SQLAlchemy's asyncpg dialect
uses it):

  message to an open conversation (12 round trips):
    BEGIN
    SELECT the latest ledger row of the body's digest (event_family), count(*) OVER ()
    INSERT INTO webhook_delivery … ON CONFLICT (provider, event_key) DO NOTHING RETURNING …
    INSERT INTO audit_log
    SELECT pg_advisory_xact_lock($1)                  -- crc32('whatsapp:' + phone) - 2**31
    SELECT the customer's current interaction … FOR UPDATE
    INSERT INTO message
    INSERT INTO interaction_event … ON CONFLICT (idempotency_key) DO NOTHING
    SELECT EXISTS (an outbound message of the interaction)
    UPDATE interaction SET updated_at, last_message_at, waiting_since
    UPDATE webhook_delivery SET status, attempts, processed_at
    COMMIT
  first message of a customer (15 round trips): after the locked select finds nothing,
    INSERT INTO interaction, its `interaction.created` event, UPDATE interaction SET
    updated_at; then the message path as above.
  a repeat (same body within 10 s): BEGIN, the digest SELECT, COMMIT.

  a Twilio status callback (`POST /webhooks/twilio/sms/status`, 5 round trips, the statements
  of the product's below-the-ORM path as `bench.status_callbacks` runs it):
    BEGIN
    WITH the ledger row (already PROCESSED) … ON CONFLICT DO NOTHING, its audit row
    SELECT the message joined with its interaction … FOR UPDATE
    WITH the message's status (when it moves forward), the interaction's state, the timeline
      event … ON CONFLICT (idempotency_key) DO NOTHING
    COMMIT
  with the form parsed and `X-Twilio-Signature` checked (HMAC-SHA1 of PUBLIC_BASE_URL + the
  path + the sorted pairs, under TWILIO_AUTH_TOKEN) and one change notice per callback.

The same token check (`X-Webhook-Token`, constant-time), the same sha256 body digest as the
ledger key, the same values written (ledger row with the raw body and the stored headers, audit
row, message, timeline event with payload and normalized JSON, interaction times), the same
200 answer (`{"deliveryId", "status", "duplicate"}`) and, like the product's change notices, one
Redis PUBLISH per batch of commits made while the previous publish was in flight (RAW_PUBLISH=0
skips it). The pool's release-time reset query is off (asyncpg's default adds a 13th round trip
that SQLAlchemy does not send). Left out, as a ceiling should be minimal: the request-id and
access-log middleware, structlog, pydantic, the pub/sub listener, phone number parsing (the
number is E.164 with a '+' prefixed, which is what the product's normalisation yields for these
inputs). `GET /ping` answers 200 (readiness).

Run it against a database migrated by the product (tables and indexes as the statements expect),
from the repository's root:

    DATABASE_URL=postgresql://… REDIS_URL=redis://… .venv/bin/python -m uvicorn \\
        bench.raw_ceiling:app --host 127.0.0.1 --port 8801 --no-access-log --log-level warning

RAW_POOL_SIZE (default 20, as DATABASE_POOL_SIZE) sizes the pool. `bench.compare` runs two such
processes beside the product's two API processes, with the same load generator and bodies.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import asyncpg

TOKEN = os.environ.get("BUILDERBOT_WEBHOOK_TOKEN", "emulator-builderbot-token").encode()
PATH = "/webhooks/builderbot/whatsapp"
DUPLICATE_WINDOW = timedelta(seconds=10)
WHATSAPP_WINDOW = timedelta(hours=24)
STORED_HEADERS = (b"content-type", b"user-agent", b"x-request-id", b"x-forwarded-for")

# --- the product's statements, as its PostgreSQL log showed them --------------------------------

LEDGER_COLS = (
    "webhook_delivery.id, webhook_delivery.provider, webhook_delivery.event_key, "
    "webhook_delivery.event_type, webhook_delivery.received_at, webhook_delivery.content_type, "
    "webhook_delivery.raw_body, webhook_delivery.headers, webhook_delivery.status, "
    "webhook_delivery.error, webhook_delivery.attempts, webhook_delivery.processed_at, "
    "webhook_delivery.waiting_for, webhook_delivery.event_family"
)
SQL_LATEST_IN_FAMILY = (
    f"SELECT {LEDGER_COLS}, count(*) OVER () AS anon_1 \nFROM webhook_delivery \n"
    "WHERE webhook_delivery.provider = $1::VARCHAR AND webhook_delivery.event_family = "
    "$2::VARCHAR ORDER BY webhook_delivery.received_at DESC \n LIMIT $3::INTEGER"
)
SQL_LEDGER_INSERT = (
    "INSERT INTO webhook_delivery (id, provider, event_key, event_type, received_at, "
    "content_type, raw_body, headers, status, attempts, event_family) VALUES ($1::UUID, "
    "$2::VARCHAR, $3::VARCHAR, $4::VARCHAR, $5::TIMESTAMP WITH TIME ZONE, $6::VARCHAR, "
    "$7::VARCHAR, $8::JSONB, $9::VARCHAR, $10::INTEGER, $11::VARCHAR) ON CONFLICT (provider, "
    f"event_key) DO NOTHING RETURNING {LEDGER_COLS}"
)
SQL_AUDIT = (
    "INSERT INTO audit_log (id, occurred_at, actor_type, actor_id, action, entity_type, "
    "entity_id, ip, user_agent, metadata) VALUES ($1::UUID, $2::TIMESTAMP WITH TIME ZONE, $3, "
    "$4::VARCHAR, $5::VARCHAR, $6::VARCHAR, $7::VARCHAR, $8::VARCHAR, $9::VARCHAR, $10::JSONB)"
)
SQL_LOCK = "SELECT pg_advisory_xact_lock($1)"
INTERACTION_COLS = (
    "interaction.id, interaction.channel, interaction.direction, interaction.status, "
    "interaction.started_at, interaction.ended_at, interaction.created_at, "
    "interaction.updated_at, interaction.from_number, interaction.to_number, "
    "interaction.customer_phone, interaction.customer_name, interaction.provider, "
    "interaction.provider_conversation_id, interaction.assigned_agent, "
    "interaction.customer_ref, interaction.queue, interaction.intent, interaction.outcome, "
    "interaction.ai_handled, interaction.last_message_at"
)
SQL_CURRENT = (
    f"SELECT {INTERACTION_COLS} \nFROM interaction \nWHERE interaction.channel = $1 AND "
    "interaction.customer_phone = $2::VARCHAR AND interaction.last_message_at >= "
    "$3::TIMESTAMP WITH TIME ZONE ORDER BY interaction.last_message_at DESC \n LIMIT "
    "$4::INTEGER FOR UPDATE"
)
SQL_INTERACTION_INSERT = (
    "INSERT INTO interaction (id, channel, direction, status, started_at, ended_at, created_at, "
    "updated_at, from_number, to_number, customer_phone, customer_name, provider, "
    "provider_conversation_id, assigned_agent, customer_ref, queue, intent, outcome, "
    "ai_handled, last_message_at) VALUES ($1::UUID, $2, $3, $4, $5::TIMESTAMP WITH TIME ZONE, "
    "$6::TIMESTAMP WITH TIME ZONE, $7::TIMESTAMP WITH TIME ZONE, $8::TIMESTAMP WITH TIME ZONE, "
    "$9::VARCHAR, $10::VARCHAR, $11::VARCHAR, $12::VARCHAR, $13, $14::VARCHAR, $15::VARCHAR, "
    "$16::VARCHAR, $17::VARCHAR, $18::VARCHAR, $19, $20::BOOLEAN, $21::TIMESTAMP WITH TIME ZONE)"
)
SQL_EVENT = (
    "INSERT INTO interaction_event (id, interaction_id, type, occurred_at, payload, normalized, "
    "provider_event_id, idempotency_key) VALUES ($1::UUID, $2::UUID, $3::VARCHAR, "
    "$4::TIMESTAMP WITH TIME ZONE, $5::JSONB, $6::JSONB, $7::VARCHAR, $8::VARCHAR) "
    "ON CONFLICT (idempotency_key) DO NOTHING"
)
SQL_TOUCH = (
    "UPDATE interaction SET updated_at=$1::TIMESTAMP WITH TIME ZONE WHERE interaction.id = $2::UUID"
)
SQL_MESSAGE = (
    "INSERT INTO message (id, interaction_id, direction, body, media, status, "
    "provider_message_id, error_code, error_message, kind, created_at, updated_at, sent_at, "
    "delivered_at, attempts, provider_confirmed_at, next_attempt_at) VALUES ($1::UUID, "
    "$2::UUID, $3, $4::VARCHAR, $5::JSONB, $6, $7::VARCHAR, $8::VARCHAR, $9::VARCHAR, "
    "$10::VARCHAR, $11::TIMESTAMP WITH TIME ZONE, $12::TIMESTAMP WITH TIME ZONE, "
    "$13::TIMESTAMP WITH TIME ZONE, $14::TIMESTAMP WITH TIME ZONE, $15::INTEGER, "
    "$16::TIMESTAMP WITH TIME ZONE, $17::TIMESTAMP WITH TIME ZONE)"
)
SQL_HAS_DIRECTION = (
    "SELECT EXISTS (SELECT * \nFROM message \nWHERE message.interaction_id = $1::UUID AND "
    "message.direction = $2) AS anon_1"
)
SQL_INTERACTION_TIMES = (
    "UPDATE interaction SET updated_at=$1::TIMESTAMP WITH TIME ZONE, "
    "last_message_at=$2::TIMESTAMP WITH TIME ZONE, "
    "waiting_since=COALESCE(waiting_since, $2::TIMESTAMP WITH TIME ZONE) "
    "WHERE interaction.id = $3::UUID"
)
SQL_INTERACTION_TIMES_NAME = (
    "UPDATE interaction SET updated_at=$1::TIMESTAMP WITH TIME ZONE, "
    "customer_name=$2::VARCHAR, last_message_at=$3::TIMESTAMP WITH TIME ZONE, "
    "waiting_since=COALESCE(waiting_since, $3::TIMESTAMP WITH TIME ZONE) "
    "WHERE interaction.id = $4::UUID"
)
SQL_INTERACTION_STATUS = (
    "UPDATE interaction SET status=$1, updated_at=$2::TIMESTAMP WITH TIME ZONE, "
    "last_message_at=$3::TIMESTAMP WITH TIME ZONE, "
    "waiting_since=COALESCE(waiting_since, $3::TIMESTAMP WITH TIME ZONE) "
    "WHERE interaction.id = $4::UUID"
)
SQL_LEDGER_DONE = (
    "UPDATE webhook_delivery SET status=$1::VARCHAR, attempts=$2::INTEGER, "
    "processed_at=$3::TIMESTAMP WITH TIME ZONE WHERE webhook_delivery.id = $4::UUID"
)

# a Twilio status callback (commit of bench/status_callbacks.py's measurement; 5 round trips:
# BEGIN, the ledger row with its audit row, the message locked with its interaction, the
# message + interaction + timeline event, COMMIT)
SQL_STATUS_LEDGER = (
    "WITH stored AS \n(INSERT INTO webhook_delivery (id, provider, event_key, event_type, "
    "received_at, content_type, raw_body, raw_body_encoding, headers, status, error, attempts, "
    "processed_at, waiting_for, event_family) VALUES ($11::UUID, $12::VARCHAR, $13::VARCHAR, "
    "$14::VARCHAR, $15::TIMESTAMP WITH TIME ZONE, $16::VARCHAR, $17::VARCHAR, $18::VARCHAR, "
    "$19::JSONB, $20::VARCHAR, $21::VARCHAR, $22::INTEGER, $23::TIMESTAMP WITH TIME ZONE, "
    "$24::VARCHAR, $25::VARCHAR) ON CONFLICT (provider, event_key) DO NOTHING RETURNING "
    "webhook_delivery.id), \naudited AS \n(INSERT INTO audit_log (id, occurred_at, actor_type, "
    "actor_id, action, entity_type, entity_id, ip, user_agent, metadata) SELECT $1::UUID AS "
    "anon_1, $2::TIMESTAMP WITH TIME ZONE AS anon_2, $3 AS anon_3, $4::VARCHAR AS anon_4, "
    "$5::VARCHAR AS anon_5, $6::VARCHAR AS anon_6, $7::VARCHAR AS anon_7, $8::VARCHAR AS anon_8, "
    "$9::VARCHAR AS anon_9, $10::JSONB AS anon_10 \nFROM stored)\n SELECT stored.id \nFROM stored"
)
SQL_STATUS_MESSAGE = (
    "SELECT message.id, message.interaction_id, message.status, message.updated_at, "
    "message.sent_at, message.delivered_at, message.error_code, message.error_message, "
    "interaction.channel AS interaction_channel, interaction.status AS interaction_status, "
    "interaction.ended_at AS interaction_ended_at, interaction.updated_at AS "
    "interaction_updated_at, interaction.assigned_agent AS interaction_assigned_agent \n"
    "FROM message JOIN interaction ON message.interaction_id = interaction.id \n"
    "WHERE message.provider_message_id = $1::VARCHAR FOR UPDATE"
)
_STATUS_STATE = (
    "i AS \n(UPDATE interaction SET status=$1, ended_at=$2::TIMESTAMP WITH TIME ZONE, "
    "updated_at=$3::TIMESTAMP WITH TIME ZONE WHERE interaction.id = $4::UUID), \ne AS \n"
    "(INSERT INTO interaction_event (id, interaction_id, type, occurred_at, payload, normalized, "
    "provider_event_id, idempotency_key) VALUES ($5::UUID, $6::UUID, $7::VARCHAR, "
    "$8::TIMESTAMP WITH TIME ZONE, $9::JSONB, $10::JSONB, $11::VARCHAR, $12::VARCHAR) ON CONFLICT "
    "(idempotency_key) DO NOTHING RETURNING interaction_event.id)\n SELECT count(*) AS count_1 "
    "\nFROM e"
)
SQL_STATUS_EVENT = "WITH " + _STATUS_STATE
SQL_STATUS_ALL = (
    "WITH m AS \n(UPDATE message SET status=$13, error_code=$14::VARCHAR, "
    "error_message=$15::VARCHAR, updated_at=$16::TIMESTAMP WITH TIME ZONE, "
    "sent_at=$17::TIMESTAMP WITH TIME ZONE, delivered_at=$18::TIMESTAMP WITH TIME ZONE "
    "WHERE message.id = $19::UUID), \n" + _STATUS_STATE
)
STATUS_PATH = "/webhooks/twilio/sms/status"
TWILIO_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:8000")
STATUS_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}


def _now() -> datetime:
    return datetime.now(UTC)


# --- change notices: one publisher task, batches of the commits made meanwhile ---------------


class Notices:
    def __init__(self, url: str | None) -> None:
        self.redis: Any = None
        if url:
            from redis.asyncio import Redis

            self.redis = Redis.from_url(url, socket_connect_timeout=3, health_check_interval=10)
        self.buffer: list[dict[str, str]] = []
        self.task: asyncio.Task[None] | None = None

    def publish_nowait(self, notices: list[dict[str, str]]) -> None:
        if self.redis is None:
            return
        self.buffer.extend(notices)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self.buffer:
            batch, self.buffer = self.buffer[:500], self.buffer[500:]
            # Like the product: a lost notice is not an error of the request.
            with contextlib.suppress(Exception):
                await self.redis.publish("contact-center:changes", json.dumps(batch))


# --- the unit of work ------------------------------------------------------------------------


async def ingest(
    conn: Any, raw: bytes, headers: dict[bytes, bytes], ip: str | None
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    event = json.loads(raw)
    data = event["data"]
    number = str(data["from"])
    phone = "+" + number
    name = data.get("name") or None
    body = data.get("body")
    attachments = data.get("attachment") or []
    key = hashlib.sha256(raw).hexdigest()
    now = _now()
    raw_text = raw.decode("utf-8", "replace")
    stored_headers = json.dumps(
        {k.decode(): v.decode("latin-1") for k, v in headers.items() if k in STORED_HEADERS}
    )
    user_agent = headers.get(b"user-agent")
    notices: list[dict[str, str]] = []
    async with conn.transaction():
        # the ledger row (a repeat within 10 s answers duplicate)
        delivery = None
        number_seen: int | None = None
        for _ in range(10):
            latest = await conn.fetchrow(SQL_LATEST_IN_FAMILY, "BUILDERBOT", key, 1)
            if latest is not None and now - latest["received_at"] <= DUPLICATE_WINDOW:
                return {
                    "deliveryId": str(latest["id"]),
                    "status": latest["status"],
                    "duplicate": True,
                }, []
            count = 0 if latest is None else int(latest["anon_1"])
            number_seen = count if number_seen is None else max(count, number_seen + 1)
            candidate = key if number_seen == 0 else f"{key}:{number_seen + 1}"
            delivery = await conn.fetchrow(
                SQL_LEDGER_INSERT,
                uuid.uuid4(), "BUILDERBOT", candidate, "message.incoming", now,
                headers.get(b"content-type", b"").decode("latin-1") or None,
                raw_text, stored_headers, "RECEIVED", 0, key,
            )  # fmt: skip
            if delivery is not None:
                break
        if delivery is None:
            raise RuntimeError("could not store the delivery under a unique key")
        delivery_id = delivery["id"]
        await conn.execute(
            SQL_AUDIT,
            uuid.uuid4(), _now(), "SYSTEM", "provider:builderbot", "webhook.received",
            "webhook_delivery", str(delivery_id), ip,
            user_agent.decode("latin-1") if user_agent else None,
            json.dumps({"status": "RECEIVED", "provider": "BUILDERBOT",
                        "eventType": "message.incoming"}),
        )  # fmt: skip
        # the customer's conversation, locked
        msg_now = _now()
        await conn.execute(SQL_LOCK, zlib.crc32(f"whatsapp:{phone}".encode()) - 2**31)
        current = await conn.fetchrow(SQL_CURRENT, "WHATSAPP", phone, msg_now - WHATSAPP_WINDOW, 1)
        created = current is None
        if created:
            interaction_id = uuid.uuid4()
            await conn.execute(
                SQL_INTERACTION_INSERT,
                interaction_id, "WHATSAPP", "INBOUND", "NEW", msg_now, None, msg_now, msg_now,
                phone, None, phone, name, "BUILDERBOT", None, None, None, None, None, None,
                True, msg_now,
            )  # fmt: skip
            ins = await conn.execute(
                SQL_EVENT,
                uuid.uuid4(), interaction_id, "interaction.created", msg_now, "null",
                json.dumps({"direction": "INBOUND", "customerPhone": phone}), None,
                f"whatsapp:{interaction_id}:created",
            )  # fmt: skip
            updated_at = msg_now
            if ins.endswith("1"):
                updated_at = max(updated_at, _now())
                notices.append({"interactionId": str(interaction_id),
                                "type": "interaction.created", "channel": "WHATSAPP"})  # fmt: skip
                await conn.execute(SQL_TOUCH, updated_at, interaction_id)
            status, last_at, old_name = "NEW", msg_now, name
        else:
            interaction_id = current["id"]
            status = current["status"]
            last_at = current["last_message_at"]
            updated_at = current["updated_at"]
            old_name = current["customer_name"]
        at = msg_now
        if not created and last_at is not None and at <= last_at:
            at = last_at + timedelta(microseconds=1)
        message_id = uuid.uuid4()
        media: list[dict[str, Any]] = [
            {"url": a.get("url"), "contentType": a.get("contentType"), "filename": a.get("name")}
            for a in attachments
        ]
        await conn.execute(
            SQL_MESSAGE,
            message_id, interaction_id, "INBOUND", body, json.dumps(media), "RECEIVED", None,
            None, None, "TEXT", at, at, None, None, 0, None, None,
        )  # fmt: skip
        normalized = {"direction": "INBOUND", "customerPhone": phone, "body": body,
                      "media": media, "messageId": str(message_id)}  # fmt: skip
        ins = await conn.execute(
            SQL_EVENT,
            uuid.uuid4(), interaction_id, "message.received", at, raw_text,
            json.dumps(normalized), None, f"webhook:{delivery_id}:message",
        )  # fmt: skip
        if ins.endswith("1"):
            updated_at = max(updated_at, _now())
            notices.append({"interactionId": str(interaction_id), "type": "message.received",
                            "channel": "WHATSAPP"})  # fmt: skip
        # status after the message (both sides written -> IN_PROGRESS; a closed one reopens)
        new_status = status
        reopened = status in ("COMPLETED", "ABANDONED")
        if reopened or (
            status == "NEW" and await conn.fetchval(SQL_HAS_DIRECTION, interaction_id, "OUTBOUND")
        ):
            new_status = "IN_PROGRESS"
        if new_status != status:  # never in the benchmark (no outbound messages)
            await conn.execute(
                SQL_EVENT,
                uuid.uuid4(), interaction_id, "interaction.status_changed", at, "null",
                json.dumps({"from": status, "to": new_status}), None,
                f"webhook:{delivery_id}:status",
            )  # fmt: skip
            updated_at = max(updated_at, _now())
            await conn.execute(SQL_INTERACTION_STATUS, new_status, updated_at, at, interaction_id)
        elif name and name != old_name:
            await conn.execute(SQL_INTERACTION_TIMES_NAME, updated_at, name, at, interaction_id)
        else:
            await conn.execute(SQL_INTERACTION_TIMES, updated_at, at, interaction_id)
        await conn.execute(SQL_LEDGER_DONE, "PROCESSED", 1, _now(), delivery_id)
    return {"deliveryId": str(delivery_id), "status": "PROCESSED", "duplicate": False}, notices


def twilio_signature_ok(raw: bytes, signature: bytes) -> bool:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL and the sorted form pairs."""
    pairs = sorted(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    text = PUBLIC_BASE_URL + STATUS_PATH + "".join(k + v for k, v in pairs)
    digest = hmac.new(TWILIO_TOKEN.encode(), text.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature)


async def status_callback(
    conn: Any, raw: bytes, headers: dict[bytes, bytes], ip: str | None
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    sid = form["MessageSid"]
    status = form["MessageStatus"]
    now = _now()
    delivery_id = uuid.uuid4()
    stored_headers = json.dumps(
        {k.decode(): v.decode("latin-1") for k, v in headers.items() if k in STORED_HEADERS}
    )
    user_agent = headers.get(b"user-agent")
    notices: list[dict[str, str]] = []
    async with conn.transaction():
        stored = await conn.fetchval(
            SQL_STATUS_LEDGER,
            uuid.uuid4(), now, "SYSTEM", "provider:twilio", "webhook.received", "webhook_delivery",
            str(delivery_id), ip, user_agent.decode("latin-1") if user_agent else None,
            json.dumps({"status": "RECEIVED", "provider": "TWILIO",
                        "eventType": f"status.{status}"}),
            delivery_id, "TWILIO", f"{sid}:{status}", f"status.{status}", now,
            headers.get(b"content-type", b"").decode("latin-1") or None,
            raw.decode("utf-8"), None, stored_headers, "PROCESSED", None, 1, now, None, None,
        )  # fmt: skip
        if stored is None:  # never in the benchmark (each callback once)
            return {"deliveryId": None, "status": "PROCESSED", "duplicate": True}, []
        row = await conn.fetchrow(SQL_STATUS_MESSAGE, sid)
        at = _now()
        normalized = json.dumps(
            {"source": "callback", "status": status, "applied": True, "errorCode": None,
             "messageId": str(row["id"]), "providerMessageId": sid}
        )  # fmt: skip
        state = (
            row["interaction_status"], row["interaction_ended_at"], at, row["interaction_id"],
            uuid.uuid4(), row["interaction_id"], "message.status", at, json.dumps(form),
            normalized, sid, f"webhook:{delivery_id}:status",
        )  # fmt: skip
        new = status.upper()
        if STATUS_RANK.get(status, 0) > STATUS_RANK.get(row["status"].lower(), 0):
            await conn.fetchval(
                SQL_STATUS_ALL,
                *state, new, None, None, at, row["sent_at"],
                at if status == "delivered" else row["delivered_at"], row["id"],
            )  # fmt: skip
        else:
            await conn.fetchval(SQL_STATUS_EVENT, *state)
        notices.append(
            {"interactionId": str(row["interaction_id"]), "type": "message.status",
             "channel": row["interaction_channel"]}
        )  # fmt: skip
    return {"deliveryId": str(delivery_id), "status": "PROCESSED", "duplicate": False}, notices


# --- the bare ASGI app -----------------------------------------------------------------------

_state: dict[str, Any] = {}


async def _no_reset(_conn: Any) -> None:
    """asyncpg's default release runs `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` (one more round trip per request); SQLAlchemy's pool sends nothing after a
    COMMIT. Nothing session-scoped is used here (the advisory lock is transaction-scoped)."""


async def _startup() -> None:
    _state["pool"] = await asyncpg.create_pool(
        os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://"),
        min_size=4,
        max_size=int(os.environ.get("RAW_POOL_SIZE", "20")),
        reset=_no_reset,
    )
    publish = os.environ.get("RAW_PUBLISH", "1") != "0"
    _state["notices"] = Notices(os.environ.get("REDIS_URL") if publish else None)


async def _reply(send: Any, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await _startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if "pool" in _state:
                    await _state["pool"].close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] == "/ping":
        await _reply(send, 200, {"ok": True})
        return
    if scope["path"] not in (PATH, STATUS_PATH) or scope["method"] != "POST":
        await _reply(send, 404, {"error": "not_found"})
        return
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    raw = b"".join(chunks)
    headers = dict(scope["headers"])
    status = scope["path"] == STATUS_PATH
    if not (
        twilio_signature_ok(raw, headers.get(b"x-twilio-signature", b""))
        if status
        else hmac.compare_digest(headers.get(b"x-webhook-token", b""), TOKEN)
    ):
        await _reply(send, 401, {"error": "webhook_unauthenticated"})
        return
    client = scope.get("client")
    work = status_callback if status else ingest
    async with _state["pool"].acquire() as conn:
        answer, notices = await work(conn, raw, headers, client[0] if client else None)
    if notices:
        _state["notices"].publish_nowait(notices)
    await _reply(send, 200, answer)
