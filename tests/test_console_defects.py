"""What a new user met on a first try of the console, each fixed and kept fixed (without a
browser; tests/test_console_browser.py checks the same flows in Chromium).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.audit import service as audit
from contact_center.models import AuditLog
from contact_center.models.enums import ActorType, Role
from contact_center.principal import SYSTEM, AuditContext, Principal
from tests import auth
from tests import factories as f

STATIC = Path(__file__).parent.parent / "src" / "contact_center" / "console" / "static"
TEMPLATES = STATIC.parent / "templates"
PHONE = "+5491155557788"


class Signed:
    """A browser-like client signed in through the form, with its page's CSRF token."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )

    async def sign_in(self, username: str, role: Role) -> Signed:
        await auth.user(self.app.state.session_factory, username, role)
        form = await self.http.get("/login")
        csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        signed = await self.http.post(
            "/login", data={"username": username, "password": auth.PASSWORD, "csrf": csrf}
        )
        assert signed.status_code == 303, signed.text
        return self

    async def csrf(self) -> str:
        page = await self.http.get("/account/password")
        return page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


@pytest.fixture
async def signed(app: FastAPI) -> AsyncIterator[Signed]:
    client = Signed(app)
    try:
        yield client
    finally:
        await client.http.aclose()


async def _count(sessions: async_sessionmaker[AsyncSession], action: str) -> int:
    async with sessions() as session:
        stmt = select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
        return int((await session.scalar(stmt)) or 0)


