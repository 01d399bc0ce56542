"""HTTP routes of canned replies (docs/api.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from contact_center.auth.reveal import IncludePII, RevealAsk, RevealReason
from contact_center.canned import service
from contact_center.canned.schemas import (
    CannedReplyIn,
    CannedReplyList,
    CannedReplyOut,
    CannedReplyPatch,
    PreviewIn,
    PreviewOut,
)
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/api/canned-replies", tags=["canned replies"], responses=ERROR_RESPONSES)


@router.get("", response_model=CannedReplyList, summary="List canned replies")
async def list_replies(
    session: SessionDep,
    context: AuditContextDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    team_id: Annotated[uuid.UUID | None, Query(alias="teamId")] = None,
) -> CannedReplyList:
    """By shortcut. Agents get the global ones and their teams'; supervisors and admins all."""
    return await service.list_replies(session, context.principal, q=q, team_id=team_id)


@router.get("/{reply_id}", response_model=CannedReplyOut, summary="Get a canned reply")
async def get_reply(
    reply_id: uuid.UUID, session: SessionDep, context: AuditContextDep
) -> CannedReplyOut:
    return await service.get_reply(session, context.principal, reply_id)


TAKEN: dict[int | str, dict[str, object]] = {
    409: {"description": "The shortcut is already used in that scope (shortcut_taken)"}
}


@router.post(
    "",
    status_code=201,
    response_model=CannedReplyOut,
    summary="Create a canned reply",
    responses=TAKEN,
)
async def create_reply(
    payload: Annotated[CannedReplyIn, Body()], session: SessionDep, context: AuditContextDep
) -> CannedReplyOut:
    """Supervisors and admins. 409 `shortcut_taken` when the scope has the shortcut."""
    return await service.create_reply(session, context, payload)


@router.patch(
    "/{reply_id}",
    response_model=CannedReplyOut,
    summary="Change a canned reply",
    responses=TAKEN,
)
async def update_reply(
    reply_id: uuid.UUID,
    payload: Annotated[CannedReplyPatch, Body()],
    session: SessionDep,
    context: AuditContextDep,
) -> CannedReplyOut:
    return await service.update_reply(session, context, reply_id, payload)


@router.delete("/{reply_id}", status_code=204, summary="Delete a canned reply")
async def delete_reply(
    reply_id: uuid.UUID, session: SessionDep, context: AuditContextDep
) -> Response:
    await service.delete_reply(session, context, reply_id)
    return Response(status_code=204)


@router.post("/{reply_id}/preview", response_model=PreviewOut, summary="Preview a canned reply")
async def preview(
    reply_id: uuid.UUID,
    payload: Annotated[PreviewIn, Body()],
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> PreviewOut:
    """The body with its variables filled for that interaction, the customer's name masked
    unless revealed. 404 for an interaction the caller may not see."""
    return await service.preview(
        session,
        settings,
        context,
        reply_id,
        payload.interaction_id,
        RevealAsk(include_pii, reveal_reason),
    )
