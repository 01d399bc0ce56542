"""The complaints API (docs/complaints.md, "API"): opening from conversations with a claim
number sent to the customer, the lifecycle and its illegal steps, who sees what, and numbers
that stay unique under racing openings."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from contact_center.complaints.service import draft_from_call
from contact_center.db.base import utcnow
from contact_center.models import AuditLog, Complaint, Interaction, Message
from contact_center.models.enums import Channel, MessageKind, Provider, Role
from contact_center.models.team import Team, TeamMember
from contact_center.settings import Settings
from tests import auth
from tests import factories as f
from tests.live import live_app
from tests.test_csat import _wait_for

PHONE = "+5491155550701"
OTHER = "+5491155550702"
NUMBER = re.compile(r"^R-\d{4}-\d{6}$")


@dataclass
class World:
    team_a: uuid.UUID
    team_b: uuid.UUID
    call: uuid.UUID  # the customer's call, in team A
    chat: uuid.UUID  # the same customer's WhatsApp, in team A
    stranger: uuid.UUID  # another customer's call, in team A


async def world(app: FastAPI) -> World:
    """Ana in team A, Bruno in team B; a customer's call and chat in team A."""
    sessions = app.state.session_factory
    ana = await auth.user(sessions, "ana", Role.AGENT)
    bruno = await auth.user(sessions, "bruno", Role.AGENT)
    team_a, team_b = Team(name="A"), Team(name="B")

    def conversation(phone: str, channel: Channel) -> Interaction:
        return f.interaction(
            channel=channel,
            customer_phone=phone,
            from_number=phone,
            team_id=team_a.id,
            assigned_agent="ana",
            provider=Provider.ELEVENLABS if channel is Channel.CALL else Provider.BUILDERBOT,
        )

    async with sessions() as session:
        session.add_all([team_a, team_b])
        await session.flush()
        rows = [
            conversation(PHONE, Channel.CALL),
            conversation(PHONE, Channel.WHATSAPP),
            conversation(OTHER, Channel.CALL),
        ]
        await f.save(
            session,
            TeamMember(team_id=team_a.id, user_id=ana.id),
            TeamMember(team_id=team_b.id, user_id=bruno.id),
            *rows,
        )
    return World(team_a.id, team_b.id, *(r.id for r in rows))


@pytest.fixture
async def people_in(app: FastAPI) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    made = {
        "ana": await auth.token_client(app, "ana", Role.AGENT),
        "bruno": await auth.token_client(app, "bruno", Role.AGENT),
        "sup": await auth.token_client(app, "sup", Role.SUPERVISOR),
        "cora": await auth.token_client(app, "cora", Role.COMPLIANCE),
    }
    yield made
    for http in made.values():
        await http.aclose()


def body(*interactions: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "interactionIds": [str(i) for i in interactions],
        "type": "cargo no reconocido",
        "product": "tarjeta de crédito",
        "description": "Desconoce un consumo de $ 15.000 del 3/12.",
        "amountDisputed": "15000.00",
        "currency": "ARS",
        "priority": "HIGH",
        **extra,
    }


async def opened(http: httpx.AsyncClient, *interactions: uuid.UUID, **extra: Any) -> Any:
    response = await http.post("/api/complaints", json=body(*interactions, **extra))
    assert response.status_code == 201, response.text
    return response.json()


