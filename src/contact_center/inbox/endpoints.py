"""HTTP routes of the inbox: views, counts, read marks and presence (docs/inbox.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from contact_center.dependencies import PrincipalDep, SessionDep
from contact_center.inbox import presence, service
from contact_center.inbox.schemas import (
    InboxCountsOut,
    InboxPageOut,
    PresenceOut,
    PresenceRequest,
    ReadRequest,
    ReadStateOut,
    ViewerOut,
)
from contact_center.models.enums import Channel
from contact_center.schemas import ERROR_RESPONSES
from contact_center.web import RuntimeDep

router = APIRouter(tags=["inbox"], responses=ERROR_RESPONSES)


@router.get("/api/inbox", response_model=InboxPageOut, summary="A view of the inbox")
async def inbox(
    session: SessionDep,
    principal: PrincipalDep,
    view: Annotated[service.View, Query()] = service.View.MINE,
    team: Annotated[uuid.UUID | None, Query(description="The team view's team.")] = None,
    label: Annotated[
        str | None, Query(min_length=1, max_length=50, description="The label view's label.")
    ] = None,
    channel: Annotated[Channel | None, Query()] = None,
    sort: Annotated[service.Sort, Query()] = service.Sort.WAITING,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = service.DEFAULT_LIMIT,
    skip: Annotated[int, Query(ge=0, le=service.MAX_SKIP)] = 0,
) -> InboxPageOut:
    """Conversations of a view, inside what the caller may see: longest waiting first
    (`sort=waiting`) or newest activity first (`sort=recent`); Resolved, most recently updated
    first. An agent gets 403 for `all` and for a team they are not in (404: no such team)."""
    page = await service.list_inbox(
        session,
        principal,
        service.InboxQuery(
            view=view,
            team_id=team,
            label=label,
            channel=channel,
            sort=sort,
            limit=limit,
            skip=skip,
        ),
    )
    return InboxPageOut.model_validate(page)


@router.get(
    "/api/inbox/counts",
    response_model=InboxCountsOut,
    response_model_exclude_none=True,
    summary="The inbox views' sizes and my unread total",
)
async def inbox_counts(session: SessionDep, principal: PrincipalDep) -> InboxCountsOut:
    """`all` is present for supervisors and admins only."""
    return InboxCountsOut.model_validate(await service.counts(session, principal))


@router.post(
    "/api/interactions/{interaction_id}/read",
    response_model=ReadStateOut,
    summary="Mark a conversation read",
)
async def mark_read(
    interaction_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    payload: Annotated[ReadRequest | None, Body()] = None,
) -> ReadStateOut:
    """Up to `messageId` (a message of this conversation, else 404) or its newest message. A
    mark only moves forward. 403 for a caller who is not a person (trusted-network mode)."""
    state = await service.mark_read(
        session, principal, interaction_id, payload.message_id if payload else None
    )
    return ReadStateOut.model_validate(state)


@router.get(
    "/api/interactions/{interaction_id}/presence",
    response_model=PresenceOut,
    summary="Who is viewing or typing in a conversation",
)
async def get_presence(
    interaction_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> PresenceOut:
    found = await presence.viewers(session, runtime.presence, principal, interaction_id)
    return PresenceOut(viewers=[ViewerOut.model_validate(v) for v in found])


@router.put(
    "/api/interactions/{interaction_id}/presence",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Recorded for 30 seconds"}},
    summary="I am viewing this conversation (a heartbeat)",
)
async def put_presence(
    interaction_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    payload: Annotated[PresenceRequest | None, Body()] = None,
) -> Response:
    """Every 10 s while the conversation is open; `typing` while composing."""
    await presence.heartbeat(
        session,
        runtime.presence,
        principal,
        interaction_id,
        typing=payload.typing if payload else False,
    )
    return Response(status_code=204)


@router.delete(
    "/api/interactions/{interaction_id}/presence",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Forgotten"}},
    summary="I left this conversation",
)
async def delete_presence(
    interaction_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> Response:
    await presence.leave(session, runtime.presence, principal, interaction_id)
    return Response(status_code=204)
