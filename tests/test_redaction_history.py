"""The history command (redact what was stored before redaction existed: batched, resumable,
idempotent) and the vault's rotation (reseal, new key), on SQLite and on PostgreSQL
(docs/redaction.md, "Existing data" and "Rotating the keys")."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from bench.redaction_accuracy import load_corpus
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from contact_center.cli import cli
from contact_center.models import (
    CallDetail,
    InteractionEvent,
    Message,
    WebhookDelivery,
)
from contact_center.models.csat import CsatSurvey
from contact_center.models.enums import Channel, Direction, Handler, MessageStatus
from contact_center.models.redaction import RedactionProof, RedactionRun, RedactionVault
from contact_center.redaction.history import (
    TABLES,
    next_key_id,
    redact_history,
    reseal_vault,
)
from contact_center.redaction.service import RedactionKeys
from contact_center.redaction.vault import Keyring, UnknownKeyError, Vault, bind, new_key
from contact_center.settings import Settings
from tests import factories as f

CARD = "4509953566233704"
CARD_GROUPS = "4509 9535 6623 3704"
CVV = "847"
DNI = "30.555.777"
SAID = f"Mi tarjeta es {CARD_GROUPS} y el código de seguridad {CVV}, mi DNI es {DNI}"
SPOKEN_CARD = (
    "cuatro cinco cero nueve nueve cinco tres cinco seis seis dos tres tres siete cero cuatro"
)
VAULT_K1 = f"k1:{new_key()}"
PROOF_K1 = f"p1:{new_key()}"
Sessions = async_sessionmaker[AsyncSession]


def keys_of(vault: str = VAULT_K1, proof: str = PROOF_K1) -> RedactionKeys:
    return RedactionKeys(Keyring.parse(vault), Keyring.parse(proof))


def leaks(value: Any) -> list[str]:
    """What of the seeded card and code a stored value still holds."""
    written = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    found = [s for s in (CARD, CARD_GROUPS, "4509 9535", SPOKEN_CARD, DNI) if s in written]
    if f"seguridad {CVV}" in written or f'"{CVV}"' in written:
        found.append(CVV)
    return found


async def seed_history(session: AsyncSession) -> dict[str, Any]:
    """History written before redaction existed: the card, its code and a DNI in every table."""
    chat = f.interaction()
    call = f.interaction(channel=Channel.CALL)
    inbound = f.message(chat, body=SAID)
    outbound = f.message(
        chat,
        body=f"Recibimos su DNI {DNI}, gracias",
        direction=Direction.OUTBOUND,
        status=MessageStatus.SENT,
        created_at=chat.started_at + timedelta(seconds=5),
    )
    detail = f.call_detail(
        call,
        transcript=[
            {"role": "agent", "message": "Hola, ¿en qué puedo ayudarle?", "time_in_call_secs": 0},
            {"role": "user", "message": f"La tarjeta es {SPOKEN_CARD}", "time_in_call_secs": 4},
            {"role": "user", "message": f"el código de seguridad {CVV}", "time_in_call_secs": 9},
            {"role": "user", "message": None, "time_in_call_secs": 12},
        ],
        summary=f"El cliente dictó su tarjeta {CARD} y su DNI {DNI}.",
        analysis={"data_collection_results": {"card": {"value": CARD}, "dni": {"value": DNI}}},
    )
    event = f.event(
        chat,
        payload={"from": chat.from_number, "body": SAID, "n": 3, "list": [SAID, None, True]},
        normalized={"direction": "INBOUND", "text": SAID},
    )
    json_body = json.dumps({"data": {"body": SAID, "from": "+5491155551234"}}).encode()
    form_body = f"Body=Tarjeta+{CARD}+codigo+de+seguridad+{CVV}&From=%2B5491155551234".encode()
    deliveries = [
        WebhookDelivery(
            provider="builderbot",
            event_key=f"json:{uuid.uuid4().hex}",
            content_type="application/json",
            raw_body=json_body.decode(),
            status="PROCESSED",
        ),
        WebhookDelivery(
            provider="twilio",
            event_key=f"form:{uuid.uuid4().hex}",
            content_type="application/x-www-form-urlencoded",
            raw_body=form_body.decode(),
            status="PROCESSED",
        ),
        # Hostile ledger rows: bodies a text column refuses, kept as base64 of their bytes.
        WebhookDelivery(
            provider="builderbot",
            event_key=f"nul:{uuid.uuid4().hex}",
            content_type="application/json",
            raw_body=base64.b64encode(b'{"body": "hola\x00"}\x00').decode(),
            raw_body_encoding="base64",
            status="INVALID",
        ),
        WebhookDelivery(
            provider="builderbot",
            event_key=f"utf8:{uuid.uuid4().hex}",
            content_type="application/json",
            raw_body=base64.b64encode(b'{"body": "\xff\xfe tarjeta"}').decode(),
            raw_body_encoding="base64",
            status="INVALID",
        ),
        WebhookDelivery(
            provider="builderbot",
            event_key=f"bad64:{uuid.uuid4().hex}",
            content_type="application/json",
            raw_body="not base64 at all!",
            raw_body_encoding="base64",
            status="INVALID",
        ),
    ]
    survey = CsatSurvey(
        interaction_id=chat.id,
        channel=Channel.WHATSAPP,
        handler=Handler.AI,
        expires_at=chat.started_at + timedelta(days=7),
        answered_at=chat.started_at + timedelta(hours=1),
        score=2,
        # Tokens are longer than a DNI: a comment at the column's limit must still fit.
        comment=(f"DNI {DNI} " * 80)[:975] + f" tarjeta {CARD}",
    )
    await f.save(session, chat, call, inbound, outbound, detail, event, *deliveries, survey)
    return {
        "chat": chat,
        "call": call,
        "inbound": inbound.id,
        "outbound": outbound.id,
        "detail": detail.id,
        "event": event.id,
        "deliveries": [d.id for d in deliveries],
        "survey": survey.id,
    }


async def stored(sessions: Sessions) -> dict[str, Any]:
    """Every redactable value, as stored now, by table and key."""
    async with sessions() as session:
        messages = (await session.execute(select(Message.id, Message.body))).all()
        details = (await session.execute(select(CallDetail))).scalars().all()
        events = (
            await session.execute(
                select(InteractionEvent.id, InteractionEvent.payload, InteractionEvent.normalized)
            )
        ).all()
        deliveries = (
            await session.execute(
                select(
                    WebhookDelivery.id,
                    WebhookDelivery.raw_body,
                    WebhookDelivery.raw_body_encoding,
                )
            )
        ).all()
        surveys = (await session.execute(select(CsatSurvey.id, CsatSurvey.comment))).all()
    return {
        "message": {str(i): body for i, body in messages},
        "call_detail": {
            str(d.id): [d.transcript, d.summary, d.analysis, d.sensitive_audio] for d in details
        },
        "interaction_event": {str(i): [p, n] for i, p, n in events},
        "webhook_delivery": {str(i): [b, e] for i, b, e in deliveries},
        "csat_survey": {str(i): c for i, c in surveys},
    }


async def count(sessions: Sessions, model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def no_leak_anywhere(state: dict[str, Any], *, except_ids: tuple[str, ...] = ()) -> None:
    for table, rows in state.items():
        for key, value in rows.items():
            if key in except_ids:
                continue
            assert not leaks(value), (table, key, leaks(value))


async def searchable(sessions: Sessions) -> tuple[int, int]:
    """How many messages and calls the full-text search finds by the card's digits."""
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            found = await session.scalar(
                text(
                    "SELECT count(*) FROM message WHERE search_vector @@ "
                    "plainto_tsquery('cc_spanish', :card)"
                ),
                {"card": CARD_GROUPS},
            )
            calls = await session.scalar(
                text(
                    "SELECT count(*) FROM call_detail WHERE summary_vector @@ "
                    "plainto_tsquery('cc_spanish', :card)"
                ),
                {"card": CARD},
            )
        else:
            found = await session.scalar(
                text("SELECT count(*) FROM message_fts WHERE message_fts MATCH :q"),
                {"q": '"4509"'},
            )
            calls = await session.scalar(
                text("SELECT count(*) FROM call_detail_fts WHERE call_detail_fts MATCH :q"),
                {"q": f'"{CARD}"'},
            )
    return int(found or 0), int(calls or 0)


