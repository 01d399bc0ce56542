"""Satisfaction surveys and repeat contacts (docs/service-levels.md, "CSAT" and "Outcomes"):
one survey per resolved conversation on the right channel, answered once on a public page, and
a customer who comes back within 7 days marking the resolved conversation not resolved first
time."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models import Interaction, InteractionEvent, Message
from contact_center.models.csat import CsatSurvey, RepeatContact
from contact_center.models.enums import (
    Channel,
    Direction,
    Handler,
    InteractionStatus,
    MessageKind,
    Outcome,
    Provider,
    Role,
)
from contact_center.outcomes.tasks import OutcomeJobDeps, find_repeat_contacts, send_surveys
from contact_center.worker.deps import outcome_deps
from tests import auth, factories
from tests.deliveries import incoming, post_builderbot
from tests.test_logging import Capture

PHONE = "+5491155550101"
LINK = re.compile(r"(http://[^\s]+/csat/([A-Za-z0-9._-]+))")


def deps_of(app: FastAPI) -> OutcomeJobDeps:
    return outcome_deps(app.state.runtime)


def now() -> datetime:
    return datetime.now(UTC)


async def resolved_chat(
    sessions: async_sessionmaker[AsyncSession],
    *,
    phone: str | None = PHONE,
    wrote_ago: timedelta = timedelta(minutes=10),
    ended_ago: timedelta = timedelta(minutes=1),
    agent: str | None = "ana",
    channel: Channel = Channel.WHATSAPP,
    **overrides: Any,
) -> Interaction:
    """A conversation the customer wrote in `wrote_ago`, resolved `ended_ago` by `agent`."""
    wrote = now() - wrote_ago
    ended = now() - ended_ago
    chat = factories.interaction(
        channel=channel,
        customer_phone=phone,
        from_number=phone,
        started_at=wrote,
        created_at=wrote,
        last_message_at=wrote,
        status=InteractionStatus.COMPLETED,
        outcome=Outcome.RESOLVED,
        ended_at=ended,
        assigned_agent=agent,
        ai_handled=agent is None,
        provider=Provider.TWILIO if channel is Channel.SMS else Provider.BUILDERBOT,
        **overrides,
    )
    rows: list[Any] = [chat, factories.message(chat, created_at=wrote)]
    if agent:
        rows.append(
            factories.event(
                chat,
                type="conversation.resolved",
                occurred_at=ended,
                normalized={"resolutionCode": "ok", "actor": agent},
            )
        )
    async with sessions() as session:
        await factories.save(session, *rows)
    return chat


async def ai_call(
    sessions: async_sessionmaker[AsyncSession], *, phone: str | None = PHONE, **overrides: Any
) -> Interaction:
    started = overrides.pop("started_at", now() - timedelta(minutes=5))
    call = factories.interaction(
        channel=Channel.CALL,
        provider=Provider.ELEVENLABS,
        provider_conversation_id=f"conv_{uuid.uuid4().hex}",
        customer_phone=phone,
        from_number=phone,
        started_at=started,
        created_at=overrides.pop("created_at", started),
        status=InteractionStatus.COMPLETED,
        outcome=overrides.pop("outcome", Outcome.RESOLVED),
        ended_at=overrides.pop("ended_at", started + timedelta(minutes=2)),
        assigned_agent="Sofía (IA)",
        ai_handled=True,
        **overrides,
    )
    async with sessions() as session:
        await factories.save(session, call)
    return call


async def surveys(sessions: async_sessionmaker[AsyncSession]) -> list[CsatSurvey]:
    async with sessions() as session:
        return list((await session.scalars(select(CsatSurvey))).all())


async def csat_messages(sessions: async_sessionmaker[AsyncSession]) -> list[Message]:
    async with sessions() as session:
        found = await session.scalars(select(Message).where(Message.kind == MessageKind.CSAT))
        return list(found.all())


async def events(
    sessions: async_sessionmaker[AsyncSession], interaction_id: uuid.UUID
) -> list[InteractionEvent]:
    async with sessions() as session:
        found = await session.scalars(
            select(InteractionEvent).where(InteractionEvent.interaction_id == interaction_id)
        )
        return list(found.all())


async def survey_link(app: FastAPI, chat: Interaction) -> str:
    """Send the survey of `chat` and return the path of its link (from the message)."""
    sessions = app.state.session_factory
    assert await send_surveys(deps_of(app)) >= 1
    async with sessions() as session:
        survey = (
            await session.scalars(select(CsatSurvey).where(CsatSurvey.interaction_id == chat.id))
        ).one()
        message = await session.get(Message, survey.message_id)
    assert message is not None
    assert message.body
    found = LINK.search(message.body)
    assert found, message.body
    return "/csat/" + found.group(2)


# --- sending -----------------------------------------------------------------------------------


async def test_one_survey_per_conversation_even_with_the_job_racing_itself(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await resolved_chat(session_factory)
    deps = deps_of(app)
    counts = await asyncio.gather(*(send_surveys(deps) for _ in range(4)))
    assert sum(counts) == 1
    assert await send_surveys(deps) == 0
    found = await surveys(session_factory)
    assert len(found) == 1
    assert found[0].interaction_id == chat.id
    messages = await csat_messages(session_factory)
    assert len(messages) == 1
    assert found[0].message_id == messages[0].id
    sent = [e for e in await events(session_factory, chat.id) if e.type == "csat.sent"]
    assert len(sent) == 1
    assert (sent[0].normalized or {})["sent"] is True


async def test_whatsapp_inside_the_window_gets_whatsapp_text_in_the_same_conversation(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await resolved_chat(session_factory, wrote_ago=timedelta(hours=2))
    assert await send_surveys(deps_of(app)) == 1
    (survey,) = await surveys(session_factory)
    assert survey.channel is Channel.WHATSAPP
    assert survey.handler is Handler.PERSON
    assert survey.agent == "ana"
    assert survey.expires_at - survey.sent_at == timedelta(days=7)
    (message,) = await csat_messages(session_factory)
    assert message.interaction_id == chat.id
    assert message.body
    assert "/csat/" in message.body
    async with session_factory() as session:
        after = await session.get(Interaction, chat.id)
    # The survey does not reopen the resolved conversation.
    assert after is not None
    assert after.status is InteractionStatus.COMPLETED
    assert after.outcome is Outcome.RESOLVED


async def test_the_survey_links_token_is_shown_to_no_one_in_the_api_or_the_console(
    app: FastAPI,
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """The link lets whoever holds it answer: the message keeps it (the customer's copy is sent
    from it), but the thread shows the address with its token hidden, revealed or not."""
    chat = await resolved_chat(session_factory, wrote_ago=timedelta(hours=2))
    path = await survey_link(app, chat)
    token = path.removeprefix("/csat/")
    assert len(token) > 20

    def csat_body(body: dict[str, Any]) -> str:
        (shown,) = [m["body"] for m in body["messages"] if m["kind"] == "CSAT"]
        return str(shown)

    masked = await client.get(f"/api/interactions/{chat.id}")
    assert masked.status_code == 200, masked.text
    assert token not in masked.text
    assert "/csat/••••••" in csat_body(masked.json())
    revealed = await client.get(
        f"/api/interactions/{chat.id}",
        params={"includePII": "true"},
        headers={"X-Reveal-Reason": "reclamo del cliente"},
    )
    assert revealed.status_code == 200, revealed.text
    assert token not in revealed.text
    assert "/csat/••••••" in csat_body(revealed.json())
    page = await auth.session_client(app, "root", Role.ADMIN)
    try:
        for url in (f"/interactions/{chat.id}", f"/console/partials/interactions/{chat.id}"):
            html = (await page.get(url)).text
            assert "/csat/••••••" in html, url
            assert token not in html, url
    finally:
        await page.aclose()
    # The link itself still answers.
    assert (await anonymous.get(path)).status_code == 200


async def test_whatsapp_outside_the_window_gets_an_sms_with_a_signed_link(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await resolved_chat(session_factory, wrote_ago=timedelta(hours=30))
    assert await send_surveys(deps_of(app)) == 1
    (survey,) = await surveys(session_factory)
    assert survey.channel is Channel.SMS
    (message,) = await csat_messages(session_factory)
    async with session_factory() as session:
        carrier = await session.get(Interaction, message.interaction_id)
    assert carrier is not None
    assert carrier.id != chat.id
    assert carrier.channel is Channel.SMS
    assert carrier.direction is Direction.OUTBOUND
    assert carrier.customer_phone == PHONE
    assert message.body
    assert LINK.search(message.body)


async def test_an_ai_call_gets_an_sms_about_the_ai_and_a_person_resolved_one_names_them(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    call = await ai_call(session_factory, outcome=Outcome.UNKNOWN)
    escalated = await ai_call(session_factory, phone="+5491155550102", outcome=Outcome.ESCALATED)
    assert await send_surveys(deps_of(app)) == 1
    (survey,) = await surveys(session_factory)
    assert survey.interaction_id == call.id
    assert survey.interaction_id != escalated.id
    assert survey.channel is Channel.SMS
    assert survey.handler is Handler.AI
    assert survey.agent is None


async def test_no_phone_no_otp_no_notification_and_old_ones_get_no_survey(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    nophone = await resolved_chat(session_factory, phone=None)
    await resolved_chat(session_factory, phone="+5491155550103", provider_conversation_id="otp:abc")
    await resolved_chat(session_factory, phone="+5491155550104", ended_ago=timedelta(days=3))
    notification = factories.interaction(
        channel=Channel.SMS,
        direction=Direction.OUTBOUND,
        provider=Provider.TWILIO,
        customer_phone="+5491155550105",
        status=InteractionStatus.COMPLETED,
        outcome=Outcome.RESOLVED,
        ended_at=now(),
    )
    async with session_factory() as session:
        await factories.save(session, notification)
    assert await send_surveys(deps_of(app)) == 0
    assert await surveys(session_factory) == []
    skipped = [e for e in await events(session_factory, nophone.id) if e.type == "csat.sent"]
    assert len(skipped) == 1
    assert skipped[0].normalized == {"sent": False, "reason": "no_phone"}
    assert await send_surveys(deps_of(app)) == 0
    assert len([e for e in await events(session_factory, nophone.id) if e.type == "csat.sent"]) == 1


async def test_csat_disabled_sends_nothing(
    settings_factory: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    from asgi_lifespan import LifespanManager

    from contact_center.app import create_app

    application = create_app(
        settings_factory(CSAT_ENABLED="false"), migrate=False, with_worker=False
    )
    async with LifespanManager(application):
        await resolved_chat(application.state.session_factory)
        assert await send_surveys(deps_of(application)) == 0
        assert await surveys(application.state.session_factory) == []


# --- the page ----------------------------------------------------------------------------------


async def test_the_page_answers_once_and_refuses_the_second(
    app: FastAPI, anonymous: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await resolved_chat(session_factory)
    path = await survey_link(app, chat)
    shown = await anonymous.get(path)
    assert shown.status_code == 200
    assert "¿Cómo te atendimos?" in shown.text
    assert 'name="score"' in shown.text
    english = await anonymous.get(path, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "How did we do?" in english.text
    with Capture() as logs:
        done = await anonymous.post(
            path, data={"score": "4", "comment": "Muy bien, llamen al 11 5555 0101"}
        )
    assert done.status_code == 200
    assert "¡Gracias!" in done.text
    logged = logs.stream.getvalue()
    assert "5555" not in logged
    assert "Muy bien" not in logged
    assert path.split("/")[-1] not in logged
    assert path.split(".")[-1] not in logged
    assert "/csat/[REDACTED]" in logged
    (survey,) = await surveys(session_factory)
    assert survey.score == 4
    assert survey.answered_at is not None
    assert survey.comment == "Muy bien, llamen al 11 5555 0101"
    answered = [e for e in await events(session_factory, chat.id) if e.type == "csat.answered"]
    assert len(answered) == 1
    assert (answered[0].normalized or {})["score"] == 4
    assert "5555" not in str(answered[0].normalized)
    again = await anonymous.post(path, data={"score": "1"})
    assert again.status_code == 409
    assert "Ya respondiste" in again.text
    assert (await anonymous.get(path)).status_code == 409
    (survey,) = await surveys(session_factory)
    assert survey.score == 4


async def test_two_answers_at_once_count_once(
    app: FastAPI, anonymous: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await resolved_chat(session_factory)
    path = await survey_link(app, chat)
    answers = await asyncio.gather(
        *(anonymous.post(path, data={"score": str(n)}) for n in (1, 2, 3, 4, 5))
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409]
    answered = [e for e in await events(session_factory, chat.id) if e.type == "csat.answered"]
    assert len(answered) == 1


async def test_an_expired_link_says_so_with_410(
    app: FastAPI, anonymous: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await resolved_chat(session_factory)
    path = await survey_link(app, chat)
    async with session_factory() as session:
        await session.execute(update(CsatSurvey).values(expires_at=now() - timedelta(seconds=1)))
        await session.commit()
    shown = await anonymous.get(path)
    assert shown.status_code == 410
    assert "venció" in shown.text
    posted = await anonymous.post(path, data={"score": "5"})
    assert posted.status_code == 410
    (survey,) = await surveys(session_factory)
    assert survey.answered_at is None


async def test_a_forged_or_unknown_token_is_404(
    app: FastAPI, anonymous: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await resolved_chat(session_factory)
    path = await survey_link(app, chat)
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    other_id = f"/csat/{uuid.uuid4().hex}.{path.split('.')[1]}.{path.split('.')[2]}"
    for bad in (forged, other_id, "/csat/x", "/csat/" + "9" * 300, "/csat/ñ.1.x"):
        page = await anonymous.get(bad)
        assert page.status_code == 404, bad
        assert "Enlace no válido" in page.text
        assert (await anonymous.post(bad, data={"score": "5"})).status_code == 404
    # A signed link's token (another kind, same key) is not a survey's.
    from contact_center.links.service import make_token

    key = app.state.runtime.keys.link_signing_key
    (survey,) = await surveys(session_factory)
    link_token = make_token(key, survey.id, survey.expires_at)
    assert (await anonymous.get(f"/csat/{link_token}")).status_code == 404


async def test_hostile_answers_are_refused_cleanly_and_nothing_is_written(
    app: FastAPI, anonymous: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = await resolved_chat(session_factory)
    path = await survey_link(app, chat)
    form = {"content-type": "application/x-www-form-urlencoded"}
    cases: list[tuple[dict[str, Any] | bytes, int]] = [
        ({"score": "0"}, 400),
        ({"score": "6"}, 400),
        ({"score": "x"}, 400),
        ({"score": ""}, 400),
        ({"score": "4.0"}, 400),
        ({"score": "٣"}, 400),
        ({}, 400),
        # NUL anywhere in a form is refused before routing (no text column keeps it).
        ({"score": "4", "comment": "hola\x00chau"}, 422),
        ({"score": "4", "comment": "a" * 1001}, 400),
        (b"score=4&comment=%ff%fe", 400),
        (b"score=4&comment=\xff\xfe", 400),
        (b"\x00\x01\x02", 422),
        (b"score=4&comment=%00", 422),
        (b"score=4&" + b"comment=" + b"a" * 20_000, 400),
        (b"score=4&" + b"comment=" + b"a" * 1_000_000, 400),
    ]
    for body, status in cases:
        if isinstance(body, bytes):
            response = await anonymous.post(path, content=body, headers=form)
        else:
            response = await anonymous.post(path, data=body)
        assert response.status_code == status, (
            body if len(str(body)) < 100 else "huge",
            response.text[:200],
        )
        assert response.status_code != 500
    cross = await anonymous.post(
        path, data={"score": "5"}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    (survey,) = await surveys(session_factory)
    assert survey.answered_at is None
    assert survey.score is None
    ok = await anonymous.post(path, data={"score": "5", "comment": "  " + "é" * 1000 + "  "})
    assert ok.status_code == 200


# --- the API -----------------------------------------------------------------------------------


async def test_the_api_shows_the_survey_in_the_callers_scope_with_the_comment_masked(
    app: FastAPI,
    anonymous: httpx.AsyncClient,
    people: dict[str, httpx.AsyncClient],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    chat = await resolved_chat(session_factory, agent="ana")
    path = await survey_link(app, chat)
    await anonymous.post(path, data={"score": "2", "comment": "llamen al 1155550101"})
    mine = await people["ana"].get(f"/api/interactions/{chat.id}/csat")
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["survey"]["score"] == 2
    assert body["survey"]["status"] == "answered"
    assert body["survey"]["handler"] == "PERSON"
    assert body["survey"]["agent"] == "ana"
    assert "1155550101" not in body["survey"]["comment"]
    assert body["firstContactResolution"] is True
    assert body["repeatContact"] is None
    panel = await people["ana"].get(f"/console/partials/interactions/{chat.id}/workflow")
    assert panel.status_code == 200
    assert "2/5" in panel.text
    assert "Satisfacción" in panel.text
    assert "1155550101" not in panel.text
    other = await people["bruno"].get(f"/api/interactions/{chat.id}/csat")
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "interaction_not_found"
    assert (await people["sup"].get(f"/api/interactions/{chat.id}/csat")).status_code == 200
    assert (await anonymous.get(f"/api/interactions/{chat.id}/csat")).status_code == 401
    unknown = await people["sup"].get(f"/api/interactions/{uuid.uuid4()}/csat")
    assert unknown.status_code == 404
    assert (await people["sup"].get("/api/interactions/not-a-uuid/csat")).status_code == 422


# --- repeat contacts ---------------------------------------------------------------------------


async def test_a_call_3_days_after_a_resolved_whatsapp_is_a_repeat_8_days_is_not(
    app: FastAPI,
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    ended = now() - timedelta(days=3, hours=1)
    first = await resolved_chat(
        session_factory, ended_ago=now() - ended, wrote_ago=timedelta(days=3, hours=2)
    )
    other_phone = "+5491155550199"
    old_end = now() - timedelta(days=8, hours=1)
    old = await resolved_chat(
        session_factory,
        phone=other_phone,
        ended_ago=now() - old_end,
        wrote_ago=timedelta(days=8, hours=2),
    )
    # The customers call now: 3 days after the first resolution, 8 after the other.
    call = await ai_call(session_factory, started_at=now() - timedelta(minutes=3), created_at=now())
    late = await ai_call(
        session_factory,
        phone=other_phone,
        started_at=now() - timedelta(minutes=3),
        created_at=now(),
    )
    deps = deps_of(app)
    results = await asyncio.gather(find_repeat_contacts(deps), find_repeat_contacts(deps))
    assert sum(results) == 1
    async with session_factory() as session:
        rows = list((await session.scalars(select(RepeatContact))).all())
    assert [(r.interaction_id, r.repeat_interaction_id) for r in rows] == [(first.id, call.id)]
    assert late.id not in {r.repeat_interaction_id for r in rows}
    assert old.id not in {r.interaction_id for r in rows}
    flagged = [
        e
        for e in await events(session_factory, first.id)
        if e.type == "conversation.repeat_contact"
    ]
    assert len(flagged) == 1
    assert (flagged[0].normalized or {})["repeatInteractionId"] == str(call.id)
    # Run again: nothing new (the first repeat only, idempotent).
    assert await find_repeat_contacts(deps) == 0
    panel = await client.get(f"/console/partials/interactions/{first.id}/workflow")
    assert "No resuelto al primer contacto" in panel.text
    shown = (await client.get(f"/api/interactions/{first.id}/csat")).json()
    assert shown["firstContactResolution"] is False
    assert shown["repeatContact"]["repeatInteractionId"] == str(call.id)


async def test_a_customer_writing_again_on_a_resolved_thread_is_a_repeat_contact_within_7_days(
    app: FastAPI,
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """WhatsApp: the customer's new message reopens the resolved conversation (no new one): the
    conversation is its own repeat contact when it came within 7 days of the resolution."""

    async def conversation(phone: str) -> Interaction:
        async with session_factory() as session:
            return (
                await session.scalars(
                    select(Interaction).where(Interaction.customer_phone == phone)
                )
            ).one()

    async def resolve(phone: str) -> Interaction:
        await post_builderbot(client, incoming(phone.lstrip("+"), "hola, mi saldo"))
        chat = await conversation(phone)
        done = await client.post(
            f"/api/interactions/{chat.id}/resolve", json={"resolutionCode": "answered"}
        )
        assert done.status_code == 200, done.text
        return chat

    back_phone, late_phone, agent_phone = "+5491155550401", "+5491155550402", "+5491155550403"
    back = await resolve(back_phone)
    late = await resolve(late_phone)
    by_agent = await resolve(agent_phone)
    # The second one was resolved 8 days ago.
    async with session_factory() as session:
        await session.execute(
            update(InteractionEvent)
            .where(
                InteractionEvent.interaction_id == late.id,
                InteractionEvent.type == "conversation.resolved",
            )
            .values(occurred_at=now() - timedelta(days=8))
        )
        await session.commit()
    deps = deps_of(app)
    assert await find_repeat_contacts(deps) == 0  # resolved, nobody came back yet
    for phone in (back_phone, late_phone):
        await post_builderbot(client, incoming(phone.lstrip("+"), "una cosa más"))
    # A person reopening a conversation is no customer coming back.
    reopened = await client.post(f"/api/interactions/{by_agent.id}/reopen")
    assert reopened.status_code == 200, reopened.text
    assert (await conversation(back_phone)).status is InteractionStatus.IN_PROGRESS
    results = await asyncio.gather(find_repeat_contacts(deps), find_repeat_contacts(deps))
    assert sum(results) == 1
    async with session_factory() as session:
        rows = list((await session.scalars(select(RepeatContact))).all())
    assert [(r.interaction_id, r.repeat_interaction_id) for r in rows] == [(back.id, back.id)]
    flagged = [
        e for e in await events(session_factory, back.id) if e.type == "conversation.repeat_contact"
    ]
    assert len(flagged) == 1
    assert (flagged[0].normalized or {})["repeatInteractionId"] == str(back.id)
    assert (flagged[0].normalized or {})["reopened"] is True
    assert await find_repeat_contacts(deps) == 0
    shown = (await client.get(f"/api/interactions/{back.id}/csat")).json()
    assert shown["firstContactResolution"] is False
    assert shown["repeatContact"]["repeatInteractionId"] == str(back.id)


async def test_otp_conversations_and_outbound_ones_are_not_contacts(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await resolved_chat(
        session_factory, ended_ago=timedelta(days=1), wrote_ago=timedelta(days=1, hours=1)
    )
    otp = factories.interaction(
        channel=Channel.SMS,
        provider=Provider.TWILIO,
        provider_conversation_id=f"otp:{uuid.uuid4().hex}",
        customer_phone=PHONE,
        started_at=now(),
        created_at=now(),
    )
    outbound = factories.interaction(
        channel=Channel.SMS,
        direction=Direction.OUTBOUND,
        provider=Provider.TWILIO,
        customer_phone=PHONE,
        started_at=now(),
        created_at=now(),
    )
    async with session_factory() as session:
        await factories.save(session, otp, outbound)
    assert await find_repeat_contacts(deps_of(app)) == 0


# --- through the emulator ----------------------------------------------------------------------


async def _wait_for(check: Any, seconds: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        found = await check()
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.2)


async def test_the_emulator_receives_one_sms_survey_for_a_call_and_one_whatsapp_in_the_window(
    settings_factory: Any,
) -> None:
    from tests.live import live_app

    async with live_app(settings_factory) as live:
        sessions = live.app.state.session_factory
        call_phone, chat_phone = "+5491155550301", "+5491155550302"
        await ai_call(sessions, phone=call_phone)
        # The customer writes on WhatsApp (the emulator opens its window), a person resolves it.
        await live.emulator(
            "/builderbot/incoming", {"from": chat_phone.lstrip("+"), "body": "Hola, mi saldo"}
        )

        async def conversation() -> Interaction | None:
            session: AsyncSession
            async with sessions() as session:
                found = await session.scalars(
                    select(Interaction).where(Interaction.customer_phone == chat_phone)
                )
                return found.first()

        chat = await _wait_for(conversation)
        assert chat is not None
        resolved = await live.http.post(
            f"/api/interactions/{chat.id}/resolve", json={"resolutionCode": "answered"}
        )
        assert resolved.status_code == 200, resolved.text
        deps = deps_of(live.app)
        await asyncio.gather(send_surveys(deps), send_surveys(deps))

        async def sms() -> list[dict[str, Any]]:
            return [i for i in await live.outbox() if i.get("to") == call_phone]

        async def whatsapp() -> list[dict[str, Any]]:
            items = (
                await live.http.get(
                    f"{live.base}/_emulator/builderbot/outbox",
                    params={"number": chat_phone.lstrip("+")},
                )
            ).json()["items"]
            return [i for i in items if "/csat/" in str(i.get("content"))]

        assert await _wait_for(sms)
        assert await _wait_for(whatsapp)
        await send_surveys(deps)
        await asyncio.sleep(1.0)
        texts = [i["body"] for i in await sms()]
        assert len(texts) == 1
        assert "/csat/" in texts[0]
        assert len(await whatsapp()) == 1

        async def confirmed() -> bool:
            async with sessions() as session:
                (message,) = (
                    await session.scalars(
                        select(Message).where(
                            Message.interaction_id == chat.id, Message.kind == MessageKind.CSAT
                        )
                    )
                ).all()
            return message.provider_confirmed_at is not None

        # BuilderBot's echo of the survey confirms it; the conversation stays resolved.
        assert await _wait_for(confirmed)
        async with sessions() as session:
            after = await session.get(Interaction, chat.id)
        assert after is not None
        assert after.status is InteractionStatus.COMPLETED
        # The page the link opens answers on this server.
        path = "/csat/" + (LINK.search(texts[0]) or [""] * 3)[2]
        async with httpx.AsyncClient(base_url=live.base) as anonymous:
            assert (await anonymous.get(path)).status_code == 200
        # The customer's WhatsApp holds a working link; the thread shows it without its token.
        (sent,) = await whatsapp()
        wa_link = LINK.search(str(sent.get("content")))
        assert wa_link is not None
        async with httpx.AsyncClient(base_url=live.base) as anonymous:
            assert (await anonymous.get("/csat/" + wa_link.group(2))).status_code == 200
        thread = await live.http.get(f"/api/interactions/{chat.id}")
        assert thread.status_code == 200, thread.text
        assert wa_link.group(2) not in thread.text
        assert "/csat/••••••" in thread.text
