"""The inbox (docs/inbox.md): how long each customer has waited, kept by every path that
stores a message; the views per role, their order, unread counts and read marks; the counts."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.inbox import service as inbox
from contact_center.messaging import outbound
from contact_center.messaging import service as messaging
from contact_center.models import Message
from contact_center.models.enums import (
    ActorType,
    Channel,
    Direction,
    InteractionStatus,
    MessageKind,
    MessageStatus,
    Role,
)
from contact_center.models.interaction import Interaction, InteractionLabel
from contact_center.models.read_mark import ReadMark
from contact_center.models.team import Team, TeamMember
from contact_center.principal import SYSTEM_CONTEXT, Principal
from contact_center.providers.base import WhatsAppMessageEvent
from tests import auth
from tests import factories as f
from tests.deliveries import incoming, outgoing, post_builderbot, post_elevenlabs, transcription

Sessions = async_sessionmaker[AsyncSession]
NUMBER = "5491155550707"
PHONE = "+" + NUMBER


async def _chat(sessions: Sessions, phone: str = PHONE) -> Interaction:
    async with sessions() as session:
        found = (
            await session.scalars(
                select(Interaction).where(
                    Interaction.customer_phone == phone, Interaction.channel == Channel.WHATSAPP
                )
            )
        ).one()
        return found


async def _messages(sessions: Sessions, interaction_id: uuid.UUID) -> list[Message]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Message)
                .where(Message.interaction_id == interaction_id)
                .order_by(Message.created_at)
            )
        )


# --- waitingSince on every path that stores a message ---------------------------------------


async def test_the_webhook_path_below_the_orm_keeps_how_long_the_customer_waits(
    client: httpx.AsyncClient, session_factory: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ingest runs `apply_whatsapp_fast`: the first customer message starts the wait, a
    second keeps it, the bot's answer ends it, the next customer message starts it again."""
    ran: list[str] = []
    below_the_orm = messaging.apply_whatsapp_fast

    async def watched(*args: Any, **kwargs: Any) -> None:
        ran.append(kwargs["key"])
        await below_the_orm(*args, **kwargs)

    monkeypatch.setattr(messaging, "apply_whatsapp_fast", watched)
    assert (await post_builderbot(client, incoming(NUMBER, "hola"))).status_code == 200
    chat = await _chat(session_factory)
    first = (await _messages(session_factory, chat.id))[0]
    assert chat.waiting_since == first.created_at
    await post_builderbot(client, incoming(NUMBER, "¿hay alguien?"))
    assert (await _chat(session_factory)).waiting_since == first.created_at
    await post_builderbot(client, outgoing(NUMBER, "Hola, soy el asistente"))
    assert (await _chat(session_factory)).waiting_since is None
    await post_builderbot(client, incoming(NUMBER, "quiero mi saldo"))
    again = await _chat(session_factory)
    last = (await _messages(session_factory, chat.id))[-1]
    assert last.direction is Direction.INBOUND
    assert again.waiting_since == last.created_at
    assert len(ran) == 4  # every delivery went below the ORM


def _whatsapp(direction: Direction, body: str) -> WhatsAppMessageEvent:
    return WhatsAppMessageEvent(
        direction=direction.value,
        customer_number=NUMBER,
        customer_name="Juan Pérez" if direction is Direction.INBOUND else None,
        body=body,
        attachments=[],
        project_id=None,
    )


async def test_the_orm_paths_keep_how_long_the_customer_waits(session_factory: Sessions) -> None:
    """`apply_whatsapp` (a replay) and a person's reply (`queue_whatsapp`)."""
    async with session_factory() as session:
        stored = await messaging.apply_whatsapp(
            session, "AR", _whatsapp(Direction.INBOUND, "hola"), payload={}, key="t:1"
        )
        await session.commit()
    started = stored.message.created_at
    assert (await _chat(session_factory)).waiting_since == started
    async with session_factory() as session:
        await messaging.apply_whatsapp(
            session, "AR", _whatsapp(Direction.INBOUND, "sigo"), payload={}, key="t:2"
        )
        await session.commit()
    assert (await _chat(session_factory)).waiting_since == started
    async with session_factory() as session:
        await outbound.queue_whatsapp(
            session,
            SYSTEM_CONTEXT,
            to=PHONE,
            body="Hola Juan, te ayudo",
            media_url=None,
            assigned_agent=None,
            customer_ref=None,
        )
        await session.commit()
    assert (await _chat(session_factory)).waiting_since is None
    async with session_factory() as session:
        await messaging.apply_whatsapp(
            session, "AR", _whatsapp(Direction.INBOUND, "gracias"), payload={}, key="t:3"
        )
        await session.commit()
    chat = await _chat(session_factory)
    assert chat.waiting_since == (await _messages(session_factory, chat.id))[-1].created_at
    async with session_factory() as session:
        await messaging.apply_whatsapp(
            session, "AR", _whatsapp(Direction.OUTBOUND, "De nada"), payload={}, key="t:4"
        )
        await session.commit()
    assert (await _chat(session_factory)).waiting_since is None