async def test_the_history_is_redacted_in_every_table_with_proofs_and_vault_rows(
    session_factory: Sessions,
) -> None:
    async with session_factory() as session:
        seeded = await seed_history(session)
    keys = keys_of()
    assert await searchable(session_factory) == (1, 1)

    report = await redact_history(session_factory, keys, batch=2)

    state = await stored(session_factory)
    outbound = str(seeded["outbound"])
    no_leak_anywhere(state, except_ids=(outbound,))
    # The bank's own words are left as they were sent.
    assert state["message"][outbound] == f"Recibimos su DNI {DNI}, gracias"
    body = state["message"][str(seeded["inbound"])]
    assert body.startswith("Mi tarjeta es [TARJETA ****3704] y el código de seguridad [CÓDIGO]")
    assert "[DNI tok_" in body
    transcript, summary, analysis, sensitive = state["call_detail"][str(seeded["detail"])]
    assert transcript[1]["message"] == "La tarjeta es [TARJETA ****3704]"
    assert transcript[2]["message"] == "el código de seguridad [CÓDIGO]"
    assert transcript[3] == {"role": "user", "message": None, "time_in_call_secs": 12}
    assert transcript[1]["time_in_call_secs"] == 4
    assert sensitive is True
    assert "[TARJETA ****3704]" in summary
    assert analysis["data_collection_results"]["card"]["value"] == "[TARJETA ****3704]"
    payload, normalized = state["interaction_event"][str(seeded["event"])]
    assert payload["n"] == 3
    assert payload["list"][1:] == [None, True]
    assert "[CÓDIGO]" in normalized["text"]
    json_delivery, form_delivery = (
        state["webhook_delivery"][str(i)] for i in seeded["deliveries"][:2]
    )
    assert json_delivery[1] is None
    assert "[TARJETA ****3704]" in json.loads(json_delivery[0])["data"]["body"]
    assert form_delivery[1] is None
    assert "TARJETA" in form_delivery[0]
    # The bodies a text column refuses are left as they came (nothing in them reads as text).
    for i in seeded["deliveries"][2:4]:
        assert state["webhook_delivery"][str(i)][1] == "base64"
    comment = state["csat_survey"][str(seeded["survey"])]
    assert len(comment) <= 1000
    assert comment.startswith("DNI [DNI tok_")

    # The full-text search follows what was written: the card is no longer found by it.
    assert await searchable(session_factory) == (0, 0)

    # The proofs: one per redaction, in history:<table>:<id>, with the conversation.
    async with session_factory() as session:
        proofs = (await session.scalars(select(RedactionProof))).all()
        vault = (await session.scalars(select(RedactionVault))).all()
    sources = {p.source for p in proofs}
    assert f"history:message:{seeded['inbound']}" in sources
    assert f"history:call_detail:{seeded['detail']}" in sources
    assert f"history:webhook_delivery:{seeded['deliveries'][0]}" in sources
    assert f"history:csat_survey:{seeded['survey']}" in sources
    assert not any(p.source.endswith(outbound) for p in proofs)
    by_source = {p.source: p for p in proofs}
    assert by_source[f"history:message:{seeded['inbound']}"].interaction_id == seeded["chat"].id
    assert by_source[f"history:call_detail:{seeded['detail']}"].interaction_id == seeded["call"].id
    assert by_source[f"history:webhook_delivery:{seeded['deliveries'][0]}"].interaction_id is None
    fields = {p.field for p in proofs}
    assert "message.body" in fields
    assert "call_detail.transcript[1].message" in fields
    assert "interaction_event.payload.list[0]" in fields
    assert "raw_body.data.body" in fields
    assert {p.entity for p in proofs} == {"card", "security_code", "dni"}
    assert all(p.fingerprint is None for p in proofs if p.entity == "security_code")
    # The DNI is in the vault, sealed (one row: its token is derived from the value).
    assert [v.entity for v in vault] == ["dni"]
    assert DNI not in vault[0].sealed
    assert "30555777" not in vault[0].sealed
    assert keys.vault.open(vault[0].sealed, bind(vault[0].token, "dni")) == DNI

    # The report: per table, what was scanned, changed and found; never an original.
    parts = {t.table: t for t in report.tables}
    assert list(parts) == list(TABLES)
    assert parts["message"].scanned == 1  # the outbound one is not walked
    assert parts["message"].changed == 1
    assert parts["message"].findings == {"card": 1, "security_code": 1, "dni": 1}
    assert parts["webhook_delivery"].scanned == 5
    assert parts["webhook_delivery"].changed == 2
    assert parts["webhook_delivery"].unreadable == 1  # the one that is not base64
    assert parts["csat_survey"].changed == 1
    assert sum(sum(t.findings.values()) for t in report.tables) == len(proofs)
    rendered = json.dumps(report.as_dict())
    assert not leaks(rendered)
    assert CVV not in rendered
    async with session_factory() as session:
        runs = {r.name: r for r in (await session.scalars(select(RedactionRun))).all()}
    assert set(runs) == set(TABLES)
    assert all(r.finished_at is not None for r in runs.values())
    assert runs["message"].changed == 1
    assert runs["message"].cursor == str(seeded["inbound"])


