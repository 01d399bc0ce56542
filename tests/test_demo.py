"""The demo data set as a new user meets it (`serve --demo`, `demo-data`): replies land in the
seeded conversations, recordings play, agents sign in and see their work, every SMS kind sends,
and no generated text has a gap where a value should be."""

from __future__ import annotations

import itertools
import os
import random
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.app import create_app
from contact_center.calls import service as calls_service
from contact_center.cli.data import demo_settings
from contact_center.db.base import utcnow
from contact_center.db.session import create_engine
from contact_center.demo import content
from contact_center.demo.service import DemoResult, _Generator, make_customers, write_demo_data
from contact_center.emulator import scenarios
from contact_center.links import service as links_service
from contact_center.message_templates import Templates
from contact_center.messaging import service as messaging_service
from contact_center.messaging.status import FROM_TWILIO
from contact_center.models.call_detail import CallDetail
from contact_center.models.enums import (
    Channel,
    InteractionStatus,
    MessageStatus,
    OtpStatus,
    Outcome,
    Role,
)
from contact_center.models.interaction import Interaction
from contact_center.models.message import Message
from contact_center.models.otp_challenge import OtpChallenge
from contact_center.models.signed_link import SignedLink
from contact_center.otp import service as otp_service
from contact_center.settings import Settings, load_settings
from tests import auth


@dataclass
class Demo:
    app: FastAPI
    settings: Settings
    seeded: DemoResult
    admin: httpx.AsyncClient

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        sessions: async_sessionmaker[AsyncSession] = self.app.state.session_factory
        return sessions

    def browser(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://testserver"
        )


@pytest.fixture
async def demo(settings_factory: Callable[..., Settings]) -> AsyncIterator[Demo]:
    """A small demo data set, written as `serve --demo` writes it, then the app."""
    settings = demo_settings(settings_factory(), "127.0.0.1", 3000)
    engine = create_engine(settings)
    try:
        seeded = await write_demo_data(
            engine, settings, days=2, customers=80, force=False, progress=False
        )
    finally:
        await engine.dispose()
    app = create_app(settings, migrate=False, with_worker=False)
    async with LifespanManager(app):
        secret = await auth.token(app.state.session_factory, "supervisor-test", Role.ADMIN)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers=auth.bearer(secret),
        ) as admin:
            yield Demo(app, settings, seeded, admin)


async def _rows(demo: Demo, stmt: Any) -> list[Any]:
    async with demo.sessions() as session:
        return list((await session.scalars(stmt)).all())


# --- WhatsApp: the 24-hour rule -------------------------------------------------------------


async def test_a_reply_to_a_seeded_open_conversation_lands_in_it(demo: Demo) -> None:
    open_ones = await _rows(
        demo,
        select(Interaction).where(
            Interaction.channel == Channel.WHATSAPP,
            Interaction.status.in_([InteractionStatus.NEW, InteractionStatus.IN_PROGRESS]),
        ),
    )
    assert open_ones, "the demo has conversations in progress"
    now = utcnow()
    for conversation in open_ones:
        # What the 24-hour rule reads: the last message, recent enough to stay open a while.
        assert conversation.last_message_at is not None
        assert now - timedelta(hours=24) < conversation.last_message_at <= now
        messages = await _rows(
            demo, select(Message.created_at).where(Message.interaction_id == conversation.id)
        )
        assert conversation.last_message_at == max(messages)
        sent = await demo.admin.post(
            "/api/whatsapp/send",
            json={"to": conversation.customer_phone, "body": "Hola, te escribo por tu consulta."},
        )
        assert sent.status_code == 202, sent.text
        assert sent.json()["interactionId"] == str(conversation.id)


async def test_closed_seeded_conversations_ended_as_the_idle_job_ends_them(demo: Demo) -> None:
    every = await _rows(demo, select(Interaction).where(Interaction.channel == Channel.WHATSAPP))
    assert all(c.last_message_at is not None for c in every)
    idle = [c for c in every if c.status is InteractionStatus.ABANDONED]
    for conversation in idle:
        assert conversation.ended_at == conversation.last_message_at
        assert conversation.last_message_at < utcnow() - timedelta(hours=24)


# --- calls: recordings ----------------------------------------------------------------------