class _Forms(HTMLParser):
    """Each SMS form: whether it is hidden, and every field with the words of its label."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, object]] = {}
        self._form: str | None = None
        self._label: list[str] | None = None
        self._fields: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and values.get("data-tab-panel"):
            self._form = values["data-tab-panel"]
            self.forms[self._form or ""] = {
                "hidden": "hidden" in values,
                "role": values.get("role"),
                "fields": {},
            }
        elif self._form and tag == "label":
            self._label, self._fields = [], []
        elif (
            self._form and tag in ("input", "select", "textarea") and values.get("type") != "hidden"
        ):
            assert self._label is not None, f"{values.get('name')} outside a label"
            self._fields.append(values.get("name") or "")

    def handle_data(self, data: str) -> None:
        if self._label is not None and self._form:
            self._label.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "label" and self._label is not None and self._form:
            fields = self.forms[self._form]["fields"]
            assert isinstance(fields, dict)
            for name in self._fields:
                fields[name] = " ".join("".join(self._label).split())
            self._label = None


async def test_the_sms_page_shows_one_labelled_form_per_kind(signed: Signed) -> None:
    await signed.sign_in("sofia", Role.SUPERVISOR)
    page = await signed.http.get("/sms")
    parser = _Forms()
    parser.feed(page.text)
    assert set(parser.forms) == {"text", "verification", "onboarding", "card", "otp"}
    # One shown, the others hidden; `hidden` must win over the form's display rule.
    assert [k for k, v in parser.forms.items() if not v["hidden"]] == ["text"]
    assert {v["role"] for v in parser.forms.values()} == {"tabpanel"}
    css = (STATIC / "console.css").read_text()
    assert re.search(r"\[hidden\]\s*\{\s*display:\s*none\s*!important", css)
    for kind, form in parser.forms.items():
        fields = form["fields"]
        assert isinstance(fields, dict), kind
        assert fields, kind
        for name, words in fields.items():
            assert words, f"{kind}: {name} has no label"
    assert parser.forms["card"]["fields"] == {
        "to": "Teléfono del cliente",
        "cardLast4": "Últimos cuatro dígitos de la tarjeta (opcional)",
    }


async def test_a_reveal_is_a_post_with_one_audit_row_and_a_reload_reveals_nothing(
    signed: Signed, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = f.interaction(customer_phone=PHONE)
    async with session_factory() as session:
        await f.save(session, chat)
    await signed.sign_in("root", Role.ADMIN)
    path = f"/interactions/{chat.id}"
    page = await signed.http.get(path)
    assert PHONE not in page.text
    # The form posts (reason in the body), answered in place by htmx: nothing in a URL.
    assert f'hx-post="{path}/reveal"' in page.text
    assert 'name="reveal"' not in page.text
    token = await signed.csrf()
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    empty = await signed.http.post(f"{path}/reveal", data={"reason": " "}, headers=headers)
    assert empty.status_code == 422
    # The console says it where the form is, in the reader's words (no JSON envelope).
    assert empty.text.startswith('<p class="notice error" role="alert">')
    assert "Indicá por qué necesitás ver los datos personales." in empty.text
    assert await _count(session_factory, "pii.reveal") == 0
    shown = await signed.http.post(
        f"{path}/reveal", data={"reason": "reclamo 8812"}, headers=headers
    )
    assert shown.status_code == 200
    assert PHONE in shown.text
    assert "data-revealed" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert await _count(session_factory, "pii.reveal") == 1
    # A reload (GET), even with the old query string, shows the page masked and writes nothing.
    for again in (
        await signed.http.get(path),
        await signed.http.get(path, params={"reveal": "reclamo 8812", "csrf": token}),
    ):
        assert again.status_code == 200
        assert PHONE not in again.text
    assert await _count(session_factory, "pii.reveal") == 1
    # Without the session's token the POST is refused.
    forged = await signed.http.post(f"{path}/reveal", data={"reason": "reclamo 8812"})
    assert forged.status_code == 403
    assert await _count(session_factory, "pii.reveal") == 1


async def test_the_live_part_of_a_detail_page_brings_its_fields_along(
    signed: Signed, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    chat = f.interaction(customer_phone=PHONE, assigned_agent=None)
    async with session_factory() as session:
        await f.save(session, chat)
    await signed.sign_in("sofia", Role.SUPERVISOR)
    await auth.user(session_factory, "lucia.fernandez", Role.AGENT)
    page = await signed.http.get(f"/interactions/{chat.id}")
    # The live part refreshes on the interaction's event and after a change made on the page.
    assert f"sse:i-{chat.id} throttle:500ms, cc:poll, cc:changed from:body" in page.text
    assert 'id="fields-list"' in page.text
    assert "hx-swap-oob" not in page.text
    token = await signed.csrf()
    assigned = await signed.http.patch(
        f"/api/interactions/{chat.id}",
        json={"assignedAgent": "lucia.fernandez"},
        headers={"X-CSRF-Token": token},
    )
    assert assigned.status_code == 200, assigned.text
    partial = await signed.http.get(f"/console/partials/interactions/{chat.id}")
    fields = partial.text.split('<dl id="fields-list" hx-swap-oob="true">', 1)[1]
    assert "lucia.fernandez" in fields.split("</dl>", 1)[0]
    assert '<span id="status-badge" hx-swap-oob="true">' in partial.text


async def test_the_reply_notice_says_where_the_reply_shows() -> None:
    source = (STATIC.parent / "pages.py").read_text()
    detail = (TEMPLATES / "detail.html").read_text()
    assert "it shows in the messages above" in source
    # …and the messages are above the reply form on the page.
    assert detail.index('id="live"') < detail.index('{% include "_reply.html" %}')
    assert 'class="reply"' in (TEMPLATES / "_reply.html").read_text()


async def test_disable_is_not_offered_on_your_own_account(
    signed: Signed, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await auth.user(session_factory, "bruno", Role.AGENT)
    await signed.sign_in("root", Role.ADMIN)
    page = (await signed.http.get("/admin/users")).text
    own = page.split('<tr data-user="root"', 1)[1].split("</tr>", 1)[0]
    other = page.split('<tr data-user="bruno"', 1)[1].split("</tr>", 1)[0]
    assert 'name="active"' not in own
    assert "Deshabilitar" not in own
    assert 'name="active"' in other
    assert "Deshabilitar" in other
    # The user table refreshes itself after a creation (and brings the tokens along).
    assert 'hx-select-oob="#tokens-list,#token-user"' in page
    assert 'data-created="user"' in page
    assert 'data-created="token"' in page


async def test_the_audit_page_shows_people_first_and_the_actor_readable(
    signed: Signed, client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await audit.record(
            session, AuditContext(principal=SYSTEM), "webhook.replay", metadata={"count": 2}
        )
        await session.commit()
    await signed.sign_in("lucia.fernandez", Role.ADMIN)  # writes auth.login as USER
    page = (await signed.http.get("/admin/audit")).text
    assert 'data-scope="people"' in page
    assert "auth.login" in page
    assert "webhook.replay" not in page
    everyone = (await signed.http.get("/admin/audit", params={"everyone": "1"})).text
    assert 'data-scope="all"' in everyone
    assert "webhook.replay" in everyone
    # Naming an actor shows that actor's rows, whoever it is.
    system = (await signed.http.get("/admin/audit", params={"actor": "system"})).text
    assert "webhook.replay" in system
    # The sign-in row's metadata names the user as the Actor column does: not masked.
    async with session_factory() as session:
        row = (
            await session.scalars(
                select(AuditLog).where(
                    AuditLog.action == "auth.login", AuditLog.actor_id == "lucia.fernandez"
                )
            )
        ).one()
    assert row.metadata_ == {"username": "lucia.fernandez"}
    # The API filters by the kind of actor too.
    people = (await client.get("/api/audit", params={"actorType": "USER"})).json()["items"]
    assert people
    assert {e["actorType"] for e in people} == {"USER"}
    service = (await client.get("/api/audit", params={"actorType": "SYSTEM"})).json()["items"]
    assert [e["action"] for e in service] == ["webhook.replay"]
    both = await client.get("/api/audit", params=[("actorType", "USER"), ("actorType", "SYSTEM")])
    assert len(both.json()["items"]) == len(people) + 1
    assert (await client.get("/api/audit", params={"actorType": "robot"})).status_code == 422


async def test_another_persons_username_in_metadata_stays_masked(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    admin = Principal(actor_type=ActorType.USER, actor_id="root", role=Role.ADMIN)
    async with session_factory() as session:
        await audit.record(
            session,
            AuditContext(principal=admin),
            "user.create",
            metadata={"username": "paula.quiroga", "role": "agent"},
        )
        await session.commit()
        row = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "user.create"))
        ).one()
    assert row.metadata_ is not None
    assert row.metadata_["username"] != "paula.quiroga"
    assert row.metadata_["role"] == "agent"


async def test_the_language_form_works_from_the_consoles_script(signed: Signed) -> None:
    await signed.sign_in("sofia", Role.SUPERVISOR)
    page = (await signed.http.get("/account/password")).text
    # A plain form post has no CSRF header: the form posts through htmx, which sends it.
    assert 'hx-post="/account/language"' in page
    token = await signed.csrf()
    chosen = await signed.http.post(
        "/account/language",
        data={"language": "en"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert chosen.status_code == 204
    assert chosen.headers["HX-Redirect"] == "/account/password"
    assert '<html lang="en">' in (await signed.http.get("/")).text


def test_htmx_is_told_not_to_inject_styles_or_evaluate_code() -> None:
    base = (TEMPLATES / "base.html").read_text()
    assert '"includeIndicatorStyles": false' in base
    assert '"allowEval": false' in base


def test_no_template_needs_inline_script_or_style() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"\sstyle=", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        assert not re.search(r"<script(?![^>]*\ssrc=)", text), template.name
        assert "hx-on" not in text, template.name


def test_the_phone_header_is_compact_and_sticky() -> None:
    css = (STATIC / "console.css").read_text()
    topbar = re.search(r"\.topbar \{[^}]*\}", css)
    assert topbar
    assert "position: sticky" in topbar.group(0)
    base = (TEMPLATES / "base.html").read_text()
    assert 'class="menu-toggle" aria-expanded="false" aria-controls="menu"' in base
    assert ".menu-toggle" in (STATIC / "console.js").read_text()