async def test_a_second_run_changes_nothing_and_adds_no_proof(session_factory: Sessions) -> None:
    async with session_factory() as session:
        await seed_history(session)
    keys = keys_of()
    await redact_history(session_factory, keys, batch=3)
    before = await stored(session_factory)
    proofs, vault = (
        await count(session_factory, RedactionProof),
        await count(session_factory, RedactionVault),
    )

    again = await redact_history(session_factory, keys, batch=3)  # the last run finished
    restarted = await redact_history(session_factory, keys, batch=500, restart=True)

    for report in (again, restarted):
        assert sum(t.changed for t in report.tables) == 0
        assert sum(sum(t.findings.values()) for t in report.tables) == 0
        assert report.tables[0].scanned == 1  # it did go through the rows again
    assert await stored(session_factory) == before
    assert await count(session_factory, RedactionProof) == proofs
    assert await count(session_factory, RedactionVault) == vault


async def test_only_one_table_and_wrong_arguments(session_factory: Sessions) -> None:
    async with session_factory() as session:
        seeded = await seed_history(session)
    keys = keys_of()
    report = await redact_history(session_factory, keys, only=["csat_survey"])
    assert [t.table for t in report.tables] == ["csat_survey"]
    state = await stored(session_factory)
    assert leaks(state["message"][str(seeded["inbound"])])  # not walked
    with pytest.raises(ValueError, match="unknown table 'interaction'"):
        await redact_history(session_factory, keys, only=["interaction"])
    with pytest.raises(ValueError, match="at least one row"):
        await redact_history(session_factory, keys, batch=0)


