"""HTTP routes of complaints (docs/complaints.md, "API"). Messages to the customer are queued
in the request's transaction and enqueued for the send job after the response."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query

from contact_center.complaints import service
from contact_center.complaints.schemas import (
    AnswerBody,
    ComplaintConfirm,
    ComplaintCreate,
    ComplaintDetail,
    ComplaintOut,
    LinkBody,
    OptionalReason,
    Reason,
    ReportBody,
)
from contact_center.complaints.service import Outcome, Sending
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.messaging.sender import Sender, SenderDep
from contact_center.models.enums import ComplaintStatus
from contact_center.schemas import ERROR_RESPONSES
from contact_center.settings import Settings

router = APIRouter(tags=["complaints"], responses=ERROR_RESPONSES)


def _sending(sender: Sender) -> Sending:
    return Sending(sender.runtime.templates, sender.from_number)


def _unmasked(settings: Settings) -> bool:
    return not settings.pii_masking_enabled


def _done(sender: Sender, outcome: Outcome) -> ComplaintOut:
    if outcome.message_id is not None:
        # After the response, so after the commit; if lost, the reconciler finds the row.
        sender.background.add_task(sender.runtime.jobs.enqueue_send, str(outcome.message_id), 0)
    return service.present(outcome.complaint, unmasked=_unmasked(sender.settings))


@router.post(
    "/api/complaints",
    status_code=201,
    response_model=ComplaintOut,
    summary="Open a complaint from conversations",
)
async def create_complaint(
    payload: Annotated[ComplaintCreate, Body()], sender: SenderDep
) -> ComplaintOut:
    """OPEN at once: the claim number is issued and sent to the customer (WhatsApp inside the
    24-hour window, else SMS), and the clock starts. All conversations must be the same
    customer's (422 otherwise)."""
    outcome = await service.create(
        sender.session, sender.settings, sender.context, _sending(sender), payload
    )
    return _done(sender, outcome)


@router.get("/api/complaints", response_model=list[ComplaintOut], summary="List complaints")
async def list_complaints(
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    status: Annotated[list[ComplaintStatus] | None, Query()] = None,
    overdue: bool = False,
    team_id: Annotated[uuid.UUID | None, Query(alias="teamId")] = None,
    owner: Annotated[str | None, Query(max_length=128)] = None,
    product: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=service.LIST_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[ComplaintOut]:
    """Soonest due first (drafts last); phones masked. An agent sees their teams' and their
    own."""
    return await service.list_complaints(
        session,
        context.principal,
        statuses=status or [],
        overdue=overdue,
        team_id=team_id,
        owner=owner,
        limit=limit,
        offset=offset,
        unmasked=_unmasked(settings),
        product=product,
    )


@router.get(
    "/api/complaints/{complaint_id}", response_model=ComplaintDetail, summary="One complaint"
)
async def get_complaint(
    complaint_id: uuid.UUID, session: SessionDep, settings: SettingsDep, context: AuditContextDep
) -> ComplaintDetail:
    """With its conversations, its timeline and the delivery of its messages."""
    return await service.detail(
        session, context.principal, complaint_id, unmasked=_unmasked(settings)
    )


@router.get(
    "/api/interactions/{interaction_id}/complaints",
    response_model=list[ComplaintOut],
    summary="A conversation's complaints",
)
async def interaction_complaints(
    interaction_id: uuid.UUID, session: SessionDep, settings: SettingsDep, context: AuditContextDep
) -> list[ComplaintOut]:
    return await service.of_interaction(
        session, context.principal, interaction_id, unmasked=_unmasked(settings)
    )


@router.post(
    "/api/complaints/{complaint_id}/confirm",
    response_model=ComplaintOut,
    summary="Confirm a draft",
)
async def confirm_complaint(
    complaint_id: uuid.UUID, payload: Annotated[ComplaintConfirm, Body()], sender: SenderDep
) -> ComplaintOut:
    """DRAFT → OPEN (fields may be corrected): the claim number is issued and sent."""
    outcome = await service.confirm(
        sender.session, sender.settings, sender.context, _sending(sender), complaint_id, payload
    )
    return _done(sender, outcome)


@router.post(
    "/api/complaints/{complaint_id}/discard",
    response_model=ComplaintOut,
    summary="Discard a draft",
)
async def discard_complaint(
    complaint_id: uuid.UUID, payload: Annotated[Reason, Body()], sender: SenderDep
) -> ComplaintOut:
    outcome = await service.discard(sender.session, sender.context, complaint_id, payload.reason)
    return _done(sender, outcome)


@router.post(
    "/api/complaints/{complaint_id}/link",
    response_model=ComplaintOut,
    summary="Link another conversation",
)
async def link_complaint(
    complaint_id: uuid.UUID, payload: Annotated[LinkBody, Body()], sender: SenderDep
) -> ComplaintOut:
    """A conversation of the same customer (422 otherwise)."""
    outcome = await service.link(
        sender.session, sender.context, complaint_id, payload.interaction_id
    )
    return _done(sender, outcome)


@router.post(
    "/api/complaints/{complaint_id}/start", response_model=ComplaintOut, summary="Start work"
)
async def start_complaint(complaint_id: uuid.UUID, sender: SenderDep) -> ComplaintOut:
    """OPEN → IN_PROGRESS."""
    outcome = await service.start(sender.session, sender.context, complaint_id)
    return _done(sender, outcome)


@router.post("/api/complaints/{complaint_id}/answer", response_model=ComplaintOut, summary="Answer")
async def answer_complaint(
    complaint_id: uuid.UUID, payload: Annotated[AnswerBody, Body()], sender: SenderDep
) -> ComplaintOut:
    """The answer is stored and sent to the customer: ANSWERED."""
    outcome = await service.answer(
        sender.session, sender.context, _sending(sender), complaint_id, payload.text
    )
    return _done(sender, outcome)


@router.post(
    "/api/complaints/{complaint_id}/escalate",
    response_model=ComplaintOut,
    summary="Escalate to the responsable",
)
async def escalate_complaint(
    complaint_id: uuid.UUID, payload: Annotated[Reason, Body()], sender: SenderDep
) -> ComplaintOut:
    """To the responsable de atención al usuario (COMPLAINT_RESPONSABLE): ESCALATED."""
    outcome = await service.escalate(
        sender.session, sender.settings, sender.context, complaint_id, payload.reason
    )
    return _done(sender, outcome)


@router.post(
    "/api/complaints/{complaint_id}/report",
    response_model=ComplaintOut,
    summary="Record the report to the BCRA",
)
async def report_complaint(
    complaint_id: uuid.UUID, payload: Annotated[ReportBody, Body()], sender: SenderDep
) -> ComplaintOut:
    """ESCALATED → REPORTED, with the regulator's reference (supervisors and admins)."""
    outcome = await service.report(
        sender.session, sender.context, complaint_id, payload.regulator_reference, payload.reason
    )
    return _done(sender, outcome)


@router.post("/api/complaints/{complaint_id}/close", response_model=ComplaintOut, summary="Close")
async def close_complaint(
    complaint_id: uuid.UUID, payload: Annotated[OptionalReason, Body()], sender: SenderDep
) -> ComplaintOut:
    """ANSWERED or REPORTED → CLOSED."""
    outcome = await service.close(sender.session, sender.context, complaint_id, payload.reason)
    return _done(sender, outcome)
