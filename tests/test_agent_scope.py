"""An agent against another agent's work: every route, page and the live stream refuses.

Ana works a WhatsApp conversation, a call (with its recording), an SMS with a signed link and an
OTP challenge asked from her call. Bruno, another agent, tries every route of the application on
them; each must refuse (404 like an unknown id, or 403 where he named a customer rather than an
interaction), and afterwards Ana's work is exactly as it was: same assignee, same timeline, same
messages. A route added later must be classified here, or the walk fails.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.links.service import create_link
from contact_center.models import InteractionEvent, Message
from contact_center.models.enums import Channel, Direction, MessageKind, Provider, Role
from contact_center.models.interaction import Interaction
from contact_center.settings import Settings
from tests import auth
from tests import factories as f
from tests.live import live_app

ANA_PHONE = "+5491155550101"  # Ana's WhatsApp customer
NEW_PHONE = "+5491155550202"  # nobody's customer yet
CONVERSATION = "conv_scope_ana_0001"
TOKEN = "tok_aaaaaaaaaaaaaaaa"  # a vault token (none is stored: the role refuses first)


@dataclass
class World:
    whatsapp: uuid.UUID
    call: uuid.UUID
    sms: uuid.UUID
    link_token: str
    challenge: uuid.UUID
    correlation: str
    ids: set[str] = field(default_factory=set[str])
    photo: uuid.UUID | None = None  # a WhatsApp message of Ana's with a stored image
    complaint: uuid.UUID | None = None  # a complaint Ana opened from her WhatsApp conversation


async def _snapshot(
    sessions: async_sessionmaker[AsyncSession], ids: list[uuid.UUID]
) -> dict[str, Any]:
    """What an agent's meddling would change: assignees, events and messages of Ana's work."""
    async with sessions() as session:
        agents = {
            str(i.id): i.assigned_agent
            for i in (await session.scalars(select(Interaction).where(Interaction.id.in_(ids))))
        }
        events = (
            await session.execute(
                select(func.count()).where(InteractionEvent.interaction_id.in_(ids))
            )
        ).scalar_one()
        messages = (
            await session.execute(select(func.count()).where(Message.interaction_id.in_(ids)))
        ).scalar_one()
    return {"agents": agents, "events": events, "messages": messages}


async def _world(app: FastAPI, ana: httpx.AsyncClient) -> World:
    sessions: async_sessionmaker[AsyncSession] = app.state.session_factory
    now = utcnow()
    whatsapp = f.interaction(
        assigned_agent="ana",
        customer_phone=ANA_PHONE,
        from_number=ANA_PHONE,
        started_at=now,
        last_message_at=now,
    )
    call = f.interaction(
        channel=Channel.CALL,
        provider=Provider.ELEVENLABS,
        provider_conversation_id=CONVERSATION,
        assigned_agent="ana",
        customer_phone=ANA_PHONE,
        started_at=now,
    )
    sms = f.interaction(
        channel=Channel.SMS,
        direction=Direction.OUTBOUND,
        provider=Provider.TWILIO,
        assigned_agent="ana",
        customer_phone=ANA_PHONE,
        to_number=ANA_PHONE,
        started_at=now,
    )
    photo_id = uuid.uuid4()
    async with sessions() as session:
        await f.save(
            session,
            whatsapp,
            call,
            sms,
            f.message(whatsapp, body="Hola, soy cliente de Ana"),
            # A Cloud API message with a fetched image (served by the media route).
            f.message(
                whatsapp,
                id=photo_id,
                body=None,
                media=[
                    {
                        "mediaId": "300000000000001",
                        "contentType": "image/png",
                        "filename": "foto.png",
                        "sha256": "ab" * 32,
                        "voice": False,
                        "stored": True,
                        "size": 3,
                    }
                ],
            ),
            f.call_detail(call),
            f.event(whatsapp),
        )
        _, url = await create_link(
            session,
            kind=MessageKind.VERIFICATION_LINK,
            interaction_id=sms.id,
            ttl_seconds=3600,
            key=app.state.runtime.keys.link_signing_key,
            frontend_url="https://banco.example",
        )
        await session.commit()
    # Ana asks for a code from her call: the challenge writes onto her call's timeline.
    created = await ana.post(
        "/api/otp",
        json={"phone": ANA_PHONE, "purpose": "LOGIN_2FA", "interactionId": str(call.id)},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    world = World(
        whatsapp.id,
        call.id,
        sms.id,
        url.rsplit("/", 1)[1],
        uuid.UUID(body["id"]),
        body["correlationId"],
    )
    world.ids = {str(whatsapp.id), str(call.id), str(sms.id)}
    world.photo = photo_id
    complaint = await ana.post(
        "/api/complaints",
        json={
            "interactionIds": [str(whatsapp.id)],
            "type": "cargo no reconocido",
            "product": "tarjeta de crédito",
            "description": "Desconoce un consumo",
        },
    )
    assert complaint.status_code == 201, complaint.text
    world.complaint = uuid.UUID(complaint.json()["id"])
    return world


# --- the walk ---------------------------------------------------------------------------------

Expect = int | tuple[int, ...]
Step = tuple[str, str, dict[str, Any], Expect]


def _steps(w: World) -> list[Step]:
    """(method, url, request options, the refusal expected) for Bruno on Ana's work."""
    wa, call, sms = w.whatsapp, w.call, w.sms
    return [
        # The interactions API: Ana's work is unknown to Bruno.
        ("GET", f"/api/interactions/{wa}", {}, 404),
        ("GET", f"/api/interactions/{call}", {"params": {"includeAllEvents": "true"}}, 404),
        ("PATCH", f"/api/interactions/{wa}", {"json": {"queue": "mine"}}, 404),
        ("PATCH", f"/api/interactions/{wa}", {"json": {"assignedAgent": "bruno"}}, 404),
        ("PATCH", f"/api/interactions/{sms}", {"json": {"status": "COMPLETED"}}, 404),
        ("POST", "/api/whatsapp/diagnostic", {"json": {"interactionId": str(wa)}}, 404),
        # The lifecycle and the notes (docs/workflow.md).
        ("POST", f"/api/interactions/{wa}/assign", {"json": {"agent": "bruno"}}, 404),
        ("POST", f"/api/interactions/{wa}/unassign", {}, 404),
        ("POST", f"/api/interactions/{wa}/transfer", {"json": {"agent": "bruno"}}, 404),
        ("POST", f"/api/interactions/{wa}/resolve", {"json": {"resolutionCode": "x"}}, 404),
        ("POST", f"/api/interactions/{sms}/reopen", {}, 404),
        (
            "POST",
            f"/api/interactions/{wa}/snooze",
            {"json": {"until": (utcnow() + timedelta(hours=1)).isoformat()}},
            404,
        ),
        ("POST", f"/api/interactions/{wa}/unsnooze", {}, 404),
        ("PUT", f"/api/interactions/{wa}/priority", {"json": {"priority": "LOW"}}, 404),
        ("PUT", f"/api/interactions/{wa}/labels", {"json": {"labels": ["x"]}}, 404),
        ("POST", f"/api/interactions/{wa}/notes", {"json": {"body": "hola"}}, 404),
        ("GET", f"/api/interactions/{call}/notes", {}, 404),
        # Her conversation's survey and repeat contact (docs/service-levels.md).
        ("GET", f"/api/interactions/{wa}/csat", {}, 404),
        # The inbox (docs/inbox.md): her conversations' read marks and presence.
        ("POST", f"/api/interactions/{wa}/read", {}, 404),
        ("POST", f"/api/interactions/{call}/read", {"json": {"messageId": None}}, 404),
        ("GET", f"/api/interactions/{wa}/presence", {}, 404),
        ("PUT", f"/api/interactions/{wa}/presence", {"json": {"typing": True}}, 404),
        ("DELETE", f"/api/interactions/{wa}/presence", {}, 404),
        # Her complaint and her conversation's complaints (docs/complaints.md).
        ("GET", f"/api/complaints/{w.complaint}", {}, 404),
        ("GET", f"/api/interactions/{wa}/complaints", {}, 404),
        (
            "POST",
            "/api/complaints",
            {
                "json": {
                    "interactionIds": [str(wa)],
                    "type": "cargo no reconocido",
                    "product": "cuenta",
                    "description": "x",
                }
            },
            404,
        ),
        ("POST", f"/api/complaints/{w.complaint}/confirm", {"json": {}}, 404),
        ("POST", f"/api/complaints/{w.complaint}/discard", {"json": {"reason": "x"}}, 404),
        ("POST", f"/api/complaints/{w.complaint}/link", {"json": {"interactionId": str(wa)}}, 404),
        ("POST", f"/api/complaints/{w.complaint}/start", {}, 404),
        ("POST", f"/api/complaints/{w.complaint}/answer", {"json": {"text": "x"}}, 404),
        ("POST", f"/api/complaints/{w.complaint}/escalate", {"json": {"reason": "x"}}, 404),
        (
            "POST",
            f"/api/complaints/{w.complaint}/report",
            {"json": {"regulatorReference": "BCRA-1"}},
            403,
        ),
        ("POST", f"/api/complaints/{w.complaint}/close", {"json": {}}, 404),
        # Service levels (docs/service-levels.md): her conversation's clocks.
        ("GET", f"/api/interactions/{wa}/sla", {}, 404),
        # A customer's media in her conversation (docs/whatsapp-cloud.md).
        ("GET", f"/api/interactions/{wa}/messages/{w.photo}/media/0", {}, 404),
        ("GET", "/api/inbox", {"params": {"view": "all"}}, 403),
        # Sends name a customer: joining Ana's conversation (and so reading it) is refused.
        ("POST", "/api/whatsapp/send", {"json": {"to": ANA_PHONE, "body": "hola"}}, 403),
        (
            "POST",
            "/api/whatsapp/send",
            {"json": {"to": ANA_PHONE, "body": "hola", "assignedAgent": "bruno"}},
            403,
        ),
        # A template into her conversation: refused (here without the Cloud API, 409 first;
        # with it, 403: tests/test_whatsapp_templates.py).
        (
            "POST",
            "/api/whatsapp/send",
            {
                "json": {
                    "to": ANA_PHONE,
                    "template": {"name": "x", "language": "es_AR", "variables": []},
                }
            },
            (403, 409),
        ),
        # The reply box's templates (docs/console.md): her conversation is unknown to him.
        ("GET", f"/console/partials/interactions/{wa}/whatsapp-templates", {}, 404),
        (
            "POST",
            f"/console/interactions/{wa}/whatsapp-template",
            {"data": {"template": str(uuid.uuid4()), "variables": ["x"]}},
            404,
        ),
        # Nobody's conversation: an agent may not hand new work to someone else.
        (
            "POST",
            "/api/whatsapp/send",
            {"json": {"to": NEW_PHONE, "body": "hola", "assignedAgent": "ana"}},
            403,
        ),
        (
            "POST",
            "/api/sms/send",
            {"json": {"to": NEW_PHONE, "body": "hola", "assignedAgent": "ana"}},
            403,
        ),
        # OTP onto Ana's timeline, or on her challenge: unknown, like an unknown id.
        (
            "POST",
            "/api/otp",
            {"json": {"phone": NEW_PHONE, "purpose": "LOGIN_2FA", "interactionId": str(call)}},
            404,
        ),
        (
            "POST",
            "/api/sms/otp",
            {"json": {"phone": NEW_PHONE, "purpose": "LOGIN_2FA", "interactionId": str(wa)}},
            404,
        ),
        (
            "POST",
            "/api/otp/verify",
            {"json": {"challengeId": str(w.challenge), "code": "000000"}},
            404,
        ),
        (
            "POST",
            "/api/otp/verify",
            {"json": {"correlationId": w.correlation, "code": "000000"}},
            404,
        ),
        # Her SMS's signed link and her call's recording.
        ("GET", f"/api/links/{w.link_token}", {}, 404),
        ("POST", f"/api/links/{w.link_token}/use", {}, 404),
        ("GET", f"/api/elevenlabs/audio/{CONVERSATION}", {}, 404),
        # Her conversation's redaction proofs; a reveal and a confirmation are not an agent's.
        ("GET", f"/api/interactions/{wa}/redactions", {}, 404),
        ("POST", f"/api/redactions/{TOKEN}/reveal", {"json": {"reason": "x" * 12}}, 403),
        ("POST", "/api/redactions/confirm", {"json": {"proofId": str(wa), "candidate": "1"}}, 403),
        (
            "POST",
            f"/console/redactions/{TOKEN}/reveal",
            {"data": {"reason": "disputa 4411 del cliente"}},
            403,
        ),
        # Provider views, sync and refresh are not an agent's.
        ("GET", "/api/elevenlabs/conversations", {}, 403),
        ("GET", f"/api/elevenlabs/conversations/{CONVERSATION}", {}, 403),
        ("POST", f"/api/elevenlabs/conversations/{CONVERSATION}/refresh", {}, 403),
        ("POST", "/api/elevenlabs/sync", {"json": {}}, 403),
        ("POST", "/api/sync/full", {"json": {}}, 403),
        # The console: pages, partials and actions.
        ("GET", f"/interactions/{wa}", {}, 404),
        ("GET", f"/console/partials/interactions/{wa}", {}, 404),
        ("GET", f"/console/partials/interactions/{wa}/workflow", {}, 404),
        ("GET", f"/console/partials/interactions/{wa}/notes", {}, 404),
        ("POST", f"/console/interactions/{wa}/reply", {"data": {"body": "hola"}}, 404),
        ("POST", f"/console/interactions/{wa}/bot", {"data": {"action": "pause"}}, 404),
        ("POST", f"/console/interactions/{wa}/sms", {"data": {"body": "hola"}}, 404),
        ("POST", f"/interactions/{wa}/reveal", {"data": {"reason": "disputa 4411"}}, (403, 404)),
        ("GET", "/customers", {"params": {"interaction": str(wa)}}, 404),
        # The inbox in the console: her conversation, open or in its partials.
        ("GET", f"/inbox/{wa}", {}, 404),
        ("GET", f"/inbox/{call}", {"params": {"hit": "transcript"}}, 404),
        ("GET", f"/console/partials/inbox/conversation/{wa}", {}, 404),
        ("GET", f"/console/partials/inbox/conversation/{wa}/thread", {}, 404),
        ("GET", f"/console/partials/inbox/conversation/{wa}/customer", {}, 404),
        ("GET", f"/console/partials/inbox/conversation/{wa}/presence", {}, 404),
    ]