async def test_hostile_rows_are_reported_and_the_run_goes_on(
    session_factory: Sessions, settings: Settings
) -> None:
    chat = f.interaction()
    huge = ("hola " * 60_000) + f"tarjeta {CARD}"  # 300,000 characters
    blob = "A" * 50_000 + CARD  # no space in its first 4,096 characters: a blob, left alone
    deep_event = f.event(chat, payload={"placeholder": True})
    after = f.message(chat, body=SAID, created_at=chat.started_at + timedelta(minutes=1))
    async with session_factory() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        # PostgreSQL's text refuses NUL; SQLite's keeps it.
        nul = "NUL \x00 inside" if not postgres else "NUL \\u0000 inside"
        await f.save(
            session,
            chat,
            f.message(chat, body=huge),
            f.message(chat, body=blob, created_at=chat.started_at + timedelta(seconds=1)),
            f.message(chat, body=nul, created_at=chat.started_at),
            deep_event,
            f.event(chat, payload={"body": SAID}),
            after,
        )
        # A 10,000-deep JSON document, as a driver that wrote it before any depth check would.
        deep = "[" * 10_000 + json.dumps(SAID) + "]" * 10_000
        value = "CAST(:payload AS JSONB)" if postgres else ":payload"
        await session.execute(
            text(f"UPDATE interaction_event SET payload = {value} WHERE idempotency_key = :k"),
            {"payload": deep, "k": deep_event.idempotency_key},
        )
        await session.commit()

    report = await redact_history(session_factory, keys_of(), batch=2)

    parts = {t.table: t for t in report.tables}
    assert parts["message"].scanned == 4
    assert parts["message"].changed == 2
    assert parts["interaction_event"].changed == 1
    assert parts["interaction_event"].unreadable == 1
    assert parts["interaction_event"].unreadable_keys == [str(deep_event.id)]
    async with session_factory() as session:
        rows = (await session.execute(select(Message.id, Message.body))).all()
    bodies = {i: b or "" for i, b in rows}
    assert not leaks(bodies[after.id])
    assert any(
        b.endswith("tarjeta [TARJETA ****3704]") and len(b) > 300_000 for b in bodies.values()
    )
    assert blob in bodies.values()
    assert nul in bodies.values()
    async with session_factory() as session:
        runs = (await session.scalars(select(RedactionRun))).all()
    assert all(r.finished_at is not None for r in runs)


