"""ElevenLabs routes: proxied conversations, recordings, refresh and sync (docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import FileResponse, Response, StreamingResponse

from contact_center.audit import service as audit
from contact_center.auth.reveal import IncludePII, RevealAsk, RevealReason, check_reveal
from contact_center.calls import conversations
from contact_center.calls.schemas import (
    ConversationDetailOut,
    ConversationItemOut,
    ConversationPageOut,
    SyncIn,
    SyncOut,
)
from contact_center.calls.sync import SyncDeps, SyncFailed, SyncRequest, refresh, sync
from contact_center.dependencies import (
    ADMIN_ONLY,
    SUPERVISOR_ONLY,
    AuditContextDep,
    SessionDep,
    SettingsDep,
)
from contact_center.errors import ValidationFailed
from contact_center.interactions import service as interactions
from contact_center.interactions.schemas import InteractionDetailOut
from contact_center.principal import AuditContext
from contact_center.providers.base import ProviderError
from contact_center.runtime import Runtime
from contact_center.schemas import ERROR_RESPONSES, ErrorEnvelope
from contact_center.web import RuntimeDep, parse_moment

PROVIDER_ERRORS: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorEnvelope, "description": "ElevenLabs refused our credentials"},
    503: {"model": ErrorEnvelope, "description": "ElevenLabs unavailable (Retry-After)"},
}
router = APIRouter(tags=["elevenlabs"], responses=ERROR_RESPONSES | PROVIDER_ERRORS)

ConversationId = Annotated[
    str,
    Path(
        alias="conversationId",
        pattern=r"^[A-Za-z0-9_-]{1,128}$",
        description="The ElevenLabs conversation id",
    ),
]


@router.get(
    "/api/elevenlabs/conversations",
    response_model=ConversationPageOut,
    dependencies=SUPERVISOR_ONLY,
    summary="The provider's conversations, with our interaction id when we have the call",
)
async def list_conversations(
    runtime: RuntimeDep,
    session: SessionDep,
    settings: SettingsDep,
    cursor: Annotated[
        str | None,
        Query(max_length=2000, pattern=r"^[A-Za-z0-9_\-=.:+/]*$", description="nextCursor"),
    ] = None,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100)] = 30,
    date_from: Annotated[str | None, Query(alias="dateFrom")] = None,
    date_to: Annotated[str | None, Query(alias="dateTo")] = None,
) -> ConversationPageOut:
    start = parse_moment("dateFrom", date_from, settings, end=False) if date_from else None
    end = parse_moment("dateTo", date_to, settings, end=True) if date_to else None
    if start and end and start >= end:
        raise ValidationFailed(
            "dateFrom must be before dateTo.",
            details=[{"field": "query.dateFrom", "message": "after dateTo"}],
        )
    page = await conversations.list_conversations(
        session,
        runtime.providers.conversations,
        cursor=cursor or None,
        page_size=page_size,
        date_from=start,
        date_to=end,
    )
    return ConversationPageOut(
        items=[
            ConversationItemOut(
                conversation_id=item.summary.conversation_id,
                agent_id=item.summary.agent_id,
                agent_name=item.summary.agent_name,
                started_at=item.summary.started_at,
                duration_secs=item.summary.duration_secs,
                status=item.summary.status,
                call_successful=item.summary.call_successful,
                direction=item.summary.direction,
                interaction_id=item.interaction_id,
            )
            for item in page.items
        ],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.get(
    "/api/elevenlabs/conversations/{conversationId}",
    response_model=ConversationDetailOut,
    dependencies=SUPERVISOR_ONLY,
    summary="One conversation as the provider holds it (masked unless revealed)",
)
async def get_conversation(
    conversation_id: ConversationId,
    runtime: RuntimeDep,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> ConversationDetailOut:
    return await conversations.conversation_for(
        session,
        settings,
        context,
        runtime.providers.conversations,
        conversation_id,
        RevealAsk(include_pii, reveal_reason),
        runtime.keys.redaction,
    )


@router.get(
    "/api/elevenlabs/audio/{conversationId}",
    response_class=Response,
    summary="The call's recording: our stored copy, else the provider's",
    responses={200: {"content": {"audio/mpeg": {}}, "description": "MP3 audio"}},
)
async def get_audio(
    conversation_id: ConversationId,
    runtime: RuntimeDep,
    session: SessionDep,
    context: AuditContextDep,
    reason: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="Why a restricted recording (its transcript held card data) is "
            "played: 10 to 500 characters, kept in the audit row. Admins only.",
        ),
    ] = None,
) -> Response:
    """An agent hears the calls they may see (their own and unassigned ones). A recording
    whose transcript held a card number or a security code is for admins only, with a
    `reason` (403 `recording_restricted`, 422 `recording_reason_required`)."""
    kept_reason = await conversations.recording_access(
        session, conversation_id, context.principal, reason
    )
    path = runtime.recordings.path_for(conversation_id)
    stored = path is not None and path.is_file()
    metadata: dict[str, Any] = {"source": "stored" if stored else "provider"}
    if kept_reason is not None:
        metadata |= {"restricted": True, "reason": kept_reason}
    await audit.record(
        session,
        context,
        "call.recording.accessed",
        entity_type="conversation",
        entity_id=conversation_id,
        metadata=metadata,
    )
    # A restricted recording is not kept in any cache: each play is asked for, and audited.
    private = {"Cache-Control": "no-store"} if kept_reason is not None else {}
    if stored and path is not None:
        return FileResponse(
            path, media_type="audio/mpeg", filename=f"{conversation_id}.mp3", headers=private
        )
    body = await conversations.provider_audio(runtime.providers.audio, conversation_id)
    return StreamingResponse(
        body,
        media_type="audio/mpeg",
        headers={"Content-Disposition": f'inline; filename="{conversation_id}.mp3"', **private},
    )


@router.post(
    "/api/elevenlabs/conversations/{conversationId}/refresh",
    response_model=InteractionDetailOut,
    dependencies=ADMIN_ONLY,
    summary="Fetch one call again: transcript, summary, recording reference",
)
async def refresh_conversation(
    conversation_id: ConversationId,
    runtime: RuntimeDep,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    include_pii: IncludePII = False,
    reveal_reason: RevealReason = None,
) -> InteractionDetailOut:
    # A reveal without its reason is refused before the provider is asked.
    ask = RevealAsk(include_pii, reveal_reason)
    check_reveal(settings, context, ask)
    try:
        interaction_id = await refresh(SyncDeps.of(runtime), conversation_id, context)
    except ProviderError as error:
        raise conversations.as_app_error(error, what=f"conversation {conversation_id}") from error
    # The interaction as `GET /api/interactions/{id}` shows it (masked unless revealed).
    return await interactions.detail_for(session, settings, context, interaction_id, ask)


async def _run_sync(runtime: Runtime, body: SyncIn | None, context: AuditContext) -> SyncOut:
    wanted = body or SyncIn()
    try:
        result = await sync(
            SyncDeps.of(runtime),
            SyncRequest(
                hours=wanted.hours,
                limit=wanted.limit,
                include_details=wanted.include_details,
                trigger="api",
            ),
            context,
        )
    except SyncFailed as failed:
        raise conversations.as_app_error(failed.error, what="the conversation list") from failed
    return SyncOut(
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        failed=result.failed,
        missing_webhooks=result.missing_webhooks,
        missing_webhook_ids=result.missing_webhook_ids,
        seen=result.seen,
        duration_ms=result.duration_ms,
    )


SyncBody = Annotated[SyncIn | None, Body()]


@router.post(
    "/api/elevenlabs/sync",
    response_model=SyncOut,
    summary="Sync the provider's recent conversations (same as /api/sync/full)",
    dependencies=ADMIN_ONLY,
)
async def sync_elevenlabs(
    runtime: RuntimeDep, context: AuditContextDep, body: SyncBody = None
) -> SyncOut:
    return await _run_sync(runtime, body, context)


@router.post(
    "/api/sync/full",
    response_model=SyncOut,
    summary="Full manual sync of calls",
    dependencies=ADMIN_ONLY,
)
async def sync_full(
    runtime: RuntimeDep, context: AuditContextDep, body: SyncBody = None
) -> SyncOut:
    return await _run_sync(runtime, body, context)
