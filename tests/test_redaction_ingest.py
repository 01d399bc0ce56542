"""Redaction at ingest (docs/redaction.md, "At ingest"): what a customer says or types reaches no
table, no Redis key, no log line and no file before its card numbers and security codes are
removed and its other identifiers sealed in the vault.

Each provider's webhook and the ElevenLabs sync (the emulator over real HTTP) deliver a seeded
card number, its security code and a DNI; then every table is dumped (every column as text),
with every key and value of the app's Redis, the captured logs and the recordings directory.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.calls.service import holds_card_or_code
from contact_center.models import CallDetail, Interaction, Message, WebhookDelivery
from contact_center.models.csat import CsatSurvey
from contact_center.models.redaction import RedactionProof, RedactionVault
from contact_center.preflight import static_findings
from contact_center.providers.registry import EMULATOR_WHATSAPP_CLOUD_APP_SECRET
from contact_center.providers.twilio import compute_signature
from contact_center.providers.whatsapp_cloud import signature
from contact_center.redaction.proof import ProofKey, confirms
from contact_center.redaction.vault import bind, new_key
from contact_center.settings import Settings, load_settings
from contact_center.webhooks.service import received_body
from tests.conftest import PRODUCTION_SETTINGS, Backend
from tests.deliveries import incoming, post_builderbot, post_elevenlabs, transcription
from tests.live import Live, PrivateRedis, live_app
from tests.test_csat import resolved_chat, survey_link
from tests.test_logging import Capture

Sessions = async_sessionmaker[AsyncSession]

CARD = "4509953566233704"
CARD_GROUPED = "4509 9535 6623 3704"
CARD_DASHED = "4509-9535-6623-3704"
GROUPS = ("4509", "9535", "6623")  # the last four stay visible: [TARJETA ****3704]
CARD_SPOKEN = (
    "cuatro cinco cero nueve, nueve cinco tres cinco, seis seis dos tres, tres siete cero cuatro"
)
CVV = "862"
CVV_SPOKEN = "ocho seis dos"
DNI = "38123456"
DNI_DOTTED = "38.123.456"
SAID = (
    f"Hola, mi tarjeta es {CARD_GROUPED}, el código de seguridad es {CVV} y mi DNI es {DNI_DOTTED}"
)
PHONE = "+5491155550101"


def _token(value: str) -> re.Pattern[str]:
    """`value` standing alone (not inside a longer number, a UUID, an identifier or a time;
    the dashed card is looked for whole)."""
    return re.compile(rf"(?<![0-9A-Za-z.:_-]){re.escape(value)}(?![0-9A-Za-z_-])")


FORBIDDEN = [
    re.compile(re.escape(CARD)),
    re.compile(re.escape(CARD_GROUPED)),
    re.compile(re.escape(CARD_DASHED)),
    *(_token(group) for group in GROUPS),
    _token(CVV),
    re.compile("cuatro cinco cero nueve"),
    re.compile(CVV_SPOKEN),
]
# The DNI goes to the vault sealed: nowhere in clear.
FORBIDDEN_DNI = [re.compile(re.escape(DNI)), re.compile(re.escape(DNI_DOTTED))]


def leaks(where: str, found: Iterable[str], patterns: list[re.Pattern[str]]) -> list[str]:
    return [
        f"{where}: {pattern.pattern!r} in …{value[max(0, m.start() - 40) : m.end() + 40]}…"
        for value in found
        for pattern in patterns
        if (m := pattern.search(value)) is not None
    ]


# --- what is stored, everywhere ------------------------------------------------------------


async def every_row(sessions: Sessions) -> dict[str, list[str]]:
    """Every row of every table, each column cast to text."""
    dumped: dict[str, list[str]] = {}
    async with sessions() as session:
        connection = await session.connection()
        if connection.dialect.name == "postgresql":
            tables = (
                await connection.exec_driver_sql(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                )
            ).scalars()
            for table in list(tables):
                rows = await connection.exec_driver_sql(f'SELECT t::text FROM "{table}" t')
                dumped[table] = [str(row) for row in rows.scalars()]
        else:
            tables = (
                await connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            ).scalars()
            for table in list(tables):
                rows = await connection.exec_driver_sql(f'SELECT * FROM "{table}"')
                dumped[table] = ["|".join(str(value) for value in row) for row in rows]
    assert "redaction_proof" in dumped
    assert "webhook_delivery" in dumped
    return dumped


async def every_redis_value(url: str) -> list[str]:
    client: Any = Redis.from_url(url)
    found: list[str] = []
    try:
        async for raw_key in client.scan_iter(count=1000):
            key = raw_key.decode("utf-8", "replace")
            found.append(key)
            kind = (await client.type(raw_key)).decode()
            values: list[Any]
            if kind == "string":
                values = [await client.get(raw_key)]
            elif kind == "hash":
                values = [v for pair in (await client.hgetall(raw_key)).items() for v in pair]
            elif kind == "list":
                values = await client.lrange(raw_key, 0, -1)
            elif kind == "set":
                values = list(await client.smembers(raw_key))
            elif kind == "zset":
                values = [m for m, _ in await client.zrange(raw_key, 0, -1, withscores=True)]
            elif kind == "stream":
                values = [str(entry) for entry in await client.xrange(raw_key)]
            else:
                values = []
            for value in values:
                found.append(
                    value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                )
    finally:
        await client.aclose()
    return found


def every_file(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return [path.read_bytes().decode("latin-1") for path in directory.rglob("*") if path.is_file()]


async def assert_stored_nowhere(
    sessions: Sessions, *, logs: str, redis_url: str | None = None, files: Path | None = None
) -> dict[str, list[str]]:
    rows = await every_row(sessions)
    found: list[str] = []
    for table, values in rows.items():
        found += leaks(table, values, FORBIDDEN + FORBIDDEN_DNI)
    found += leaks("logs", [logs], FORBIDDEN + FORBIDDEN_DNI)
    if redis_url is not None:
        found += leaks("redis", await every_redis_value(redis_url), FORBIDDEN + FORBIDDEN_DNI)
    if files is not None:
        found += leaks("files", every_file(files), FORBIDDEN + FORBIDDEN_DNI)
    assert not found, "\n".join(found[:20])
    return rows


async def proofs(sessions: Sessions, source_prefix: str = "") -> list[RedactionProof]:
    async with sessions() as session:
        stmt = select(RedactionProof).order_by(RedactionProof.source, RedactionProof.field)
        if source_prefix:
            stmt = stmt.where(RedactionProof.source.startswith(source_prefix))
        return list((await session.scalars(stmt)).all())


async def vault(sessions: Sessions) -> list[RedactionVault]:
    async with sessions() as session:
        return list((await session.scalars(select(RedactionVault))).all())


async def ledger(sessions: Sessions) -> list[WebhookDelivery]:
    async with sessions() as session:
        stmt = select(WebhookDelivery).order_by(WebhookDelivery.received_at)
        return list((await session.scalars(stmt)).all())


async def messages(sessions: Sessions) -> list[Message]:
    async with sessions() as session:
        return list((await session.scalars(select(Message))).all())


async def count(sessions: Sessions, model: Any) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


# --- the providers' deliveries --------------------------------------------------------------


def cloud_update(message: dict[str, Any]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5491100000099", "phone_number_id": "100000000000001"},
        "contacts": [{"profile": {"name": "Juana Perez"}, "wa_id": "5491100000000"}],
        "messages": [message],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "200000000000001", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


def cloud_text(wamid: str, body: str) -> bytes:
    return cloud_update(
        {
            "from": "5491100000000",
            "id": wamid,
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": body},
        }
    )


def cloud_image(wamid: str, caption: str) -> bytes:
    return cloud_update(
        {
            "from": "5491100000000",
            "id": wamid,
            "timestamp": str(int(time.time())),
            "type": "image",
            "image": {
                "caption": caption,
                "mime_type": "image/jpeg",
                "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
                "id": "300000000000001",
            },
        }
    )


async def post_cloud(http: httpx.AsyncClient, raw: bytes) -> httpx.Response:
    headers = {
        "X-Hub-Signature-256": signature(EMULATOR_WHATSAPP_CLOUD_APP_SECRET, raw),
        "Content-Type": "application/json",
    }
    return await http.post("/webhooks/whatsapp-cloud", content=raw, headers=headers)


async def post_form(
    http: httpx.AsyncClient, pairs: list[tuple[str, str]], base: str = "http://testserver"
) -> httpx.Response:
    """A Twilio form (repeated keys kept), signed as Twilio signs it."""
    from contact_center.providers.registry import EMULATOR_TWILIO_AUTH_TOKEN

    url = f"{base}/webhooks/twilio/sms/status"
    signed = compute_signature(EMULATOR_TWILIO_AUTH_TOKEN, url, dict(pairs))
    return await http.post(
        url if base != "http://testserver" else "/webhooks/twilio/sms/status",
        content=urlencode(pairs).encode(),
        headers={
            "X-Twilio-Signature": signed,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


def twilio_form(sid: str, said: str) -> list[tuple[str, str]]:
    return [
        ("AccountSid", "AC" + "0" * 32),
        ("From", "+15005550006"),
        ("To", PHONE),
        ("MessageSid", sid),
        ("MessageStatus", "delivered"),
        ("Body", said),
        ("Body", said),  # a repeated key
    ]


def spoken_call(conversation_id: str) -> dict[str, Any]:
    return transcription(
        conversation_id,
        transcript=[
            {"role": "agent", "message": "Buen día, ¿en qué lo ayudo?", "time_in_call_secs": 0},
            {"role": "user", "message": f"Mi tarjeta es {CARD_SPOKEN}", "time_in_call_secs": 5},
            {"role": "agent", "message": "Perfecto, ¿el código?", "time_in_call_secs": 9},
            {
                "role": "user",
                "message": f"El código de seguridad es {CVV_SPOKEN}",
                "time_in_call_secs": 12,
            },
            {"role": "user", "message": f"y mi DNI es {DNI_DOTTED}", "time_in_call_secs": 15},
        ],
        analysis={
            "transcript_summary": f"El cliente dictó la tarjeta {CARD_DASHED} y el código de "
            f"seguridad {CVV}.",
            "call_successful": "success",
        },
    )


# --- every provider, then everything dumped ---------------------------------------------------


async def test_no_card_or_code_is_stored_anywhere_after_each_providers_delivery_and_a_sync(
    settings_factory: Callable[..., Settings], session_factory: Sessions, tmp_path: Path
) -> None:
    redis = PrivateRedis(str(tmp_path))
    redis.start()
    try:
        with Capture() as logs:
            async with live_app(settings_factory, with_worker=False, REDIS_URL=redis.url) as live:
                await deliver_everything(live)
            logged = logs.stream.getvalue()
        rows = await assert_stored_nowhere(
            session_factory,
            logs=logged,
            redis_url=redis.url,
            files=tmp_path / "recordings",
        )
        # ...and it was there to be removed: the last four and the placeholders are stored.
        everything = "\n".join(value for values in rows.values() for value in values)
        assert "[TARJETA ****3704]" in everything
        assert "[CÓDIGO]" in everything
        assert re.search(r"\[DNI tok_[a-z2-7]{16}\]", everything)
    finally:
        redis.stop()
    sources = {p.source.split(":")[0] for p in await proofs(session_factory)}
    assert sources == {"webhook", "call"}
    async with session_factory() as session:
        details = list((await session.scalars(select(CallDetail))).all())
    assert details
    assert all(d.sensitive_audio for d in details)


async def deliver_everything(live: Live) -> None:
    http = live.http
    # BuilderBot (WhatsApp)
    answered = await post_builderbot(http, incoming(PHONE, SAID))
    assert answered.status_code == 200, answered.text
    # WhatsApp Cloud: a text and an image's caption
    answered = await post_cloud(http, cloud_text("wamid.REDACT_TEXT", SAID))
    assert answered.status_code == 200, answered.text
    answered = await post_cloud(http, cloud_image("wamid.REDACT_IMAGE", SAID))
    assert answered.status_code == 200, answered.text
    # Twilio: a form body
    answered = await post_form(http, twilio_form("SM" + "a" * 32, SAID), base=live.base)
    assert answered.status_code == 200, answered.text
    # ElevenLabs: card and code spoken in words, in digits in the summary
    answered = await post_elevenlabs(http, spoken_call("conv_redact_webhook"))
    assert answered.status_code == 200, answered.text
    # The sync: a conversation the provider holds, fetched over HTTP
    made = await http.post(
        "/_emulator/elevenlabs/calls", json={"count": 1, "hours": 1, "webhook": False, "seed": 3}
    )
    (conversation_id,) = made.json()["conversationIds"]
    held = live.app.state.emulator.conversations[conversation_id]
    held["transcript"] = spoken_call(conversation_id)["data"]["transcript"]
    held["analysis"] = {**(held.get("analysis") or {}), "transcript_summary": SAID}
    synced = await http.post("/api/elevenlabs/sync", json={"hours": 2, "limit": 10})
    assert synced.status_code in (200, 202), synced.text
    for _ in range(200):
        async with live.app.state.session_factory() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(Interaction)
                .where(Interaction.provider_conversation_id == conversation_id)
            )
        if found:
            break
        await asyncio.sleep(0.05)
    refreshed = await http.post(f"/api/elevenlabs/conversations/{conversation_id}/refresh")
    assert refreshed.status_code == 200, refreshed.text


# --- the vault, the proofs, a repeat -------------------------------------------------------


async def test_the_dni_is_sealed_its_token_opens_and_the_proofs_confirm_the_card(
    app: FastAPI, client: httpx.AsyncClient, session_factory: Sessions
) -> None:
    answered = await post_builderbot(client, incoming(PHONE, SAID))
    assert answered.status_code == 200, answered.text
    (message,) = await messages(session_factory)
    assert message.body is not None
    assert "[TARJETA ****3704]" in message.body
    assert "[CÓDIGO]" in message.body
    token = re.search(r"\[DNI (tok_[a-z2-7]{16})\]", message.body)
    assert token, message.body
    (row,) = await vault(session_factory)
    assert row.token == token.group(1)
    assert row.entity == "dni"
    assert DNI not in row.sealed
    assert DNI_DOTTED not in row.sealed
    keys = app.state.runtime.keys.redaction
    assert keys.vault.open(row.sealed, bind(row.token, "dni")) == DNI_DOTTED

    found = await proofs(session_factory)
    (delivery,) = await ledger(session_factory)
    assert {p.source for p in found} == {f"webhook:{delivery.id}"}
    assert {p.interaction_id for p in found} == {message.interaction_id}
    by_entity = {p.entity: p for p in found}
    assert set(by_entity) == {"card", "security_code", "dni"}
    assert all(p.field == "raw_body.data.body" for p in found)
    card = by_entity["card"]
    key = ProofKey.current(keys.proof_keyring)
    assert card.fingerprint
    assert confirms(CARD_GROUPED, "card", card.fingerprint, key)
    assert not confirms("4509953566233712", "card", card.fingerprint, key)
    assert by_entity["security_code"].fingerprint is None
    assert by_entity["dni"].token == row.token
    # The ledger keeps the redacted body; the placeholder's place is the proof's.
    stored = received_body(delivery).decode()
    assert CARD_GROUPED not in stored
    assert "[TARJETA ****3704]" in stored
    assert message.body[card.start : card.end] == "[TARJETA ****3704]"

    # A repeat delivery (the same body: BuilderBot's key is the body's digest) writes nothing.
    again = await post_builderbot(client, incoming(PHONE, SAID))
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert len(await proofs(session_factory)) == 3
    assert len(await vault(session_factory)) == 1
    assert len(await ledger(session_factory)) == 1


async def test_a_replay_reads_the_stored_body_and_adds_no_proof(
    client: httpx.AsyncClient, session_factory: Sessions
) -> None:
    # A status for a message nobody sent waits (DEFERRED): its replay reads the stored body.
    answered = await post_form(client, twilio_form("SM" + "b" * 32, SAID))
    assert answered.status_code == 200, answered.text
    (delivery,) = await ledger(session_factory)
    assert delivery.status == "DEFERRED"
    before = await proofs(session_factory)
    assert {p.entity for p in before} == {"card", "security_code", "dni"}
    assert {p.field for p in before} == {"raw_body.Body"}
    assert all(p.interaction_id is None for p in before)
    replayed = await client.post(f"/api/webhooks/{delivery.id}/replay")
    assert replayed.status_code == 200, replayed.text
    assert len(await proofs(session_factory)) == len(before)
    body = received_body((await ledger(session_factory))[0]).decode()
    assert body.count("Body=") == 2  # the repeated key is kept
    assert CARD_GROUPED.replace(" ", "+") not in body


async def test_the_same_body_redacted_twice_gives_the_same_bytes(app: FastAPI) -> None:
    from contact_center.webhooks.ingest import redacted_body

    keys = app.state.runtime.keys.redaction
    raw = json.dumps(incoming(PHONE, SAID)).encode()
    first = redacted_body(keys.redactor(), raw, "application/json")
    second = redacted_body(keys.redactor(), raw, "application/json")
    assert first == second
    assert first != raw
    # Redacting what was redacted changes nothing.
    assert redacted_body(keys.redactor(), first, "application/json") == first


async def test_a_call_webhook_sets_the_recording_flag_and_names_its_call(
    client: httpx.AsyncClient, session_factory: Sessions
) -> None:
    answered = await post_elevenlabs(client, spoken_call("conv_redact_flag"))
    assert answered.status_code == 200, answered.text
    async with session_factory() as session:
        (detail,) = (await session.scalars(select(CallDetail))).all()
        (call,) = (await session.scalars(select(Interaction))).all()
    assert detail.sensitive_audio is True
    assert detail.transcript[1]["message"] == "Mi tarjeta es [TARJETA ****3704]"
    assert detail.transcript[3]["message"] == "El código de seguridad es [CÓDIGO]"
    assert detail.summary
    assert "[TARJETA ****3704]" in detail.summary
    found = await proofs(session_factory)
    assert {p.interaction_id for p in found} == {call.id}
    fields = {p.field for p in found}
    assert "raw_body.data.transcript[1].message" in fields
    assert "raw_body.data.analysis.transcript_summary" in fields
    # A call with nothing said of a card is not flagged.
    answered = await post_elevenlabs(client, transcription("conv_redact_clean"))
    async with session_factory() as session:
        flags = (await session.scalars(select(CallDetail.sensitive_audio))).all()
    assert sorted(flags) == [False, True]


def test_the_flag_reads_only_card_and_code_placeholders() -> None:
    assert holds_card_or_code(["pagó con [TARJETA ****1234]"])
    assert holds_card_or_code([None, "es [CÓDIGO]"])
    assert not holds_card_or_code(["mi [DNI tok_abcdefghijklmnop]", None, ""])
    assert not holds_card_or_code(["[TARJETA] escrito a mano"])


# --- redaction off --------------------------------------------------------------------------


async def test_redaction_off_stores_as_before(
    client_for: Callable[..., Any], session_factory: Sessions
) -> None:
    http = await client_for(REDACTION_ENABLED="false")
    answered = await post_builderbot(http, incoming(PHONE, SAID))
    assert answered.status_code == 200, answered.text
    (message,) = await messages(session_factory)
    assert message.body == SAID
    kept = json.loads(received_body((await ledger(session_factory))[0]))
    assert kept["data"]["body"] == SAID
    assert await count(session_factory, RedactionProof) == 0
    assert await count(session_factory, RedactionVault) == 0


# --- hostile deliveries ---------------------------------------------------------------------


async def test_an_unreadable_body_stays_invalid_but_loses_its_card(
    client: httpx.AsyncClient, session_factory: Sessions
) -> None:
    bodies = [
        f'{{"eventName":"message.incoming","data":{{"body":"{SAID}\x00"}}}}'.encode(),
        b"\xff\xfe" + SAID.encode() + b"\xc3",
    ]
    with Capture() as logs:
        for raw in bodies:
            answered = await post_builderbot(client, raw)
            assert answered.status_code == 422, answered.text
            assert CARD_GROUPED not in answered.text
    stored = await ledger(session_factory)
    assert [d.status for d in stored] == ["INVALID", "INVALID"]
    assert all(d.raw_body_encoding == "base64" for d in stored)
    kept = [received_body(d) for d in stored]
    assert kept[0].endswith(b'\x00"}}')
    assert kept[1].startswith(b"\xff\xfe")
    assert kept[1].endswith(b"\xc3")
    for body in kept:
        assert b"[TARJETA ****3704]" in body
    await assert_stored_nowhere(session_factory, logs=logs.stream.getvalue())
    assert {p.interaction_id for p in await proofs(session_factory)} == {None}


async def test_deep_json_and_a_megabyte_of_digits_answer_without_a_500(
    client: httpx.AsyncClient, session_factory: Sessions
) -> None:
    deep = ("[" * 10_000 + "]" * 10_000).encode()
    answered = await post_builderbot(client, deep)
    assert answered.status_code == 422, answered.text
    digits = ("0123456789" * 100_000)[: 1024 * 1024 - 200]
    started = time.monotonic()
    answered = await post_builderbot(client, incoming(PHONE, digits))
    assert answered.status_code == 200, answered.text
    assert time.monotonic() - started < 60
    spaced = (f"{CARD_GROUPED} " * 5_000)[:100_000]  # 5,000 cards: 5,000 proofs
    started = time.monotonic()
    answered = await post_builderbot(client, incoming(PHONE, spaced))
    assert answered.status_code == 200, answered.text
    assert time.monotonic() - started < 120
    stored = {len(m.body or "") for m in await messages(session_factory)}
    assert len(digits) in stored
    await assert_stored_nowhere(session_factory, logs="")


async def test_the_same_delivery_twice_at_once_writes_one_set_of_proofs(
    client: httpx.AsyncClient, session_factory: Sessions
) -> None:
    raw = cloud_text("wamid.REDACT_RACE", SAID)
    answers = await asyncio.gather(*(post_cloud(client, raw) for _ in range(6)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert sum(not a.json()["duplicate"] for a in answers) == 1
    assert len(await ledger(session_factory)) == 1
    assert sorted(p.entity for p in await proofs(session_factory)) == [
        "card",
        "dni",
        "security_code",
    ]
    assert len(await vault(session_factory)) == 1
    # Another customer's message with the same DNI: one vault row for its one token.
    other = cloud_text("wamid.REDACT_RACE_2", f"mi DNI es {DNI_DOTTED}")
    answered = await post_cloud(client, other)
    assert answered.status_code == 200
    assert len(await vault(session_factory)) == 1
    assert len(await proofs(session_factory)) == 4


# --- a satisfaction comment -----------------------------------------------------------------


async def test_a_survey_comment_is_redacted_before_it_is_stored(
    app: FastAPI, anonymous: httpx.AsyncClient, session_factory: Sessions
) -> None:
    chat = await resolved_chat(session_factory)
    path = await survey_link(app, chat)
    with Capture() as logs:
        done = await anonymous.post(path, data={"score": "2", "comment": SAID})
    assert done.status_code == 200, done.text
    async with session_factory() as session:
        (survey,) = (await session.scalars(select(CsatSurvey))).all()
    assert survey.comment
    assert "[TARJETA ****3704]" in survey.comment
    found = await proofs(session_factory, "csat:")
    assert {p.source for p in found} == {f"csat:{survey.id}"}
    assert {p.interaction_id for p in found} == {chat.id}
    assert {p.field for p in found} == {"comment"}
    await assert_stored_nowhere(session_factory, logs=logs.stream.getvalue())


async def test_a_comment_that_grows_past_its_column_when_redacted_is_cut_between_placeholders(
    app: FastAPI, anonymous: httpx.AsyncClient, session_factory: Sessions
) -> None:
    chat = await resolved_chat(session_factory)
    path = await survey_link(app, chat)
    # 1,000 characters of e-mail addresses: each becomes a longer "[EMAIL tok_…]".
    comment = " ".join(f"escribime a cliente{i:03d}@correo.com.ar" for i in range(27))[:1000]
    done = await anonymous.post(path, data={"score": "3", "comment": comment})
    assert done.status_code == 200, done.text
    async with session_factory() as session:
        (survey,) = (await session.scalars(select(CsatSurvey))).all()
    assert survey.comment is not None
    assert len(survey.comment) <= 1000
    assert "@correo" not in survey.comment
    assert re.search(r"\[[^\]]*$", survey.comment) is None  # no placeholder cut in two


# --- the sync ---------------------------------------------------------------------------------


async def emulated_call(live: Live, transcript: Callable[[str], list[dict[str, Any]]]) -> str:
    """A finished call the emulated provider holds (no webhook), with the given transcript."""
    made = await live.http.post(
        "/_emulator/elevenlabs/calls", json={"count": 1, "hours": 1, "webhook": False}
    )
    (conversation_id,) = made.json()["conversationIds"]
    held = live.app.state.emulator.conversations[conversation_id]
    held["transcript"] = transcript(conversation_id)
    return str(conversation_id)


async def test_a_synced_call_is_redacted_and_a_second_fetch_keeps_one_set_of_proofs(
    settings_factory: Callable[..., Settings], session_factory: Sessions
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        conversation_id = await emulated_call(
            live, lambda cid: copy.deepcopy(spoken_call(cid)["data"]["transcript"])
        )
        for _ in range(2):
            fresh = await live.http.post(f"/api/elevenlabs/conversations/{conversation_id}/refresh")
            assert fresh.status_code == 200, fresh.text
        interaction_id = uuid.UUID(fresh.json()["id"])
    found = await proofs(session_factory)
    assert {p.source for p in found} == {f"call:{conversation_id}"}
    assert {p.interaction_id for p in found} == {interaction_id}
    assert sorted(p.entity for p in found) == ["card", "dni", "security_code"]
    assert {p.field for p in found} >= {"conversation.transcript[1].message"}
    async with session_factory() as session:
        detail = (await session.scalars(select(CallDetail))).one()
        raw_events = (
            await session.execute(text("SELECT payload FROM interaction_event"))
        ).scalars()
        payloads = [str(p) for p in raw_events]
    assert detail.sensitive_audio is True
    assert detail.transcript[1]["message"] == "Mi tarjeta es [TARJETA ****3704]"
    assert not leaks("events", payloads, FORBIDDEN + FORBIDDEN_DNI)


async def test_the_providers_copy_shown_masked_is_redacted_and_shown_whole_when_revealed(
    settings_factory: Callable[..., Settings], session_factory: Sessions
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        conversation_id = await emulated_call(
            live, lambda _: [{"role": "user", "message": SAID, "time_in_call_secs": 3}]
        )
        path = f"/api/elevenlabs/conversations/{conversation_id}"
        masked = await live.http.get(path)
        assert masked.status_code == 200, masked.text
        assert not leaks("masked view", [masked.text], FORBIDDEN + FORBIDDEN_DNI)
        turn = masked.json()["conversation"]["transcript"][0]["message"]
        assert "[TARJETA ****3704]" in turn
        assert "[CÓDIGO]" in turn
        token = re.search(r"\[DNI (tok_[a-z2-7]{16})\]", turn)
        assert token is not None
        revealed = await live.http.get(
            path, params={"includePII": "true"}, headers={"X-Reveal-Reason": "reclamo 4411"}
        )
        assert revealed.status_code == 200, revealed.text
        assert revealed.json()["conversation"]["transcript"][0]["message"] == SAID
    # Nothing was stored but the sealed DNI (so the token's audited reveal opens it): no proof.
    assert [row.token for row in await vault(session_factory)] == [token.group(1)]
    assert await proofs(session_factory) == []


# --- configuration ----------------------------------------------------------------------------


def _keyring() -> str:
    return f"k1:{new_key()}"


def test_preflight_wants_both_keyrings_in_production_and_never_prints_a_key(
    backend: Backend,
) -> None:
    if backend.name != "sqlite":
        pytest.skip("no database involved")

    def findings(**values: str) -> dict[str, str]:
        production = {
            k: v for k, v in PRODUCTION_SETTINGS.items() if not k.startswith("REDACTION_")
        }
        settings = load_settings(
            DATABASE_URL="postgresql+asyncpg://u@h/db", **{**production, **values}
        )
        return {
            f.variable: f.message
            for f in static_findings(settings)
            if f.variable.startswith("REDACTION_")
        }

    missing = findings()
    assert set(missing) == {"REDACTION_VAULT_KEYS", "REDACTION_PROOF_KEYS"}
    vault_keys, proof_keys = _keyring(), _keyring()
    assert findings(REDACTION_VAULT_KEYS=vault_keys, REDACTION_PROOF_KEYS=proof_keys) == {}
    same = findings(REDACTION_VAULT_KEYS=vault_keys, REDACTION_PROOF_KEYS=vault_keys)
    assert list(same) == ["REDACTION_PROOF_KEYS"]
    # The same key under another id is the same key.
    shared = "k9:" + vault_keys.split(":", 1)[1]
    assert list(findings(REDACTION_VAULT_KEYS=vault_keys, REDACTION_PROOF_KEYS=shared)) == [
        "REDACTION_PROOF_KEYS"
    ]
    broken = findings(REDACTION_VAULT_KEYS="k1:" + "A" * 10, REDACTION_PROOF_KEYS=proof_keys)
    assert list(broken) == ["REDACTION_VAULT_KEYS"]
    for message in (*missing.values(), *same.values(), *broken.values()):
        assert vault_keys.split(":", 1)[1] not in message
        assert "A" * 10 not in message
    assert findings(REDACTION_ENABLED="false") == {}