async def test_reseal_moves_every_vault_row_to_the_new_key_and_the_old_one_can_go(
    session_factory: Sessions,
) -> None:
    chat = f.interaction()
    async with session_factory() as session:
        await f.save(
            session,
            chat,
            *[
                f.message(chat, body=f"mi DNI es {n:02d}.555.777, mail juan{n}@gmail.com")
                for n in range(20, 27)
            ],
        )
    await redact_history(session_factory, keys_of(), batch=4)
    async with session_factory() as session:
        before = {
            v.token: (v.entity, v.sealed) for v in (await session.scalars(select(RedactionVault)))
        }
    assert len(before) == 14
    assert {e for e, _ in before.values()} == {"dni", "email"}
    old = Vault(Keyring.parse(VAULT_K1))
    originals = {token: old.open(sealed, bind(token, e)) for token, (e, sealed) in before.items()}

    new_entry = f"{next_key_id(['k1'])}:{new_key()}"
    assert new_entry.startswith("k2:")
    rotated = keys_of(vault=f"{new_entry},{VAULT_K1}")
    report = await reseal_vault(session_factory, rotated, batch=3)

    assert (report.scanned, report.resealed, report.failed) == (14, 14, 0)
    assert report.keys == {"k2": 14}
    alone = Vault(Keyring.parse(new_entry))  # without the old key
    async with session_factory() as session:
        after = (await session.scalars(select(RedactionVault))).all()
    for row in after:
        assert row.key_id == "k2"
        assert row.sealed.startswith("v1.k2.")
        assert alone.open(row.sealed, bind(row.token, row.entity)) == originals[row.token]
    with pytest.raises(UnknownKeyError):
        old.open(after[0].sealed, bind(after[0].token, after[0].entity))
    again = await reseal_vault(session_factory, rotated)
    assert (again.scanned, again.resealed) == (0, 0)
    # A row sealed with a key the keyring no longer holds is listed, not lost.
    async with session_factory() as session:
        await session.execute(
            insert(RedactionVault),
            [
                {
                    "token": "tok_" + "a" * 16,
                    "entity": "dni",
                    "sealed": old.seal("30555777", bind("tok_" + "a" * 16, "dni")),
                    "key_id": "k1",
                }
            ],
        )
        await session.commit()
    lost = await reseal_vault(session_factory, keys_of(vault=new_entry))
    assert (lost.resealed, lost.failed, lost.failed_tokens) == (0, 1, ["tok_" + "a" * 16])


