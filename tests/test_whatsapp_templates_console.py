"""WhatsApp templates and delivery marks in the console (docs/console.md), without a browser:
the reply box offers the approved templates once the 24-hour window has closed (only when the
Cloud API sends), sends them through the registry's rules with refusals in words, and the thread
marks our messages sent ✓, delivered ✓✓, read ✓✓ and failed ⚠ in es-AR and en."""

from __future__ import annotations

import html
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.app import create_app
from contact_center.db.base import utcnow
from contact_center.models import Interaction, Message, UserAccount, WhatsAppTemplate
from contact_center.models.enums import Direction, MessageStatus, Role
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.providers.base import TemplateInfo
from contact_center.whatsapp_templates import service
from tests import auth
from tests import factories as f
from tests.test_whatsapp_templates import ACCOUNT, Account, _window_closed

Sessions = async_sessionmaker[AsyncSession]
PHONE = "+5491155550977"


@pytest.fixture
async def cloud(settings_factory: Any, session_factory: Sessions) -> AsyncIterator[FastAPI]:
    """The app sending WhatsApp through the Cloud API (emulated), its registry synced."""
    application = create_app(
        settings_factory(WHATSAPP_PROVIDER="cloud"), migrate=False, with_worker=False
    )
    async with LifespanManager(application):
        await service.sync(session_factory, Account(ACCOUNT), SYSTEM_CONTEXT, trigger="cli")
        yield application