async def test_an_sms_we_send_leaves_nobody_waiting(session_factory: Sessions) -> None:
    async with session_factory() as session:
        queued = await outbound.queue_sms(
            session,
            SYSTEM_CONTEXT,
            to=PHONE,
            body="Tu turno es mañana",
            kind=MessageKind.TEXT,
            from_number="+15005550006",
        )
        await session.commit()
        sms = await session.get(Interaction, queued.interaction_id)
    assert sms is not None
    assert sms.waiting_since is None


async def test_an_escalated_call_waits_from_when_it_entered_the_queue(
    client: httpx.AsyncClient, session_factory: Sessions
) -> None:
    payload = transcription("conv_inbox_escalated")
    payload["data"]["analysis"]["data_collection_results"]["escalated"] = {"value": True}
    assert (await post_elevenlabs(client, payload)).status_code == 200
    async with session_factory() as session:
        call = (
            await session.scalars(
                select(Interaction).where(
                    Interaction.provider_conversation_id == "conv_inbox_escalated"
                )
            )
        ).one()
    assert call.queued_at is not None
    assert call.waiting_since == call.queued_at


def test_the_demo_keeps_how_long_each_customer_waits() -> None:
    """Every seeded WhatsApp conversation's wait is its oldest customer message after our
    last one (none when ours is last)."""
    from tests.test_demo import _generate

    demo = _generate()
    chats = {i.id: i for i in demo.of(Interaction) if i.channel is Channel.WHATSAPP}
    by_chat: dict[uuid.UUID, list[Message]] = {}
    for message in demo.of(Message):
        if message.interaction_id in chats:
            by_chat.setdefault(message.interaction_id, []).append(message)
    waiting = 0
    for chat_id, chat_messages in by_chat.items():
        expected = None
        for message in sorted(chat_messages, key=lambda m: m.created_at):
            if message.direction is Direction.OUTBOUND:
                expected = None
            elif expected is None:
                expected = message.created_at
        assert chats[chat_id].waiting_since == expected
        waiting += expected is not None
    assert waiting > 0
    assert waiting < len(by_chat)


# --- views ----------------------------------------------------------------------------------


@dataclass
class World:
    team_a: uuid.UUID
    team_b: uuid.UUID
    ana_user: uuid.UUID
    mine_waiting: uuid.UUID  # Ana's; the customer waits since 30 min ago
    mine_answered: uuid.UUID  # Ana's; our message last
    mine_long: uuid.UUID  # Ana's; waits since 2 h ago
    a_queue: uuid.UUID  # unassigned, in team A (Ana's)
    b_queue: uuid.UUID  # unassigned, in team B (Bruno's)
    pool: uuid.UUID  # unassigned, no team
    brunos: uuid.UUID  # Bruno's, in team A
    snoozed: uuid.UUID  # Ana's, snoozed
    resolved: uuid.UUID  # Ana's, completed
    call: uuid.UUID  # Ana's call, labelled