async def test_every_seeded_recording_plays_and_a_call_without_one_says_so(
    demo: Demo,
) -> None:
    calls = await _rows(demo, select(CallDetail))
    recorded = [c for c in calls if c.recording_url]
    assert recorded
    assert len(recorded) < len(calls)
    for call in calls:
        assert call.has_audio == (call.recording_url is not None)
    for call in recorded:
        audio = await demo.admin.get(call.recording_url)
        assert audio.status_code == 200, (call.recording_url, audio.text)
        assert audio.headers["content-type"] == "audio/mpeg"
        assert audio.content[:2] == b"\xff\xf3"  # an MPEG audio frame
    silent = next(c for c in calls if not c.recording_url)
    async with demo.browser() as browser:
        await auth.sign_in(browser, "supervisor-test")
        page = await browser.get(f"/interactions/{silent.interaction_id}")
        assert page.status_code == 200
        assert 'data-recording="none"' in page.text
        assert "<audio" not in page.text
        played = await browser.get(f"/interactions/{recorded[0].interaction_id}")
        assert f'src="{recorded[0].recording_url}"' in played.text


# --- agents ---------------------------------------------------------------------------------


async def test_demo_agents_sign_in_and_see_their_calls_and_chats(demo: Demo) -> None:
    usernames = {a.username for a in content.HUMAN_AGENTS}
    assert {a.username for a in demo.seeded.agents} == usernames
    assigned = await _rows(
        demo,
        select(Interaction).where(Interaction.assigned_agent.is_not(None)),
    )
    people = {i.assigned_agent for i in assigned} - {content.VIRTUAL_AGENT_NAME}
    assert people <= usernames, "assignments name console users"
    channels: dict[str, set[Channel]] = {}
    for interaction in assigned:
        channels.setdefault(interaction.assigned_agent, set()).add(interaction.channel)
    both = {Channel.CALL, Channel.WHATSAPP}
    busy = [a for a in demo.seeded.agents if both <= channels.get(a.username, set())]
    assert busy, "an agent has calls and chats"
    agent = busy[0]
    async with demo.browser() as browser:
        await auth.sign_in(browser, agent.username, agent.password)
        for channel in (Channel.CALL, Channel.WHATSAPP):
            listed = await browser.get(
                "/api/interactions", params={"channel": channel.value, "limit": 200}
            )
            assert listed.status_code == 200, listed.text
            owners = [item["assignedAgent"] for item in listed.json()["items"]]
            assert agent.username in owners
            assert set(owners) <= {agent.username, None}
        calls = await browser.get("/calls")
        assert calls.status_code == 200


async def test_the_ai_is_reported_apart_from_people(demo: Demo) -> None:
    today = utcnow().astimezone(demo.settings.zone).date()
    ai_calls = 0
    for day in (today - timedelta(days=n) for n in range(3)):
        summary = await demo.admin.get("/api/metrics/summary", params={"date": day.isoformat()})
        body = summary.json()
        agents = {a["agent"] for a in body["byAgent"]}
        assert content.VIRTUAL_AGENT_NAME not in agents
        assert agents - {None} <= {a.username for a in content.HUMAN_AGENTS}
        ai_calls += body["aiActivity"]["byChannel"].get("CALL", 0)
        people = sum(a["total"] for a in body["byAgent"])
        assert people + body["aiActivity"]["total"] == body["total"]
    assert ai_calls > 0


def test_at_the_default_size_every_demo_agent_has_calls_and_chats() -> None:
    """What `serve --demo` writes (2 days, 300 customers), generated in memory."""
    settings = load_settings(APP_ENV="test")
    rng = random.Random(settings.demo_seed)
    customers = make_customers(rng, 300)
    anchor = utcnow().replace(minute=0, second=0, microsecond=0)
    generator = _Generator(rng, settings, anchor, customers, "agent", "bot", b"key")
    channels: dict[str | None, set[Channel]] = {}
    for start in generator.schedule(2, 300):
        for row in generator.interaction(start).objects:
            if isinstance(row, Interaction):
                channels.setdefault(row.assigned_agent, set()).add(row.channel)
    for agent in content.HUMAN_AGENTS:
        assert {Channel.CALL, Channel.WHATSAPP} <= channels.get(agent.username, set()), agent


# --- the domains' rules ---------------------------------------------------------------------

LINK_KEY = b"k" * 32
# A fixed hour: the same rows on every run.
ANCHOR = datetime(2026, 3, 10, 15, tzinfo=UTC)


@dataclass
class Generated:
    """An in-memory demo data set: its rows by table, and its timeline's rows."""

    settings: Settings
    rows: list[Any]
    events: list[dict[str, Any]]

    def of(self, kind: type[T]) -> list[T]:
        return [row for row in self.rows if isinstance(row, kind)]

    def events_of(self, interaction: Interaction) -> list[dict[str, Any]]:
        return [e for e in self.events if e["interaction_id"] == interaction.id]


