"""HTTP routes of the interactions API (docs/api.md)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Query

from contact_center.auth.reveal import IncludePII, RevealAsk, RevealReason, check_reveal
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.interactions import service, workflow
from contact_center.interactions.query import InteractionFiltersDep
from contact_center.interactions.schemas import (
    AssignRequest,
    CustomerProfile,
    InteractionCount,
    InteractionDetailOut,
    InteractionPage,
    InteractionPatch,
    LabelsRequest,
    PriorityRequest,
    ResolveRequest,
    SnoozeRequest,
    TransferRequest,
)
from contact_center.schemas import ERROR_RESPONSES
from contact_center.web import RuntimeDep, valid_phone

router = APIRouter(prefix="/api/interactions", tags=["interactions"], responses=ERROR_RESPONSES)


IncludeAllEvents = Annotated[bool, Query(alias="includeAllEvents")]
IncludeAllMessages = Annotated[bool, Query(alias="includeAllMessages")]


@router.get("", response_model=InteractionPage, summary="List interactions")
async def list_interactions(
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    filters: InteractionFiltersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    include_all_events: IncludeAllEvents = False,
    include_all_messages: IncludeAllMessages = False,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> InteractionPage:
    """Newest activity first (updatedAt desc, then id). Phones are masked unless revealed.
    An agent sees their own and unassigned interactions."""
    return await service.list_for(
        session,
        settings,
        context,
        filters,
        RevealAsk(include_pii, reveal_reason),
        limit=limit,
        skip=skip,
        all_messages=include_all_messages,
        all_events=include_all_events,
    )


@router.get("/count", response_model=InteractionCount, summary="Count interactions")
async def count_interactions(
    session: SessionDep, filters: InteractionFiltersDep, context: AuditContextDep
) -> InteractionCount:
    return InteractionCount(
        count=await service.count_interactions(session, filters, viewer=context.principal)
    )


@router.get(
    "/client/{phone}", response_model=CustomerProfile, summary="Customer profile by phone number"
)
async def customer_profile(
    phone: str,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    include_all_events: IncludeAllEvents = False,
    include_all_messages: IncludeAllMessages = False,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> CustomerProfile:
    """The phone may be written in any common format; it is normalised to E.164."""
    return await service.profile_for(
        session,
        settings,
        context,
        valid_phone(settings, phone, field="path.phone"),
        RevealAsk(include_pii, reveal_reason),
        all_messages=include_all_messages,
        all_events=include_all_events,
    )


@router.get("/{interaction_id}", response_model=InteractionDetailOut, summary="Interaction detail")
async def get_interaction(
    interaction_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    include_all_events: IncludeAllEvents = False,
    include_all_messages: IncludeAllMessages = False,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> InteractionDetailOut:
    return await service.detail_for(
        session,
        settings,
        context,
        interaction_id,
        RevealAsk(include_pii, reveal_reason),
        all_events=include_all_events,
        all_messages=include_all_messages,
    )


@router.patch(
    "/{interaction_id}", response_model=InteractionDetailOut, summary="Update an interaction"
)
async def update_interaction(
    interaction_id: uuid.UUID,
    patch: Annotated[InteractionPatch, Body()],
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> InteractionDetailOut:
    """Assign an agent, set queue, status, outcome or intent (`null` clears). Audited, evented."""
    return await service.update_for(
        session, settings, context, interaction_id, patch, RevealAsk(include_pii, reveal_reason)
    )


# --- the lifecycle (docs/workflow.md): each answers the interaction as the detail route does --


class Operation:
    """What every lifecycle route shares: the transaction, who asks, the reveal they ask for,
    and the queue that tells the provider afterwards (the WhatsApp bot)."""

    def __init__(
        self,
        session: SessionDep,
        settings: SettingsDep,
        context: AuditContextDep,
        runtime: RuntimeDep,
        background: BackgroundTasks,
        include_pii: IncludePII = False,
        reveal_reason: RevealReason = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.context = context
        self.runtime = runtime
        self.background = background
        self.ask = RevealAsk(include_pii, reveal_reason)
        # A reveal without its reason is refused before the change is made.
        check_reveal(settings, context, self.ask)

    async def answer(
        self, interaction_id: uuid.UUID, done: Awaitable[workflow.Done]
    ) -> InteractionDetailOut:
        result = await done
        if result.bot is not None:
            # After the response, so after the commit.
            self.background.add_task(
                self.runtime.jobs.enqueue_bot_control, str(interaction_id), result.bot
            )
        # The operation read it through the caller's scope; the answer is its state after
        # the change, even when the change took it out of that scope (a transfer to a team the
        # caller is not in), masked as always unless revealed.
        return await service.detail_for(
            self.session, self.settings, self.context, interaction_id, self.ask, scoped=False
        )


OperationDep = Annotated[Operation, Depends(Operation)]
LIFECYCLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "The conversation's state does not allow it (transition_not_allowed)"}
}


@router.post(
    "/{interaction_id}/assign",
    response_model=InteractionDetailOut,
    summary="Assign a conversation to a person",
    responses=LIFECYCLE_RESPONSES,
)
async def assign(
    interaction_id: uuid.UUID, payload: Annotated[AssignRequest, Body()], op: OperationDep
) -> InteractionDetailOut:
    """An open conversation, to an active user (an agent: to themselves only)."""
    return await op.answer(
        interaction_id, workflow.assign(op.session, op.context, interaction_id, payload.agent)
    )


@router.post(
    "/{interaction_id}/unassign",
    response_model=InteractionDetailOut,
    summary="Unassign a conversation (back to its queue)",
    responses=LIFECYCLE_RESPONSES,
)
async def unassign(interaction_id: uuid.UUID, op: OperationDep) -> InteractionDetailOut:
    return await op.answer(
        interaction_id, workflow.unassign(op.session, op.context, interaction_id)
    )


@router.post(
    "/{interaction_id}/transfer",
    response_model=InteractionDetailOut,
    summary="Transfer a conversation to a person or a team",
    responses=LIFECYCLE_RESPONSES,
)
async def transfer(
    interaction_id: uuid.UUID, payload: Annotated[TransferRequest, Body()], op: OperationDep
) -> InteractionDetailOut:
    """Exactly one of `agent` (assigned to them) or `teamId` (waits in that team's queue)."""
    return await op.answer(
        interaction_id,
        workflow.transfer(
            op.session, op.context, interaction_id, agent=payload.agent, team_id=payload.team_id
        ),
    )


@router.post(
    "/{interaction_id}/resolve",
    response_model=InteractionDetailOut,
    summary="Resolve a conversation",
    responses=LIFECYCLE_RESPONSES,
)
async def resolve(
    interaction_id: uuid.UUID, payload: Annotated[ResolveRequest, Body()], op: OperationDep
) -> InteractionDetailOut:
    """COMPLETED with outcome RESOLVED and the code; it leaves any queue; a paused WhatsApp bot
    resumes."""
    return await op.answer(
        interaction_id,
        workflow.resolve(op.session, op.context, interaction_id, payload.resolution_code),
    )


@router.post(
    "/{interaction_id}/reopen",
    response_model=InteractionDetailOut,
    summary="Reopen a resolved conversation",
    responses=LIFECYCLE_RESPONSES,
)
async def reopen(interaction_id: uuid.UUID, op: OperationDep) -> InteractionDetailOut:
    return await op.answer(interaction_id, workflow.reopen(op.session, op.context, interaction_id))


@router.post(
    "/{interaction_id}/snooze",
    response_model=InteractionDetailOut,
    summary="Snooze a conversation until a time",
    responses=LIFECYCLE_RESPONSES,
)
async def snooze(
    interaction_id: uuid.UUID, payload: Annotated[SnoozeRequest, Body()], op: OperationDep
) -> InteractionDetailOut:
    return await op.answer(
        interaction_id, workflow.snooze(op.session, op.context, interaction_id, payload.until)
    )


@router.post(
    "/{interaction_id}/unsnooze",
    response_model=InteractionDetailOut,
    summary="Wake a snoozed conversation now",
    responses=LIFECYCLE_RESPONSES,
)
async def unsnooze(interaction_id: uuid.UUID, op: OperationDep) -> InteractionDetailOut:
    return await op.answer(
        interaction_id, workflow.unsnooze(op.session, op.context, interaction_id)
    )


@router.put(
    "/{interaction_id}/priority",
    response_model=InteractionDetailOut,
    summary="Set a conversation's priority",
)
async def set_priority(
    interaction_id: uuid.UUID, payload: Annotated[PriorityRequest, Body()], op: OperationDep
) -> InteractionDetailOut:
    return await op.answer(
        interaction_id,
        workflow.set_priority(op.session, op.context, interaction_id, payload.priority),
    )


@router.put(
    "/{interaction_id}/labels",
    response_model=InteractionDetailOut,
    summary="Replace a conversation's labels",
)
async def set_labels(
    interaction_id: uuid.UUID, payload: Annotated[LabelsRequest, Body()], op: OperationDep
) -> InteractionDetailOut:
    return await op.answer(
        interaction_id,
        workflow.set_labels(op.session, op.context, interaction_id, payload.labels),
    )