# Routes whose answers are lists or pages: they answer 200 without any of Ana's work in them.
LISTINGS: list[tuple[str, dict[str, Any]]] = [
    ("/api/interactions", {"params": {"includeAllEvents": "true"}}),
    ("/api/interactions", {"params": {"assignedAgent": "ana"}}),
    (f"/api/interactions/client/{ANA_PHONE}", {}),
    ("/", {}),
    ("/dashboard", {}),
    ("/calls", {}),
    ("/whatsapp", {}),
    ("/sms", {}),
    ("/console/partials/dashboard", {}),
    ("/console/partials/calls", {}),
    ("/console/partials/whatsapp", {}),
    ("/console/partials/sms", {"params": {"assignedAgent": "ana"}}),
    ("/customers", {"params": {"phone": ANA_PHONE}}),
    ("/api/inbox", {}),
    ("/api/inbox", {"params": {"view": "unassigned", "sort": "recent"}}),
    ("/api/inbox", {"params": {"view": "resolved"}}),
    ("/api/inbox", {"params": {"view": "snoozed", "channel": "WHATSAPP"}}),
    ("/api/inbox/counts", {}),
    ("/inbox", {"params": {"view": "unassigned"}}),
    ("/console/partials/inbox/list", {"params": {"view": "mine"}}),
    ("/console/partials/inbox/list", {"params": {"view": "resolved"}}),
    ("/console/partials/inbox/views", {}),
    ("/console/partials/inbox/search", {"params": {"q": "cliente de Ana"}}),
    ("/console/partials/inbox/search", {"params": {"q": ANA_PHONE[-6:]}}),
    # Search: her message's words, her call's transcript and summary, her customer's digits.
    ("/api/search", {"params": {"q": "soy cliente de Ana"}}),
    ("/api/search", {"params": {"q": "ayudarle"}}),
    ("/api/search", {"params": {"q": "consultó su saldo"}}),
    ("/api/search", {"params": {"q": "55550101"}}),
    ("/api/complaints", {}),
    ("/api/complaints", {"params": {"owner": "ana", "status": "OPEN"}}),
]