async def _world(app: FastAPI) -> World:
    sessions: Sessions = app.state.session_factory
    ana = await auth.user(sessions, "ana", Role.AGENT)
    bruno = await auth.user(sessions, "bruno", Role.AGENT)
    now = utcnow()
    team_a = Team(id=uuid.uuid4(), name="Tarjetas")
    team_b = Team(id=uuid.uuid4(), name="Préstamos")
    rows: list[Any] = []

    def chat(
        agent: str | None,
        team: Team | None,
        *,
        waited: timedelta | None,
        last: timedelta,
        **extra: Any,
    ) -> Interaction:
        row = f.interaction(
            assigned_agent=agent,
            team_id=team.id if team else None,
            queued_at=None if agent else now - last,
            customer_phone=PHONE,
            customer_name="Juan Pérez",
            from_number=PHONE,
            started_at=now - timedelta(hours=3),
            updated_at=now - last,
            last_message_at=now - last,
            waiting_since=None if waited is None else now - waited,
            **extra,
        )
        rows.append(row)
        inbound = f.message(
            row, body="Hola, mi número es +54 9 11 5555-0707", created_at=now - last
        )
        rows.append(inbound)
        if waited is None:
            rows.append(
                f.message(
                    row,
                    direction=Direction.OUTBOUND,
                    status=MessageStatus.SENT,
                    body="Hola, ¿en qué te ayudo?",
                    created_at=now - last + timedelta(seconds=1),
                )
            )
        return row

    mine_waiting = chat("ana", team_a, waited=timedelta(minutes=30), last=timedelta(minutes=30))
    mine_answered = chat("ana", team_a, waited=None, last=timedelta(minutes=50))
    mine_long = chat("ana", None, waited=timedelta(hours=2), last=timedelta(minutes=5))
    a_queue = chat(None, team_a, waited=timedelta(minutes=10), last=timedelta(minutes=10))
    b_queue = chat(None, team_b, waited=timedelta(minutes=20), last=timedelta(minutes=20))
    pool = chat(None, None, waited=timedelta(minutes=40), last=timedelta(minutes=40))
    brunos = chat("bruno", team_a, waited=timedelta(minutes=15), last=timedelta(minutes=15))
    snoozed = chat(
        "ana",
        None,
        waited=None,
        last=timedelta(minutes=60),
        snoozed_until=now + timedelta(hours=1),
    )
    resolved = chat(
        "ana", None, waited=None, last=timedelta(minutes=70), status=InteractionStatus.COMPLETED
    )
    call = f.interaction(
        channel=Channel.CALL,
        assigned_agent="ana",
        customer_phone=PHONE,
        started_at=now - timedelta(minutes=3),
        updated_at=now - timedelta(minutes=3),
        waiting_since=now - timedelta(minutes=3),
    )
    rows.append(call)
    async with sessions() as session:
        session.add_all([team_a, team_b])
        await session.flush()
        await f.save(
            session,
            TeamMember(team_id=team_a.id, user_id=ana.id),
            TeamMember(team_id=team_b.id, user_id=bruno.id),
            *rows,
            InteractionLabel(interaction_id=call.id, label="tarjeta"),
            InteractionLabel(interaction_id=mine_long.id, label="tarjeta"),
            InteractionLabel(interaction_id=mine_long.id, label="fraude"),
        )
    return World(
        team_a.id,
        team_b.id,
        ana.id,
        mine_waiting.id,
        mine_answered.id,
        mine_long.id,
        a_queue.id,
        b_queue.id,
        pool.id,
        brunos.id,
        snoozed.id,
        resolved.id,
        call.id,
    )


@pytest.fixture
async def world(app: FastAPI) -> World:
    return await _world(app)


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_mine_is_ordered_longest_waiting_first_then_the_others_oldest_first(
    world: World, people: dict[str, httpx.AsyncClient]
) -> None:
    mine = await people["ana"].get("/api/inbox")
    assert _ids(mine) == [
        str(world.mine_long),
        str(world.mine_waiting),
        str(world.call),
        str(world.mine_answered),
    ]
    assert mine.json()["hasMore"] is False
    recent = await people["ana"].get("/api/inbox", params={"sort": "recent"})
    assert _ids(recent)[:2] == [str(world.call), str(world.mine_long)]
    # The same view, a page at a time.
    first = await people["ana"].get("/api/inbox", params={"limit": 2})
    assert first.json()["hasMore"] is True
    second = await people["ana"].get("/api/inbox", params={"limit": 2, "skip": 2})
    assert _ids(first) + _ids(second) == _ids(mine)
    calls = await people["ana"].get("/api/inbox", params={"channel": "CALL"})
    assert _ids(calls) == [str(world.call)]


