"""The compliance role (docs/data-lifecycle.md, "The compliance role"): made by the API, the
console and the command line; signs in to a console limited to legal holds, data-subject
requests and the audit trail; reads the audit trail; and is refused on every route of
conversation work — the whole application is walked, so a route added later must be classified
here."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select
from typer.testing import CliRunner

from contact_center.auth import repository as users
from contact_center.cli import cli
from contact_center.models.enums import Role
from contact_center.models.user_account import UserAccount
from tests import auth
from tests import factories as f
from tests.auth import PASSWORD

# What a compliance officer may open (everything else answers 403), with the status expected.
ALLOWED = {
    ("GET", "/"): 303,  # to their legal holds
    ("GET", "/api/me"): 200,
    ("GET", "/api/audit"): 200,
    ("GET", "/api/audit/checkpoints"): 200,
    ("GET", "/admin/audit"): 200,
    ("GET", "/api/legal-holds"): 200,
    ("POST", "/api/legal-holds"): 422,  # an empty body: allowed, refused as invalid
    ("GET", "/api/legal-holds/{hold_id}"): 404,
    ("POST", "/api/legal-holds/{hold_id}/release"): 422,
    ("GET", "/compliance/holds"): 200,
    ("GET", "/api/interactions/{interaction_id}/holds"): 404,
    ("GET", "/api/data-subject-requests"): 200,
    ("POST", "/api/data-subject-requests"): 422,
    ("GET", "/api/data-subject-requests/{request_id}"): 404,
    ("POST", "/api/data-subject-requests/{request_id}/review"): 404,
    ("POST", "/api/data-subject-requests/{request_id}/complete"): 404,
    ("POST", "/api/data-subject-requests/{request_id}/refuse"): 422,
    ("GET", "/api/data-subject-requests/{request_id}/export"): 404,
    ("GET", "/api/data-subject-requests/{request_id}/certificate"): 404,
    ("GET", "/compliance/requests"): 200,
    ("GET", "/compliance/requests/{request_id}"): 404,
    # Complaints: compliance reads them (cases, evidence, the regulator's report); an action
    # with a valid body is refused by the service (tests/test_complaints_api.py), an empty one
    # is refused as invalid first.
    ("GET", "/api/complaints"): 200,
    ("GET", "/api/complaints/report"): 200,
    ("GET", "/api/complaints/{complaint_id}"): 404,
    ("GET", "/api/complaints/{complaint_id}/evidence"): 404,
    ("GET", "/api/interactions/{interaction_id}/complaints"): 404,
    ("GET", "/complaints"): 200,
    ("GET", "/complaints/{complaint_id}"): 404,
    ("POST", "/api/complaints"): 422,
    ("POST", "/api/complaints/{complaint_id}/answer"): 422,
    ("POST", "/api/complaints/{complaint_id}/discard"): 422,
    ("POST", "/api/complaints/{complaint_id}/escalate"): 422,
    ("POST", "/api/complaints/{complaint_id}/link"): 422,
    ("POST", "/api/complaints/{complaint_id}/report"): 422,
    ("GET", "/account/password"): 200,
    ("POST", "/account/password"): 422,
    ("POST", "/account/language"): 422,
}
# Not about roles: sign-in and out, public documents and health, customers' signed pages.
OUT_OF_SCOPE = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/api/health"),
    ("GET", "/api/health/ready"),
    ("GET", "/api/health/tables"),
    ("GET", "/__whoami"),
    ("GET", "/api/docs"),
    ("GET", "/api/openapi.json"),
    ("GET", "/l/{path}/{token}"),
    ("GET", "/csat/{token}"),
    ("POST", "/csat/{token}"),
}
SKIPPED_PREFIXES = ("/webhooks/", "/_emulator/", "/static")
PATH_VALUES = {"day": "2026-12-24", "page": "calls", "token": "abc.def", "index": "0"}


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        path = str(context.path)
        if not isinstance(context.original_route, APIRoute) or path.startswith(SKIPPED_PREFIXES):
            continue
        for method in set(getattr(context, "methods", None) or ()) - {"HEAD"}:
            found.add((method, path))
    assert len(found) > 60
    return found


def _url(path: str) -> str:
    while "{" in path:
        start = path.index("{")
        end = path.index("}", start)
        name = path[start + 1 : end].split(":", 1)[0]
        path = path[:start] + PATH_VALUES.get(name, str(uuid.uuid4())) + path[end + 1 :]
    return path


def _csrf(page: str) -> str:
    return page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


async def test_compliance_is_refused_on_every_route_of_conversation_work(app: FastAPI) -> None:
    async with app.state.session_factory() as session:
        await f.save(session, f.interaction())
    officer = await auth.session_client(app, "oficial", Role.COMPLIANCE)
    csrf = _csrf((await officer.get("/compliance/holds")).text)
    headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    for method, path in sorted(_routes(app) - OUT_OF_SCOPE):
        if (method, path) == ("POST", "/logout"):
            continue
        response = await officer.request(
            method,
            _url(path),
            headers=headers,
            json={} if method in ("POST", "PUT", "PATCH") else None,
            follow_redirects=False,
        )
        expected = ALLOWED.get((method, path), 403)
        assert response.status_code == expected, (method, path, response.text[:300])
        if expected == 403:
            assert response.json()["error"]["code"] == "forbidden", (method, path)
    # The same walk with a token (an API client of the compliance office) agrees on the API.
    token = await auth.token_client(app, "oficial", Role.COMPLIANCE)
    for path in ("/api/interactions", "/api/inbox", "/api/search?q=saldo", "/api/agents"):
        assert (await token.get(path)).status_code == 403, path
    sent = await token.post("/api/whatsapp/send", json={"to": "+5491155551234", "body": "hola"})
    assert sent.status_code == 403
    assert (await token.get("/api/audit")).status_code == 200
    await token.aclose()
    await officer.aclose()


async def test_the_compliance_console_shows_only_what_they_may_use(app: FastAPI) -> None:
    officer = await auth.session_client(app, "oficial", Role.COMPLIANCE)
    home = await officer.get("/", follow_redirects=False)
    assert home.status_code == 303
    assert home.headers["location"] == "/compliance/holds"
    page = (await officer.get("/compliance/holds")).text
    nav = page.split('<nav aria-label="Principal">', 1)[1].split("</nav>", 1)[0]
    assert 'href="/compliance/holds"' in nav
    assert 'href="/compliance/requests"' in nav
    assert 'href="/admin/audit"' in nav
    for hidden in ("/inbox", "/dashboard", "/calls", "/customers", "/teams", "/admin/users"):
        assert f'href="{hidden}"' not in nav, hidden
    assert "sse-connect" not in page  # no live stream of conversations
    assert "/console/availability" not in page
    assert "Cumplimiento" in page  # the role's badge
    audit = await officer.get("/admin/audit")
    assert audit.status_code == 200
    assert 'aria-current="page"' in audit.text.split("</nav>", 1)[0]
    for refused in ("/inbox", "/dashboard", "/calls", "/customers", "/admin/users", "/teams"):
        answer = await officer.get(refused, headers={"Accept": "text/html"})
        assert answer.status_code == 403, refused
        assert "No podés hacer esto" in answer.text, refused
    await officer.aclose()
    # An admin keeps the inbox and reaches the compliance pages from the administration menu.
    admin = await auth.session_client(app, "jefa", Role.ADMIN)
    inbox = await admin.get("/", follow_redirects=False)
    assert inbox.status_code == 200
    assert 'href="/compliance/holds"' in inbox.text
    assert 'href="/compliance/requests"' in inbox.text
    assert (await admin.get("/compliance/holds")).status_code == 200
    await admin.aclose()
    # Agents and supervisors see no compliance link.
    agent = await auth.session_client(app, "agente", Role.AGENT)
    assert 'href="/compliance/holds"' not in (await agent.get("/")).text
    assert (await agent.get("/admin/audit")).status_code == 403
    await agent.aclose()


async def test_the_audit_trail_is_for_admins_and_compliance(
    app: FastAPI, people: dict[str, httpx.AsyncClient], client: httpx.AsyncClient
) -> None:
    officer = await auth.token_client(app, "oficial", Role.COMPLIANCE)
    placed = await officer.post(
        "/api/legal-holds",
        json={"scope": "CUSTOMER", "customerRef": "c-9", "reason": "Pedido del BCRA 77/2026"},
    )
    assert placed.status_code == 201
    trail = await officer.get("/api/audit", params={"action": "legal_hold."})
    assert trail.status_code == 200
    assert [e["action"] for e in trail.json()["items"]] == ["legal_hold.placed"]
    assert (await officer.get("/api/audit/checkpoints")).status_code == 200
    assert (await client.get("/api/audit")).status_code == 200
    for who in ("ana", "sup"):
        assert (await people[who].get("/api/audit")).status_code == 403
        assert (await people[who].get("/api/audit/checkpoints")).status_code == 403
    await officer.aclose()


async def test_a_compliance_user_is_made_by_the_api_and_the_console_lists_the_role(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made = await client.post("/api/users", json={"username": "auditora", "role": "compliance"})
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "compliance"
    password = made.json()["password"]
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver",
    )
    await auth.sign_in(http, "auditora", password)
    # A generated password works once: the first page is choosing one's own.
    assert (await http.get("/account/password")).status_code == 200
    await http.aclose()
    admin = await auth.session_client(app, "jefa", Role.ADMIN)
    users_page = (await admin.get("/admin/users")).text
    assert '<option value="compliance">Cumplimiento</option>' in users_page
    await admin.aclose()
    # Compliance officers are no one's agents: not in the people pickers.
    agents = (await client.get("/api/agents")).json()["items"]
    assert "auditora" not in {a["username"] for a in agents}


async def test_the_command_line_makes_a_compliance_user(
    app: FastAPI, database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "APP_ENV": "test", "RECORDINGS_DIR": str(tmp_path)}
    made = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["users", "create", "legales", "--role", "compliance", "--password-stdin"],
        input=PASSWORD,
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert "created legales (compliance)" in made.output
    wrong = await asyncio.to_thread(
        CliRunner().invoke, cli, ["users", "create", "x", "--role", "auditor"], env=env
    )
    assert wrong.exit_code == 2
    async with app.state.session_factory() as session:
        account = await users.user_by_username(session, "legales")
        assert account is not None
        assert account.role is Role.COMPLIANCE
        assert "legales" in (await session.scalars(select(UserAccount.username))).all()