def test_redacting_a_redacted_text_again_finds_nothing_over_the_whole_corpus() -> None:
    """A context word whose number is already a placeholder does not point at the next number
    along ("código de seguridad [CÓDIGO] vence 21/04/2026", "mi dni [DNI tok_…], el reclamo
    fue el 50967878"): the second run of the history command changes nothing."""
    keys = keys_of()
    for snippet in load_corpus():
        once = keys.redactor().text(snippet.text, "body")
        again = keys.redactor()
        assert again.text(once, "body") == once, snippet.id
        assert again.proofs == []


def test_next_key_id() -> None:
    assert next_key_id(["k1"]) == "k2"
    assert next_key_id(["k9", "k10", "old"]) == "k11"
    assert next_key_id(["main"]) == "k1"


# --- the command line -----------------------------------------------------------------------


def cli_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "APP_ENV": "test",
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "REDACTION_VAULT_KEYS": VAULT_K1,
        "REDACTION_PROOF_KEYS": PROOF_K1,
        "LOG_FILE": str(tmp_path / "cli.log"),
        **extra,
    }


def report_of(stdout: str) -> dict[str, Any]:
    """The JSON report: the last document printed (log lines may come before it)."""
    start = stdout.rindex("\n{\n") + 1 if not stdout.startswith("{\n") else 0
    return dict(json.loads(stdout[start:]))


async def test_the_commands_through_typer(
    session_factory: Sessions, database_url: str, tmp_path: Path
) -> None:
    async with session_factory() as session:
        await seed_history(session)
    env = cli_env(database_url, tmp_path)

    def invoke(*args: str, **more: str) -> Any:
        return CliRunner().invoke(cli, list(args), env={**env, **more})

    off = await asyncio.to_thread(invoke, "redaction", "history", REDACTION_ENABLED="false")
    assert off.exit_code == 2
    assert "REDACTION_ENABLED is false" in off.stderr
    wrong = await asyncio.to_thread(invoke, "redaction", "history", "--only", "interaction")
    assert wrong.exit_code == 2
    assert "unknown table" in wrong.stderr
    done = await asyncio.to_thread(invoke, "redaction", "history", "--batch", "2")
    assert done.exit_code == 0, done.output
    assert "Redaction of the stored history" in done.stderr  # the table, not on a terminal
    assert "message: 1 rows to go through" in done.stderr
    assert "scanned " in done.stdout
    assert not leaks(done.output)
    again = await asyncio.to_thread(invoke, "redaction", "history", "--json")
    assert again.exit_code == 0, again.output
    assert report_of(again.stdout)["changed"] == 0

    made = await asyncio.to_thread(invoke, "redaction", "new-key")
    assert made.exit_code == 0
    entry = made.stdout.strip()
    assert entry.startswith("k2:")
    assert len(base64.b64decode(entry[3:])) == 32
    assert entry not in made.stderr
    assert "REDACTION_VAULT_KEYS" in made.stderr
    proof = await asyncio.to_thread(invoke, "redaction", "new-key", "--proof")
    assert proof.stdout.startswith("p2:") or proof.stdout.startswith("k1:")
    resealed = await asyncio.to_thread(
        invoke, "redaction", "reseal", "--json", REDACTION_VAULT_KEYS=f"{entry},{VAULT_K1}"
    )
    assert resealed.exit_code == 0, resealed.output
    assert report_of(resealed.stdout)["keys"] == {"k2": 1}
    log = (tmp_path / "cli.log").read_text()
    assert not leaks(log)
    assert entry.split(":")[1] not in log