async def test_an_item_is_masked_and_carries_its_last_message_unread_and_labels(
    world: World, people: dict[str, httpx.AsyncClient]
) -> None:
    items = {i["id"]: i for i in (await people["ana"].get("/api/inbox")).json()["items"]}
    item = items[str(world.mine_long)]
    assert set(item) == {
        "id",
        "channel",
        "status",
        "customerName",
        "customerPhone",
        "lastMessage",
        "unread",
        "waitingSince",
        "priority",
        "assignedAgent",
        "teamId",
        "labels",
        "snoozedUntil",
        "updatedAt",
    }
    assert item["customerName"] != "Juan Pérez"
    assert "5555" not in (item["customerPhone"] or "")
    assert item["lastMessage"]["direction"] == "INBOUND"
    assert item["lastMessage"]["preview"].startswith("Hola, mi número es")
    assert "5555-0707" not in item["lastMessage"]["preview"]
    assert item["unread"] == 1
    assert item["labels"] == ["fraude", "tarjeta"]
    assert item["waitingSince"] is not None
    answered = items[str(world.mine_answered)]
    assert answered["lastMessage"]["direction"] == "OUTBOUND"
    assert answered["waitingSince"] is None
    assert items[str(world.call)]["lastMessage"] is None


async def test_each_view_holds_what_the_reader_may_see(
    world: World, people: dict[str, httpx.AsyncClient]
) -> None:
    ana, bruno, sup = people["ana"], people["bruno"], people["sup"]
    unassigned = await ana.get("/api/inbox", params={"view": "unassigned"})
    # Longest waiting first: the pool (40 min), then her team's queue (10 min); never team B's.
    assert _ids(unassigned) == [str(world.pool), str(world.a_queue)]
    assert set(_ids(await bruno.get("/api/inbox", params={"view": "unassigned"}))) == {
        str(world.pool),
        str(world.b_queue),
    }
    assert set(_ids(await sup.get("/api/inbox", params={"view": "unassigned"}))) == {
        str(world.pool),
        str(world.a_queue),
        str(world.b_queue),
    }
    # A team: an agent sees their own work and the team's queue, not a teammate's.
    team = await ana.get("/api/inbox", params={"view": "team", "team": str(world.team_a)})
    assert set(_ids(team)) == {
        str(world.mine_waiting),
        str(world.mine_answered),
        str(world.a_queue),
    }
    sup_team = await sup.get("/api/inbox", params={"view": "team", "team": str(world.team_a)})
    assert str(world.brunos) in _ids(sup_team)
    everything = _ids(await sup.get("/api/inbox", params={"view": "all"}))
    assert str(world.snoozed) not in everything
    assert str(world.resolved) not in everything
    assert len(everything) == 8
    assert _ids(await ana.get("/api/inbox", params={"view": "snoozed"})) == [str(world.snoozed)]
    assert _ids(await bruno.get("/api/inbox", params={"view": "snoozed"})) == []
    assert _ids(await ana.get("/api/inbox", params={"view": "resolved"})) == [str(world.resolved)]
    assert _ids(await bruno.get("/api/inbox", params={"view": "resolved"})) == []
    labelled = await ana.get("/api/inbox", params={"view": "label", "label": " Tarjeta "})
    assert set(_ids(labelled)) == {str(world.call), str(world.mine_long)}
    assert _ids(await bruno.get("/api/inbox", params={"view": "label", "label": "tarjeta"})) == []