async def test_opening_issues_a_number_starts_the_clock_and_queues_the_notice(
    app: FastAPI, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    ana = people_in["ana"]
    made = await opened(ana, w.call, w.chat, teamId=str(w.team_a))
    assert made["status"] == "OPEN"
    assert NUMBER.match(made["number"])
    assert made["owner"] == "ana"
    assert made["amountDisputed"] == "15000.00"
    assert made["customerPhone"] != PHONE  # masked
    assert made["dueAt"] > made["warnAt"] > made["openedAt"]
    assert made["noticeMessageId"]
    detail = (await ana.get(f"/api/complaints/{made['id']}")).json()
    assert {i["id"] for i in detail["interactions"]} == {str(w.call), str(w.chat)}
    assert [e["type"] for e in detail["events"]] == ["opened", "notice_queued"]
    assert detail["notice"]["status"] == "QUEUED"
    # No WhatsApp from the customer in 24 hours: the number goes by SMS, with the due date.
    assert detail["notice"]["channel"] == "SMS"
    async with app.state.session_factory() as session:
        message = await session.get(Message, uuid.UUID(made["noticeMessageId"]))
        assert message is not None
        assert message.kind is MessageKind.COMPLAINT
        assert made["number"] in message.body
        assert re.search(r"\d{2}/\d{2}/\d{4}", message.body)
        audits = await session.scalar(
            select(func.count()).where(AuditLog.action == "complaint.opened")
        )
        assert audits == 1


async def test_the_notice_goes_by_whatsapp_inside_the_window(
    app: FastAPI, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    async with app.state.session_factory() as session:
        chat = await f.customer_wrote(session, PHONE)
    made = await opened(people_in["sup"], w.call, chat.id)
    detail = (await people_in["sup"].get(f"/api/complaints/{made['id']}")).json()
    assert detail["notice"]["channel"] == "WHATSAPP"


async def test_conversations_of_two_customers_are_refused(
    app: FastAPI, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    response = await people_in["ana"].post("/api/complaints", json=body(w.call, w.stranger))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    unknown = await people_in["ana"].post("/api/complaints", json=body(w.call, type="x"))
    assert unknown.status_code == 422


async def test_the_lifecycle_and_its_illegal_steps(
    app: FastAPI, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    ana, sup = people_in["ana"], people_in["sup"]
    made = await opened(ana, w.call)
    path = f"/api/complaints/{made['id']}"
    closing = await ana.post(f"{path}/close", json={})
    assert closing.status_code == 409
    assert "OPEN" in closing.json()["error"]["message"]
    assert (await ana.post(f"{path}/confirm", json={})).status_code == 409
    assert (await ana.post(f"{path}/start")).json()["status"] == "IN_PROGRESS"
    escalated = await ana.post(f"{path}/escalate", json={"reason": "Cliente insiste"})
    assert escalated.json()["status"] == "ESCALATED"
    assert escalated.json()["escalatedTo"] == "responsable de atención al usuario"
    refused = await ana.post(f"{path}/report", json={"regulatorReference": "BCRA-1"})
    assert refused.status_code == 403
    answered = await ana.post(f"{path}/answer", json={"text": "Reintegramos el consumo."})
    assert answered.json()["status"] == "ANSWERED"
    assert answered.json()["answerText"] == "Reintegramos el consumo."
    assert answered.json()["answerMessageId"]
    assert (await ana.post(f"{path}/answer", json={"text": "otra"})).status_code == 409
    assert (await ana.post(f"{path}/escalate", json={"reason": "Apela"})).status_code == 200
    reported = await sup.post(f"{path}/report", json={"regulatorReference": "BCRA-2026-77"})
    assert reported.json()["status"] == "REPORTED"
    assert reported.json()["regulatorReference"] == "BCRA-2026-77"
    assert (await sup.post(f"{path}/close", json={"reason": "fin"})).json()["status"] == "CLOSED"
    detail = (await sup.get(path)).json()
    assert [e["type"] for e in detail["events"]] == [
        "opened",
        "notice_queued",
        "started",
        "escalated",
        "answered",
        "answer_queued",
        "escalated",
        "reported",
        "closed",
    ]
    assert detail["answer"]["status"] == "QUEUED"
    async with app.state.session_factory() as session:
        actions = (
            await session.scalars(
                select(AuditLog.action)
                .where(AuditLog.action.like("complaint.%"))
                .order_by(AuditLog.id)
            )
        ).all()
    assert "complaint.reported" in actions
    assert "complaint.closed" in actions


async def test_a_draft_is_confirmed_or_discarded_by_a_person(
    app: FastAPI, settings: Settings, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    sessions = app.state.session_factory
    async with sessions() as session:
        call = await session.get(Interaction, w.call)
        stranger = await session.get(Interaction, w.stranger)
        assert call is not None
        assert stranger is not None
        first = await draft_from_call(session, settings, call, summary="Cobro", ticket="T-1")
        second = await draft_from_call(session, settings, stranger, summary=None, ticket=None)
        await session.commit()
    assert first is not None
    assert second is not None
    ana = people_in["ana"]
    listed = (await ana.get("/api/complaints", params={"status": "DRAFT"})).json()
    assert {c["id"] for c in listed} == {str(first.id), str(second.id)}
    confirmed = await ana.post(
        f"/api/complaints/{first.id}/confirm", json={"product": "cuenta", "type": "cobro indebido"}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "OPEN"
    assert NUMBER.match(confirmed.json()["number"])
    assert confirmed.json()["noticeMessageId"]
    again = await ana.post(f"/api/complaints/{first.id}/confirm", json={})
    assert again.status_code == 409
    discarded = await ana.post(f"/api/complaints/{second.id}/discard", json={"reason": "Consulta"})
    assert discarded.json()["status"] == "DISCARDED"
    assert discarded.json()["number"] is None


async def test_an_agent_sees_and_works_only_their_teams_complaints(
    app: FastAPI, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    ana, bruno, cora = people_in["ana"], people_in["bruno"], people_in["cora"]
    made = await opened(people_in["sup"], w.call, teamId=str(w.team_a), owner="sup")
    path = f"/api/complaints/{made['id']}"
    assert (await ana.get(path)).status_code == 200
    assert (await bruno.get(path)).status_code == 404
    assert (await bruno.post(f"{path}/start")).status_code == 404
    assert (await bruno.get("/api/complaints")).json() == []
    assert [c["id"] for c in (await ana.get("/api/complaints")).json()] == [made["id"]]
    # An agent files in their own teams only.
    other_team = await ana.post("/api/complaints", json=body(w.call, teamId=str(w.team_b)))
    assert other_team.status_code == 403
    # Compliance reads every complaint, and works none.
    assert (await cora.get(path)).status_code == 200
    assert (await cora.post(f"{path}/start")).status_code == 403
    assert (await cora.post("/api/complaints", json=body(w.call))).status_code == 403


async def test_the_list_filters_and_sorts_by_due_date(
    app: FastAPI, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    sup = people_in["sup"]
    first = await opened(sup, w.call)
    second = await opened(sup, w.chat)
    async with app.state.session_factory() as session:
        await session.execute(
            update(Complaint)
            .where(Complaint.id == uuid.UUID(second["id"]))
            .values(due_at=utcnow() - timedelta(hours=1))
        )
        await session.commit()
    listed = (await sup.get("/api/complaints")).json()
    assert [c["id"] for c in listed] == [second["id"], first["id"]]
    overdue = (await sup.get("/api/complaints", params={"overdue": "true"})).json()
    assert [(c["id"], c["overdue"]) for c in overdue] == [(second["id"], True)]
    by_owner = await sup.get("/api/complaints", params={"owner": "nobody"})
    assert by_owner.json() == []
    by_team = await sup.get("/api/complaints", params={"teamId": str(w.team_b)})
    assert by_team.json() == []
    async with app.state.session_factory() as session:
        await session.execute(
            update(Complaint).where(Complaint.id == uuid.UUID(first["id"])).values(product="cuenta")
        )
        await session.commit()
    by_product = (await sup.get("/api/complaints", params={"product": "cuenta"})).json()
    assert [c["id"] for c in by_product] == [first["id"]]


async def test_linking_takes_the_same_customers_conversations_only(
    app: FastAPI, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    ana = people_in["ana"]
    made = await opened(ana, w.call)
    path = f"/api/complaints/{made['id']}/link"
    assert (await ana.post(path, json={"interactionId": str(w.chat)})).status_code == 200
    assert (await ana.post(path, json={"interactionId": str(w.chat)})).status_code == 200
    refused = await ana.post(path, json={"interactionId": str(w.stranger)})
    assert refused.status_code == 422
    listed = (await ana.get(f"/api/interactions/{w.chat}/complaints")).json()
    assert [c["id"] for c in listed] == [made["id"]]


async def test_racing_openings_take_distinct_numbers(
    app: FastAPI, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    sup = people_in["sup"]
    made = await asyncio.gather(*(opened(sup, w.call) for _ in range(6)))
    numbers = sorted(m["number"] for m in made)
    assert len(set(numbers)) == 6
    sequence = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert sequence == list(range(sequence[0], sequence[0] + 6))


async def test_the_claim_number_reaches_the_emulators_outbox_once(settings_factory: Any) -> None:
    async with live_app(settings_factory) as live:
        sessions = live.app.state.session_factory
        call = f.interaction(
            channel=Channel.CALL,
            provider=Provider.ELEVENLABS,
            customer_phone=PHONE,
            from_number=PHONE,
        )
        async with sessions() as session:
            await f.save(session, call)
        made = (
            await live.http.post(
                "/api/complaints",
                json=body(call.id),
            )
        ).json()

        async def sms() -> list[dict[str, Any]]:
            return [i for i in await live.outbox() if i.get("to") == PHONE]

        assert await _wait_for(sms)
        await asyncio.sleep(1.0)
        (sent,) = await sms()
        assert made["number"] in sent["body"]

        async def delivered() -> bool:
            detail = (await live.http.get(f"/api/complaints/{made['id']}")).json()
            return bool(detail["notice"]["status"] in ("SENT", "DELIVERED"))

        assert await _wait_for(delivered)


async def test_each_step_is_a_live_notice_on_the_complaints_conversation(
    app: FastAPI, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    ana = people_in["ana"]
    with app.state.runtime.events.subscribe() as notices:
        made = await opened(ana, w.call)
        await ana.post(f"/api/complaints/{made['id']}/start")
        seen = []
        while not notices.empty():
            seen.append(notices.get_nowait())
    mine = [n for n in seen if n and n.get("complaintId") == made["id"]]
    assert [n["type"] for n in mine] == [
        "complaint.opened",
        "complaint.notice_queued",
        "complaint.started",
    ]
    assert {n["interactionId"] for n in mine} == {str(w.call)}
    assert all(PHONE not in str(n) for n in seen)


async def test_racing_confirmations_open_a_draft_once(
    app: FastAPI, settings: Settings, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    async with app.state.session_factory() as session:
        call = await session.get(Interaction, w.call)
        assert call is not None
        draft = await draft_from_call(session, settings, call, summary="Cobro", ticket=None)
        await session.commit()
    assert draft is not None
    sup = people_in["sup"]
    answers = await asyncio.gather(
        *(sup.post(f"/api/complaints/{draft.id}/confirm", json={}) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    async with app.state.session_factory() as session:
        notices = await session.scalar(
            select(func.count()).where(Message.kind == MessageKind.COMPLAINT)
        )
    assert notices == 1


async def test_phones_typed_into_a_complaint_are_masked_in_answers(
    app: FastAPI, people_in: dict[str, httpx.AsyncClient]
) -> None:
    w = await world(app)
    sup = people_in["sup"]
    text = "Llamar al +54 9 11 5555-9876 por el consumo"
    made = await opened(sup, w.call, description=text)
    assert "5555-9876" not in made["description"]
    detail = await sup.get(f"/api/complaints/{made['id']}")
    assert "5555-9876" not in detail.text
    assert PHONE not in detail.text
    async with app.state.session_factory() as session:
        stored = await session.get(Complaint, uuid.UUID(made["id"]))
        assert stored is not None
        assert stored.description == text