@pytest.mark.slow
async def test_a_run_killed_mid_way_resumes_from_its_cursor_to_the_same_end(
    session_factory: Sessions, database_url: str, tmp_path: Path
) -> None:
    chat = f.interaction()
    rows = 1500
    async with session_factory() as session:
        await f.save(session, chat)
        await session.execute(
            insert(Message),
            [
                {
                    "id": uuid.uuid4(),
                    "interaction_id": chat.id,
                    "direction": Direction.INBOUND,
                    "body": f"{SAID} (mensaje {n})",
                    "media": [],
                    "status": MessageStatus.RECEIVED,
                    "kind": "TEXT",
                    "created_at": chat.started_at,
                    "updated_at": chat.started_at,
                    "attempts": 0,
                }
                for n in range(rows)
            ],
        )
        await session.commit()
    command = [sys.executable, "-m", "contact_center", "redaction", "history", "--batch", "3"]
    env = {**os.environ, **cli_env(database_url, tmp_path)}
    process = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        scanned = 0
        while time.monotonic() < deadline and scanned < 30:
            async with session_factory() as session:
                run = await session.get(RedactionRun, "message")
                scanned = run.scanned if run is not None and run.cursor else 0
            await asyncio.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        await asyncio.wait_for(process.wait(), timeout=30)
    async with session_factory() as session:
        run = await session.get(RedactionRun, "message")
        assert run is not None
        assert run.cursor is not None
        assert run.finished_at is None, "the run finished before it was killed"
        killed_at, cursor = run.scanned, run.cursor
        proofs_then = await session.scalar(select(func.count()).select_from(RedactionProof))
    assert 30 <= killed_at < rows
    assert proofs_then == killed_at * 3

    report = await redact_history(session_factory, keys_of(), batch=50, only=["message"])

    part = report.tables[0]
    assert part.resumed_from == cursor
    assert part.scanned == rows - killed_at
    assert part.changed == rows - killed_at
    keys = keys_of()
    async with session_factory() as session:
        bodies = (await session.execute(select(Message.id, Message.body))).all()
        per_source = (
            await session.execute(
                select(RedactionProof.source, func.count()).group_by(RedactionProof.source)
            )
        ).all()
        run = await session.get(RedactionRun, "message")
    # The same end as an uninterrupted run: every body as one run redacts it, three proofs
    # each, no duplicates.
    uninterrupted = {
        f"{SAID} (mensaje {n})": keys.redactor().text(f"{SAID} (mensaje {n})", "body")
        for n in range(rows)
    }
    expected = set(uninterrupted.values())
    assert {body for _, body in bodies} == expected
    assert len(per_source) == rows
    assert {n for _, n in per_source} == {3}
    assert run is not None
    assert run.scanned == rows
    assert run.finished_at is not None


@pytest.mark.slow
async def test_the_command_as_a_subprocess_prints_its_json_report(
    session_factory: Sessions, database_url: str, tmp_path: Path
) -> None:
    async with session_factory() as session:
        await seed_history(session)
    run = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "contact_center", "redaction", "history", "--json"],
        env={**os.environ, **cli_env(database_url, tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = report_of(run.stdout)
    assert [t["table"] for t in report["tables"]] == list(TABLES)
    assert report["changed"] == 6
    assert report["unreadable"] == 1
    assert not leaks(run.stdout + run.stderr)
    state = await stored(session_factory)
    assert not leaks(state["call_detail"])
    assert not leaks(state["csat_survey"])
    again = await redact_history(session_factory, keys_of())
    assert sum(t.changed for t in again.tables) == 0