# Routes that hold nothing of anyone's interactions, with why.
NOT_ABOUT_INTERACTIONS = {
    ("GET", "/api/me"): "the caller's own identity",
    ("GET", "/api/canned-replies"): "the bank's saved answers (tests/test_canned_replies.py)",
    ("GET", "/api/canned-replies/{reply_id}"): "the bank's saved answers",
    ("POST", "/api/canned-replies"): "supervisors only",
    ("PATCH", "/api/canned-replies/{reply_id}"): "supervisors only",
    ("DELETE", "/api/canned-replies/{reply_id}"): "supervisors only",
    ("POST", "/api/canned-replies/{reply_id}/preview"): "through the caller's scope: 404 (tested)",
    ("GET", "/canned-replies"): "supervisors only",
    ("GET", "/console/canned-replies/options"): "the bank's saved answers",
    ("GET", "/api/whatsapp/templates"): "the account's WhatsApp templates, no conversation",
    ("GET", "/admin/whatsapp-templates"): "admins only",
    ("POST", "/api/whatsapp/templates/sync"): "admins only",
    ("GET", "/api/metrics/summary"): "supervisors only (403 for agents)",
    ("GET", "/api/metrics/wallboard"): "supervisors only (403 for agents, tests/test_wallboard.py)",
    ("GET", "/wallboard"): "supervisors only",
    ("GET", "/console/wallboard/board"): "supervisors only",
    ("GET", "/reports"): "supervisors only (tests/test_reports_console.py)",
    ("GET", "/api/metrics/report"): "supervisors only (403 for agents; tests/test_reports.py)",
    ("GET", "/api/metrics/report/export"): "supervisors only (403 for agents)",
    ("GET", "/api/audit"): "admins and compliance officers (tests/test_compliance_role.py)",
    ("GET", "/api/complaints/report"): (
        "supervisors and compliance: counts, no case (403 for agents; test_complaint_report.py)"
    ),
    ("POST", "/api/redactions/{token}/reveal"): "supervisors only (403 for agents, walked)",
    ("POST", "/console/redactions/{token}/reveal"): "supervisors only (403 for agents, walked)",
    ("GET", "/api/audit/checkpoints"): "admins and compliance officers",
    # Legal holds: compliance officers and admins; agents and supervisors get 403
    # (tests/test_legal_holds.py walks each route as both).
    ("GET", "/api/legal-holds"): "compliance officers and admins only",
    ("POST", "/api/legal-holds"): "compliance officers and admins only",
    ("GET", "/api/legal-holds/{hold_id}"): "compliance officers and admins only",
    ("POST", "/api/legal-holds/{hold_id}/release"): "compliance officers and admins only",
    ("GET", "/compliance/holds"): "compliance officers and admins only",
    ("GET", "/api/interactions/{interaction_id}/holds"): "compliance officers and admins only",
    **{
        (method, "/api/data-subject-requests" + path): "compliance and admins only (403 for "
        "agents and supervisors, tests/test_subject_requests.py)"
        for method, path in (
            ("POST", ""),
            ("GET", ""),
            ("GET", "/{request_id}"),
            ("POST", "/{request_id}/review"),
            ("POST", "/{request_id}/complete"),
            ("POST", "/{request_id}/refuse"),
            ("GET", "/{request_id}/export"),
            ("GET", "/{request_id}/certificate"),
        )
    },
    ("GET", "/compliance/requests"): "compliance and admins only (the forbidden page for agents "
    "and supervisors, tests/test_subject_requests.py)",
    ("GET", "/compliance/requests/{request_id}"): "compliance and admins only",
    ("GET", "/api/webhooks"): "admins only",
    ("POST", "/api/webhooks/{delivery_id}/replay"): "admins only",
    ("GET", "/api/users"): "admins only",
    ("POST", "/api/users"): "admins only",
    ("PATCH", "/api/users/{user_id}"): "admins only",
    ("POST", "/api/users/{user_id}/password-reset"): "admins only",
    ("POST", "/api/users/{user_id}/unlock"): "admins only",
    ("GET", "/api/tokens"): "the caller's own tokens",
    ("GET", "/api/notifications"): "the caller's own notifications",
    ("GET", "/notifications"): "the caller's own notifications",
    ("GET", "/console/partials/notifications/badge"): "the caller's own notifications",
    ("POST", "/api/notifications/read-all"): "the caller's own notifications",
    ("POST", "/api/notifications/{notification_id}/read"): "the caller's own notifications",
    ("POST", "/api/tokens"): "the caller's own tokens",
    ("DELETE", "/api/tokens/{token_id}"): "the caller's own tokens",
    ("POST", "/api/sms/verification-link"): "a new, unassigned SMS to a number",
    ("POST", "/api/sms/onboarding"): "a new, unassigned SMS to a number",
    ("POST", "/api/sms/activate-card"): "a new, unassigned SMS to a number",
    ("GET", "/api/health"): "public health",
    ("GET", "/api/health/ready"): "public health",
    ("GET", "/api/health/tables"): "table names",
    ("GET", "/__whoami"): "service identity",
    ("GET", "/api/docs"): "documents",
    ("GET", "/api/openapi.json"): "documents",
    ("GET", "/console/stream"): "scoped per notice: test_the_live_stream_is_scoped_to_the_agent",
    ("GET", "/login"): "sign-in",
    ("POST", "/login"): "sign-in",
    ("POST", "/logout"): "sign-out",
    ("GET", "/account/password"): "the caller's own password",
    ("POST", "/account/password"): "the caller's own password",
    ("GET", "/admin/users"): "admins only",
    ("GET", "/admin/audit"): "admins and compliance officers",
    ("GET", "/api/teams"): "teams and their members, no conversation",
    ("GET", "/api/teams/{team_id}"): "a team and its members, no conversation",
    ("POST", "/api/teams"): "supervisors only",
    ("PATCH", "/api/teams/{team_id}"): "supervisors only",
    ("DELETE", "/api/teams/{team_id}"): "supervisors only",
    ("PUT", "/api/teams/{team_id}/members"): "supervisors only",
    ("GET", "/api/routing/rules"): "supervisors only",
    ("POST", "/api/routing/rules"): "supervisors only",
    ("DELETE", "/api/routing/rules/{rule_id}"): "supervisors only",
    ("GET", "/api/agents"): "people and their load counts, no conversation",
    ("PUT", "/api/account/availability"): "the caller's own availability",
    ("PUT", "/api/users/{user_id}/availability"): "supervisors only",
    ("PUT", "/api/users/{user_id}/capacity"): "supervisors only",
    ("GET", "/teams"): "supervisors only",
    ("GET", "/console/availability"): "the caller's own availability",
    ("GET", "/console/partials/{page}"): "the lists: walked as LISTINGS (each page by its name)",
    ("GET", "/l/{path}/{token}"): "a customer's signed link: its token decides, no session",
    ("GET", "/csat/{token}"): "a customer's survey: its token decides, no session",
    ("POST", "/csat/{token}"): "a customer's survey answer: its token decides, no session",
    ("POST", "/account/language"): "the caller's own language",
    ("GET", "/admin/service-levels"): "supervisors only",
    ("GET", "/api/business-calendar"): "supervisors only",
    ("GET", "/api/business-calendar/holidays"): "supervisors only",
    ("PUT", "/api/business-calendar/default"): "admins only",
    ("PUT", "/api/teams/{team_id}/business-hours"): "admins only",
    ("DELETE", "/api/teams/{team_id}/business-hours"): "admins only",
    ("POST", "/api/business-calendar/closed-days"): "admins only",
    ("DELETE", "/api/business-calendar/closed-days/{day}"): "admins only",
    ("GET", "/api/sla-policies"): "supervisors only",
    ("GET", "/api/sla-policies/{policy_id}"): "supervisors only",
    ("POST", "/api/sla-policies"): "admins only",
    ("PATCH", "/api/sla-policies/{policy_id}"): "admins only",
    ("DELETE", "/api/sla-policies/{policy_id}"): "admins only",
    # Complaints are scoped by their own team and owner, not by a conversation's assignee:
    # another team's agent is refused (tests/test_complaint_evidence.py,
    # tests/test_complaints_console.py).
    ("GET", "/api/complaints/{complaint_id}/evidence"): "a complaint's team or owner (tested)",
    ("GET", "/complaints"): "a complaint's team or owner (tested)",
    ("GET", "/complaints/{complaint_id}"): "a complaint's team or owner (tested)",
}
WEBHOOKS_AND_EMULATOR = ("/webhooks/", "/_emulator/")