T = TypeVar("T")


def _generate(days: int = 2, customers: int = 80) -> Generated:
    """What `write_demo_data` would write, without a database."""
    settings = load_settings(APP_ENV="test", FRONTEND_URL="https://banco.example/l")
    rng = random.Random(settings.demo_seed)
    people = make_customers(rng, customers)
    generator = _Generator(rng, settings, ANCHOR, people, "agent_demo", "bot", LINK_KEY)
    rows: list[Any] = []
    events: list[dict[str, Any]] = []
    for start in generator.schedule(days, customers):
        bundle = generator.interaction(start)
        rows += bundle.objects
        events += bundle.events
    return Generated(settings, rows, events)


def _otp_bodies(demo: Generated) -> list[str]:
    return [m.body or "" for m in demo.of(Message) if m.kind == "OTP"]


def _call_outcomes(demo: Generated) -> set[Outcome | None]:
    heard = {d.interaction_id for d in demo.of(CallDetail)}
    return {i.outcome for i in demo.of(Interaction) if i.id in heard}


def _delivered_sms(demo: Generated) -> set[MessageStatus]:
    sms = {i.id for i in demo.of(Interaction) if i.channel is Channel.SMS}
    return {m.status for m in demo.of(Message) if m.interaction_id in sms and m.delivered_at}


def _idle_closes(demo: Generated) -> list[timedelta]:
    """How long after its last message the idle job closed each conversation it closed."""
    closes = []
    for conversation in demo.of(Interaction):
        for event in demo.events_of(conversation):
            if (event["normalized"] or {}).get("by") == "idle-24h" and event["type"] == (
                "status.changed"
            ):
                assert conversation.last_message_at is not None
                closes.append(event["occurred_at"] - conversation.last_message_at)
    return closes


def _link_paths(demo: Generated) -> set[str]:
    bodies = [m.body or "" for m in demo.of(Message) if m.kind.endswith("_LINK")]
    return {found.group(1) for b in bodies if (found := re.search(r"/l/(\w+)/", b))}


# (what is changed in a domain, how it is changed, what the demo must show for it)
RULES: list[tuple[str, Callable[[pytest.MonkeyPatch], None], Callable[[Generated], bool]]] = [
    (
        "an OTP's masked code (otp)",
        lambda mp: mp.setattr(otp_service, "MASK", "[code]"),
        lambda demo: (
            bool(_otp_bodies(demo))
            and all("[code]" in b and "******" not in b for b in _otp_bodies(demo))
        ),
    ),
    (
        "a call's outcome (calls)",
        lambda mp: mp.setattr(calls_service, "call_outcome", lambda event: Outcome.ESCALATED),
        lambda demo: _call_outcomes(demo) == {Outcome.ESCALATED},
    ),
    (
        "an SMS status from the provider (messaging)",
        lambda mp: mp.setattr(
            messaging_service, "FROM_TWILIO", {**FROM_TWILIO, "delivered": MessageStatus.READ}
        ),
        lambda demo: _delivered_sms(demo) == {MessageStatus.READ},
    ),
    (
        "WhatsApp's conversation window (messaging)",
        lambda mp: mp.setattr(messaging_service, "WHATSAPP_WINDOW", timedelta(hours=6)),
        lambda demo: (
            bool(_idle_closes(demo))
            and all(timedelta(hours=6) < c < timedelta(hours=7) for c in _idle_closes(demo))
        ),
    ),
    (
        "a signed link's path (links)",
        lambda mp: mp.setattr(
            links_service, "PATHS", {"VERIFICATION_LINK": "v", "ONBOARDING_LINK": "o"}
        ),
        lambda demo: bool(_link_paths(demo)) and _link_paths(demo) <= {"v", "o"},
    ),
]


@pytest.mark.parametrize(("rule", "change", "shows"), RULES, ids=[r[0] for r in RULES])
def test_a_rule_changed_in_a_domain_changes_the_demo(
    monkeypatch: pytest.MonkeyPatch,
    rule: str,
    change: Callable[[pytest.MonkeyPatch], None],
    shows: Callable[[Generated], bool],
) -> None:
    assert not shows(_generate()), f"the demo shows {rule} changed before it is"
    change(monkeypatch)
    assert shows(_generate()), rule


