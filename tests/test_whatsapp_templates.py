"""The WhatsApp template registry (docs/whatsapp-cloud.md, "Outbound"): synced from the account
by (name, language), kept with present=false when the account drops a template, listed by the
API; and template sends through POST /api/whatsapp/send, checked by Meta's rules before anything
is stored, allowed outside the 24-hour window."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.app import create_app
from contact_center.errors import AppError, Conflict, ValidationFailed
from contact_center.models import AuditLog, Message, WhatsAppTemplate
from contact_center.models.enums import Role
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.providers.base import ProviderError, ProviderName, TemplateInfo
from contact_center.providers.http import create_http_client
from contact_center.providers.registry import build_providers
from contact_center.whatsapp_templates import service
from contact_center.whatsapp_templates.tasks import (
    TemplateJobDeps,
    sync_cron,
    sync_whatsapp_templates,
)
from tests import auth
from tests import factories as f
from tests.live import live_app

PHONE = "+5491155551234"


def info(
    name: str,
    status: str = "APPROVED",
    category: str = "UTILITY",
    body: str = "Hola {{1}}",
    *,
    language: str = "es_AR",
    buttons: list[dict[str, Any]] | None = None,
    provider_id: str | None = None,
) -> TemplateInfo:
    components: list[dict[str, Any]] = [{"type": "BODY", "text": body}]
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return TemplateInfo(
        name=name,
        language=language,
        status=status,
        category=category,
        components=components,
        provider_template_id=provider_id or str(abs(hash((name, language))) % 10**15),
    )


ACCOUNT = [
    info(
        "verification_code",
        category="AUTHENTICATION",
        body="*{{1}}* es tu código de verificación.",
        buttons=[
            {"type": "URL", "text": "Copiar código", "url": "https://wa.me/otp?code=otp{{1}}"}
        ],
    ),
    info("payment_reminder", body="Hola {{1}}, tu pago de {{2}} vence mañana."),
    info(
        "payment_reminder",
        body="Hi {{1}}, your payment of {{2}} is due tomorrow.",
        language="en_US",
    ),
    info("card_promo", "PENDING", "MARKETING", "Nueva tarjeta {{1}}"),
    info("old_notice", "REJECTED", body="Aviso"),
    info(
        "tracking",
        body="Tu envío {{1}} está en camino.",
        buttons=[{"type": "URL", "text": "Seguir", "url": "https://banco.example/t/{{1}}"}],
    ),
    info("greeting", body="Hola {{first_name}}, gracias por escribir. {{first_name}}, ¿algo más?"),
]


class Account:
    """A stand-in for the provider's template list (the WhatsAppTemplateSource protocol)."""

    def __init__(self, templates: Sequence[TemplateInfo]) -> None:
        self.templates = list(templates)
        self.error: ProviderError | None = None
        self.calls = 0

    async def list_templates(self) -> list[TemplateInfo]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return list(self.templates)


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> dict[tuple[str, str], Any]:
    async with sessions() as session:
        found = (await session.scalars(select(WhatsAppTemplate))).all()
        return {(row.name, row.language): row for row in found}


async def _audits(sessions: async_sessionmaker[AsyncSession], action: str) -> list[Any]:
    """The audit rows of `action`, oldest first."""
    async with sessions() as session:
        stmt = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.occurred_at)
        return list((await session.scalars(stmt)).all())


@pytest.fixture
async def registry(session_factory: async_sessionmaker[AsyncSession]) -> Account:
    """The registry synced from ACCOUNT."""
    account = Account(ACCOUNT)
    await service.sync(session_factory, account, SYSTEM_CONTEXT, trigger="cli")
    return account


# --- sync ------------------------------------------------------------------------------------