async def test_an_agent_is_refused_the_all_view_and_another_teams_view(
    world: World, people: dict[str, httpx.AsyncClient]
) -> None:
    ana = people["ana"]
    refused = await ana.get("/api/inbox", params={"view": "all"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden_view"
    other = await ana.get("/api/inbox", params={"view": "team", "team": str(world.team_b)})
    assert other.status_code == 403
    unknown = await ana.get("/api/inbox", params={"view": "team", "team": str(uuid.uuid4())})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "team_not_found"
    unknown = await people["sup"].get(
        "/api/inbox", params={"view": "team", "team": str(uuid.uuid4())}
    )
    assert unknown.status_code == 404
    assert (await ana.get("/api/inbox", params={"view": "team"})).status_code == 422
    assert (await ana.get("/api/inbox", params={"view": "label"})).status_code == 422


async def test_the_counts_are_the_views_sizes_and_the_unread_total_of_mine(
    world: World, people: dict[str, httpx.AsyncClient]
) -> None:
    ana = (await people["ana"].get("/api/inbox/counts")).json()
    assert ana == {
        "mine": {"conversations": 4, "unread": 3},
        "unassigned": {"conversations": 2},
        "teams": [{"id": str(world.team_a), "name": "Tarjetas", "conversations": 3}],
        "snoozed": {"conversations": 1},
        "labels": [
            {"label": "tarjeta", "conversations": 2},
            {"label": "fraude", "conversations": 1},
        ],
    }
    sup = (await people["sup"].get("/api/inbox/counts")).json()
    assert sup["all"] == {"conversations": 8}
    assert sup["mine"] == {"conversations": 0, "unread": 0}
    assert sup["unassigned"] == {"conversations": 3}
    assert sup["teams"] == [
        {"id": str(world.team_b), "name": "Préstamos", "conversations": 1},
        {"id": str(world.team_a), "name": "Tarjetas", "conversations": 4},
    ]


async def test_the_counts_list_the_labels_of_the_open_conversations_the_reader_sees(
    app: FastAPI, world: World, people: dict[str, httpx.AsyncClient]
) -> None:
    sessions: Sessions = app.state.session_factory
    async with sessions() as session:
        await f.save(
            session,
            # Bruno's conversation (Ana must not learn its label), a snoozed and a closed one.
            InteractionLabel(interaction_id=world.brunos, label="prestamo"),
            InteractionLabel(interaction_id=world.brunos, label="tarjeta"),
            InteractionLabel(interaction_id=world.snoozed, label="dormida"),
            InteractionLabel(interaction_id=world.resolved, label="cerrada"),
            InteractionLabel(interaction_id=world.pool, label="fraude"),
        )
    ana = (await people["ana"].get("/api/inbox/counts")).json()["labels"]
    # The pool is unassigned without a team: Ana sees it, so its label counts for her.
    assert ana == [
        {"label": "fraude", "conversations": 2},
        {"label": "tarjeta", "conversations": 2},
    ]
    bruno = (await people["bruno"].get("/api/inbox/counts")).json()["labels"]
    assert bruno == [
        {"label": "fraude", "conversations": 1},
        {"label": "prestamo", "conversations": 1},
        {"label": "tarjeta", "conversations": 1},
    ]
    sup = (await people["sup"].get("/api/inbox/counts")).json()["labels"]
    assert sup == [
        {"label": "tarjeta", "conversations": 3},
        {"label": "fraude", "conversations": 2},
        {"label": "prestamo", "conversations": 1},
    ]
    # Each label's count is its label view's size for the reader.
    for person, labels in (("ana", ana), ("bruno", bruno), ("sup", sup)):
        for entry in labels:
            view = await people[person].get(
                "/api/inbox", params={"view": "label", "label": entry["label"]}
            )
            assert len(_ids(view)) == entry["conversations"]
    # The service keeps the most used ones only.
    async with sessions() as session:
        sup_principal = Principal(actor_type=ActorType.USER, actor_id="sup", role=Role.SUPERVISOR)
        top = await inbox.open_labels(session, sup_principal, limit=1)
    assert [(c.label, c.conversations) for c in top] == [("tarjeta", 3)]


# --- unread and read marks ------------------------------------------------------------------


async def test_reading_marks_up_to_the_newest_message_and_only_moves_forward(
    world: World, people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    ana = people["ana"]
    target = world.mine_long
    now = utcnow()
    async with session_factory() as session:
        chat = await session.get(Interaction, target)
        assert chat is not None
        extra = [
            f.message(chat, body=f"mensaje {n}", created_at=now + timedelta(seconds=n))
            for n in range(1, 4)
        ]
        await f.save(session, *extra)
    counted = await ana.get("/api/inbox/counts")
    assert counted.json()["mine"]["unread"] == 6
    # Up to the second of the three new messages: one left.
    marked = await ana.post(
        f"/api/interactions/{target}/read", json={"messageId": str(extra[1].id)}
    )
    assert marked.status_code == 200, marked.text
    assert marked.json()["unread"] == 1
    assert marked.json()["lastReadAt"] is not None
    # An older message does not move the mark back.
    stale = await ana.post(f"/api/interactions/{target}/read", json={"messageId": str(extra[0].id)})
    assert stale.json()["unread"] == 1
    # Without a message: up to the newest.
    done = await ana.post(f"/api/interactions/{target}/read")
    assert done.json()["unread"] == 0
    items = {i["id"]: i for i in (await ana.get("/api/inbox")).json()["items"]}
    assert items[str(target)]["unread"] == 0
    # Bruno's own marks are his: Ana's reading leaves his counts (none he sees here) alone.
    async with session_factory() as session:
        marks = list(await session.scalars(select(ReadMark)))
    assert [(m.user_id, m.interaction_id, m.last_read_message_id) for m in marks] == [
        (world.ana_user, target, extra[2].id)
    ]


async def test_unread_is_capped_at_99(
    world: World, people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    now = utcnow()
    async with session_factory() as session:
        chat = await session.get(Interaction, world.mine_waiting)
        assert chat is not None
        await f.save(
            session,
            *(f.message(chat, body="?", created_at=now + timedelta(seconds=n)) for n in range(120)),
        )
    items = {i["id"]: i for i in (await people["ana"].get("/api/inbox")).json()["items"]}
    assert items[str(world.mine_waiting)]["unread"] == 99


async def test_a_message_of_another_conversation_or_one_not_seen_is_refused(
    world: World, people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    ana = people["ana"]
    async with session_factory() as session:
        others = (
            await session.scalars(select(Message.id).where(Message.interaction_id == world.pool))
        ).first()
    wrong = await ana.post(
        f"/api/interactions/{world.mine_long}/read", json={"messageId": str(others)}
    )
    assert wrong.status_code == 404
    assert wrong.json()["error"]["code"] == "message_not_found"
    hidden = await ana.post(f"/api/interactions/{world.b_queue}/read")
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "interaction_not_found"
    assert (await ana.post(f"/api/interactions/{uuid.uuid4()}/read")).status_code == 404


async def test_two_marks_at_once_both_succeed(
    world: World, people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    ana = people["ana"]
    for target in (world.mine_waiting, world.mine_long, world.a_queue):
        answers = await asyncio.gather(
            *(ana.post(f"/api/interactions/{target}/read") for _ in range(4))
        )
        assert [a.status_code for a in answers] == [200] * 4
        assert {a.json()["unread"] for a in answers} == {0}
    async with session_factory() as session:
        marks = list(await session.scalars(select(ReadMark)))
    assert len(marks) == 3


async def test_the_service_marks_two_at_once_on_its_own_sessions(
    world: World, session_factory: Sessions
) -> None:
    """The service as the console calls it: two transactions racing to insert the first mark."""
    ana = Principal(
        actor_type=ActorType.USER,
        actor_id="ana",
        role=Role.AGENT,
        user_id=world.ana_user,
        team_ids=frozenset({world.team_a}),
    )

    async def mark() -> inbox.ReadState:
        async with session_factory() as session:
            state = await inbox.mark_read(session, ana, world.mine_answered)
            await session.commit()
            return state

    states = await asyncio.gather(mark(), mark())
    assert [s.unread for s in states] == [0, 0]


# --- cost: a fixed number of statements -----------------------------------------------------


@contextlib.contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def executed(*args: Any) -> None:
        seen.append(str(args[2])[:40])

    event.listen(engine.sync_engine, "before_cursor_execute", executed)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", executed)


async def test_a_page_costs_the_same_statements_whatever_its_size(
    world: World, engine: AsyncEngine, session_factory: Sessions
) -> None:
    sup = Principal(actor_type=ActorType.USER, actor_id="sup", role=Role.SUPERVISOR)
    costs = []
    for limit in (1, 3, 50):
        async with session_factory() as session:
            with _statements(engine) as seen:
                page = await inbox.list_inbox(
                    session, sup, inbox.InboxQuery(view=inbox.View.ALL, limit=limit)
                )
        assert len(page.items) == min(limit, 8)
        costs.append(len(seen))
    assert costs[0] == costs[1] == costs[2] <= 5


async def test_resolving_ends_the_wait_and_the_next_message_starts_a_new_one(
    client: httpx.AsyncClient, session_factory: Sessions
) -> None:
    await post_builderbot(client, incoming(NUMBER, "hola"))
    chat = await _chat(session_factory)
    assert chat.waiting_since is not None
    resolved = await client.post(
        f"/api/interactions/{chat.id}/resolve", json={"resolutionCode": "spam"}
    )
    assert resolved.status_code == 200, resolved.text
    assert (await _chat(session_factory)).waiting_since is None
    await post_builderbot(client, incoming(NUMBER, "perdón, era otra cosa"))
    again = await _chat(session_factory)
    last = (await _messages(session_factory, chat.id))[-1]
    assert again.status is InteractionStatus.IN_PROGRESS
    assert again.waiting_since == last.created_at
