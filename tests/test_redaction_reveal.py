"""The audited reveal of a vault token, the proofs of a conversation, the confirmation of a known
original, restricted recordings and the console's view of redacted text (docs/redaction.md,
"Reveal, proofs and recordings")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models import AuditLog
from contact_center.models.enums import Channel, Provider, Role
from contact_center.models.redaction import RedactionProof, RedactionVault
from contact_center.redaction import repository
from contact_center.redaction.redact import count_placeholders
from contact_center.redaction.service import RedactionKeys
from tests import factories as f
from tests.test_console_defects import Signed

Sessions = async_sessionmaker[AsyncSession]

CARD = "4509 9535 6623 3704"
DNI = "38.123.456"
CUSTOMER_SAID = (
    f"hola, mi DNI es {DNI}, la tarjeta {CARD} y el código de seguridad es 123, "
    "mi mail juan.perez@gmail.com"
)
CONVERSATION = "conv_sensitive_1"
REASON = "Disputa del cliente 4411, pedido de auditoría"


@dataclass
class Arranged:
    interaction_id: uuid.UUID
    call_id: uuid.UUID
    body: str
    dni_token: str
    email_token: str
    proofs: dict[str, uuid.UUID]


def _keys(app: FastAPI) -> RedactionKeys:
    keys: RedactionKeys | None = app.state.runtime.keys.redaction
    assert keys is not None
    return keys


async def _arrange(app: FastAPI, *, agent: str = "ana") -> Arranged:
    """A WhatsApp conversation of `agent` whose customer's message was redacted at ingest, and a
    call of theirs whose transcript held a card (its recording restricted)."""
    sessions: Sessions = app.state.session_factory
    keys = _keys(app)
    chat = f.interaction(assigned_agent=agent)
    redactor = keys.redactor()
    body = redactor.text(CUSTOMER_SAID, "message.body")
    call = f.interaction(
        channel=Channel.CALL,
        provider=Provider.ELEVENLABS,
        provider_conversation_id=CONVERSATION,
        assigned_agent=agent,
    )
    call_redactor = keys.redactor()
    turn = call_redactor.text(f"la tarjeta es {CARD}", "call.transcript[1].message")
    async with sessions() as session:
        await f.save(
            session,
            chat,
            f.message(chat, body=body),
            call,
            f.call_detail(
                call,
                transcript=[
                    {"role": "agent", "message": "¿Me dicta la tarjeta?", "time_in_call_secs": 0},
                    {"role": "user", "message": turn, "time_in_call_secs": 4},
                ],
                has_audio=True,
                recording_url=f"/api/elevenlabs/audio/{CONVERSATION}",
                sensitive_audio=call_redactor.removed_card_or_code,
            ),
        )
        await repository.save(session, redactor, "webhook:test", chat.id)
        await repository.save(session, call_redactor, f"call:{CONVERSATION}", call.id)
        await session.commit()
        proofs = {row.entity: row.id for row in await repository.proofs_of(session, chat.id)}
    tokens = {p.entity: p.token for p in redactor.proofs}
    assert tokens["dni"]
    assert tokens["email"]
    return Arranged(chat.id, call.id, body, tokens["dni"], tokens["email"], proofs)


async def _audit(app: FastAPI, action: str) -> list[AuditLog]:
    sessions: Sessions = app.state.session_factory
    async with sessions() as session:
        stmt = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.occurred_at)
        return list((await session.scalars(stmt)).all())


def _envelope(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error


# --- the ingest's rows, as the console and the API read them ----------------------------------


async def test_the_arranged_text_holds_placeholders_and_no_original(app: FastAPI) -> None:
    arranged = await _arrange(app)
    assert count_placeholders(arranged.body) == 4
    assert "[TARJETA ****3704]" in arranged.body
    assert "[CÓDIGO]" in arranged.body
    assert f"[DNI {arranged.dni_token}]" in arranged.body
    for original in (DNI, CARD, "123", "juan.perez"):
        assert original not in arranged.body


# --- reveal ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "sup"])
async def test_a_reveal_returns_the_original_and_writes_one_audit_row(
    app: FastAPI, client: httpx.AsyncClient, people: dict[str, httpx.AsyncClient], who: str
) -> None:
    arranged = await _arrange(app)
    http = client if who == "admin" else people["sup"]
    answer = await http.post(
        f"/api/redactions/{arranged.dni_token}/reveal", json={"reason": f"  {REASON}  "}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.json() == {"token": arranged.dni_token, "entity": "dni", "value": DNI}
    rows = await _audit(app, "redaction.revealed")
    assert len(rows) == 1
    assert rows[0].entity_type == "redaction_token"
    assert rows[0].entity_id == arranged.dni_token
    assert rows[0].metadata_ == {"entity": "dni", "reason": REASON}
    assert DNI not in str(rows[0].metadata_)

    email = await http.post(
        f"/api/redactions/{arranged.email_token}/reveal", json={"reason": REASON}
    )
    assert email.json()["value"] == "juan.perez@gmail.com"
    assert len(await _audit(app, "redaction.revealed")) == 2


async def test_unknown_and_malformed_tokens(app: FastAPI, client: httpx.AsyncClient) -> None:
    await _arrange(app)
    unknown = await client.post(
        "/api/redactions/tok_aaaaaaaaaaaaaaaa/reveal", json={"reason": REASON}
    )
    _envelope(unknown, 404, "token_not_found")
    for bad in ("tok_short", "tok_AAAAAAAAAAAAAAAA", "tok_aaaaaaaaaaaaaaa1", "ñandú" * 3, "x" * 64):
        _envelope(
            await client.post(f"/api/redactions/{bad}/reveal", json={"reason": REASON}),
            422,
            "invalid_token",
        )
    for hostile in ("tok_%00aaaaaaaaaaaaaa", "t" * 10_000):
        response = await client.post(f"/api/redactions/{hostile}/reveal", json={"reason": REASON})
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["error"]["code"]
    assert await _audit(app, "redaction.revealed") == []


async def test_an_altered_row_is_a_409_and_the_attempt_is_audited(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    arranged = await _arrange(app)
    sessions: Sessions = app.state.session_factory
    async with sessions() as session:
        sealed = await session.scalar(
            select(RedactionVault.sealed).where(RedactionVault.token == arranged.dni_token)
        )
        assert sealed is not None
        flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
        await session.execute(
            update(RedactionVault)
            .where(RedactionVault.token == arranged.dni_token)
            .values(sealed=flipped)
        )
        # The email's row moved onto the DNI's token: bound to its place, it does not open.
        await session.execute(
            update(RedactionVault)
            .where(RedactionVault.token == arranged.email_token)
            .values(entity="dni")
        )
        await session.commit()
    for token in (arranged.dni_token, arranged.email_token):
        answer = await client.post(f"/api/redactions/{token}/reveal", json={"reason": REASON})
        _envelope(answer, 409, "sealed_value_unreadable")
        assert answer.headers["cache-control"] == "no-store"
        assert DNI not in answer.text
        assert "juan" not in answer.text
    failed = await _audit(app, "redaction.reveal_failed")
    assert len(failed) == 2
    assert (failed[0].metadata_ or {})["reason"] == REASON
    assert await _audit(app, "redaction.revealed") == []


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "short"},
        {"reason": "          x         "},
        {"reason": "x" * 501},
        {"reason": "x" * 10_240},
        {"reason": "motivo válido\x00con NUL"},
        {"reason": 1234567890123},
        {"reason": None},
        {"reason": ["a reason of ten", "chars"]},
        {"reason": {"text": REASON}},
        {},
        [REASON],
        REASON,
    ],
)
async def test_hostile_reasons_are_refused_with_the_envelope(
    app: FastAPI, client: httpx.AsyncClient, body: Any
) -> None:
    arranged = await _arrange(app)
    answer = await client.post(f"/api/redactions/{arranged.dni_token}/reveal", json=body)
    _envelope(answer, 422)
    assert DNI not in answer.text
    assert await _audit(app, "redaction.revealed") == []


async def test_hostile_bodies_are_refused_with_the_envelope(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    arranged = await _arrange(app)
    url = f"/api/redactions/{arranged.dni_token}/reveal"
    deep = "[" * 10_000 + "]" * 10_000
    for content in (
        deep.encode(),
        b'{"reason": ' + deep.encode() + b"}",
        b'{"reason": "motivo \xff\xfe inv\xc3lido de prueba"}',
        b'{"reason": "' + b"a" * 2_000_000 + b'"}',
        b"not json at all",
    ):
        answer = await client.post(
            url, content=content, headers={"content-type": "application/json"}
        )
        assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:200])
        assert answer.json()["error"]["code"]
    header = await client.post(
        url, json={"reason": REASON}, headers={b"x-note": "café ñandú".encode()}
    )
    assert header.status_code == 200
    # A non-ASCII reason is a reason.
    accented = await client.post(url, json={"reason": "Reclamo del señor Núñez 🙂 por débito"})
    assert accented.status_code == 200
    assert len(await _audit(app, "redaction.revealed")) == 2


# --- who may ---------------------------------------------------------------------------------


async def test_agents_are_refused_on_every_route(
    app: FastAPI, client: httpx.AsyncClient, people: dict[str, httpx.AsyncClient]
) -> None:
    arranged = await _arrange(app, agent="ana")
    ana, bruno, sup = people["ana"], people["bruno"], people["sup"]
    for agent in (ana, bruno):
        _envelope(
            await agent.post(
                f"/api/redactions/{arranged.dni_token}/reveal", json={"reason": REASON}
            ),
            403,
            "forbidden",
        )
        _envelope(
            await agent.post(
                "/api/redactions/confirm",
                json={"proofId": str(arranged.proofs["dni"]), "candidate": DNI},
            ),
            403,
            "forbidden",
        )
    # A supervisor reveals but does not confirm.
    _envelope(
        await sup.post(
            "/api/redactions/confirm",
            json={"proofId": str(arranged.proofs["dni"]), "candidate": DNI},
        ),
        403,
        "forbidden",
    )
    # Proofs: whoever sees the conversation (its agent, a supervisor, an admin); another agent
    # gets the 404 of an unknown conversation.
    url = f"/api/interactions/{arranged.interaction_id}/redactions"
    _envelope(await bruno.get(url), 404, "interaction_not_found")
    for viewer in (ana, sup, client):
        listed = await viewer.get(url)
        assert listed.status_code == 200, listed.text
        assert len(listed.json()["items"]) == 4
    assert await _audit(app, "redaction.revealed") == []
    assert await _audit(app, "redaction.confirmed") == []


async def test_the_proofs_of_a_conversation(app: FastAPI, client: httpx.AsyncClient) -> None:
    arranged = await _arrange(app)
    items = (await client.get(f"/api/interactions/{arranged.interaction_id}/redactions")).json()[
        "items"
    ]
    assert [i["entity"] for i in items] == ["dni", "card", "security_code", "email"]
    for item in items:
        assert set(item) == {
            "id", "source", "field", "entity", "detector", "start", "end", "fingerprint",
            "keyId", "token", "createdAt",
        }  # fmt: skip
        assert item["source"] == "webhook:test"
        assert item["field"] == "message.body"
        placeholder = arranged.body[item["start"] : item["end"]]
        assert placeholder.startswith("[")
        assert placeholder.endswith("]")
    by_entity = {i["entity"]: i for i in items}
    assert by_entity["security_code"]["fingerprint"] is None
    assert by_entity["card"]["token"] is None
    assert by_entity["dni"]["token"] == arranged.dni_token
    assert len(by_entity["card"]["fingerprint"]) == 64
    unknown = await client.get(f"/api/interactions/{uuid.uuid4()}/redactions")
    _envelope(unknown, 404, "interaction_not_found")
    _envelope(await client.get("/api/interactions/not-a-uuid/redactions"), 422)


# --- confirm ---------------------------------------------------------------------------------


async def test_confirm_proves_a_known_original(app: FastAPI, client: httpx.AsyncClient) -> None:
    arranged = await _arrange(app)

    async def confirm(entity: str, candidate: Any) -> httpx.Response:
        return await client.post(
            "/api/redactions/confirm",
            json={"proofId": str(arranged.proofs[entity]), "candidate": candidate},
        )

    for entity, candidate, expected in (
        ("card", CARD, True),
        ("card", "4509-9535-6623-3704", True),
        ("card", "4509 9535 6623 3712", False),
        ("dni", "38123456", True),
        ("dni", "38.123.457", False),
        ("dni", CARD, False),
        ("email", "Juan.Perez@gmail.com", True),
        ("email", "juan.perez@hotmail.com", False),
    ):
        answer = await confirm(entity, candidate)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"confirmed": expected}, (entity, candidate)
    rows = await _audit(app, "redaction.confirmed")
    assert len(rows) == 8
    assert {(r.metadata_ or {})["confirmed"] for r in rows} == {True, False}
    for row in rows:
        assert set(row.metadata_ or {}) == {"entity", "confirmed"}

    _envelope(await confirm("security_code", "123"), 422, "never_fingerprinted")
    missing = await client.post(
        "/api/redactions/confirm", json={"proofId": str(uuid.uuid4()), "candidate": DNI}
    )
    _envelope(missing, 404, "proof_not_found")
    hostile: list[Any] = ["", "a\x00b", "9" * 501, 38123456, None, ["38123456"]]
    for candidate in hostile:
        _envelope(await confirm("dni", candidate), 422)
    _envelope(
        await client.post("/api/redactions/confirm", json={"proofId": "x", "candidate": DNI}),
        422,
    )
    assert len(await _audit(app, "redaction.confirmed")) == 8


async def test_confirm_uses_the_key_the_proof_names(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    arranged = await _arrange(app)
    sessions: Sessions = app.state.session_factory
    async with sessions() as session:
        await session.execute(
            update(RedactionProof)
            .where(RedactionProof.id == arranged.proofs["dni"])
            .values(key_id="gone")
        )
        await session.commit()
    answer = await client.post(
        "/api/redactions/confirm",
        json={"proofId": str(arranged.proofs["dni"]), "candidate": DNI},
    )
    _envelope(answer, 409, "proof_key_missing")


# --- recordings ------------------------------------------------------------------------------


async def test_a_restricted_recording_is_for_admins_with_a_reason(
    app: FastAPI, client: httpx.AsyncClient, people: dict[str, httpx.AsyncClient]
) -> None:
    await _arrange(app, agent="ana")
    audio = b"ID3" + bytes(range(256)) * 4
    await app.state.runtime.recordings.save(CONVERSATION, audio)
    url = f"/api/elevenlabs/audio/{CONVERSATION}"
    # Its own agent and a supervisor: restricted; another agent: the 404 of a missing one.
    _envelope(await people["ana"].get(url), 403, "recording_restricted")
    _envelope(await people["ana"].get(url, params={"reason": REASON}), 403, "recording_restricted")
    _envelope(await people["sup"].get(url, params={"reason": REASON}), 403, "recording_restricted")
    _envelope(await people["bruno"].get(url), 404, "recording_not_found")
    for reason in (None, "", "corto", "x" * 501, "x" * 2001, "motivo largo\x00 con NUL"):
        params = {} if reason is None else {"reason": reason}
        _envelope(await client.get(url, params=params), 422)
    assert await _audit(app, "call.recording.accessed") == []
    played = await client.get(url, params={"reason": f" {REASON} "})
    assert played.status_code == 200
    assert played.content == audio
    assert played.headers["cache-control"] == "no-store"
    rows = await _audit(app, "call.recording.accessed")
    assert len(rows) == 1
    assert rows[0].metadata_ == {"source": "stored", "restricted": True, "reason": REASON}


async def test_an_ordinary_recording_is_unchanged(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sessions: Sessions = app.state.session_factory
    call = f.interaction(
        channel=Channel.CALL,
        provider=Provider.ELEVENLABS,
        provider_conversation_id="conv_plain_1",
        assigned_agent="ana",
    )
    async with sessions() as session:
        await f.save(session, call, f.call_detail(call, has_audio=True))
    await app.state.runtime.recordings.save("conv_plain_1", b"ID3plain")
    heard = await people["ana"].get("/api/elevenlabs/audio/conv_plain_1")
    assert heard.status_code == 200
    assert heard.content == b"ID3plain"
    assert "no-store" not in heard.headers.get("cache-control", "")
    rows = await _audit(app, "call.recording.accessed")
    assert rows[0].metadata_ == {"source": "stored"}


# --- the console -----------------------------------------------------------------------------


async def test_the_timeline_counts_and_chips_what_was_hidden(app: FastAPI) -> None:
    arranged = await _arrange(app, agent="ana")
    admin = await Signed(app).sign_in("root", Role.ADMIN)
    ana = await Signed(app).sign_in("ana", Role.AGENT)
    try:
        page = await admin.http.get(f"/interactions/{arranged.interaction_id}")
        assert page.status_code == 200
        assert "4 datos sensibles ocultos" in page.text
        assert page.text.count('class="chip redacted"') == 4
        assert "TARJETA ****3704" in page.text
        assert "CÓDIGO" in page.text
        assert f"/console/redactions/{arranged.dni_token}/reveal" in page.text
        assert "Mostrar" in page.text
        assert DNI not in page.text

        call_page = await admin.http.get(f"/interactions/{arranged.call_id}")
        assert "1 dato sensible oculto" in call_page.text
        assert "Grabación restringida: contenía datos de tarjeta" in call_page.text
        assert 'name="reason"' in call_page.text
        assert "<audio" not in call_page.text

        for url in (
            f"/interactions/{arranged.interaction_id}",
            f"/console/partials/inbox/conversation/{arranged.interaction_id}/thread",
        ):
            seen = await ana.http.get(url)
            assert seen.status_code == 200, url
            assert "4 datos sensibles ocultos" in seen.text
            assert "/console/redactions/" not in seen.text  # the chip only
        agent_call = await ana.http.get(f"/interactions/{arranged.call_id}")
        assert "Grabación restringida" in agent_call.text
        assert 'name="reason"' not in agent_call.text.split("recording-restricted", 1)[1][:600]
    finally:
        await admin.http.aclose()
        await ana.http.aclose()


async def test_the_console_reveal_shows_the_value_once(app: FastAPI) -> None:
    arranged = await _arrange(app, agent="ana")
    admin = await Signed(app).sign_in("root", Role.ADMIN)
    ana = await Signed(app).sign_in("ana", Role.AGENT)
    try:
        url = f"/console/redactions/{arranged.dni_token}/reveal"
        csrf = await admin.csrf()
        headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
        shown = await admin.http.post(url, data={"reason": REASON}, headers=headers)
        assert shown.status_code == 200, shown.text
        assert DNI in shown.text
        assert "data-revealed-value" in shown.text
        assert shown.headers["cache-control"] == "no-store"
        short = await admin.http.post(url, data={"reason": "corto"}, headers=headers)
        assert short.status_code == 422
        assert DNI not in short.text
        refused = await ana.http.post(
            url,
            data={"reason": REASON},
            headers={"X-CSRF-Token": await ana.csrf(), "HX-Request": "true"},
        )
        assert refused.status_code == 403
        assert DNI not in refused.text
        assert len(await _audit(app, "redaction.revealed")) == 1
    finally:
        await admin.http.aclose()
        await ana.http.aclose()


async def test_no_original_reaches_the_log_tables(app: FastAPI, client: httpx.AsyncClient) -> None:
    arranged = await _arrange(app)
    await client.post(f"/api/redactions/{arranged.dni_token}/reveal", json={"reason": REASON})
    await client.post(
        "/api/redactions/confirm",
        json={"proofId": str(arranged.proofs["dni"]), "candidate": DNI},
    )
    sessions: Sessions = app.state.session_factory
    async with sessions() as session:
        rows = (await session.scalars(select(AuditLog))).all()
        assert await session.scalar(select(func.count()).select_from(AuditLog)) == len(rows)
    for row in rows:
        assert "38123456" not in str(row.metadata_).replace(".", "")