def _template(url: str, world: World) -> str:
    """The route template a concrete URL of the walk belongs to."""
    path = url.split("?", 1)[0]
    for value, name in (
        (str(world.whatsapp), "{interaction_id}"),
        (str(world.call), "{interaction_id}"),
        (str(world.sms), "{interaction_id}"),
        (world.link_token, "{token}"),
        (CONVERSATION, "{conversationId}"),
        (ANA_PHONE, "{phone}"),
        (str(world.photo), "{message_id}"),
        (str(world.complaint), "{complaint_id}"),
    ):
        path = path.replace(value, name)
    if "/media/" in path:
        path = path.rsplit("/", 1)[0] + "/{index}"
    return path


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    # The routes of included routers are reached through their contexts (app.routes holds the
    # routers themselves).
    for context in iter_route_contexts(app.routes):
        path = str(context.path)
        if not isinstance(context.original_route, APIRoute) or path.startswith(
            WEBHOOKS_AND_EMULATOR
        ):
            continue
        for method in set(getattr(context, "methods", None) or ()) - {"HEAD"}:
            found.add((method, path))
    assert len(found) > 60, "the walk found too few routes to be checking anything"
    return found


async def test_an_agent_is_refused_on_every_route_against_another_agents_work(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    world = await _world(app, people["ana"])
    sessions = app.state.session_factory
    ids = [world.whatsapp, world.call, world.sms]
    before = await _snapshot(sessions, ids)
    bruno = people["bruno"]
    covered: set[tuple[str, str]] = set()
    for method, url, options, expected in _steps(world):
        response = await bruno.request(method, url, **options)
        wanted = expected if isinstance(expected, tuple) else (expected,)
        assert response.status_code in wanted, (method, url, response.status_code, response.text)
        asked = url + json.dumps(options)
        for value in world.ids | {ANA_PHONE, "Hola, soy cliente de Ana"}:
            # Nothing of Ana's work but what the request itself named comes back.
            assert value in asked or value not in response.text, (method, url, value)
        covered.add((method, _template(url, world)))
    for url, options in LISTINGS:
        response = await bruno.get(url, **options)
        assert response.status_code == 200, (url, response.text)
        for value in world.ids:
            assert value not in response.text, (url, value)
        covered.add(("GET", _template(url, world)))
    counted = await bruno.get("/api/interactions/count", params={"assignedAgent": "ana"})
    assert counted.json() == {"count": 0}
    covered.add(("GET", "/api/interactions/count"))
    # Ana's work is exactly as it was.
    assert await _snapshot(sessions, ids) == before
    # Every route of the application is walked here or said to hold no one's interactions.
    unclassified = _routes(app) - covered - set(NOT_ABOUT_INTERACTIONS)
    assert not unclassified, sorted(unclassified)
    # The same requests work for Ana and for a supervisor: the refusals are about scope.
    ana, sup = people["ana"], people["sup"]
    assert (await ana.get(f"/api/interactions/{world.whatsapp}")).status_code == 200
    assert (await sup.get(f"/api/interactions/{world.whatsapp}")).status_code == 200
    mine = await ana.post("/api/whatsapp/send", json={"to": ANA_PHONE, "body": "sigo yo"})
    assert mine.status_code == 202, mine.text
    assert mine.json()["interactionId"] == str(world.whatsapp)


async def test_a_send_never_takes_a_conversation_from_its_agent(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    """The reported takeover: a send with the customer's number (and `assignedAgent: self`)
    joined Ana's conversation, reassigned it and read its history."""
    world = await _world(app, people["ana"])
    bruno = people["bruno"]
    for body in (
        {"to": ANA_PHONE, "body": "hola"},
        {"to": ANA_PHONE, "body": "hola", "assignedAgent": "bruno"},
        {"to": "+54 9 11 5555-0101", "body": "hola", "assignedAgent": " bruno "},
    ):
        refused = await bruno.post("/api/whatsapp/send", json=body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "interaction_assigned_to_other_agent"
    async with app.state.session_factory() as session:
        interaction = await session.get(Interaction, world.whatsapp)
        assert interaction is not None
        assert interaction.assigned_agent == "ana"
    listed = (await bruno.get("/api/interactions", params={"channel": "WHATSAPP"})).json()
    assert str(world.whatsapp) not in {i["id"] for i in listed["items"]}
    # A supervisor may hand it over; the event says who from and to, and by whom.
    sup = people["sup"]
    moved = await sup.post(
        "/api/whatsapp/send", json={"to": ANA_PHONE, "body": "te paso", "assignedAgent": "bruno"}
    )
    assert moved.status_code == 202, moved.text
    detail = (
        await sup.get(f"/api/interactions/{world.whatsapp}", params={"includeAllEvents": "true"})
    ).json()
    assert detail["assignedAgent"] == "bruno"
    assigned = [e for e in detail["events"] if e["type"] == "agent.assigned"]
    assert assigned[-1]["normalized"] == {
        "field": "assignedAgent",
        "from": "ana",
        "to": "bruno",
        "actor": "sup",
    }
    # Now it is Bruno's, and Ana is the one refused.
    assert (await bruno.get(f"/api/interactions/{world.whatsapp}")).status_code == 200
    refused = await people["ana"].post("/api/whatsapp/send", json={"to": ANA_PHONE, "body": "x"})
    assert refused.status_code == 403


async def test_an_agent_assigns_new_sends_to_themselves_only(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    bruno = people["bruno"]
    async with app.state.session_factory() as session:
        await f.customer_wrote(session, NEW_PHONE)  # WhatsApp's 24-hour window is open
    for path in ("/api/sms/send", "/api/whatsapp/send"):
        other = await bruno.post(
            path, json={"to": NEW_PHONE, "body": "hola", "assignedAgent": "ana"}
        )
        assert other.status_code == 403, other.text
        assert other.json()["error"]["code"] == "forbidden_assignment"
        mine = await bruno.post(
            path, json={"to": NEW_PHONE, "body": "hola", "assignedAgent": "bruno"}
        )
        assert mine.status_code == 202, mine.text
        detail = await bruno.get(f"/api/interactions/{mine.json()['interactionId']}")
        assert detail.json()["assignedAgent"] == "bruno"
    # Nothing was written for the refused sends: one interaction per channel, both Bruno's.
    async with app.state.session_factory() as session:
        rows = (await session.scalars(select(Interaction))).all()
    assert sorted((r.channel.value, r.assigned_agent) for r in rows) == [
        ("SMS", "bruno"),
        ("WHATSAPP", "bruno"),
    ]
    # A supervisor assigns to anyone.
    given = await people["sup"].post(
        "/api/sms/send", json={"to": NEW_PHONE, "body": "hola", "assignedAgent": "ana"}
    )
    assert given.status_code == 202


async def test_an_unknown_and_another_agents_interaction_answer_alike_for_otp(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    """No existence oracle: the answer for another agent's id is the unknown id's, byte for
    byte but the id itself."""
    world = await _world(app, people["ana"])
    bruno = people["bruno"]
    unknown = uuid.uuid4()
    answers = []
    for interaction_id in (world.call, unknown):
        response = await bruno.post(
            "/api/otp",
            json={"phone": NEW_PHONE, "purpose": "LOGIN_2FA", "interactionId": str(interaction_id)},
        )
        answers.append((response.status_code, response.text.replace(str(interaction_id), "<id>")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 404
    # Ana's own request from her call works, and an unassigned interaction is anyone's.
    ok = await people["ana"].post(
        "/api/otp",
        json={"phone": NEW_PHONE, "purpose": "PASSWORD_RESET", "interactionId": str(world.call)},
    )
    assert ok.status_code == 201, ok.text


# --- the live stream --------------------------------------------------------------------------


async def _next_notice(lines: AsyncIterator[str], seconds: float) -> dict[str, Any] | None:
    """The next `change` notice (each notice also comes as `i-{id}`, skipped here)."""
    deadline = time.monotonic() + seconds
    kind = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            line = await asyncio.wait_for(anext(lines), timeout=left)
        except TimeoutError:
            return None
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind == "change":
            notice: dict[str, Any] = json.loads(line[6:])
            return notice


async def _ids_until(lines: AsyncIterator[str], target: uuid.UUID) -> list[str]:
    """The interactions a stream names, in order, up to `target`'s notice (or a quiet 5 s)."""
    seen: list[str] = []
    while (notice := await _next_notice(lines, 5)) is not None:
        seen.append(str(notice["interactionId"]))
        if seen[-1] == str(target):
            break
    return seen


async def test_the_live_stream_is_scoped_to_the_agent(
    settings_factory: Callable[..., Settings],
) -> None:
    async with live_app(settings_factory, with_worker=False) as live:
        sessions = live.app.state.session_factory
        ana_work = f.interaction(assigned_agent="ana")
        open_work = f.interaction(assigned_agent=None)
        async with sessions() as session:
            await f.save(session, ana_work, open_work)

        async def stream_of(username: str) -> httpx.AsyncClient:
            secret = await auth.token(sessions, username, Role.AGENT)
            return httpx.AsyncClient(base_url=live.base, timeout=30, headers=auth.bearer(secret))

        bruno_http = await stream_of("bruno")
        ana_http = await stream_of("ana")
        try:
            async with (
                bruno_http.stream("GET", "/console/stream") as bruno_stream,
                ana_http.stream("GET", "/console/stream") as ana_stream,
            ):
                bruno_lines = bruno_stream.aiter_lines()
                ana_lines = ana_stream.aiter_lines()
                assert await anext(bruno_lines) == "retry: 2000"
                assert await anext(ana_lines) == "retry: 2000"
                patch = await live.http.patch(
                    f"/api/interactions/{ana_work.id}", json={"queue": "tarjetas"}
                )
                assert patch.status_code == 200
                heard = await _next_notice(ana_lines, 5)
                assert heard is not None
                assert heard["interactionId"] == str(ana_work.id)
                assert set(heard) == {"interactionId", "type", "channel"}
                patch = await live.http.patch(
                    f"/api/interactions/{open_work.id}", json={"queue": "general"}
                )
                assert patch.status_code == 200
                # Bruno's first notice is the unassigned one: Ana's never reached him.
                assert await _ids_until(bruno_lines, open_work.id) == [str(open_work.id)]
                # A supervisor moves Ana's work to Bruno: both hear it (she loses it).
                moved = await live.http.patch(
                    f"/api/interactions/{ana_work.id}", json={"assignedAgent": "bruno"}
                )
                assert moved.status_code == 200
                assert await _ids_until(bruno_lines, ana_work.id) == [str(ana_work.id)]
                assert (await _ids_until(ana_lines, ana_work.id))[-1:] == [str(ana_work.id)]
                # From now on Ana hears nothing of it.
                await live.http.patch(f"/api/interactions/{ana_work.id}", json={"queue": "x"})
                await live.http.patch(f"/api/interactions/{open_work.id}", json={"queue": "y"})
                heard_after = await _ids_until(ana_lines, open_work.id)
                assert heard_after[-1:] == [str(open_work.id)]
                assert str(ana_work.id) not in heard_after
        finally:
            await bruno_http.aclose()
            await ana_http.aclose()
