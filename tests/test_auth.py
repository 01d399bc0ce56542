"""Authentication, roles and audited reveals: every route closed without credentials, agents
scoped to their work, supervisors masked, admins reveal with a reason, sign-in throttled."""

from __future__ import annotations

import asyncio
import hashlib
import re
import stat
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.auth import service as auth_service
from contact_center.db.base import utcnow
from contact_center.errors import ValidationFailed
from contact_center.models import ApiToken, AuditLog, ConsoleSession, UserAccount
from contact_center.models.enums import Role
from contact_center.principal import AuditContext, Via
from contact_center.settings import Settings
from tests import auth
from tests import factories as f
from tests.deliveries import incoming, post_builderbot

PHONE = "+5491155551234"
MASKED = "+54911******34"
PUBLIC_API = {"/api/health", "/api/health/ready", "/api/health/tables", "/api/openapi.json"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: str(uuid.uuid4()) if "id" in m.group(0) else "x", path)


def _api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every documented operation under /api (every route is in the document)."""
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in operations
    ]


async def test_every_api_route_answers_401_without_credentials(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    routes = _api_routes(app)
    assert len(routes) > 30
    for method, path in routes:
        url = _concrete(path)
        # A malformed body must not get past the door either: 401 comes first.
        response = await anonymous.request(
            method, url, content=b"{not json", headers={"Content-Type": "application/json"}
        )
        if path in PUBLIC_API:
            assert response.status_code != 401, (method, path)
            continue
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # Unknown paths too: nothing about the API is learnt without credentials.
    assert (await anonymous.get("/api/nothing-here")).status_code == 401
    assert (await anonymous.get("/api/docs")).status_code == 200


async def test_a_wrong_or_revoked_token_is_refused(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, app: FastAPI
) -> None:
    for header in ("Bearer cc_pat_nope", "Bearer ", "Basic YWRtaW46YWRtaW4=", "cc_pat_x"):
        response = await anonymous.get("/api/interactions", headers={"Authorization": header})
        assert response.status_code == 401, header
    created = (await client.post("/api/tokens", json={"name": "ivr"})).json()
    secret = created["token"]
    assert (await anonymous.get("/api/me", headers=auth.bearer(secret))).status_code == 200
    assert (await client.delete(f"/api/tokens/{created['id']}")).status_code == 200
    assert (await anonymous.get("/api/me", headers=auth.bearer(secret))).status_code == 401


async def test_webhooks_keep_their_own_authentication(anonymous: httpx.AsyncClient) -> None:
    accepted = await post_builderbot(anonymous, incoming(PHONE, "hola"))
    assert accepted.status_code == 200, accepted.text
    refused = await post_builderbot(anonymous, incoming(PHONE, "hola"), token="wrong")
    assert refused.status_code == 401
    # An API token is no webhook credential.
    secret_less = await anonymous.post(
        "/webhooks/builderbot/whatsapp",
        json=incoming(PHONE, "hola"),
        headers={"Authorization": "Bearer anything"},
    )
    assert secret_less.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/calls",
        "/whatsapp?status=NEW",
        "/sms",
        "/customers",
        # A fixed id: the parallel workers (pytest-xdist) must collect the same test ids.
        "/interactions/0b6f1c4e-3d52-4a8e-9f1d-2c7a5e8b9d10",
        "/admin/users",
        "/admin/audit",
        "/account/password",
    ],
)
async def test_console_pages_redirect_to_the_sign_in(
    anonymous: httpx.AsyncClient, path: str
) -> None:
    response = await anonymous.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert httpx.URL(response.headers["location"]).params["next"] == path
    sign_in = await anonymous.get("/login")
    assert sign_in.status_code == 200
    assert 'name="password"' in sign_in.text


async def test_htmx_partials_and_the_stream_answer_401(anonymous: httpx.AsyncClient) -> None:
    partial = await anonymous.get("/console/partials/calls", headers={"HX-Request": "true"})
    assert partial.status_code == 401
    assert partial.headers["HX-Redirect"] == "/login"
    stream = await anonymous.get("/console/stream", headers={"Accept": "text/event-stream"})
    assert stream.status_code == 401


# --- roles ----------------------------------------------------------------------------------


@pytest.fixture
async def as_role(
    app: FastAPI,
) -> AsyncIterator[Callable[[str, Role], Awaitable[httpx.AsyncClient]]]:
    opened: list[httpx.AsyncClient] = []

    async def build(username: str, role: Role) -> httpx.AsyncClient:
        http = await auth.token_client(app, username, role)
        opened.append(http)
        return http

    yield build
    for http in opened:
        await http.aclose()


async def _seed_assignments(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    rows = {
        "mine": f.interaction(assigned_agent="ana"),
        "theirs": f.interaction(assigned_agent="bruno"),
        "open": f.interaction(assigned_agent=None),
    }
    async with sessions() as session:
        await f.save(session, *rows.values())
        await f.save(session, f.message(rows["theirs"], body=f"llamame al {PHONE}"))
        await session.commit()
    return {k: str(v.id) for k, v in rows.items()}


async def _reveals(sessions: async_sessionmaker[AsyncSession]) -> list[AuditLog]:
    async with sessions() as session:
        stmt = select(AuditLog).where(AuditLog.action == "pii.reveal")
        return list((await session.scalars(stmt)).all())


async def test_an_agent_sees_their_own_and_unassigned_interactions_only(
    as_role: Callable[[str, Role], Awaitable[httpx.AsyncClient]],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _seed_assignments(session_factory)
    agent = await as_role("ana", Role.AGENT)
    listed = {i["id"] for i in (await agent.get("/api/interactions")).json()["items"]}
    assert listed == {ids["mine"], ids["open"]}
    assert (await agent.get("/api/interactions/count")).json() == {"count": 2}
    assert (await agent.get(f"/api/interactions/{ids['mine']}")).status_code == 200
    hidden = await agent.get(f"/api/interactions/{ids['theirs']}")
    assert hidden.status_code == 404  # the same answer as an unknown id
    profile = (await agent.get(f"/api/interactions/client/{PHONE}")).json()
    assert {i["id"] for i in profile["interactions"]} == {ids["mine"], ids["open"]}
    assert profile["stats"]["total"] == 2
    # They take unassigned work, but never hand work to someone else or touch others' work.
    taken = await agent.patch(f"/api/interactions/{ids['open']}", json={"assignedAgent": "ana"})
    assert taken.status_code == 200, taken.text
    given = await agent.patch(f"/api/interactions/{ids['mine']}", json={"assignedAgent": "bruno"})
    assert given.status_code == 403
    touched = await agent.patch(f"/api/interactions/{ids['theirs']}", json={"queue": "x"})
    assert touched.status_code == 404
    diagnostic = await agent.post("/api/whatsapp/diagnostic", json={"interactionId": ids["theirs"]})
    assert diagnostic.status_code == 404
    for path in ("/api/metrics/summary", "/api/users", "/api/audit", "/api/webhooks"):
        assert (await agent.get(path)).status_code == 403, path
    assert (await agent.post("/api/elevenlabs/sync", json={})).status_code == 403


async def test_an_agent_token_cannot_reveal_even_with_x_role_admin(
    as_role: Callable[[str, Role], Awaitable[httpx.AsyncClient]],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _seed_assignments(session_factory)
    for role in (Role.AGENT, Role.SUPERVISOR):
        caller = await as_role(f"someone-{role.value}", role)
        asks = {"X-Role": "admin", "X-Reveal-Reason": "I say so"}
        for path in (
            "/api/interactions?includePII=true",
            f"/api/interactions/{ids['open']}?includePII=true",
            f"/api/interactions/client/{PHONE}?includePII=true",
        ):
            response = await caller.get(path, headers=asks)
            assert response.status_code == 200, path
            assert PHONE not in response.text, (role, path)
            assert MASKED in response.text
        assert (await caller.get("/api/me", headers=asks)).json()["role"] == role.value
    assert await _reveals(session_factory) == []


async def test_a_supervisor_sees_everything_masked_and_the_dashboards(
    as_role: Callable[[str, Role], Awaitable[httpx.AsyncClient]],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _seed_assignments(session_factory)
    supervisor = await as_role("sofia", Role.SUPERVISOR)
    listed = {i["id"] for i in (await supervisor.get("/api/interactions")).json()["items"]}
    assert listed == set(ids.values())
    assert (await supervisor.get("/api/metrics/summary")).status_code == 200
    for method, path in (("GET", "/api/users"), ("GET", "/api/audit"), ("POST", "/api/sync/full")):
        assert (await supervisor.request(method, path)).status_code == 403, path


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/api/interactions?includePII=true", "interactions.list"),
        ("/api/interactions/{id}", "interactions.detail"),
        (f"/api/interactions/client/{PHONE}?includePII=true", "interactions.client"),
    ],
)
async def test_every_admin_reveal_is_audited_with_its_reason(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    path: str,
    resource: str,
) -> None:
    ids = await _seed_assignments(session_factory)
    masked = await client.get(path.replace("{id}", ids["theirs"]).replace("includePII=true", ""))
    assert PHONE not in masked.text  # an admin too sees masked data until they ask
    assert await _reveals(session_factory) == []
    response = await client.get(
        path.replace("{id}", ids["theirs"]),
        headers={"X-Role": "admin", "X-Reveal-Reason": "disputa 7781"},
    )
    assert PHONE in response.text
    rows = await _reveals(session_factory)
    assert len(rows) == 1
    assert rows[0].actor_id == "admin"
    assert rows[0].metadata_ is not None
    assert rows[0].metadata_["reason"] == "disputa 7781"
    assert rows[0].metadata_["resource"] == resource
    assert rows[0].occurred_at is not None


async def test_trusted_mode_is_the_original_open_behaviour(
    client_for: Callable[..., Awaitable[httpx.AsyncClient]],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _seed_assignments(session_factory)
    http = await client_for(AUTH_DISABLED="true")
    http.headers.pop("Authorization")
    masked = await http.get(f"/api/interactions/{ids['theirs']}")
    assert masked.status_code == 200
    assert PHONE not in masked.text
    shown = await http.get(f"/api/interactions/{ids['theirs']}", headers={"X-Role": "admin"})
    assert PHONE in shown.text
    assert (await http.get("/api/metrics/summary")).status_code == 200
    assert (await http.get("/")).status_code == 200
    assert len(await _reveals(session_factory)) == 1


# --- users and tokens -----------------------------------------------------------------------


async def test_tokens_are_shown_once_and_stored_as_hashes(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    user = (
        await client.post("/api/users", json={"username": "Ivr.System", "role": "agent"})
    ).json()
    assert user["username"] == "ivr.system"
    generated = user["password"]
    assert generated
    assert len(generated) >= 16
    created = await client.post(
        "/api/tokens", json={"name": "ivr", "userId": user["id"], "expiresInDays": 30}
    )
    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    assert secret.startswith("cc_pat_")
    assert secret.startswith(body["prefix"])
    listed = (await client.get("/api/tokens")).text
    assert secret not in listed
    async with session_factory() as session:
        token_row = (await session.scalars(select(ApiToken).where(ApiToken.name == "ivr"))).one()
        user_row = (
            await session.scalars(select(UserAccount).where(UserAccount.username == "ivr.system"))
        ).one()
        audit_rows = (await session.scalars(select(AuditLog))).all()
    assert token_row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert user_row.password_hash.startswith("$argon2id$")
    everything = repr([vars(token_row), vars(user_row), *[vars(r) for r in audit_rows]])
    assert secret not in everything
    assert generated not in everything
    assert {"user.create", "token.create"} <= {r.action for r in audit_rows}


async def test_expired_tokens_and_disabled_users_are_refused(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    user = (await client.post("/api/users", json={"username": "bot", "role": "agent"})).json()
    token = (await client.post("/api/tokens", json={"name": "t", "userId": user["id"]})).json()
    headers = auth.bearer(token["token"])
    assert (await anonymous.get("/api/me", headers=headers)).status_code == 200
    async with session_factory() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == uuid.UUID(token["id"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    assert (await anonymous.get("/api/me", headers=headers)).status_code == 401
    fresh = (await client.post("/api/tokens", json={"name": "u", "userId": user["id"]})).json()
    assert (await anonymous.get("/api/me", headers=auth.bearer(fresh["token"]))).status_code == 200
    disabled = await client.patch(f"/api/users/{user['id']}", json={"active": False})
    assert disabled.json()["active"] is False
    assert (await anonymous.get("/api/me", headers=auth.bearer(fresh["token"]))).status_code == 401


async def test_a_token_records_its_last_use_at_most_once_a_minute(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    created = (await client.post("/api/tokens", json={"name": "ivr"})).json()
    headers = auth.bearer(created["token"])

    async def last_used() -> datetime | None:
        async with session_factory() as session:
            stmt = select(ApiToken.last_used_at).where(ApiToken.id == uuid.UUID(created["id"]))
            return (await session.execute(stmt)).scalar_one()

    assert await last_used() is None
    before = utcnow()
    me = await anonymous.get("/api/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["via"] == "token"
    first = await last_used()
    assert first is not None
    assert first >= before
    # Used again within the minute: not written again.
    assert (await anonymous.get("/api/me", headers=headers)).status_code == 200
    assert await last_used() == first
    # A minute later it is.
    stale = first - timedelta(seconds=61)
    async with session_factory() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == uuid.UUID(created["id"]))
            .values(last_used_at=stale)
        )
        await session.commit()
    assert (await anonymous.get("/api/me", headers=headers)).status_code == 200
    latest = await last_used()
    assert latest is not None
    assert latest > stale


async def test_the_service_is_never_left_without_an_admin(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    me = (await client.get("/api/users")).json()["items"][0]
    assert me["username"] == "admin"
    demote = await client.patch(f"/api/users/{me['id']}", json={"role": "agent"})
    assert demote.status_code == 409
    assert demote.json()["error"]["code"] == "self_lockout"
    other = (await client.post("/api/users", json={"username": "root2", "role": "admin"})).json()
    assert (
        await client.patch(f"/api/users/{other['id']}", json={"active": False})
    ).status_code == 200
    taken = await client.post("/api/users", json={"username": "root2", "role": "agent"})
    assert taken.status_code == 409
    weak = await client.post(
        "/api/users", json={"username": "carla", "role": "agent", "password": "short"}
    )
    assert weak.status_code == 422
    assert weak.json()["error"]["code"] == "weak_password"


async def test_first_admin_is_created_once_even_by_two_processes_at_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async def attempt() -> str | None:
        async with session_factory() as session:
            password = await auth_service.ensure_first_admin(session)
            await session.commit()
            return password

    results = await asyncio.gather(attempt(), attempt(), return_exceptions=True)
    passwords = [r for r in results if isinstance(r, str)]
    assert len(passwords) == 1, results
    async with session_factory() as session:
        users = (await session.scalars(select(UserAccount))).all()
    assert [(u.username, u.role, u.must_change_password) for u in users] == [
        ("admin", Role.ADMIN, True)
    ]
    assert passwords[0] not in users[0].password_hash
    async with session_factory() as session:
        assert await auth_service.ensure_first_admin(session) is None


async def test_the_first_admin_password_file_goes_once_a_change_commits(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        password = await auth_service.ensure_first_admin(session)
        await session.commit()
    assert password is not None
    path = auth_service.write_first_admin_password(settings, password)
    # Beside the SQLite database; in RECORDINGS_DIR on PostgreSQL (both absolute in tests).
    if settings.database_url.startswith("sqlite"):
        directory = settings.database_url.split(":///", 1)[1].rsplit("/", 1)[0]
    else:
        directory = settings.recordings_dir
    assert str(path) == f"{directory}/first-admin-password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == password + "\n"
    new = "a much longer passphrase 42"

    async def change(current: str, *, commit: bool) -> None:
        async with session_factory() as session:
            admin = await auth_service.user_by_name(session, "admin")
            context = AuditContext(principal=auth_service.principal_for(admin, Via.SESSION))
            await auth_service.change_own_password(session, settings, context, current, new)
            assert path.exists()  # not before the change is stored
            if commit:
                await session.commit()

    with pytest.raises(ValidationFailed):
        await change("not the password", commit=True)
    await change(password, commit=False)  # rolled back: the password still works
    assert path.exists()
    await change(password, commit=True)
    assert not path.exists()


# --- the audit API --------------------------------------------------------------------------


async def test_audit_api_filters_by_actor_action_entity_and_time(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    ids = await _seed_assignments(session_factory)
    await client.get(
        f"/api/interactions/{ids['open']}", headers={"X-Role": "admin", "X-Reveal-Reason": "QA"}
    )
    await client.post("/api/users", json={"username": "dora", "role": "supervisor"})
    everything = (await client.get("/api/audit")).json()["items"]
    assert {e["action"] for e in everything} >= {"pii.reveal", "user.create"}
    reveal = (await client.get("/api/audit", params={"action": "pii.reveal"})).json()["items"]
    assert [e["entityId"] for e in reveal] == [ids["open"]]
    assert reveal[0]["actorId"] == "admin"
    assert reveal[0]["actorType"] == "USER"
    by_prefix = (await client.get("/api/audit", params={"action": "user."})).json()["items"]
    assert [e["action"] for e in by_prefix] == ["user.create"]
    by_entity = await client.get(
        "/api/audit", params={"entityType": "interaction", "entityId": ids["open"]}
    )
    assert len(by_entity.json()["items"]) == 1
    assert (await client.get("/api/audit", params={"actor": "nobody"})).json()["items"] == []
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    assert (await client.get("/api/audit", params={"dateFrom": tomorrow})).json()["items"] == []
    bad = await client.get("/api/audit", params={"dateFrom": tomorrow, "dateTo": "2020-01-01"})
    assert bad.status_code == 422
    paged = (await client.get("/api/audit", params={"limit": 1})).json()
    assert len(paged["items"]) == 1
    assert paged["hasMore"] is True


# --- console sign-in ------------------------------------------------------------------------


class Browser:
    """A cookie-keeping client that signs in through the form, as a browser does."""

    def __init__(self, app: FastAPI, address: str = "10.0.0.1") -> None:
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 5000)),
            base_url="http://testserver",
            follow_redirects=False,
        )

    async def sign_in(self, username: str, password: str) -> httpx.Response:
        form = await self.http.get("/login")
        csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        return await self.http.post(
            "/login",
            data={"username": username, "password": password, "csrf": csrf, "next": "/calls"},
        )

    async def csrf(self) -> str:
        page = await self.http.get("/calls")
        return page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[Callable[..., Browser]]:
    made: list[Browser] = []

    def build(address: str = "10.0.0.1") -> Browser:
        made.append(Browser(app, address))
        return made[-1]

    yield build
    for b in made:
        await b.http.aclose()


async def _actions(sessions: async_sessionmaker[AsyncSession], prefix: str) -> list[AuditLog]:
    async with sessions() as session:
        stmt = (
            select(AuditLog)
            .where(AuditLog.action.startswith(prefix))
            .order_by(AuditLog.occurred_at, AuditLog.id)
        )
        return list((await session.scalars(stmt)).all())


async def test_sign_in_sets_a_safe_cookie_and_is_audited(
    browser: Callable[..., Browser], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await auth.user(session_factory, "ana", Role.AGENT)
    client = browser()
    response = await client.sign_in("ana", auth.PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/calls"
    cookie = response.headers["set-cookie"]
    assert "cc_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert (await client.http.get("/calls")).status_code == 200
    rows = await _actions(session_factory, "auth.")
    assert [(r.action, r.actor_id, r.ip) for r in rows] == [("auth.login", "ana", "10.0.0.1")]
    async with session_factory() as session:
        stored = (await session.scalars(select(ConsoleSession))).one()
    value = client.http.cookies["cc_session"]
    assert stored.token_hash == hashlib.sha256(value.encode()).hexdigest()
    # Sign-out ends the session on the server, not only in the browser.
    token = await client.csrf()
    out = await client.http.post("/logout", headers={"X-CSRF-Token": token})
    assert out.status_code == 204
    client.http.cookies.set("cc_session", value)
    assert (await client.http.get("/calls")).status_code == 303


async def test_a_cookie_needs_the_csrf_token_to_change_anything(
    browser: Callable[..., Browser], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await auth.user(session_factory, "ana", Role.AGENT)
    client = browser()
    await client.sign_in("ana", auth.PASSWORD)
    payload = {"to": PHONE, "body": "hola"}
    forged = await client.http.post("/api/sms/send", json=payload)
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "csrf_failed"
    wrong = await client.http.post("/api/sms/send", json=payload, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    token = await client.csrf()
    sent = await client.http.post("/api/sms/send", json=payload, headers={"X-CSRF-Token": token})
    assert sent.status_code == 202, sent.text
    # Reads need no token; the sign-in form has its own.
    assert (await client.http.get("/api/me")).json()["via"] == "session"
    no_form_token = await client.http.post(
        "/login", data={"username": "ana", "password": auth.PASSWORD}
    )
    assert no_form_token.status_code == 403


async def test_wrong_passwords_lock_the_account(
    browser: Callable[..., Browser],
    session_factory: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    await auth.user(session_factory, "ana", Role.AGENT)
    client_a = browser()
    for _ in range(4):
        assert (await client_a.sign_in("ana", "not the password")).status_code == 401
    fifth = await client_a.sign_in("ana", "not the password")
    assert fifth.status_code == 401
    # Locked now: even the right password is refused, with the time to wait.
    locked = await client_a.sign_in("ana", auth.PASSWORD)
    assert locked.status_code == 429
    assert 800 < int(locked.headers["Retry-After"]) <= 901
    assert "bloqueada" in locked.text  # the console speaks es-AR by default
    actions = [r.action for r in await _actions(session_factory, "auth.")]
    assert actions == ["auth.login_failed"] * 5 + ["auth.login_locked"]
    # An admin unlocks.
    users = (await client.get("/api/users")).json()["items"]
    ana = next(u for u in users if u["username"] == "ana")
    assert ana["lockedUntil"] is not None
    assert ana["failedLogins"] == 5
    assert (await client.post(f"/api/users/{ana['id']}/unlock")).status_code == 200
    assert (await client_a.sign_in("ana", auth.PASSWORD)).status_code == 303


async def test_parallel_wrong_passwords_all_count(
    browser: Callable[..., Browser], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await auth.user(session_factory, "ana", Role.AGENT)
    clients = [browser(f"10.0.1.{i}") for i in range(8)]
    results = await asyncio.gather(*(c.sign_in("ana", "guess") for c in clients))
    counted = sum(r.status_code == 401 for r in results)
    refused_locked = sum(r.status_code == 429 for r in results)
    assert counted + refused_locked == 8
    assert counted >= 5
    async with session_factory() as session:
        row = (await session.scalars(select(UserAccount))).one()
    # No lost update: every failure that was answered 401 was counted (one UPDATE each).
    assert row.failed_logins == counted
    assert row.locked_until is not None
    failed_rows = [r for r in await _actions(session_factory, "auth.") if "failed" in r.action]
    assert len(failed_rows) == counted


async def test_one_address_is_throttled_whatever_the_usernames(
    client_for: Callable[..., Awaitable[httpx.AsyncClient]],
) -> None:
    http = await client_for(LOGIN_RATE_LIMIT_MAX="3")
    http.headers.pop("Authorization")
    statuses = []
    for i in range(5):
        form = await http.get("/login")
        csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        response = await http.post(
            "/login", data={"username": f"user{i}", "password": "x", "csrf": csrf}
        )
        statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429, 429]
    assert int(response.headers["Retry-After"]) > 0


async def test_unknown_users_and_wrong_passwords_look_the_same(
    browser: Callable[..., Browser], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await auth.user(session_factory, "ana", Role.AGENT)
    client = browser()
    wrong = await client.sign_in("ana", "nope nope")
    unknown = await client.sign_in("nobody", "nope nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "Usuario o contraseña incorrectos." in wrong.text
    assert "Usuario o contraseña incorrectos." in unknown.text


async def test_console_reveal_needs_an_admin_a_reason_and_the_page_token(
    browser: Callable[..., Browser], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    ids = await _seed_assignments(session_factory)
    await auth.user(session_factory, "root", Role.ADMIN)
    await auth.user(session_factory, "sofia", Role.SUPERVISOR)
    supervisor = browser()
    await supervisor.sign_in("sofia", auth.PASSWORD)
    page = await supervisor.http.get(f"/interactions/{ids['theirs']}")
    assert "/reveal" not in page.text  # no reveal form for who may not reveal
    token = await supervisor.csrf()
    reveal = f"/interactions/{ids['theirs']}/reveal"
    tried = await supervisor.http.post(
        reveal, data={"reason": "curious"}, headers={"X-CSRF-Token": token}
    )
    assert PHONE not in tried.text
    admin = browser()
    await admin.sign_in("root", auth.PASSWORD)
    page = await admin.http.get(f"/interactions/{ids['theirs']}")
    assert 'name="reason"' in page.text
    assert PHONE not in page.text
    forged = await admin.http.post(reveal, data={"reason": "x y z"})
    assert forged.status_code == 403
    token = await admin.csrf()
    # A GET with a reason in the URL (the old form) reveals nothing.
    old = await admin.http.get(
        f"/interactions/{ids['theirs']}", params={"reveal": "reclamo 4411", "csrf": token}
    )
    assert PHONE not in old.text
    shown = await admin.http.post(
        reveal, data={"reason": "reclamo 4411"}, headers={"X-CSRF-Token": token}
    )
    assert PHONE in shown.text
    rows = await _reveals(session_factory)
    assert [(r.actor_id, (r.metadata_ or {}).get("reason")) for r in rows] == [
        ("root", "reclamo 4411")
    ]


async def test_an_agent_console_shows_their_work_without_metrics(
    browser: Callable[..., Browser], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    ids = await _seed_assignments(session_factory)
    await auth.user(session_factory, "ana", Role.AGENT)
    agent = browser()
    await agent.sign_in("ana", auth.PASSWORD)
    # Home is the inbox; the agent's own work page moved to /dashboard.
    inbox = await agent.http.get("/")
    assert 'id="inbox"' in inbox.text
    assert ids["theirs"] not in inbox.text
    home = await agent.http.get("/dashboard")
    assert "Mi trabajo" in home.text
    assert "Abandono" not in home.text
    assert ids["mine"] in home.text
    assert ids["open"] in home.text
    assert ids["theirs"] not in home.text
    assert (await agent.http.get(f"/interactions/{ids['theirs']}")).status_code == 404
    assert (await agent.http.get("/admin/users")).status_code == 403


async def test_admin_pages_list_users_tokens_and_the_audit(
    browser: Callable[..., Browser], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await auth.user(session_factory, "root", Role.ADMIN)
    await auth.token(session_factory, "root")
    admin = browser()
    await admin.sign_in("root", auth.PASSWORD)
    users = await admin.http.get("/admin/users")
    assert users.status_code == 200
    assert 'data-user="root"' in users.text
    assert "cc_pat_" in users.text
    audit = await admin.http.get("/admin/audit", params={"action": "auth."})
    assert audit.status_code == 200
    assert "auth.login" in audit.text


async def test_sessions_end_when_idle(
    app: FastAPI,
    settings: Settings,
    browser: Callable[..., Browser],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await auth.user(session_factory, "ana", Role.AGENT)
    client = browser()
    await client.sign_in("ana", auth.PASSWORD)
    assert (await client.http.get("/calls")).status_code == 200
    async with session_factory() as session:
        idle = utcnow() - timedelta(seconds=settings.session_idle_seconds + 1)
        await session.execute(update(ConsoleSession).values(last_seen_at=idle))
        await session.commit()
    assert (await client.http.get("/calls")).status_code == 303


async def test_production_refuses_auth_disabled(settings_factory: Callable[..., Settings]) -> None:
    from contact_center.preflight import static_findings

    findings = static_findings(settings_factory(APP_ENV="production", AUTH_DISABLED="true"))
    assert any(f.variable == "AUTH_DISABLED" and f.level == "error" for f in findings)
