"""The web console (docs/console.md): server-rendered pages, htmx partials and the live SSE stream.

Pages read through the same services as the API, so they show what the API shows, masked the
same way. Forms that send post JSON to the API itself (static/console.js); the few actions that
need data a page does not hold unmasked (a reply to the customer's number, taking over from the
bot) have small routes here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_date
from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from markupsafe import escape

from contact_center.auth import credentials
from contact_center.auth.middleware import SESSION_COOKIE
from contact_center.auth.reveal import resolve_reveal
from contact_center.complaint_reports import service as complaint_counts
from contact_center.console.i18n import Speaker, supported
from contact_center.console.i18n import install as install_i18n
from contact_center.console.labels import N_
from contact_center.dependencies import AuditContextDep, PrincipalDep, SessionDep, SettingsDep
from contact_center.errors import NotFound, ValidationFailed
from contact_center.interactions import service as interactions
from contact_center.interactions.query import InteractionFiltersDep
from contact_center.interactions.repository import InteractionFilters
from contact_center.live.bus import visible_to
from contact_center.messaging import bot, outbound
from contact_center.messaging.sender import whatsapp_provider
from contact_center.metrics import service as metrics
from contact_center.models.enums import Channel, Direction, InteractionStatus
from contact_center.phones import normalize_valid
from contact_center.principal import AuditContext, Principal, Role
from contact_center.runtime import Runtime
from contact_center.subject_requests import service as subject_requests
from contact_center.web import parse_day

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
STATIC_DIR = HERE / "static"
router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
STREAM_SECONDS = 300  # EventSource reconnects; bounded streams let deploys finish
HEARTBEAT_SECONDS = 15.0
CHANNEL_PAGES = {"calls": Channel.CALL, "whatsapp": Channel.WHATSAPP, "sms": Channel.SMS}
TITLES = {"calls": N_("Calls"), "whatsapp": N_("WhatsApp"), "sms": N_("SMS")}
# Polling intervals of the original console, used only when the live stream is down.
POLL = {"dashboard": "30s", "whatsapp": "10s", "calls": "30s", "sms": "30s", "detail": "5s"}


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def speaker_for(request: Request) -> Speaker:
    """The reader's language: their own choice, else the service's CONSOLE_LANGUAGE."""
    settings = request.app.state.settings
    principal: Principal | None = getattr(request.state, "principal", None)
    language = supported(principal.language if principal else None) or settings.console_language
    return Speaker(language, settings.zone)


install_i18n(templates.env)


def csrf_of(request: Request) -> str:
    """The page's CSRF token (sent back by htmx and console.js as X-CSRF-Token)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    return credentials.csrf_token(cookie[:512]) if cookie else ""


