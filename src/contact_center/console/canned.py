"""Console routes of canned replies and of the WhatsApp 24-hour window (docs/workflow.md): the
supervisors' page of canned replies, the picker in the reply box, and an SMS reply to a
WhatsApp conversation's customer once WhatsApp's window has closed, or to an SMS conversation's
customer (the page does not hold the
customer's number unmasked, so the server sends it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse
from markupsafe import escape

from contact_center.canned import service as canned
from contact_center.console.pages import page, reply_recipient, runtime_of, speaker_for, templates
from contact_center.db.base import utcnow
from contact_center.dependencies import AuditContextDep, SessionDep, require
from contact_center.messaging import outbound
from contact_center.models.enums import Channel, MessageKind
from contact_center.principal import Principal, Role
from contact_center.providers.registry import twilio_credentials

router = APIRouter(include_in_schema=False)
SupervisorPage = Annotated[Principal, Depends(require(Role.SUPERVISOR))]


def _window_open(closes_at: datetime | None) -> bool:
    return closes_at is not None and closes_at > utcnow()


# `{% if item.whatsapp_window_closes_at is open_window %}` in the reply box.
templates.env.tests["open_window"] = _window_open


@router.get("/canned-replies", response_class=HTMLResponse)
async def canned_replies_page(
    request: Request, session: SessionDep, principal: SupervisorPage
) -> HTMLResponse:
    """Supervisors and admins: the canned replies, and forms to add, change and delete them."""
    replies = await canned.list_replies(session, principal, q=None, team_id=None)
    teams = await canned.teams_to_choose(session, principal)
    return page(
        request,
        "canned_replies.html",
        active="canned",
        replies=replies.items,
        teams=teams,
        team_names=dict(teams),
    )


@router.get("/console/canned-replies/options", response_class=HTMLResponse)
async def canned_reply_options(
    request: Request, session: SessionDep, context: AuditContextDep
) -> HTMLResponse:
    """The `<option>`s of the reply box's picker: the replies this person may use."""
    replies = await canned.list_replies(session, context.principal, q=None, team_id=None)
    return page(request, "_canned_options.html", replies=replies.items)


@router.post("/console/interactions/{interaction_id}/sms", response_class=HTMLResponse)
async def sms_reply(
    interaction_id: uuid.UUID,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    context: AuditContextDep,
    body: Annotated[str, Form(min_length=1, max_length=1600)],
) -> HTMLResponse:
    """An SMS to the customer of a WhatsApp conversation (after WhatsApp's 24-hour window) or
    of an SMS conversation (its reply box); calls have none."""
    runtime = runtime_of(request)
    customer = await reply_recipient(
        session,
        context,
        interaction_id,
        runtime,
        "SMS replies go to WhatsApp or SMS conversations with a customer number.",
        (Channel.WHATSAPP, Channel.SMS),
    )
    queued = await outbound.queue_sms(
        session,
        context,
        to=customer,
        body=body.strip(),
        kind=MessageKind.TEXT,
        from_number=twilio_credentials(runtime.settings).from_number,
        audit_metadata={"replyTo": str(interaction_id)},
    )
    background.add_task(runtime.jobs.enqueue_send, str(queued.message_id), queued.attempt)
    speaker = speaker_for(request)
    text = escape(speaker.gettext("SMS queued: it goes to the customer's number."))
    link = escape(speaker.gettext("open it"))
    return HTMLResponse(
        f'<p class="notice ok" role="status">{text} '
        f'<a href="/interactions/{queued.interaction_id}">{link}</a>.</p>'
    )
