"""Presence in a conversation (docs/inbox.md, "Presence"): who is viewing or typing, kept for
30 seconds after each heartbeat, in Redis shared by every web process or in the process; a
change is a live notice heard only by the readers who may see the conversation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.errors import NotFound
from contact_center.inbox import presence
from contact_center.live.bus import visible_to
from contact_center.live.presence import PREFIX, SWEEP_AT, PresenceStore, Viewer
from contact_center.models.enums import ActorType, Role
from contact_center.models.interaction import Interaction
from contact_center.models.user_account import UserAccount
from contact_center.principal import Principal
from contact_center.settings import Settings
from tests import auth
from tests import factories as f
from tests.live import PrivateRedis, live_app
from tests.test_agent_scope import _next_notice

Sessions = async_sessionmaker[AsyncSession]


async def _anas(sessions: Sessions) -> Interaction:
    """A conversation of Ana's; Ana's display name is "Ana Gómez"."""
    await auth.user(sessions, "ana", Role.AGENT)
    row = f.interaction(assigned_agent="ana")
    async with sessions() as session:
        await session.execute(
            update(UserAccount)
            .where(UserAccount.username == "ana")
            .values(display_name="Ana Gómez")
        )
        await f.save(session, row)
    return row


def _url(interaction_id: uuid.UUID) -> str:
    return f"/api/interactions/{interaction_id}/presence"


async def test_a_heartbeat_shows_who_views_and_types_until_they_leave(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    chat = await _anas(app.state.session_factory)
    ana, sup = people["ana"], people["sup"]
    assert (await ana.get(_url(chat.id))).json() == {"viewers": []}
    assert (await ana.put(_url(chat.id), json={"typing": False})).status_code == 204
    seen = (await sup.get(_url(chat.id))).json()["viewers"]
    assert [(v["username"], v["displayName"], v["typing"]) for v in seen] == [
        ("ana", "Ana Gómez", False)
    ]
    assert seen[0]["seenAt"].endswith("Z")
    # A supervisor joins, Ana starts typing.
    assert (await sup.put(_url(chat.id))).status_code == 204
    assert (await ana.put(_url(chat.id), json={"typing": True})).status_code == 204
    seen = (await ana.get(_url(chat.id))).json()["viewers"]
    assert [(v["username"], v["typing"]) for v in seen] == [("ana", True), ("sup", False)]
    # Ana leaves (twice: the second is as good as the first).
    assert (await ana.delete(_url(chat.id))).status_code == 204
    assert (await ana.delete(_url(chat.id))).status_code == 204
    seen = (await sup.get(_url(chat.id))).json()["viewers"]
    assert [v["username"] for v in seen] == ["sup"]


async def test_another_agent_neither_sees_nor_marks_presence_in_a_conversation_not_theirs(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    chat = await _anas(app.state.session_factory)
    ana, bruno = people["ana"], people["bruno"]
    await ana.put(_url(chat.id), json={"typing": True})
    for method in ("GET", "PUT", "DELETE"):
        refused = await bruno.request(method, _url(chat.id))
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "interaction_not_found"
    assert (await bruno.get(_url(uuid.uuid4()))).status_code == 404
    # Ana is still there: Bruno's DELETE did not remove her (nor add him).
    seen = (await ana.get(_url(chat.id))).json()["viewers"]
    assert [v["username"] for v in seen] == ["ana"]


async def test_hostile_presence_bodies_answer_422(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    chat = await _anas(app.state.session_factory)
    ana = people["ana"]
    for body in ({"typing": "maybe"}, {"typing": [1]}, {"typing": True, "other": 1}, [1]):
        refused = await ana.put(_url(chat.id), json=body)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["code"] == "validation_error"
    broken = await ana.put(
        _url(chat.id), content=b'{"typing": \xff}', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code in (400, 422)
    assert (await ana.get(_url(chat.id))).json() == {"viewers": []}


def _ana(world_team: uuid.UUID | None = None) -> Principal:
    return Principal(
        actor_type=ActorType.USER,
        actor_id="ana",
        role=Role.AGENT,
        team_ids=frozenset({world_team} if world_team else set()),
    )


async def test_a_heartbeat_expires_after_30_seconds(app: FastAPI) -> None:
    sessions: Sessions = app.state.session_factory
    chat = await _anas(sessions)
    store = PresenceStore()
    now = utcnow()
    async with sessions() as session:
        await presence.heartbeat(session, store, _ana(), chat.id, now=now - timedelta(seconds=31))
        assert await presence.viewers(session, store, _ana(), chat.id, now=now) == []
        await presence.heartbeat(session, store, _ana(), chat.id, now=now - timedelta(seconds=29))
        found = await presence.viewers(session, store, _ana(), chat.id, now=now)
        assert [v.username for v in found] == ["ana"]
        later = now + timedelta(seconds=2)
        assert await presence.viewers(session, store, _ana(), chat.id, now=later) == []
        with pytest.raises(NotFound):
            await presence.viewers(session, store, _ana(), uuid.uuid4())


async def test_a_change_is_a_live_notice_heard_only_by_who_sees_the_conversation(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    chat = await _anas(app.state.session_factory)
    bus = app.state.runtime.events
    bruno = Principal(actor_type=ActorType.USER, actor_id="bruno", role=Role.AGENT)
    with bus.subscribe() as queue:
        await people["ana"].put(_url(chat.id))
        notice = await asyncio.wait_for(queue.get(), 5)
        assert notice is not None
        assert visible_to(notice, _ana()) == {
            "interactionId": str(chat.id),
            "type": "presence",
            "channel": "WHATSAPP",
        }
        assert visible_to(notice, bruno) is None
        # A heartbeat that changes nothing is not news; starting to type is; leaving is.
        await people["ana"].put(_url(chat.id))
        await people["ana"].put(_url(chat.id), json={"typing": True})
        await people["ana"].delete(_url(chat.id))
        heard = []
        while True:
            try:
                heard.append(await asyncio.wait_for(queue.get(), 0.5))
            except TimeoutError:
                break
        assert [n["type"] for n in heard if n] == ["presence", "presence"]


async def test_the_console_stream_carries_presence_to_who_sees_the_conversation(
    settings_factory: Callable[..., Settings],
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        sessions = live.app.state.session_factory
        chat = await _anas(sessions)

        async def client_of(username: str, role: Role) -> httpx.AsyncClient:
            secret = await auth.token(sessions, username, role)
            return httpx.AsyncClient(base_url=live.base, timeout=30, headers=auth.bearer(secret))

        ana = await client_of("ana", Role.AGENT)
        bruno = await client_of("bruno", Role.AGENT)
        sup = await client_of("sup", Role.SUPERVISOR)
        try:
            async with (
                ana.stream("GET", "/console/stream") as ana_stream,
                bruno.stream("GET", "/console/stream") as bruno_stream,
            ):
                ana_lines, bruno_lines = ana_stream.aiter_lines(), bruno_stream.aiter_lines()
                assert await anext(ana_lines) == "retry: 2000"
                assert await anext(bruno_lines) == "retry: 2000"
                assert (await sup.put(_url(chat.id))).status_code == 204
                heard = await _next_notice(ana_lines, 5)
                assert heard == {
                    "interactionId": str(chat.id),
                    "type": "presence",
                    "channel": "WHATSAPP",
                }
                assert await _next_notice(bruno_lines, 1.5) is None
        finally:
            for http in (ana, bruno, sup):
                await http.aclose()


# --- Redis: every web process sees it -------------------------------------------------------


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(str(tmp_path))
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_presence_in_redis_is_shared_by_two_app_instances_and_expires(
    client_for: Callable[..., Awaitable[httpx.AsyncClient]], redis: PrivateRedis
) -> None:
    first = await client_for(REDIS_URL=redis.url)
    second = await client_for(REDIS_URL=redis.url)
    apps = [c._transport.app for c in (first, second)]  # type: ignore[attr-defined]
    assert all(a.state.runtime.presence.distributed for a in apps)
    chat = await _anas(apps[0].state.session_factory)
    ana_first = await auth.token_client(apps[0], "ana", Role.AGENT)
    sup_second = await auth.token_client(apps[1], "sup", Role.SUPERVISOR)
    try:
        assert (await ana_first.put(_url(chat.id), json={"typing": True})).status_code == 204
        seen = (await sup_second.get(_url(chat.id))).json()["viewers"]
        assert [(v["username"], v["displayName"], v["typing"]) for v in seen] == [
            ("ana", "Ana Gómez", True)
        ]
        # One key per conversation, expiring 30 s after its last heartbeat.
        raw = Redis.from_url(redis.url, decode_responses=True)
        try:
            key = f"{PREFIX}{chat.id}"
            assert await raw.keys(f"{PREFIX}*") == [key]
            assert 0 < await raw.ttl(key) <= 30
        finally:
            await raw.aclose()
        # Leaving in one process is seen by the other.
        assert (await ana_first.delete(_url(chat.id))).status_code == 204
        assert (await sup_second.get(_url(chat.id))).json() == {"viewers": []}
        # A heartbeat older than 30 s (a user who left without saying so) is not shown.
        store = apps[1].state.runtime.presence
        async with apps[1].state.session_factory() as session:
            await presence.heartbeat(
                session, store, _ana(), chat.id, now=utcnow() - timedelta(seconds=40)
            )
        assert (await sup_second.get(_url(chat.id))).json() == {"viewers": []}
    finally:
        await ana_first.aclose()
        await sup_second.aclose()


async def test_the_in_process_store_forgets_conversations_whose_viewers_went_quiet() -> None:
    store = PresenceStore()
    old = utcnow() - timedelta(minutes=5)
    for _ in range(SWEEP_AT + 1):
        await store.touch(uuid.uuid4(), Viewer("ana", None, False, old))
    chat = uuid.uuid4()
    assert await store.touch(chat, Viewer("ana", None, False, utcnow()))
    assert not await store.touch(chat, Viewer("ana", None, False, utcnow()))
    assert len(store._local) == 1
    assert [v.username for v in await store.viewers(chat, utcnow())] == ["ana"]