async def test_a_sync_upserts_by_name_and_language_and_a_second_changes_nothing(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    account = Account(ACCOUNT)
    first = await service.sync(session_factory, account, SYSTEM_CONTEXT, trigger="cli")
    assert first.counts() == {"seen": 7, "created": 7, "updated": 0, "unchanged": 0, "removed": 0}
    rows = await _rows(session_factory)
    reminder = rows[("payment_reminder", "es_AR")]
    assert reminder.body_text == "Hola {{1}}, tu pago de {{2}} vence mañana."
    assert reminder.body_variables == 2
    assert reminder.status == "APPROVED"
    assert reminder.category == "UTILITY"
    assert reminder.present is True
    assert rows[("payment_reminder", "en_US")].body_text.startswith("Hi ")
    # A named placeholder used twice is one variable; a URL button's is not the body's.
    assert rows[("greeting", "es_AR")].body_variables == 1
    assert rows[("tracking", "es_AR")].body_variables == 1
    assert service.variable_count(rows[("tracking", "es_AR")]) == 2
    assert rows[("verification_code", "es_AR")].provider_template_id == (
        ACCOUNT[0].provider_template_id
    )
    synced = reminder.synced_at

    second = await service.sync(session_factory, account, SYSTEM_CONTEXT, trigger="cron")
    assert second.counts() == {"seen": 7, "created": 0, "updated": 0, "unchanged": 7, "removed": 0}
    again = await _rows(session_factory)
    assert len(again) == 7
    assert again[("payment_reminder", "es_AR")].id == reminder.id
    assert again[("payment_reminder", "es_AR")].synced_at >= synced
    audits = await _audits(session_factory, "whatsapp.templates.sync")
    assert [a.metadata_["created"] for a in audits] == [7, 0]
    assert [a.metadata_["trigger"] for a in audits] == ["cli", "cron"]


async def test_a_template_the_account_dropped_is_kept_not_present_and_comes_back(
    session_factory: async_sessionmaker[AsyncSession], registry: Account
) -> None:
    registry.templates = [t for t in ACCOUNT if t.name != "old_notice"]
    registry.templates[1] = info("payment_reminder", "PAUSED", body="Hola {{1}}, pagá {{2}}.")
    result = await service.sync(session_factory, registry, SYSTEM_CONTEXT, trigger="cron")
    assert (result.removed, result.updated, result.unchanged) == (1, 1, 5)
    rows = await _rows(session_factory)
    assert rows[("old_notice", "es_AR")].present is False
    assert rows[("payment_reminder", "es_AR")].status == "PAUSED"
    # No longer offered.
    async with session_factory() as session:
        offered = {(t.name, t.language) for t in await service.offered(session)}
    assert ("old_notice", "es_AR") not in offered
    assert ("payment_reminder", "es_AR") not in offered
    assert ("verification_code", "es_AR") not in offered  # a code is only POST /api/otp's
    assert offered == {("payment_reminder", "en_US"), ("tracking", "es_AR"), ("greeting", "es_AR")}

    registry.templates = list(ACCOUNT)
    back = await service.sync(session_factory, registry, SYSTEM_CONTEXT, trigger="cron")
    assert (back.removed, back.updated) == (0, 2)
    assert (await _rows(session_factory))[("old_notice", "es_AR")].present is True


async def test_two_syncs_at_once_leave_one_row_per_template(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    results = await asyncio.gather(
        *(
            service.sync(session_factory, Account(ACCOUNT), SYSTEM_CONTEXT, trigger="api")
            for _ in range(3)
        )
    )
    assert sorted(r.created for r in results) == [0, 0, 7]
    assert len(await _rows(session_factory)) == 7


async def test_a_list_that_cannot_be_read_changes_nothing_and_is_audited(
    session_factory: async_sessionmaker[AsyncSession], registry: Account
) -> None:
    registry.error = ProviderError(ProviderName.WHATSAPP_CLOUD, "(#190) token expired", code="190")
    with pytest.raises(service.SyncFailed):
        await service.sync(session_factory, registry, SYSTEM_CONTEXT, trigger="cron")
    assert all(row.present for row in (await _rows(session_factory)).values())
    last = (await _audits(session_factory, "whatsapp.templates.sync"))[-1]
    assert last.metadata_["ok"] is False


async def test_the_job_syncs_once_per_period_and_on_demand(
    settings_factory: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    from contact_center.jobs.queue import build_queue

    settings = settings_factory(WHATSAPP_TEMPLATE_SYNC_MINUTES="60")
    queue = build_queue(settings)
    await queue.connect()
    account = Account(ACCOUNT)
    deps = TemplateJobDeps(settings, session_factory, account, queue)
    ctx: dict[str, Any] = {"whatsapp_templates": deps}
    assert (await sync_whatsapp_templates(ctx) or {}).get("created") == 7
    assert await sync_whatsapp_templates(ctx) is None  # the same hour: claimed already
    asked = await sync_whatsapp_templates(ctx, trigger="api", actor="admin")
    assert (asked or {}).get("unchanged") == 7
    assert account.calls == 2
    audit = (await _audits(session_factory, "whatsapp.templates.sync"))[-1]
    assert (audit.actor_id, audit.metadata_["trigger"]) == ("admin", "api")
    none = TemplateJobDeps(settings, session_factory, None, queue)
    assert await sync_whatsapp_templates({"whatsapp_templates": none}) is None
    await queue.disconnect()
    assert sync_cron(15) == "*/15 * * * *"
    assert sync_cron(60) == "0 */1 * * *"
    assert sync_cron(180) == "0 */3 * * *"


async def test_the_cloud_client_pages_through_the_account_list(
    settings_factory: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The real client against a provider answering two pages (respx: the wire's edge)."""
    settings = settings_factory(WHATSAPP_PROVIDER="cloud", EMULATOR_URL="http://graph.test")
    http = create_http_client()
    providers = build_providers(settings, http)
    assert providers.whatsapp_template_source is not None
    base = "http://graph.test/whatsapp-cloud"
    first = {
        "data": [
            {
                "name": "payment_reminder",
                "language": "es_AR",
                "status": "APPROVED",
                "category": "UTILITY",
                "id": "400000000000002",
                "components": [{"type": "BODY", "text": "Hola {{1}}, pagá {{2}}."}],
            }
        ],
        "paging": {"next": f"{base}/v23.0/page2"},
    }
    second = {
        "data": [
            {
                "name": "card_promo",
                "language": "es_AR",
                "status": "PENDING",
                "category": "MARKETING",
                "id": "400000000000003",
                "components": [{"type": "BODY", "text": "Nueva"}],
            }
        ]
    }
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__regex=r".*/message_templates.*").respond(json=first)
        mock.get(f"{base}/v23.0/page2").respond(json=second)
        result = await service.sync(
            session_factory, providers.whatsapp_template_source, SYSTEM_CONTEXT, trigger="cli"
        )
    await http.aclose()
    assert result.created == 2
    rows = await _rows(session_factory)
    assert rows[("payment_reminder", "es_AR")].provider_template_id == "400000000000002"
    assert rows[("card_promo", "es_AR")].status == "PENDING"


# --- the rules of a send -----------------------------------------------------------------------


def _row(template: TemplateInfo) -> WhatsAppTemplate:
    created, _ = service.apply_listing([], [template], f.BASE_TIME)
    return created[0]


REMINDER = _row(ACCOUNT[1])


def _refusal(template: WhatsAppTemplate | None, variables: list[str]) -> AppError:
    with pytest.raises(AppError) as caught:
        service.validate_and_fill(template, variables, name="x")
    return caught.value


@pytest.mark.parametrize(
    ("variables", "field", "says"),
    [
        (["Juana"], "body.template.variables", "takes 2 variables; 1 given"),
        (["Juana", "$1.500", "extra"], "body.template.variables", "takes 2 variables; 3 given"),
        (["Juana", "$1.500\nhola"], "body.template.variables[1]", "newline or a tab"),
        (["Juana\t", "$1.500"], "body.template.variables[0]", "newline or a tab"),
        (["Juana", "$1.500     ARS"], "body.template.variables[1]", "more than 4 spaces"),
        (["Juana", "x" * 1025], "body.template.variables[1]", "at most 1024 characters"),
        (["   ", "$1.500"], "body.template.variables[0]", "must not be empty"),
    ],
)
def test_variables_that_break_metas_rules_are_refused_naming_the_field(
    variables: list[str], field: str, says: str
) -> None:
    error = _refusal(REMINDER, variables)
    assert isinstance(error, ValidationFailed)
    assert error.details[0]["field"] == field
    assert says in error.details[0]["message"]


def test_four_spaces_and_1024_characters_are_allowed() -> None:
    filled = service.validate_and_fill(REMINDER, ["Juana    Pérez", "x" * 1024])
    assert filled.body == f"Hola Juana    Pérez, tu pago de {'x' * 1024} vence mañana."


def test_unknown_not_approved_and_authentication_templates_are_refused() -> None:
    unknown = _refusal(None, [])
    assert (unknown.status_code, unknown.code) == (422, "template_not_found")
    assert unknown.details[0]["field"] == "body.template.name"
    gone = _row(ACCOUNT[1])
    gone.present = False
    assert _refusal(gone, ["a", "b"]).code == "template_not_found"
    pending = _refusal(_row(ACCOUNT[3]), ["a"])
    assert isinstance(pending, Conflict)
    assert (pending.status_code, pending.code) == (409, "template_not_approved")
    assert _refusal(_row(ACCOUNT[4]), []).code == "template_not_approved"
    code = _refusal(_row(ACCOUNT[0]), ["123456", "123456"])
    assert (code.status_code, code.code) == (422, "template_not_sendable")


def test_a_text_header_takes_the_first_values_and_a_media_header_is_not_sent() -> None:
    headed = info("statement", body="Tu resumen de {{1}} está listo.")
    headed.components.insert(0, {"type": "HEADER", "format": "TEXT", "text": "Hola {{1}}"})
    row = _row(headed)
    assert service.variable_count(row) == 2
    filled = service.validate_and_fill(row, ["Juana", "enero"])
    assert filled.body == "Tu resumen de enero está listo."
    assert filled.template["variables"]["header"] == ["Juana"]
    assert filled.template["variables"]["body"] == ["enero"]
    pictured = info("promo_card", body="Mirá {{1}}")
    pictured.components.insert(0, {"type": "HEADER", "format": "IMAGE"})
    refused = _refusal(_row(pictured), ["x"])
    assert (refused.status_code, refused.code) == (422, "template_not_sendable")


def test_a_filled_template_keeps_what_the_send_needs() -> None:
    filled = service.validate_and_fill(REMINDER, ["Juana", "$1.500"])
    assert filled.body == "Hola Juana, tu pago de $1.500 vence mañana."
    assert filled.template == {
        "name": "payment_reminder",
        "language": "es_AR",
        "category": "UTILITY",
        "variables": {"body": ["Juana", "$1.500"], "buttons": []},
        "otp": False,
    }
    tracking = service.validate_and_fill(_row(ACCOUNT[5]), ["AB123", "AB123-x"])
    assert tracking.body == "Tu envío AB123 está en camino."
    assert tracking.template["variables"] == {
        "body": ["AB123"],
        "buttons": [{"index": 0, "subType": "url", "value": "AB123-x"}],
    }
    named = service.validate_and_fill(_row(ACCOUNT[6]), ["Juana"])
    assert named.body == "Hola Juana, gracias por escribir. Juana, ¿algo más?"
    assert named.template["variables"]["bodyNames"] == ["first_name"]


async def _window_closed(
    session: AsyncSession, phone: str, *, assigned_agent: str | None = None
) -> Any:
    """A conversation the customer last wrote to 30 hours ago (the window is closed) and the
    bank wrote to 2 hours ago (so it is still the customer's current conversation)."""
    chat = await f.customer_wrote(session, phone, ago=timedelta(hours=30))
    ours = datetime.now(UTC) - timedelta(hours=2)
    chat.last_message_at = ours
    chat.assigned_agent = assigned_agent
    await f.save(
        session,
        chat,
        f.message(chat, direction="OUTBOUND", status="READ", created_at=ours, body="¿Seguís ahí?"),
    )
    return chat


# --- the API -----------------------------------------------------------------------------------


@pytest.fixture
async def cloud(settings_factory: Any) -> AsyncIterator[FastAPI]:
    """The API with WhatsApp sent through the Cloud API (emulated), without its worker."""
    application = create_app(
        settings_factory(WHATSAPP_PROVIDER="cloud"), migrate=False, with_worker=False
    )
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def admin(cloud: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    http = await auth.token_client(cloud, "admin", Role.ADMIN)
    yield http
    await http.aclose()


def _template(name: str = "payment_reminder", *variables: str) -> dict[str, Any]:
    return {"name": name, "language": "es_AR", "variables": list(variables)}


async def test_the_registry_is_listed_to_anyone_signed_in_with_filters_and_paging(
    app: FastAPI, people: dict[str, httpx.AsyncClient], anonymous: httpx.AsyncClient, registry: Any
) -> None:
    ana = people["ana"]
    listed = await ana.get("/api/whatsapp/templates")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [(t["name"], t["language"]) for t in body["items"]][:3] == [
        ("card_promo", "es_AR"),
        ("greeting", "es_AR"),
        ("old_notice", "es_AR"),
    ]
    assert body["hasMore"] is False
    assert len(body["items"]) == 7
    tracking = next(t for t in body["items"] if t["name"] == "tracking")
    assert (tracking["bodyVariables"], tracking["buttonVariables"]) == (1, 1)
    assert tracking["present"] is True
    assert tracking["status"] == "APPROVED"
    approved = (await ana.get("/api/whatsapp/templates?status=approved")).json()["items"]
    assert {t["status"] for t in approved} == {"APPROVED"}
    assert len(approved) == 5
    utility = await ana.get("/api/whatsapp/templates?category=UTILITY&language=en_US")
    assert [t["language"] for t in utility.json()["items"]] == ["en_US"]
    page = (await ana.get("/api/whatsapp/templates?limit=2&skip=2")).json()
    assert (len(page["items"]), page["hasMore"], page["skip"]) == (2, True, 2)
    assert (await anonymous.get("/api/whatsapp/templates")).status_code == 401
    bad = await ana.get("/api/whatsapp/templates?language=es%00AR")
    assert bad.status_code == 422


async def test_only_admins_ask_for_a_sync_and_it_is_queued_not_run(
    cloud: FastAPI, admin: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    agent = await auth.token_client(cloud, "ana", Role.AGENT)
    supervisor = await auth.token_client(cloud, "sup", Role.SUPERVISOR)
    assert (await agent.post("/api/whatsapp/templates/sync")).status_code == 403
    assert (await supervisor.post("/api/whatsapp/templates/sync")).status_code == 403
    await agent.aclose()
    await supervisor.aclose()
    queue = cloud.state.runtime.queue
    before = await queue.count("queued")
    asked = await admin.post("/api/whatsapp/templates/sync")
    assert asked.status_code == 202, asked.text
    assert asked.json() == {"status": "QUEUED"}
    assert await queue.count("queued") == before + 1
    # The web request called no provider: nothing synced yet.
    assert await _rows(session_factory) == {}


async def test_without_the_cloud_api_templates_are_unavailable(
    client: httpx.AsyncClient, registry: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """WHATSAPP_PROVIDER=builderbot (the default): 409 templates_unavailable, nothing stored."""
    sync = await client.post("/api/whatsapp/templates/sync")
    assert (sync.status_code, sync.json()["error"]["code"]) == (409, "templates_unavailable")
    send = await client.post(
        "/api/whatsapp/send",
        json={"to": PHONE, "template": _template("payment_reminder", "a", "b")},
    )
    assert (send.status_code, send.json()["error"]["code"]) == (409, "templates_unavailable")
    async with session_factory() as session:
        assert (await session.scalars(select(Message))).all() == []


async def test_a_template_goes_outside_the_window_and_keeps_its_text_and_variables(
    admin: httpx.AsyncClient, registry: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        chat = await _window_closed(session, PHONE)
    free = await admin.post("/api/whatsapp/send", json={"to": PHONE, "body": "Hola"})
    assert free.json()["error"]["code"] == "whatsapp_window_closed"
    sent = await admin.post(
        "/api/whatsapp/send",
        json={"to": PHONE, "template": _template("payment_reminder", "Juana", "$1.500,00")},
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["status"] == "QUEUED"
    async with session_factory() as session:
        message = await session.get(Message, uuid.UUID(sent.json()["messageId"]))
    assert message is not None
    assert message.interaction_id == chat.id
    assert message.body == "Hola Juana, tu pago de $1.500,00 vence mañana."
    assert message.template == {
        "name": "payment_reminder",
        "language": "es_AR",
        "category": "UTILITY",
        "variables": {"body": ["Juana", "$1.500,00"], "buttons": []},
        "otp": False,
    }
    assert message.status.value == "QUEUED"
    assert message.direction.value == "OUTBOUND"
    audit = (await _audits(session_factory, "whatsapp.send_template"))[-1]
    assert audit.metadata_["template"] == "payment_reminder"
    assert PHONE not in str(audit.metadata_)  # masked
    detail = (await admin.get(f"/api/interactions/{chat.id}")).json()
    assert detail["messages"][-1]["body"].startswith("Hola Juana")


async def test_a_template_to_a_customer_silent_for_a_day_opens_a_new_conversation(
    admin: httpx.AsyncClient, registry: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        old = await f.customer_wrote(session, PHONE, ago=timedelta(hours=30))
    sent = await admin.post(
        "/api/whatsapp/send",
        json={"to": PHONE, "template": _template("payment_reminder", "Juana", "$1")},
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["interactionId"] != str(old.id)
    detail = (await admin.get(f"/api/interactions/{sent.json()['interactionId']}")).json()
    assert (detail["channel"], detail["direction"]) == ("WHATSAPP", "OUTBOUND")
    assert detail["provider"] == "WHATSAPP_CLOUD"


@pytest.mark.parametrize(
    ("template", "status", "code", "field"),
    [
        (
            _template("payment_reminder", "Juana"),
            422,
            "validation_error",
            "body.template.variables",
        ),
        (
            _template("payment_reminder", "Juana", "a\nb"),
            422,
            "validation_error",
            "body.template.variables[1]",
        ),
        (
            _template("payment_reminder", "Juana", "a     b"),
            422,
            "validation_error",
            "body.template.variables[1]",
        ),
        (
            _template("payment_reminder", "Juana", "x" * 1025),
            422,
            "validation_error",
            "body.template.variables[1]",
        ),
        (_template("card_promo", "x"), 409, "template_not_approved", None),
        (_template("no_such_template"), 422, "template_not_found", "body.template.name"),
        (
            {"name": "payment_reminder", "language": "pt_BR", "variables": ["a", "b"]},
            422,
            "template_not_found",
            "body.template.name",
        ),
        (_template("verification_code", "1", "1"), 422, "template_not_sendable", None),
    ],
)
async def test_a_template_send_that_breaks_a_rule_is_refused_before_anything_is_stored(
    admin: httpx.AsyncClient,
    registry: Any,
    session_factory: async_sessionmaker[AsyncSession],
    template: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    answer = await admin.post("/api/whatsapp/send", json={"to": PHONE, "template": template})
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    if field is not None:
        assert field in [d["field"] for d in error["details"]]
    async with session_factory() as session:
        assert (await session.scalars(select(Message))).all() == []


@pytest.mark.parametrize(
    "payload",
    [
        {"to": PHONE},
        {"to": PHONE, "body": "Hola", "template": _template("payment_reminder", "a", "b")},
        {
            "to": PHONE,
            "template": _template("payment_reminder", "a", "b"),
            "mediaUrl": "https://x.example/a.jpg",
        },
        {"to": PHONE, "template": {"name": "payment_reminder", "language": "es_AR", "x": 1}},
        {
            "to": PHONE,
            "template": {"name": "payment_reminder", "language": "es_AR", "variables": "ab"},
        },
        {"to": PHONE, "template": {"name": "p", "language": "es_AR", "variables": [1, 2]}},
        {"to": PHONE, "template": {"name": "p\u0000", "language": "es_AR", "variables": []}},
        {"to": PHONE, "template": {"name": "p", "language": "es_AR", "variables": ["a"] * 101}},
        {"to": PHONE, "template": "payment_reminder"},
    ],
)
async def test_a_malformed_send_is_a_422_with_the_envelope(
    admin: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    answer = await admin.post("/api/whatsapp/send", json=payload)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "validation_error"


async def test_an_agent_sends_templates_only_into_conversations_they_may_write(
    cloud: FastAPI, registry: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    ana = await auth.token_client(cloud, "ana", Role.AGENT)
    async with session_factory() as session:
        await _window_closed(session, PHONE, assigned_agent="bruno")
    payload = {"to": PHONE, "template": _template("payment_reminder", "Juana", "$1")}
    refused = await ana.post("/api/whatsapp/send", json=payload)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "interaction_assigned_to_other_agent"
    other = await ana.post(
        "/api/whatsapp/send", json={**payload, "assignedAgent": "bruno", "to": "+5491155550001"}
    )
    assert other.status_code == 403
    async with session_factory() as session:
        assert (
            await session.scalars(select(Message).where(Message.template.is_not(None)))
        ).all() == []
    mine = await ana.post("/api/whatsapp/send", json={**payload, "to": "+5491155550002"})
    assert mine.status_code == 202, mine.text
    await ana.aclose()


async def test_the_recipient_limit_counts_template_sends(
    settings_factory: Any, session_factory: async_sessionmaker[AsyncSession], registry: Any
) -> None:
    application = create_app(
        settings_factory(
            WHATSAPP_PROVIDER="cloud",
            OUTBOUND_RATE_LIMIT_MAX="2",
            OUTBOUND_RATE_LIMIT_WINDOW_SECONDS="600",
        ),
        migrate=False,
        with_worker=False,
    )
    async with LifespanManager(application):
        http = await auth.token_client(application, "admin", Role.ADMIN)
        payload = {"to": PHONE, "template": _template("payment_reminder", "Juana", "$1")}
        answers = [
            (await http.post("/api/whatsapp/send", json=payload)).status_code for _ in range(3)
        ]
        await http.aclose()
    assert answers == [202, 202, 429]


# --- end to end: the emulated Cloud API over real HTTP -------------------------------------------


async def _eventually(check: Any, seconds: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "waited too long"
        await asyncio.sleep(0.1)


EMULATED = {
    ("verification_code", "es_AR"): ("APPROVED", "AUTHENTICATION", 1),
    ("recordatorio_pago", "es_AR"): ("APPROVED", "UTILITY", 2),
    ("promo_prestamo", "es_AR"): ("PENDING", "MARKETING", 1),
    ("aviso_rechazado", "es_AR"): ("REJECTED", "MARKETING", None),
}


async def test_the_registry_syncs_from_the_emulator_and_a_template_reaches_it_once(
    settings_factory: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The admin's sync request runs in the worker against the emulated account; a template
    sent outside the window goes to the emulator once, with its variables, and the message
    keeps the text the customer reads."""
    async with live_app(settings_factory, WHATSAPP_PROVIDER="cloud") as live:
        asked = await live.http.post("/api/whatsapp/templates/sync")
        assert asked.status_code == 202, asked.text

        async def synced() -> dict[tuple[str, str], Any]:
            rows = await _rows(session_factory)
            return rows if len(rows) >= len(EMULATED) else {}

        rows = await _eventually(synced)
        for key, (status, category, variables) in EMULATED.items():
            assert (rows[key].status, rows[key].category) == (status, category)
            if variables is not None:
                assert rows[key].body_variables == variables
        assert rows[("recordatorio_pago", "es_AR")].provider_template_id == "400000000000002"

        async with session_factory() as session:
            chat = await _window_closed(session, PHONE)
        notices: list[dict[str, Any]] = []

        async def listen() -> None:
            async with live.http.stream("GET", "/console/stream") as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        notices.append(json.loads(line[6:]))

        listening = asyncio.create_task(listen())
        await asyncio.sleep(0.3)
        sent = await live.http.post(
            "/api/whatsapp/send",
            json={
                "to": PHONE,
                "template": {
                    "name": "recordatorio_pago",
                    "language": "es_AR",
                    "variables": ["Juana", "10 de enero"],
                },
            },
        )
        assert sent.status_code == 202, sent.text
        message_id = uuid.UUID(sent.json()["messageId"])

        async def delivered() -> Any:
            async with session_factory() as session:
                message = await session.get(Message, message_id)
            assert message is not None
            assert message.status.value != "FAILED", message.error_message
            return message if message.status.value in ("DELIVERED", "READ") else None

        message = await _eventually(delivered)
        outbox = (await live.http.get("/_emulator/whatsapp-cloud/outbox")).json()["items"]
        assert len(outbox) == 1
        [item] = outbox
        assert item["type"] == "template"
        assert item["template"]["name"] == "recordatorio_pago"
        assert item["template"]["components"] == [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Juana"},
                    {"type": "text", "text": "10 de enero"},
                ],
            }
        ]
        assert item["body"] == message.body
        assert message.body == (
            "Hola Juana, te recordamos que el vencimiento de tu tarjeta es el 10 de enero."
        )
        assert message.provider_message_id == item["id"]

        # The provider's statuses reach the console's live stream (the open thread refreshes on
        # them) and the thread marks the message.
        async def status_notice() -> bool:
            return any(
                n.get("interactionId") == str(chat.id) and n.get("type") == "message.status"
                for n in notices
            )

        await _eventually(status_notice)
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await listening
        thread = await live.http.get(f"/console/partials/inbox/conversation/{chat.id}/thread")
        assert 'data-receipt="delivered"' in thread.text or 'data-receipt="read"' in thread.text

        # The account drops a template: the next sync keeps it, no longer present.
        dropped = await live.http.delete(
            "/_emulator/whatsapp-cloud/templates", params={"name": "aviso_rechazado"}
        )
        assert dropped.status_code == 204
        assert (await live.http.post("/api/whatsapp/templates/sync")).status_code == 202

        async def gone() -> bool:
            return not (await _rows(session_factory))[("aviso_rechazado", "es_AR")].present

        await _eventually(gone)
        listed = await live.http.get("/api/whatsapp/templates", params={"status": "REJECTED"})
        assert [t["present"] for t in listed.json()["items"]] == [False]


async def test_the_cli_syncs_the_registry_from_the_account(
    database_url: str, tmp_path: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    from typer.testing import CliRunner

    from contact_center.cli import cli
    from contact_center.emulator.app import create_emulator_app
    from contact_center.emulator.state import EmulatorState
    from tests.live import serve

    async with serve(create_emulator_app(EmulatorState(target_url="http://127.0.0.1:9"))) as url:
        env = {
            "DATABASE_URL": database_url,
            "APP_ENV": "test",
            "RECORDINGS_DIR": str(tmp_path / "recordings"),
            "EMULATOR_URL": url,
            "WHATSAPP_PROVIDER": "cloud",
        }
        done = await asyncio.to_thread(
            CliRunner().invoke, cli, ["whatsapp-templates", "sync"], env=env
        )
        assert done.exit_code == 0, done.output
        assert "created 4" in done.output
        without = await asyncio.to_thread(
            CliRunner().invoke,
            cli,
            ["whatsapp-templates", "sync"],
            env={**env, "WHATSAPP_PROVIDER": "builderbot"},
        )
        assert without.exit_code == 1
    assert len(await _rows(session_factory)) == 4
    audit = (await _audits(session_factory, "whatsapp.templates.sync"))[-1]
    assert audit.actor_id.startswith("cli:")
    assert audit.metadata_["trigger"] == "cli"


TEMPLATE_SAMPLE: dict[str, Any] = {
    "to": PHONE,
    "template": {"name": "payment_reminder", "language": "es_AR", "variables": ["Juana", "$1"]},
    "assignedAgent": "admin",
    "customerRef": "c-1",
}


def _hostile_template_bodies() -> list[Any]:
    from tests.test_hostile_input import _deep, _spoiled, _with_nul, _wrong_type

    cases = []
    for kind, make in (("nul", _with_nul), ("type", _wrong_type), ("deep", _deep)):
        for field, body in _spoiled(TEMPLATE_SAMPLE, make):
            cases.append(pytest.param(body, id=f"{kind} {field}"))
    for index in (0, 1):
        body = copy.deepcopy(TEMPLATE_SAMPLE)
        body["template"]["variables"][index] = "Juana\x00"
        cases.append(pytest.param(body, id=f"nul variables[{index}]"))
        body = copy.deepcopy(TEMPLATE_SAMPLE)
        body["template"]["variables"][index] = {"text": "Juana"}
        cases.append(pytest.param(body, id=f"type variables[{index}]"))
        body = copy.deepcopy(TEMPLATE_SAMPLE)
        body["template"]["variables"][index] = "x" * 100_000
        cases.append(pytest.param(body, id=f"huge variables[{index}]"))
    return cases


@pytest.mark.parametrize("body", _hostile_template_bodies())
async def test_a_spoiled_template_send_answers_4xx_and_writes_nothing(
    admin: httpx.AsyncClient,
    registry: Any,
    session_factory: async_sessionmaker[AsyncSession],
    body: Any,
) -> None:
    answer = await admin.post("/api/whatsapp/send", json=body)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.status_code not in (401, 403, 409), answer.text
    assert set(answer.json()["error"]) == {"code", "message", "details"}
    async with session_factory() as session:
        assert (await session.scalars(select(Message))).all() == []


async def test_a_non_ascii_header_and_invalid_utf8_on_the_template_routes_answer_4xx(
    admin: httpx.AsyncClient,
) -> None:
    raw = json.dumps(TEMPLATE_SAMPLE).encode()[:-1] + b', "x": "\xff\xfe"}'
    answer = await admin.post(
        "/api/whatsapp/send", content=raw, headers={"Content-Type": "application/json"}
    )
    assert 400 <= answer.status_code < 500
    listed = await admin.get("/api/whatsapp/templates", headers={b"X-Note": "añadido".encode()})
    assert listed.status_code == 200
    for query in ("status=%00", "language=%ff", "category=" + "x" * 5000, "limit=-1", "skip=x"):
        refused = await admin.get(f"/api/whatsapp/templates?{query}")
        assert refused.status_code == 422, (query, refused.text)