def test_the_demo_rows_keep_the_domains_invariants() -> None:
    demo = _generate()
    settings = demo.settings
    interactions = {i.id: i for i in demo.of(Interaction)}
    messages = demo.of(Message)

    # One event per idempotency key (the database would refuse a second), on a known timeline.
    keys = [e["idempotency_key"] for e in demo.events]
    assert len(keys) == len(set(keys))
    assert {e["interaction_id"] for e in demo.events} <= interactions.keys()

    # An SMS interaction follows its message: in progress until delivered, or failed.
    follows = {
        MessageStatus.SENT: InteractionStatus.IN_PROGRESS,
        MessageStatus.DELIVERED: InteractionStatus.COMPLETED,
        MessageStatus.UNDELIVERED: InteractionStatus.FAILED,
        MessageStatus.FAILED: InteractionStatus.FAILED,
    }
    sms = [m for m in messages if interactions[m.interaction_id].channel is Channel.SMS]
    assert {m.status for m in sms} <= follows.keys()
    for message in sms:
        assert interactions[message.interaction_id].status is follows[message.status]

    # An OTP's SMS says what the OTP domain says, code masked; no code was ever made.
    templates = Templates(settings)
    by_interaction = {m.interaction_id: m for m in messages}
    challenges = demo.of(OtpChallenge)
    assert OtpStatus.VERIFIED in {c.status for c in challenges}
    for challenge in challenges:
        assert challenge.interaction_id is not None
        body = by_interaction[challenge.interaction_id].body
        assert body == otp_service.masked_sms_text(templates, settings, challenge.context)
        assert challenge.code_hash is None
        assert challenge.expires_at == challenge.created_at + timedelta(
            seconds=settings.otp_ttl_seconds
        )
        if challenge.status is OtpStatus.VERIFIED:
            assert challenge.verified_at is not None
            assert challenge.verified_at < challenge.expires_at
        if challenge.status is OtpStatus.LOCKED:
            assert challenge.attempts == challenge.max_attempts

    # Every link in an SMS is signed for its own link row.
    links = {link.interaction_id: link for link in demo.of(SignedLink)}
    assert links
    for interaction_id, link in links.items():
        body = by_interaction[interaction_id].body or ""
        token = body.split(f"/{links_service.PATHS[link.kind]}/")[1].split()[0]
        assert links_service.read_token(LINK_KEY, token) == link.id

    # A WhatsApp conversation never goes quiet longer than the window (a message after that
    # would have opened another), and what the window reads is its last message.
    chats: dict[Any, list[Message]] = {}
    for message in messages:
        if interactions[message.interaction_id].channel is Channel.WHATSAPP:
            chats.setdefault(message.interaction_id, []).append(message)
    for interaction_id, chat in chats.items():
        times = sorted(m.created_at for m in chat)
        assert all(messaging_service.in_window(a, b) for a, b in itertools.pairwise(times))
        assert interactions[interaction_id].last_message_at == times[-1]


# --- SMS ------------------------------------------------------------------------------------


async def test_all_five_sms_kinds_work_in_the_demo_and_links_open_on_its_landing_page(
    demo: Demo,
) -> None:
    assert demo.settings.frontend_url == "http://127.0.0.1:3000/l"
    sends = [
        ("/api/sms/send", {"to": "+5491155550101", "body": "Tu resumen ya está disponible."}),
        ("/api/sms/verification-link", {"to": "+5491155550102"}),
        ("/api/sms/onboarding", {"to": "+5491155550103", "name": "Ana"}),
        ("/api/sms/activate-card", {"to": "+5491155550104", "cardLast4": "1234"}),
        ("/api/sms/otp", {"phone": "+5491155550105", "purpose": "LOGIN_2FA"}),
    ]
    for path, body in sends:
        sent = await demo.admin.post(path, json=body)
        assert sent.status_code == (201 if path.endswith("otp") else 202), (path, sent.text)
    links = await _rows(
        demo,
        select(Message.body).where(
            Message.kind.in_(["VERIFICATION_LINK", "ONBOARDING_LINK"]),
            Message.body.contains("/l/"),
        ),
    )
    assert len(links) > 2  # the two just sent and the seeded ones
    phrases = {"valid": "Tu enlace es válido", "expired": "Este enlace venció", "used": "ya se usó"}
    states = []
    async with demo.browser() as browser:  # a customer: no session
        for text in links:
            url = re.search(r"http://127\.0\.0\.1:3000(/l/\S+)", text)
            assert url is not None, text
            page = await browser.get(url.group(1))
            assert page.status_code == 200, page.text
            assert page.headers["content-type"].startswith("text/html")
            states += [state for state, phrase in phrases.items() if phrase in page.text]
        unknown = await browser.get("/l/verify/" + "0" * 32 + ".1.abc")
        assert unknown.status_code == 404
        assert "text/html" in unknown.headers["content-type"]
    assert len(states) == len(links)
    assert states.count("valid") >= 2  # at least the two just sent
    opened = await _rows(demo, select(SignedLink).where(SignedLink.opened_at.is_not(None)))
    assert len(opened) == len(links)