def page(request: Request, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    principal: Principal | None = getattr(request.state, "principal", None)
    speaker = context.pop("speaker", None) or speaker_for(request)
    return templates.TemplateResponse(
        request,
        name,
        {
            "speaker": speaker,
            "language": speaker.language,
            "script_messages": speaker.script_messages(),
            "bank": settings.bank_name,
            "timezone": settings.zone,
            "poll": POLL,
            "user": principal,
            "csrf": csrf_of(request),
            "auth_disabled": settings.auth_disabled,
            **context,
        },
        status_code=status_code,
    )


# --- dashboard ------------------------------------------------------------------------------


async def _dashboard_context(
    request: Request, session: SessionDep, context: AuditContext, date: str | None
) -> dict[str, Any]:
    """Supervisors and admins see the day's metrics; an agent sees their own work."""
    settings = request.app.state.settings
    day = parse_day(date, metrics.today(settings))
    principal = context.principal
    summary = (
        await metrics.summary(session, settings, day, viewer=principal)
        if principal.allows(Role.SUPERVISOR)
        else None
    )
    recent = await interactions.list_interactions(
        session,
        InteractionFilters(),
        viewer=principal,
        limit=10,
        skip=0,
        all_messages=False,
        all_events=False,
        reveal=False,
    )
    return {
        "summary": summary,
        "complaints": await complaint_counts.open_and_overdue(session, principal),
        "recent": recent.items,
        "day": day,
        "is_today": day == metrics.today(settings),
        "day_label": format_date(day, format="full", locale=speaker_for(request).locale),
    }


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    session: SessionDep,
    audit_context: AuditContextDep,
    date: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    context = await _dashboard_context(request, session, audit_context, date)
    return page(request, "dashboard.html", active="dashboard", **context)


@router.get("/console/partials/dashboard", response_class=HTMLResponse)
async def dashboard_partial(
    request: Request,
    session: SessionDep,
    audit_context: AuditContextDep,
    date: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    context = await _dashboard_context(request, session, audit_context, date)
    return page(request, "_dashboard.html", **context)


# --- channel lists --------------------------------------------------------------------------


FiltersDep = InteractionFiltersDep


async def _list_context(
    request: Request,
    session: SessionDep,
    context: AuditContext,
    filters: InteractionFilters,
    page: str,
    skip: int,
) -> dict[str, Any]:
    visible = dataclasses.replace(filters, channel=CHANNEL_PAGES[page])
    result = await interactions.list_interactions(
        session,
        visible,
        viewer=context.principal,
        limit=PAGE_SIZE,
        skip=skip,
        all_messages=False,
        all_events=False,
        reveal=False,
    )
    total = await interactions.count_interactions(session, visible, viewer=context.principal)
    query = {k: v for k, v in request.query_params.items() if k != "skip" and v}
    return {
        "page": page,
        "title": speaker_for(request).gettext(TITLES[page]),
        "statuses": [s.value for s in InteractionStatus],
        "directions": [d.value for d in Direction],
        "items": result.items,
        "total": total,
        "skip": skip,
        "limit": PAGE_SIZE,
        "has_more": result.has_more,
        "query": query,
        "prev_url": f"?{urlencode({**query, 'skip': max(0, skip - PAGE_SIZE)})}",
        "next_url": f"?{urlencode({**query, 'skip': skip + PAGE_SIZE})}",
        "partial_url": f"/console/partials/{page}?{urlencode({**query, 'skip': skip})}",
    }


Skip = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/calls", response_class=HTMLResponse)
@router.get("/whatsapp", response_class=HTMLResponse)
@router.get("/sms", response_class=HTMLResponse)
async def channel_page(
    request: Request,
    session: SessionDep,
    audit_context: AuditContextDep,
    filters: FiltersDep,
    skip: Skip = 0,
) -> HTMLResponse:
    name = request.url.path.strip("/")
    context = await _list_context(request, session, audit_context, filters, name, skip)
    return page(request, "list.html", active=name, **context)


@router.get("/console/partials/{page}", response_class=HTMLResponse)
async def channel_partial(
    name: Annotated[str, PathParam(alias="page")],
    request: Request,
    session: SessionDep,
    audit_context: AuditContextDep,
    filters: FiltersDep,
    skip: Skip = 0,
) -> HTMLResponse:
    if name not in CHANNEL_PAGES:
        raise NotFound("No such list.")
    context = await _list_context(request, session, audit_context, filters, name, skip)
    return page(request, "_list.html", **context)


# --- interaction detail ---------------------------------------------------------------------


async def _detail_context(
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    interaction_id: uuid.UUID,
    reveal_reason: str | None,
) -> dict[str, Any]:
    settings = request.app.state.settings
    detail = await interactions.get_interaction(
        session,
        interaction_id,
        all_messages=True,
        all_events=True,
        reveal=True,
        viewer=context.principal,
    )
    revealed = False
    if reveal_reason is not None:  # asked: without a reason, 422 before anything is written
        revealed = await resolve_reveal(
            session,
            settings,
            context,
            include_pii=True,
            reason=reveal_reason,
            resource="console.interaction",
            entity_type="interaction",
            entity_id=interaction_id,
        )
    shown = detail if revealed else interactions.mask_interaction(detail)
    # The detail holds every event already: no second query for the bot's state.
    paused = detail.channel is Channel.WHATSAPP and bot.bot_paused(e.type for e in detail.events)
    return {
        "item": shown,
        "revealed": revealed,
        "may_reveal": context.principal.may_reveal_pii and settings.pii_masking_enabled,
        "bot_paused": paused,
        "blocked_by": await subject_requests.blocking_conversation(session, interaction_id),
        # "Open a complaint" from this conversation (docs/complaints.md, "Console").
        "complaint_types": settings.complaint_type_list,
        "complaint_products": settings.complaint_product_list,
    }


@router.get("/interactions/{interaction_id}", response_class=HTMLResponse)
async def interaction_page(
    interaction_id: uuid.UUID, request: Request, session: SessionDep, context: AuditContextDep
) -> HTMLResponse:
    """One interaction, masked (a reveal is a POST: see `reveal_page`)."""
    data = await _detail_context(request, session, context, interaction_id, None)
    return page(request, "detail.html", active=_channel_page(data["item"].channel), **data)


@router.post("/interactions/{interaction_id}/reveal", response_class=HTMLResponse)
async def reveal_page(
    interaction_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    """The page with personal data unmasked (admins; one `pii.reveal` row per POST). The reason
    travels in the body and the session's CSRF token in the header (checked by the
    authentication middleware), never in a URL a reload or a history entry would replay."""
    data = await _detail_context(request, session, context, interaction_id, reason.strip())
    response = page(request, "detail.html", active=_channel_page(data["item"].channel), **data)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/console/partials/interactions/{interaction_id}", response_class=HTMLResponse)
async def interaction_partial(
    interaction_id: uuid.UUID, request: Request, session: SessionDep, context: AuditContextDep
) -> HTMLResponse:
    """The live part of a detail page, with its heading badge and fields panel out of band."""
    data = await _detail_context(request, session, context, interaction_id, None)
    return page(request, "_live.html", oob=True, **data)


def _channel_page(channel: Channel) -> str:
    return {Channel.CALL: "calls", Channel.WHATSAPP: "whatsapp", Channel.SMS: "sms"}[channel]


async def reply_recipient(
    session: SessionDep,
    context: AuditContext,
    interaction_id: uuid.UUID,
    runtime: Runtime,
    refusal: str,
    channels: tuple[Channel, ...] = (Channel.WHATSAPP,),
) -> str:
    """The customer number of a conversation of `channels` the caller may see (404 otherwise),
    once the recipient's send limit allows one more message; `refusal` (422) for other
    channels."""
    # The conversation alone (not its messages and timeline): only its number is needed.
    found = await interactions.visible_interaction(session, interaction_id, context.principal)
    if found.channel not in channels or not found.customer_phone:
        raise ValidationFailed(refusal)
    await outbound.check_recipient_limit(runtime.ratelimits, found.customer_phone)
    return found.customer_phone


@router.post("/console/interactions/{interaction_id}/reply", response_class=HTMLResponse)
async def reply(
    interaction_id: uuid.UUID,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    context: AuditContextDep,
    body: Annotated[str, Form(min_length=1, max_length=4096)],
) -> HTMLResponse:
    """A WhatsApp reply from the detail page, to the conversation's customer."""
    runtime = runtime_of(request)
    customer = await reply_recipient(
        session,
        context,
        interaction_id,
        runtime,
        "Replies go to WhatsApp conversations with a customer number.",
    )
    queued = await outbound.queue_whatsapp(
        session,
        context,
        to=customer,
        body=body.strip(),
        media_url=None,
        assigned_agent=None,
        customer_ref=None,
        provider=whatsapp_provider(runtime.settings),
    )
    background.add_task(runtime.jobs.enqueue_send, str(queued.message_id), queued.attempt)
    if queued.bot is not None:
        background.add_task(
            runtime.jobs.enqueue_bot_control, str(queued.interaction_id), queued.bot
        )
    speaker = speaker_for(request)
    if queued.interaction_id != interaction_id:
        text = escape(
            speaker.gettext("This conversation had ended, so the reply opened a new one:")
        )
        link = escape(speaker.gettext("open it"))
        return HTMLResponse(
            f'<p class="notice ok" role="status">{text} '
            f'<a href="/interactions/{queued.interaction_id}">{link}</a>.</p>'
        )
    text = escape(
        speaker.gettext("Reply queued: it shows in the messages above, with its delivery status.")
    )
    return HTMLResponse(f'<p class="notice ok" role="status">{text}</p>')


@router.post("/console/interactions/{interaction_id}/bot", response_class=HTMLResponse)
async def bot_control(
    interaction_id: uuid.UUID,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    context: AuditContextDep,
    action: Annotated[str, Form(pattern="^(pause|resume)$")],
) -> Response:
    await bot.request_bot_control(
        session, context, interaction_id, "pause" if action == "pause" else "resume"
    )
    background.add_task(runtime_of(request).jobs.enqueue_bot_control, str(interaction_id), action)
    return Response(status_code=204, headers={"HX-Refresh": "true"})


# --- customer -------------------------------------------------------------------------------


@router.get("/customers", response_class=HTMLResponse)
async def customer_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    phone: Annotated[str | None, Query(max_length=64)] = None,
    interaction: Annotated[uuid.UUID | None, Query()] = None,
) -> HTMLResponse:
    """One customer's interactions across channels: by number, or by one of their interactions
    (so a masked page can link to its customer without putting the number in the URL)."""
    number = None
    error = None
    if interaction is not None:
        detail = await interactions.get_interaction(
            session,
            interaction,
            all_messages=False,
            all_events=False,
            reveal=True,
            viewer=context.principal,
        )
        number = detail.customer_phone
    elif phone:
        number = normalize_valid(phone, settings.default_phone_region)
        if number is None:
            error = speaker_for(request).gettext("That is not a valid phone number.")
    profile = None
    if number:
        profile = await interactions.customer_profile(
            session,
            number,
            all_messages=False,
            all_events=False,
            reveal=False,
            viewer=context.principal,
        )
    return page(
        request,
        "customer.html",
        active="customers",
        profile=profile,
        error=error,
        asked=phone or "",
    )


# --- the live stream ------------------------------------------------------------------------


@router.get("/console/stream")
async def stream(request: Request, principal: PrincipalDep) -> StreamingResponse:
    """Server-sent events: `change` for any interaction the caller may see, `i-{id}` for that
    one interaction. An agent's stream carries only their own and unassigned interactions."""
    bus = runtime_of(request).events

    async def events() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STREAM_SECONDS
        with bus.subscribe() as queue:
            yield b"retry: 2000\n\n"
            while loop.time() < deadline:
                if await request.is_disconnected():
                    return
                try:
                    notice = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if notice is None:
                    return
                shown = visible_to(notice, principal)
                if shown is None:
                    continue
                data = json.dumps(shown)
                yield f"event: change\ndata: {data}\n\n".encode()
                yield f"event: i-{shown.get('interactionId')}\ndata: {data}\n\n".encode()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
