"""Canned replies: supervisors manage them, agents use the global ones and their teams'; their
variables are filled on the server when a message is created, and never logged."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.canned import variables
from contact_center.models import AuditLog, Message
from contact_center.models.canned_reply import CannedReply
from contact_center.models.enums import Direction, Role
from contact_center.models.team import Team, TeamMember
from contact_center.models.user_account import UserAccount
from tests import auth
from tests import factories as f
from tests.test_logging import Capture

PHONE = "+5491155551234"


async def _teams(app: FastAPI) -> dict[str, uuid.UUID]:
    """Two teams: ana works "tarjetas", bruno "prestamos"."""
    sessions: async_sessionmaker[AsyncSession] = app.state.session_factory
    ana = await auth.user(sessions, "ana", Role.AGENT)
    bruno = await auth.user(sessions, "bruno", Role.AGENT)
    cards, loans = Team(name="tarjetas"), Team(name="prestamos")
    async with sessions() as session:
        await f.save(session, cards, loans)
        await f.save(
            session,
            TeamMember(team_id=cards.id, user_id=ana.id),
            TeamMember(team_id=loans.id, user_id=bruno.id),
        )
    return {"tarjetas": cards.id, "prestamos": loans.id}


async def _count(app: FastAPI, model: Any) -> int:
    async with app.state.session_factory() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def _reply(shortcut: str, team: uuid.UUID | None = None, **more: Any) -> dict[str, Any]:
    body = {
        "shortcut": shortcut,
        "title": f"Respuesta {shortcut}",
        "body": "Hola {{customer_first_name}}, soy {{agent_name}}. ¿En qué te ayudo?",
        **more,
    }
    if team is not None:
        body["teamId"] = str(team)
    return body


# --- the variables ----------------------------------------------------------------------------


def test_the_variables_are_filled_and_an_unknown_name_leaves_no_double_space() -> None:
    values = variables.Values(customer_first_name="Juan", agent_name="Ana Gómez")
    body = "Hola {{customer_first_name}}, soy {{ agent_name }}."
    assert variables.fill(body, values) == "Hola Juan, soy Ana Gómez."
    nameless = variables.Values(customer_first_name="", agent_name="Ana")
    assert variables.fill(body, nameless) == "Hola, soy Ana."
    assert variables.fill("{{customer_first_name}}, gracias", nameless) == "gracias"
    assert variables.fill("Gracias {{customer_first_name}} por escribir", nameless) == (
        "Gracias por escribir"
    )
    assert variables.fill("Sin variables  aquí", values) == "Sin variables  aquí"
    assert variables.first_name("  María José Pérez ") == "María"
    assert variables.first_name(None) == ""
    assert variables.unknown("{{nombre}} y {{agent_name}} y {{ x }}") == ["{{nombre}}", "{{ x }}"]


# --- managing them ------------------------------------------------------------------------------


async def test_a_supervisor_creates_reads_changes_and_deletes_a_reply_each_audited(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    teams = await _teams(app)
    sup = people["sup"]
    created = await sup.post("/api/canned-replies", json=_reply("saludo", teams["tarjetas"]))
    assert created.status_code == 201, created.text
    reply = created.json()
    assert reply["teamId"] == str(teams["tarjetas"])
    assert reply["createdBy"] == "sup"
    assert (await sup.get(f"/api/canned-replies/{reply['id']}")).json() == reply
    changed = await sup.patch(
        f"/api/canned-replies/{reply['id']}", json={"title": "Bienvenida", "teamId": None}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Bienvenida"
    assert changed.json()["teamId"] is None
    async with app.state.session_factory() as session:
        row = await session.get(CannedReply, uuid.UUID(reply["id"]))
        assert row is not None
        assert row.scope_key == "global"
    deleted = await sup.delete(f"/api/canned-replies/{reply['id']}")
    assert deleted.status_code == 204
    assert (await sup.get(f"/api/canned-replies/{reply['id']}")).status_code == 404
    async with app.state.session_factory() as session:
        actions = list(
            (
                await session.scalars(
                    select(AuditLog.action)
                    .where(AuditLog.entity_id == reply["id"])
                    .order_by(AuditLog.occurred_at)
                )
            ).all()
        )
    assert actions == ["canned_reply.create", "canned_reply.update", "canned_reply.delete"]


async def test_an_agent_may_not_create_change_or_delete_a_reply(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    made = (await people["sup"].post("/api/canned-replies", json=_reply("saludo"))).json()
    ana = people["ana"]
    refused = [
        await ana.post("/api/canned-replies", json=_reply("otro")),
        await ana.patch(f"/api/canned-replies/{made['id']}", json={"title": "Mío"}),
        await ana.delete(f"/api/canned-replies/{made['id']}"),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert all(r.json()["error"]["code"] == "forbidden" for r in refused)
    assert await _count(app, CannedReply) == 1
    assert (await ana.get(f"/api/canned-replies/{made['id']}")).json()["title"] == made["title"]


async def test_an_agent_sees_the_global_replies_and_their_teams_only(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    teams = await _teams(app)
    sup = people["sup"]
    for shortcut, team in (("global", None), ("tarj", "tarjetas"), ("prest", "prestamos")):
        made = await sup.post(
            "/api/canned-replies", json=_reply(shortcut, teams[team] if team else None)
        )
        assert made.status_code == 201, made.text
    listed = (await people["ana"].get("/api/canned-replies")).json()["items"]
    assert [r["shortcut"] for r in listed] == ["global", "tarj"]
    everything = (await sup.get("/api/canned-replies")).json()["items"]
    assert [r["shortcut"] for r in everything] == ["global", "prest", "tarj"]
    theirs = next(r for r in everything if r["shortcut"] == "prest")
    # Another team's reply is as unknown as a missing one, by id and by filter.
    missing = await people["ana"].get(f"/api/canned-replies/{theirs['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "canned_reply_not_found"
    filtered = await people["ana"].get(
        "/api/canned-replies", params={"teamId": str(teams["prestamos"])}
    )
    assert filtered.json()["items"] == []
    assert (await people["bruno"].get(f"/api/canned-replies/{theirs['id']}")).status_code == 200
    found = await sup.get("/api/canned-replies", params={"q": "TARJ"})
    assert [r["shortcut"] for r in found.json()["items"]] == ["tarj"]
    percent = await sup.get("/api/canned-replies", params={"q": "%"})
    assert percent.json()["items"] == []


async def test_a_taken_shortcut_answers_409_within_its_scope_only(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    teams = await _teams(app)
    sup = people["sup"]
    assert (await sup.post("/api/canned-replies", json=_reply("saludo"))).status_code == 201
    again = await sup.post("/api/canned-replies", json=_reply("saludo"))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "shortcut_taken"
    team = await sup.post("/api/canned-replies", json=_reply("saludo", teams["tarjetas"]))
    assert team.status_code == 201
    other = (await sup.post("/api/canned-replies", json=_reply("otro"))).json()
    renamed = await sup.patch(f"/api/canned-replies/{other['id']}", json={"shortcut": "saludo"})
    assert renamed.status_code == 409
    assert renamed.json()["error"]["code"] == "shortcut_taken"
    assert (await sup.get(f"/api/canned-replies/{other['id']}")).json()["shortcut"] == "otro"
    assert await _count(app, CannedReply) == 3


async def test_two_concurrent_creates_of_one_shortcut_give_one_reply_and_one_409(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sup = people["sup"]
    for round_ in range(3):
        answers = await asyncio.gather(
            *(sup.post("/api/canned-replies", json=_reply(f"carrera{round_}")) for _ in range(2))
        )
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        assert [a.json()["error"]["code"] for a in answers if a.status_code == 409] == [
            "shortcut_taken"
        ]
    assert await _count(app, CannedReply) == 3


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (_reply("con\x00nul"), "shortcut"),
        (_reply("saludo", title="tí\x00tulo"), "title"),
        (_reply("saludo", body="hola\x00"), "body"),
        (_reply("Mayúsculas"), "shortcut"),
        (_reply("x" * 33), "shortcut"),
        (_reply(""), "shortcut"),
        (_reply("saludo", title=""), "title"),
        (_reply("saludo", title="t" * 101), "title"),
        (_reply("saludo", body="x" * 10_000), "body"),
        (_reply("saludo", body=12), "body"),
        (_reply("saludo", title=["a"]), "title"),
        ({**_reply("saludo"), "teamId": 7}, "teamId"),
        ({**_reply("saludo"), "teamId": "no-es-un-uuid"}, "teamId"),
        ({**_reply("saludo"), "extra": True}, "extra"),
        (_reply("saludo", body="Hola {{nombre}}"), "body"),
        (_reply("saludo", body="Hola {{ customer_last_name }}"), "body"),
        ({**_reply("saludo"), "teamId": str(uuid.uuid4())}, "teamId"),
    ],
)
async def test_hostile_input_answers_422_with_the_envelope_and_writes_nothing(
    app: FastAPI, people: dict[str, httpx.AsyncClient], payload: dict[str, Any], field: str
) -> None:
    sup = people["sup"]
    answer = await sup.post("/api/canned-replies", json=payload)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert any(field in str(d.get("field", "")) for d in error["details"]), error
    assert await _count(app, CannedReply) == 0
    assert await _count(app, AuditLog) == 0


async def test_a_change_to_hostile_values_answers_422_and_changes_nothing(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    sup = people["sup"]
    made = (await sup.post("/api/canned-replies", json=_reply("saludo"))).json()
    for patch in (
        {"body": "Hola {{cliente}}"},
        {"shortcut": None},
        {"teamId": str(uuid.uuid4())},
        {"title": "\x00"},
        {"body": "x" * 10_000},
    ):
        answer = await sup.patch(f"/api/canned-replies/{made['id']}", json=patch)
        assert answer.status_code == 422, (patch, answer.text)
    assert (await sup.get(f"/api/canned-replies/{made['id']}")).json() == made
    unknown = await sup.patch(f"/api/canned-replies/{uuid.uuid4()}", json={"title": "x"})
    assert unknown.status_code == 404


# --- the preview and the send -------------------------------------------------------------------


async def _named(app: FastAPI, username: str, display_name: str) -> None:
    async with app.state.session_factory() as session:
        await session.execute(
            update(UserAccount)
            .where(UserAccount.username == username)
            .values(display_name=display_name)
        )
        await session.commit()


async def test_a_preview_masks_the_customers_name_and_follows_the_viewers_scope(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    await _named(app, "ana", "Ana Gómez")
    async with app.state.session_factory() as session:
        chat = await f.customer_wrote(session, PHONE, customer_name="Juan Pérez")
        theirs = f.interaction(customer_phone="+5491155559999", assigned_agent="ana")
        await f.save(session, theirs)
    made = (await people["sup"].post("/api/canned-replies", json=_reply("saludo"))).json()
    url = f"/api/canned-replies/{made['id']}/preview"
    shown = await people["ana"].post(url, json={"interactionId": str(chat.id)})
    assert shown.status_code == 200, shown.text
    assert shown.json() == {"text": "Hola J***, soy Ana Gómez. ¿En qué te ayudo?"}
    hidden = await people["bruno"].post(url, json={"interactionId": str(theirs.id)})
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "interaction_not_found"
    unknown = await people["ana"].post(url, json={"interactionId": str(uuid.uuid4())})
    assert unknown.status_code == 404


async def test_a_send_fills_the_variables_on_the_server_and_no_log_line_holds_them(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    await _named(app, "ana", "Anabela Quiroga")
    async with app.state.session_factory() as session:
        await f.customer_wrote(session, PHONE, customer_name="Ezequiel Ramírez")
    body = "Hola {{customer_first_name}}, soy {{agent_name}}."
    with Capture() as capture:
        whatsapp = await people["ana"].post("/api/whatsapp/send", json={"to": PHONE, "body": body})
        sms = await people["ana"].post("/api/sms/send", json={"to": PHONE, "body": body})
        nameless = await people["ana"].post(
            "/api/sms/send", json={"to": "+5491155550000", "body": body}
        )
    assert [whatsapp.status_code, sms.status_code, nameless.status_code] == [202, 202, 202]
    async with app.state.session_factory() as session:
        stored = {
            str(m.id): m.body
            for m in await session.scalars(
                select(Message).where(Message.direction == Direction.OUTBOUND)
            )
        }
    assert stored[whatsapp.json()["messageId"]] == "Hola Ezequiel, soy Anabela Quiroga."
    assert stored[sms.json()["messageId"]] == "Hola Ezequiel, soy Anabela Quiroga."
    assert stored[nameless.json()["messageId"]] == "Hola, soy Anabela Quiroga."
    output = capture.stream.getvalue()
    assert output  # the requests were logged …
    assert "Ezequiel" not in output  # … without the values
    assert "Anabela" not in output