# --- wording --------------------------------------------------------------------------------

# A value that was empty leaves a space before punctuation ("hasta ."), a greeting without a name
# ("¡Hola !"), a doubled space, or the placeholder itself.
GAPS = re.compile(r"\s[.,;:!?)]|[¡¿(]\s|\S  +\S|\{\w*\}|^\s|\s$")


def _gaps(texts: Iterable[str]) -> list[str]:
    return [t for t in texts if GAPS.search(t)]


def _conversation_texts(conversation: dict[str, Any]) -> list[str]:
    analysis = conversation["analysis"]
    return [t["message"] for t in conversation["transcript"]] + [analysis["transcript_summary"]]


async def test_no_generated_text_has_an_empty_placeholder(demo: Demo) -> None:
    texts = await _rows(demo, select(Message.body).where(Message.body.is_not(None)))
    assert len(texts) > 100
    for call in await _rows(demo, select(CallDetail)):
        texts += [turn["message"] for turn in call.transcript or []]
        texts += [call.summary or "", call.analysis["transcript_summary"]]
    assert _gaps(texts) == []

    # The simulated customers of `serve --demo` (the emulator) write from the same content.
    rng = random.Random(7)
    simulated: list[str] = []
    for _ in range(300):
        name = scenarios.random_customer_name(rng)
        simulated += scenarios.whatsapp_exchange(rng, name)
        opening = scenarios.whatsapp_opening(rng, name)
        simulated += [opening, scenarios.whatsapp_bot_reply(rng, opening, name)]
        conversation = scenarios.conversation(
            rng,
            agent_id="agent",
            started_at=utcnow(),
            customer_number="+5491155550000",
            customer_name=name,
            abandoned=rng.random() < 0.1,
        )
        simulated += _conversation_texts(conversation)
    assert _gaps(simulated) == []
    assert _gaps(["¡Hola !", "vence el .", "hasta  el"]) == ["¡Hola !", "vence el .", "hasta  el"]


def test_the_simulated_bot_answers_the_topic_the_customer_opened_with() -> None:
    rng = random.Random(11)
    for _ in range(200):
        opening, reply = scenarios.whatsapp_exchange(rng, "Sofía Gómez")
        chats = [
            chat
            for intent in content.INTENTS
            for chat in intent.chats
            if any(scenarios._opens(o, opening) for o in chat.openings)
        ]
        assert chats, opening
        assert any(scenarios._opens(r, reply) for chat in chats for r in chat.first_replies), (
            opening,
            reply,
        )
        assert "Sofía" in reply or "{nombre}" not in "".join(
            r for chat in chats for r in chat.first_replies
        )


# --- the command line -----------------------------------------------------------------------


@pytest.mark.slow
def test_demo_data_prints_each_agent_once_on_the_terminal_never_in_the_logs(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cc.db'}",
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "LOG_FILE": str(tmp_path / "app.log"),
    }
    run = subprocess.run(
        [sys.executable, "-m", "contact_center", "demo-data", "--days", "1", "--customers", "10"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    passwords = {}
    for agent in content.HUMAN_AGENTS:
        lines = [line for line in run.stderr.splitlines() if line.split()[:1] == [agent.username]]
        assert len(lines) == 1, run.stderr
        passwords[agent.username] = lines[0].split()[-1]
    assert len(set(passwords.values())) == len(passwords)
    log_file = tmp_path / "app.log"
    logs = run.stdout + (log_file.read_text() if log_file.exists() else "")
    assert not any(p in logs for p in passwords.values())
    # The administrator came first: `serve` would create none once the agents exist.
    assert "username     admin" in run.stderr
    # A second run writes nothing and prints no password.
    again = subprocess.run(
        [sys.executable, "-m", "contact_center", "demo-data", "--days", "1", "--customers", "10"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert not any(p in again.stderr + again.stdout for p in passwords.values())
