"""Private notes, @mentions and notifications; and a person's reply taking a conversation
(docs/workflow.md)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.live.bus import visible_to
from contact_center.messaging import outbound
from contact_center.models import AuditLog, InteractionEvent, Message
from contact_center.models.enums import ActorType, InteractionStatus, Role
from contact_center.models.interaction import Interaction
from contact_center.models.note import Notification
from contact_center.principal import SYSTEM_CONTEXT, Principal
from tests import auth
from tests import factories as f
from tests.test_console_defects import Signed

Sessions = async_sessionmaker[AsyncSession]
PHONE = "+5491155551234"


async def _conversation(
    sessions: Sessions, *, customer_wrote: bool = False, **overrides: Any
) -> Interaction:
    """A conversation; with `customer_wrote`, holding the customer's message (WhatsApp's
    24-hour window open from its start)."""
    row = f.interaction(**overrides)
    async with sessions() as session:
        await f.save(session, row, *([f.message(row)] if customer_wrote else []))
    return row


async def _events(sessions: Sessions, interaction_id: uuid.UUID) -> list[InteractionEvent]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(InteractionEvent)
                .where(InteractionEvent.interaction_id == interaction_id)
                .order_by(InteractionEvent.occurred_at)
            )
        )


async def _audits(sessions: Sessions, interaction_id: uuid.UUID) -> list[AuditLog]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(AuditLog)
                .where(AuditLog.entity_id == str(interaction_id))
                .order_by(AuditLog.occurred_at)
            )
        )


async def _outbox(client: httpx.AsyncClient) -> Any:
    answered = await client.get("/_emulator/builderbot/outbox")
    return answered.json() if answered.status_code == 200 else answered.status_code


# --- notes ------------------------------------------------------------------------------------


async def test_a_note_is_kept_on_the_timeline_notifies_the_mentioned_and_never_reaches_the_customer(
    app: FastAPI, people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    await auth.user(session_factory, "bruno", Role.AGENT)
    row = await _conversation(session_factory, assigned_agent="ana")
    sup = people["sup"]
    outbox_before = await _outbox(sup)
    text = "@bruno @nadie @sup mirá: el cliente dio el +54 9 11 5555-9876 (ana@banco.ar)"
    with app.state.runtime.events.subscribe() as notices:
        added = await sup.post(f"/api/interactions/{row.id}/notes", json={"body": text})
        assert added.status_code == 201, added.text
        notice = notices.get_nowait()
    note = added.json()
    assert set(note) == {"id", "interactionId", "author", "body", "mentions", "createdAt"}
    assert note["author"] == "sup"
    assert note["interactionId"] == str(row.id)
    assert note["mentions"] == ["bruno", "sup"]  # existing active users only, each once
    assert "9876" not in note["body"]  # masked like a message's body
    # On the timeline, masked for whoever may not see personal data, and whole for an admin.
    events = await _events(session_factory, row.id)
    assert [e.type for e in events] == ["note.added"]
    assert events[0].normalized == {
        "noteId": note["id"],
        "author": "sup",
        "body": text,
        "mentions": ["bruno", "sup"],
    }
    shown = (await sup.get(f"/api/interactions/{row.id}")).json()["events"][-1]
    assert shown["type"] == "note.added"
    assert "9876" not in shown["normalized"]["body"]
    assert "mirá" in shown["normalized"]["body"]
    # The audit row says a note was added, without its text.
    (audit,) = await _audits(session_factory, row.id)
    assert audit.action == "interaction.note.added"
    assert "9876" not in str(audit.metadata_)
    assert "mirá" not in str(audit.metadata_)
    # Nothing went to the provider, and no message was written.
    assert await _outbox(sup) == outbox_before
    async with session_factory() as session:
        assert (await session.scalars(select(Message))).all() == []
    # Bruno (mentioned) hears of it, though the conversation is Ana's; Carol does not.
    assert notice is not None
    assert notice["type"] == "note.added"
    bruno = Principal(actor_type=ActorType.USER, actor_id="bruno", role=Role.AGENT)
    carol = Principal(actor_type=ActorType.USER, actor_id="carol", role=Role.AGENT)
    assert visible_to(notice, bruno) is not None
    assert visible_to(notice, carol) is None
    # One notification: Bruno's (the author mentioning themselves is not notified).
    async with session_factory() as session:
        rows = (await session.scalars(select(Notification))).all()
    assert [(n.kind, n.actor, str(n.note_id)) for n in rows] == [("mention", "sup", note["id"])]


async def test_notes_are_listed_oldest_first_and_revealed_only_to_an_admin_who_asks(
    client: httpx.AsyncClient, people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    row = await _conversation(session_factory)
    ana = people["ana"]
    for body in ("primera", "segunda: +54 9 11 5555-9876"):
        assert (
            await ana.post(f"/api/interactions/{row.id}/notes", json={"body": body})
        ).status_code == 201
    listed = (await ana.get(f"/api/interactions/{row.id}/notes")).json()
    assert [n["body"][:7] for n in listed] == ["primera", "segunda"]
    assert "9876" not in listed[1]["body"]
    revealed = await client.get(
        f"/api/interactions/{row.id}/notes",
        params={"includePII": "true"},
        headers={"X-Reveal-Reason": "reclamo del cliente"},
    )
    assert revealed.status_code == 200, revealed.text
    assert "9876" in revealed.json()[1]["body"]


@pytest.mark.parametrize(
    "body",
    [
        {"body": ""},
        {"body": "   "},
        {"body": "a\u0000b"},
        {"body": "x" * 4001},
        {"body": 5},
        {"body": ["hola"]},
        {"text": "hola"},
        ["hola"],
    ],
)
async def test_a_bad_note_answers_422_and_writes_nothing(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions, body: Any
) -> None:
    row = await _conversation(session_factory)
    refused = await people["ana"].post(f"/api/interactions/{row.id}/notes", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "validation_error"
    assert await _events(session_factory, row.id) == []
    assert await _audits(session_factory, row.id) == []


async def test_notifications_are_each_users_own(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    row = await _conversation(session_factory)
    await auth.user(session_factory, "bruno", Role.AGENT)
    ana, bruno = people["ana"], people["bruno"]
    for n in range(3):
        await bruno.post(f"/api/interactions/{row.id}/notes", json={"body": f"@ana nota {n}"})
    await ana.post(f"/api/interactions/{row.id}/notes", json={"body": "@bruno listo"})
    mine = (await ana.get("/api/notifications")).json()
    assert mine["unread"] == 3
    assert [n["actor"] for n in mine["items"]] == ["bruno"] * 3
    newest_first = [n["createdAt"] for n in mine["items"]]
    assert newest_first == sorted(newest_first, reverse=True)
    assert len((await ana.get("/api/notifications", params={"limit": 2})).json()["items"]) == 2
    first = mine["items"][0]["id"]
    # Bruno cannot read (or learn of) Ana's notification.
    refused = await bruno.post(f"/api/notifications/{first}/read")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "notification_not_found"
    assert (await bruno.post(f"/api/notifications/{uuid.uuid4()}/read")).status_code == 404
    read = await ana.post(f"/api/notifications/{first}/read")
    assert read.status_code == 200
    assert read.json()["readAt"] is not None
    unread = (await ana.get("/api/notifications", params={"unread": "true"})).json()
    assert len(unread["items"]) == 2
    assert unread["unread"] == 2
    assert (await ana.post("/api/notifications/read-all")).json() == {"marked": 2}
    assert (await ana.get("/api/notifications")).json()["unread"] == 0
    # Bruno's own stays unread.
    assert (await bruno.get("/api/notifications")).json()["unread"] == 1
    for bad in ({"limit": "0"}, {"limit": "x"}, {"unread": "quizás"}):
        answered = await ana.get("/api/notifications", params=bad)
        assert answered.status_code == 422
        assert "error" in answered.json()


# --- a person's reply takes the conversation ------------------------------------------------


async def _bot_events(sessions: Sessions, interaction_id: uuid.UUID) -> list[str]:
    return [
        e.type
        for e in await _events(sessions, interaction_id)
        if e.type in ("agent.assigned", "bot.paused", "bot.resumed")
    ]


async def test_a_reply_to_an_unassigned_conversation_assigns_it_and_pauses_the_bot(
    app: FastAPI,
    people: dict[str, httpx.AsyncClient],
    session_factory: Sessions,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    told: list[tuple[str, str]] = []

    async def bot_control(interaction_id: str, action: str) -> bool:
        told.append((interaction_id, action))
        return True

    monkeypatch.setattr(app.state.runtime.jobs, "enqueue_bot_control", bot_control)
    now = utcnow()
    row = await _conversation(
        session_factory,
        customer_phone=PHONE,
        from_number=PHONE,
        started_at=now,
        last_message_at=now,
        queued_at=now,
        customer_wrote=True,
    )
    ana = people["ana"]
    for text in ("hola, te atiendo yo", "¿algo más?"):
        sent = await ana.post("/api/whatsapp/send", json={"to": PHONE, "body": text})
        assert sent.status_code == 202, sent.text
        assert sent.json()["interactionId"] == str(row.id)
    after = (
        await ana.get(f"/api/interactions/{row.id}", params={"includeAllEvents": "true"})
    ).json()
    assert after["assignedAgent"] == "ana"
    assert after["queuedAt"] is None
    assert after["aiHandled"] is False
    assigned = next(e for e in after["events"] if e["type"] == "agent.assigned")
    assert assigned["normalized"]["by"] == "reply"
    assert await _bot_events(session_factory, row.id) == ["agent.assigned", "bot.paused"]
    actions = [a.action for a in await _audits(session_factory, row.id)]
    assert "interaction.assign" in actions
    assert "whatsapp.bot.paused" in actions
    assert told == [(str(row.id), "pause")]
    # Resolving hands it back to the bot.
    resolved = await ana.post(
        f"/api/interactions/{row.id}/resolve", json={"resolutionCode": "consulta"}
    )
    assert resolved.status_code == 200
    assert await _bot_events(session_factory, row.id) == [
        "agent.assigned",
        "bot.paused",
        "bot.resumed",
    ]
    assert told[-1] == (str(row.id), "resume")


async def test_a_system_send_takes_nothing(session_factory: Sessions) -> None:
    now = utcnow()
    row = await _conversation(
        session_factory,
        customer_phone=PHONE,
        started_at=now,
        last_message_at=now,
        customer_wrote=True,
    )
    async with session_factory() as session:
        queued = await outbound.queue_whatsapp(
            session,
            SYSTEM_CONTEXT,
            to=PHONE,
            body="Su código fue enviado",
            media_url=None,
            assigned_agent=None,
            customer_ref=None,
        )
        await session.commit()
    assert queued.interaction_id == row.id
    assert queued.bot is None
    async with session_factory() as session:
        found = await session.get(Interaction, row.id)
        assert found is not None
        assert found.assigned_agent is None
        assert found.status is InteractionStatus.IN_PROGRESS
    assert await _bot_events(session_factory, row.id) == []


async def test_the_console_lists_a_persons_notifications_and_counts_the_unread(
    app: FastAPI, people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    row = await _conversation(session_factory)
    await auth.user(session_factory, "sofia", Role.SUPERVISOR)
    added = await people["bruno"].post(
        f"/api/interactions/{row.id}/notes", json={"body": "@sofia mirá esto"}
    )
    assert added.status_code == 201
    signed = await Signed(app).sign_in("sofia", Role.SUPERVISOR)
    try:
        badge = await signed.http.get("/console/partials/notifications/badge")
        assert badge.status_code == 200
        assert '<span class="count">1</span>' in badge.text
        listed = await signed.http.get("/notifications")
        assert listed.status_code == 200
        assert "te mencionó en una nota" in listed.text
        assert f'href="/interactions/{row.id}"' in listed.text
        assert "mirá esto" not in listed.text  # the list says who and where, not what
    finally:
        await signed.http.aclose()
    # Bruno's own list is empty.
    assert (await people["bruno"].get("/api/notifications")).json()["items"] == []
