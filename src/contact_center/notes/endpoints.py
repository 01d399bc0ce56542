"""HTTP routes of notes and notifications (docs/api.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query

from contact_center.auth.reveal import IncludePII, RevealAsk, RevealReason, check_reveal
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.notes import service
from contact_center.notes.schemas import (
    NoteCreate,
    NoteOut,
    NotificationOut,
    NotificationPage,
    ReadAll,
)
from contact_center.schemas import ERROR_RESPONSES

router = APIRouter(tags=["notes"], responses=ERROR_RESPONSES)


@router.post(
    "/api/interactions/{interaction_id}/notes",
    status_code=201,
    response_model=NoteOut,
    summary="Add a private note to a conversation",
)
async def add_note(
    interaction_id: uuid.UUID,
    payload: Annotated[NoteCreate, Body()],
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> NoteOut:
    """Never sent to the customer. `@username` of an active user notifies them."""
    ask = RevealAsk(include_pii, reveal_reason)
    check_reveal(settings, context, ask)
    return await service.add_note(session, settings, context, interaction_id, payload.body, ask)


@router.get(
    "/api/interactions/{interaction_id}/notes",
    response_model=list[NoteOut],
    summary="A conversation's private notes",
)
async def list_notes(
    interaction_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> list[NoteOut]:
    """Oldest first; phone numbers in them masked unless revealed."""
    return await service.list_notes(
        session, settings, context, interaction_id, RevealAsk(include_pii, reveal_reason)
    )


@router.get("/api/notifications", response_model=NotificationPage, summary="My notifications")
async def notifications(
    session: SessionDep,
    context: AuditContextDep,
    unread: Annotated[bool, Query()] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    """The caller's own, newest first (`unread=true`: only those not read)."""
    return await service.notifications(session, context.principal, unread_only=unread, limit=limit)


@router.post(
    "/api/notifications/read-all", response_model=ReadAll, summary="Mark all my notifications read"
)
async def read_all(session: SessionDep, context: AuditContextDep) -> ReadAll:
    return ReadAll(marked=await service.mark_all_read(session, context.principal))


@router.post(
    "/api/notifications/{notification_id}/read",
    response_model=NotificationOut,
    summary="Mark one of my notifications read",
)
async def read_one(
    notification_id: uuid.UUID, session: SessionDep, context: AuditContextDep
) -> NotificationOut:
    return await service.mark_read(session, context.principal, notification_id)
