"""The complaints pages (docs/complaints.md, "Console"): the cases by due date with the clock's
colour, and one case with its conversations, timeline, notices, lifecycle steps and evidence.

Reads go through the complaints service (the same scope and masking as the API: an agent sees
their teams' cases and their own); the step forms post JSON to the API (`data-api`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from contact_center.complaints import service as complaints
from contact_center.complaints.schemas import ComplaintOut
from contact_center.console.labels import N_
from contact_center.console.pages import page
from contact_center.db.base import utcnow
from contact_center.dependencies import PrincipalDep, SessionDep
from contact_center.models.enums import ComplaintStatus
from contact_center.pii import mask_text
from contact_center.principal import Principal, Role
from contact_center.service_levels.calendar import Calendars
from contact_center.teams import service as teams

router = APIRouter(include_in_schema=False)

# The list shows at most this many cases (the API's own limit), filtered by the service.
LIST_SIZE = complaints.LIST_LIMIT
RUNNING = complaints.UNANSWERED
# Which steps a status allows (the service decides again when the form is sent).
STEPS = complaints.FROM
# The timeline's steps in words (the clock's own events too); others are shown as recorded.
EVENT_WORDS = {
    "opened": N_("Opened: claim number issued"),
    "drafted": N_("Draft opened from a call"),
    "confirmed": N_("Draft confirmed: claim number issued"),
    "discarded": N_("Draft discarded"),
    "linked": N_("Conversation linked"),
    "started": N_("Work started"),
    "answered": N_("Answer sent to the customer"),
    "escalated": N_("Escalated to the responsable"),
    "reported": N_("Reported to the BCRA"),
    "closed": N_("Closed"),
    "notice_queued": N_("Claim number sent to the customer"),
    "answer_queued": N_("Answer queued for the customer"),
    "notice_skipped": N_("Claim number not sent"),
    "warned": N_("Due date near"),
    "overdue": N_("Overdue"),
}


@dataclass(frozen=True)
class ClockView:
    """The clock's colour and words: `overdue` (red), `warning` (amber: inside the warning
    window), `on_time` (green), `stopped` (grey: answered, reported, closed), `draft` (none)."""

    state: str
    due_at: datetime | None
    business_days: int | None  # left (on time, warning) or past (overdue)


def clock_state(item: ComplaintOut, now: datetime) -> str:
    if item.status is ComplaintStatus.DRAFT:
        return "draft"
    if item.status not in RUNNING or item.due_at is None:
        return "stopped"
    if item.due_at <= now:
        return "overdue"
    if item.warn_at is not None and item.warn_at <= now:
        return "warning"
    return "on_time"


async def clock_of(item: ComplaintOut, calendars: Calendars, now: datetime) -> ClockView:
    state = clock_state(item, now)
    days = None
    if item.due_at is not None and state in ("overdue", "warning", "on_time"):
        calendar = await calendars.of(item.team_id)
        today = now.astimezone(calendar.zone).date()
        due = item.due_at.astimezone(calendar.zone).date()
        days = (
            calendar.business_days_between(due, today)
            if state == "overdue"
            else calendar.business_days_between(today, due)
        )
    return ClockView(state, item.due_at, days)


def _may_work(principal: Principal) -> bool:
    """Compliance reads cases; agents, supervisors and admins work them."""
    return principal.allows(Role.AGENT)


async def _team_names(session: SessionDep) -> dict[uuid.UUID, str]:
    return {t.id: t.name for t in (await teams.list_teams(session)).items}


@router.get("/complaints", response_class=HTMLResponse)
async def complaints_page(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    status: Annotated[ComplaintStatus | None, Query()] = None,
    team: Annotated[uuid.UUID | None, Query()] = None,
    product: Annotated[str | None, Query(max_length=64)] = None,
    overdue: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """The cases the caller sees, soonest due first (drafts last)."""
    settings = request.app.state.settings
    now = utcnow()
    found = await complaints.list_complaints(
        session,
        principal,
        statuses=[status] if status else [],
        overdue=overdue,
        team_id=team,
        owner=None,
        limit=LIST_SIZE,
        offset=0,
        unmasked=False,
        product=product or None,
    )
    calendars = Calendars(session, settings.app_timezone)
    rows = [(c, await clock_of(c, calendars, now)) for c in found]
    query = {
        "status": status.value if status else "",
        "team": str(team) if team else "",
        "product": product or "",
        "overdue": "1" if overdue else "",
    }
    return page(
        request,
        "complaints.html",
        active="complaints",
        rows=rows,
        statuses=list(ComplaintStatus),
        team_names=await _team_names(session),
        products=settings.complaint_product_list,
        query=query,
        filtered=any(query.values()),
    )


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
async def complaint_page(
    complaint_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> HTMLResponse:
    """One case (404 like an unknown id for a case the caller does not see)."""
    settings = request.app.state.settings
    item = await complaints.detail(session, principal, complaint_id, unmasked=False)
    # The customer's words may hold a number (the API's detail answers them as typed).
    item = item.model_copy(
        update={
            "description": mask_text(item.description),
            "answer_text": mask_text(item.answer_text) if item.answer_text else None,
        }
    )
    calendars = Calendars(session, settings.app_timezone)
    steps: dict[str, Any] = {step: item.status in allowed for step, allowed in STEPS.items()}
    return page(
        request,
        "complaint.html",
        active="complaints",
        item=item,
        clock=await clock_of(item, calendars, utcnow()),
        team_names=await _team_names(session),
        may_work=_may_work(principal),
        steps=steps,
        types=settings.complaint_type_list,
        products=settings.complaint_product_list,
        event_words=EVENT_WORDS,
    )