@pytest.fixture
async def ana(cloud: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    http = await auth.token_client(cloud, "ana", Role.AGENT)
    yield http
    await http.aclose()


async def _closed(sessions: Sessions, agent: str | None = "ana") -> uuid.UUID:
    async with sessions() as session:
        chat = await _window_closed(session, PHONE, assigned_agent=agent)
    return uuid.UUID(str(chat.id))


async def _template_id(sessions: Sessions, name: str, language: str = "es_AR") -> uuid.UUID:
    async with sessions() as session:
        found = await session.scalars(
            select(WhatsAppTemplate.id).where(
                WhatsAppTemplate.name == name, WhatsAppTemplate.language == language
            )
        )
        return found.one()


async def test_a_text_header_has_its_own_field_and_a_media_header_is_not_offered(
    ana: httpx.AsyncClient, session_factory: Sessions
) -> None:
    headed = {"type": "HEADER", "format": "TEXT", "text": "Hola {{1}}"}
    pictured = {"type": "HEADER", "format": "IMAGE"}
    account = Account(ACCOUNT)
    account.templates = [
        *ACCOUNT,
        TemplateInfo(
            "statement",
            "es_AR",
            "APPROVED",
            "UTILITY",
            [headed, {"type": "BODY", "text": "Tu resumen de {{1}}."}],
            "9",
        ),
        TemplateInfo(
            "promo_card",
            "es_AR",
            "APPROVED",
            "MARKETING",
            [pictured, {"type": "BODY", "text": "Mirá"}],
            "8",
        ),
    ]
    await service.sync(session_factory, account, SYSTEM_CONTEXT, trigger="cli")
    chat = await _closed(session_factory)
    statement = await _template_id(session_factory, "statement")
    composer = html.unescape(
        (
            await ana.get(
                f"/console/partials/interactions/{chat}/whatsapp-templates",
                params={"template": str(statement)},
            )
        ).text
    )
    assert "promo_card" not in composer
    assert composer.count('name="variables"') == 2
    assert composer.index("Encabezado {{1}}") < composer.index("Variable {{1}}")
    sent = await ana.post(
        f"/console/interactions/{chat}/whatsapp-template",
        data={"template": str(statement), "variables": ["Juana", "enero"]},
    )
    assert sent.status_code == 200, sent.text


async def test_the_reply_box_offers_approved_templates_once_the_window_closed(
    ana: httpx.AsyncClient, session_factory: Sessions
) -> None:
    chat = await _closed(session_factory)
    pane = await ana.get(f"/console/partials/inbox/conversation/{chat}")
    assert 'data-window="closed"' in pane.text
    slot = f'hx-get="/console/partials/interactions/{chat}/whatsapp-templates"'
    assert slot in pane.text
    assert f'hx-post="/console/interactions/{chat}/sms"' in pane.text  # SMS stays too
    composer = await ana.get(f"/console/partials/interactions/{chat}/whatsapp-templates")
    assert composer.status_code == 200
    text = html.unescape(composer.text)
    assert "Enviar una plantilla de WhatsApp aprobada" in text
    # The window's notice is replaced (out of band): a template or an SMS.
    assert 'id="window-notice" hx-swap-oob="true"' in text
    assert "enviá una plantilla aprobada o continuá por SMS" in text
    # Approved, present, not authentication: by name and language.
    options = [line for line in text.splitlines() if "<option" in line]
    assert [o.split(">", 1)[1].split(" · ")[0] for o in options] == [
        "greeting",
        "payment_reminder",
        "payment_reminder",
        "tracking",
    ]
    assert "verification_code" not in text
    assert "card_promo" not in text
    # The first is chosen: its text and one field per variable.
    assert "Hola {{first_name}}, gracias por escribir." in text
    assert text.count('name="variables"') == 1
    assert "Variable {{first_name}}" in text
    # Choosing another one: its fields (a URL button's value has its own label).
    tracking = await _template_id(session_factory, "tracking")
    chosen = html.unescape(
        (
            await ana.get(
                f"/console/partials/interactions/{chat}/whatsapp-templates",
                params={"template": str(tracking)},
            )
        ).text
    )
    assert chosen.count('name="variables"') == 2
    assert "Variable {{1}}" in chosen
    assert "Final del enlace del botón «Seguir»" in chosen
    assert f'value="{tracking}" selected' in chosen


async def test_without_the_cloud_api_the_reply_box_is_as_before(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    """WHATSAPP_PROVIDER=builderbot: the slot answers nothing, SMS is the way on."""
    chat = await _closed(session_factory)
    ana = people["ana"]
    composer = await ana.get(f"/console/partials/interactions/{chat}/whatsapp-templates")
    assert composer.status_code == 200
    assert composer.text == ""
    pane = await ana.get(f"/console/partials/inbox/conversation/{chat}")
    assert f'hx-post="/console/interactions/{chat}/sms"' in pane.text


async def test_a_template_sent_without_the_cloud_api_is_refused_in_words(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    chat = await _closed(session_factory)
    refused = await people["ana"].post(
        f"/console/interactions/{chat}/whatsapp-template",
        data={"template": str(uuid.uuid4()), "variables": ["x"]},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 409
    assert "no están disponibles con este proveedor" in html.unescape(refused.text)


async def test_an_open_window_offers_free_text_only(
    ana: httpx.AsyncClient, session_factory: Sessions
) -> None:
    async with session_factory() as session:
        chat = await f.customer_wrote(session, PHONE, ago=timedelta(minutes=5))
        chat.assigned_agent = "ana"
        await f.save(session, chat)
    pane = await ana.get(f"/console/partials/inbox/conversation/{chat.id}")
    assert 'data-window="open"' in pane.text
    assert "whatsapp-templates" not in pane.text


async def test_a_template_sent_from_the_console_is_stored_with_its_text(
    ana: httpx.AsyncClient, session_factory: Sessions
) -> None:
    chat = await _closed(session_factory)
    tracking = await _template_id(session_factory, "tracking")
    sent = await ana.post(
        f"/console/interactions/{chat}/whatsapp-template",
        data={"template": str(tracking), "variables": ["AB123", "AB123-x"]},
    )
    assert sent.status_code == 200, sent.text
    assert "Plantilla en cola" in sent.text
    async with session_factory() as session:
        [message] = (
            await session.scalars(select(Message).where(Message.template.is_not(None)))
        ).all()
    assert message.interaction_id == chat
    assert message.body == "Tu envío AB123 está en camino."
    assert message.template is not None
    assert message.template["variables"]["buttons"] == [
        {"index": 0, "subType": "url", "value": "AB123-x"}
    ]
    thread = await ana.get(f"/console/partials/inbox/conversation/{chat}/thread")
    assert "Tu envío AB123 está en camino." in thread.text


@pytest.mark.parametrize(
    ("name", "variables", "status", "says"),
    [
        (
            "tracking",
            ["AB123", "AB  123     x"],
            422,
            "Final del enlace del botón «Seguir»: no puede tener más de 4 espacios seguidos",
        ),
        (
            "tracking",
            ["AB123\tx", "y"],
            422,
            "Variable {{1}}: no puede tener saltos de línea ni tabulaciones",
        ),
        (
            "tracking",
            ["x" * 1025, "y"],
            422,
            "Variable {{1}}: debe tener como máximo 1024 caracteres",
        ),
        ("tracking", ["AB123"], 422, "Esta plantilla lleva 2 valores."),
        ("card_promo", ["x"], 409, "Esta plantilla no está aprobada"),
        ("verification_code", ["1", "1"], 422, "Los códigos de un solo uso los envían solo"),
    ],
)
async def test_a_refused_template_says_why_in_words_beside_the_form(
    ana: httpx.AsyncClient,
    session_factory: Sessions,
    name: str,
    variables: list[str],
    status: int,
    says: str,
) -> None:
    chat = await _closed(session_factory)
    template = await _template_id(session_factory, name)
    refused = await ana.post(
        f"/console/interactions/{chat}/whatsapp-template",
        data={"template": str(template), "variables": variables},
    )
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in refused.text
    assert says in html.unescape(refused.text)
    async with session_factory() as session:
        assert (
            await session.scalars(select(Message).where(Message.template.is_not(None)))
        ).all() == []


async def test_another_agents_conversation_is_refused(
    cloud: FastAPI, session_factory: Sessions
) -> None:
    chat = await _closed(session_factory, agent="ana")
    bruno = await auth.token_client(cloud, "bruno", Role.AGENT)
    template = await _template_id(session_factory, "greeting")
    composer = await bruno.get(f"/console/partials/interactions/{chat}/whatsapp-templates")
    assert composer.status_code == 404
    sent = await bruno.post(
        f"/console/interactions/{chat}/whatsapp-template",
        data={"template": str(template), "variables": ["Juana"]},
    )
    assert sent.status_code == 404
    await bruno.aclose()
    async with session_factory() as session:
        assert (
            await session.scalars(select(Message).where(Message.template.is_not(None)))
        ).all() == []


async def _marked(sessions: Sessions) -> uuid.UUID:
    """Ana's conversation with our messages in every state of delivery."""
    now = utcnow()
    chat = f.interaction(
        assigned_agent="ana",
        customer_phone=PHONE,
        from_number=PHONE,
        started_at=now - timedelta(minutes=10),
        last_message_at=now,
    )
    out = {"direction": Direction.OUTBOUND}
    rows = [
        f.message(chat, body="Hola", created_at=now - timedelta(minutes=9)),
        f.message(
            chat,
            **out,
            body="enviado",
            status=MessageStatus.SENT,
            created_at=now - timedelta(minutes=8),
            sent_at=now - timedelta(minutes=8),
        ),
        f.message(
            chat,
            **out,
            body="entregado",
            status=MessageStatus.DELIVERED,
            created_at=now - timedelta(minutes=7),
            delivered_at=now - timedelta(minutes=7),
        ),
        f.message(
            chat,
            **out,
            body="leído",
            status=MessageStatus.READ,
            created_at=now - timedelta(minutes=6),
            read_at=now - timedelta(minutes=5),
        ),
        f.message(
            chat,
            **out,
            body="fallido",
            status=MessageStatus.FAILED,
            error_code="131026",
            error_message="Message undeliverable: the number is not on WhatsApp",
            created_at=now - timedelta(minutes=4),
        ),
        f.message(chat, **out, body="en cola", status=MessageStatus.QUEUED, created_at=now),
    ]
    async with sessions() as session:
        await f.save(session, chat, *rows)
    return uuid.UUID(str(chat.id))


async def test_the_thread_marks_our_messages_sent_delivered_read_and_failed(
    cloud: FastAPI, ana: httpx.AsyncClient, session_factory: Sessions
) -> None:
    chat = await _marked(session_factory)
    thread = html.unescape(
        (await ana.get(f"/console/partials/inbox/conversation/{chat}/thread")).text
    )
    assert 'data-receipt="sent" aria-label="Enviado"' in thread
    assert 'data-receipt="delivered" aria-label="Entregado"' in thread
    assert 'data-receipt="read" aria-label="Leído a las ' in thread
    assert 'data-receipt="failed" aria-label="Fallido: Message undeliverable' in thread
    assert thread.count("✓✓") == 2
    assert "⚠" in thread
    assert thread.count("data-receipt=") == 4  # inbound and queued messages carry none
    # The reader's own language: English.
    english = await auth.token_client(cloud, "eve", Role.AGENT)
    async with session_factory() as session:
        eve = (
            await session.scalars(select(UserAccount).where(UserAccount.username == "eve"))
        ).one()
        eve.language = "en"
        await session.commit()
    async with session_factory() as session:
        row = await session.get(Interaction, chat)
        assert row is not None
        row.assigned_agent = "eve"
        await session.commit()
    shown = html.unescape(
        (await english.get(f"/console/partials/inbox/conversation/{chat}/thread")).text
    )
    await english.aclose()
    assert 'aria-label="Sent"' in shown
    assert 'aria-label="Delivered"' in shown
    assert 'aria-label="Read at ' in shown
    assert 'aria-label="Failed: Message undeliverable' in shown


async def test_admins_see_the_registry_page_with_a_sync_button(
    cloud: FastAPI, ana: httpx.AsyncClient
) -> None:
    admin = await auth.token_client(cloud, "admin", Role.ADMIN)
    listed = await admin.get("/admin/whatsapp-templates")
    assert listed.status_code == 200
    text = html.unescape(listed.text)
    assert "Plantillas de WhatsApp" in text
    assert 'data-api="/api/whatsapp/templates/sync"' in text
    assert "Sincronizar" in text
    assert "payment_reminder" in text
    assert "En revisión" in text  # card_promo, PENDING
    approved = html.unescape((await admin.get("/admin/whatsapp-templates?status=APPROVED")).text)
    assert "card_promo" not in approved
    await admin.aclose()
    assert (await ana.get("/admin/whatsapp-templates")).status_code == 403
