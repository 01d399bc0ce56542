"""Proxied reads of the provider's conversations and recordings (docs/api.md).

Provider answers map to ours: 404 → 404; 401/403 (our credentials) → 502; 429, 5xx or a timeout
after retries → 503 with `Retry-After`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.auth.reveal import RevealAsk, reveal_for
from contact_center.calls import repository
from contact_center.calls.schemas import ConversationDetailOut
from contact_center.errors import (
    AppError,
    BadGateway,
    DependencyUnavailable,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from contact_center.models.enums import Role
from contact_center.pii import mask_json
from contact_center.principal import AuditContext, Principal
from contact_center.providers.base import (
    AudioSource,
    ConversationSource,
    ConversationSummary,
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    RetryableProviderError,
)
from contact_center.providers.retry import INTERACTIVE, with_retries
from contact_center.redaction import repository as redaction_repository
from contact_center.redaction.service import RedactionKeys
from contact_center.settings import Settings
from contact_center.storable import storable

DEFAULT_RETRY_AFTER = 5


def as_app_error(error: ProviderError, *, what: str) -> AppError:
    """The answer our caller gets for a provider failure."""
    if isinstance(error, ProviderNotFound):
        return NotFound(f"ElevenLabs does not know {what}.", code="conversation_not_found")
    if isinstance(error, RetryableProviderError):
        wait = int(error.retry_after) if error.retry_after else DEFAULT_RETRY_AFTER
        return DependencyUnavailable(
            "ElevenLabs is not answering right now; try again shortly.",
            code="provider_unavailable",
            details={"provider": error.provider.value, "providerStatus": error.status},
            headers={"Retry-After": str(max(1, wait))},
        )
    if isinstance(error, ProviderAuthError):
        return BadGateway(
            "ElevenLabs refused our credentials; check ELEVENLABS_API_KEY.",
            code="provider_auth_failed",
            details={"provider": error.provider.value, "providerStatus": error.status},
        )
    return BadGateway(
        f"ElevenLabs refused the request: {error.message}",
        code="provider_error",
        details={"provider": error.provider.value, "providerStatus": error.status},
    )


@dataclass(frozen=True)
class ConversationItem:
    summary: ConversationSummary
    interaction_id: uuid.UUID | None


@dataclass(frozen=True)
class ConversationList:
    items: list[ConversationItem]
    next_cursor: str | None
    has_more: bool


async def list_conversations(
    session: AsyncSession,
    source: ConversationSource,
    *,
    cursor: str | None,
    page_size: int,
    date_from: datetime | None,
    date_to: datetime | None,
) -> ConversationList:
    try:
        page = await with_retries(
            lambda: source.list_conversations(
                cursor=cursor,
                page_size=page_size,
                started_after=date_from,
                started_before=date_to,
            ),
            INTERACTIVE,
            operation="list_conversations",
        )
    except ProviderError as error:
        if error.status in (400, 422):
            # The provider refused our query: the cursor (or the dates) the caller gave.
            raise ValidationFailed(
                "The provider refused this cursor or date range; start again without a cursor.",
                code="invalid_cursor",
                details=[{"field": "query.cursor", "message": error.message[:200]}],
            ) from error
        raise as_app_error(error, what="that cursor") from error
    known = await repository.by_conversations(session, [i.conversation_id for i in page.items])
    return ConversationList(
        items=[ConversationItem(i, known.get(i.conversation_id)) for i in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


async def get_conversation(
    session: AsyncSession, source: ConversationSource, conversation_id: str
) -> tuple[dict[str, Any], uuid.UUID | None]:
    """The provider's conversation JSON (for the detail view) and our call's id, if we hold it."""
    try:
        event = await with_retries(
            lambda: source.get_conversation(conversation_id),
            INTERACTIVE,
            operation="get_conversation",
        )
    except ProviderError as error:
        raise as_app_error(error, what=f"conversation {conversation_id}") from error
    known = await repository.by_conversations(session, [conversation_id])
    return event.raw, known.get(conversation_id)


RECORDING_REASON_MIN = 10
RECORDING_REASON_MAX = 500


def may_hear_restricted(viewer: Principal) -> bool:
    """A recording whose transcript held a card number or a security code: admins only."""
    return viewer.allows(Role.ADMIN)


async def recording_access(
    session: AsyncSession, conversation_id: str, viewer: Principal, reason: str | None
) -> str | None:
    """Whether `viewer` may hear this recording; the reason to keep in the audit row.

    An agent hears the calls they may see (their own and unassigned ones); any other recording
    answers the same 404 as a missing one. A recording whose transcript held a card number or
    a security code (`sensitive_audio`) is restricted: admins only (403
    `recording_restricted` for anyone else), with a reason of 10 to 500 characters (422
    `recording_reason_required`)."""
    call = await repository.recording_of(session, conversation_id)
    if viewer.agent_scope is not None and (call is None or not viewer.sees_assignment(*call[:2])):
        raise NotFound(
            f"No recording for conversation {conversation_id}.", code="recording_not_found"
        )
    if call is not None and call[3]:
        # Erased (docs/data-lifecycle.md, "Data classes"): not fetched from the provider either.
        raise NotFound(
            f"No recording for conversation {conversation_id}.", code="recording_not_found"
        )
    if call is None or not call[2]:
        return None
    if not may_hear_restricted(viewer):
        raise Forbidden(
            "This recording held card data (a card number or a security code): only an admin "
            "may play it, with a reason.",
            code="recording_restricted",
        )
    text = (reason or "").strip()
    if not storable(text) or not RECORDING_REASON_MIN <= len(text) <= RECORDING_REASON_MAX:
        raise ValidationFailed(
            "This recording held card data: say why you play it in the `reason` query "
            f"parameter ({RECORDING_REASON_MIN} to {RECORDING_REASON_MAX} characters).",
            code="recording_reason_required",
            details=[{"field": "query.reason", "message": "10 to 500 characters"}],
        )
    return text


async def provider_audio(source: AudioSource, conversation_id: str) -> AsyncIterator[bytes]:
    """The provider's recording, opened (and retried) before the first byte is sent, so a
    missing recording is a 404 and not a broken stream."""

    async def open_stream() -> tuple[AsyncIterator[bytes], bytes]:
        stream = source.stream_audio(conversation_id)
        try:
            first = await anext(stream)
        except StopAsyncIteration:
            return stream, b""
        except BaseException:
            await _close(stream)
            raise
        return stream, first

    try:
        stream, first = await with_retries(open_stream, INTERACTIVE, operation="stream_audio")
    except ProviderError as error:
        raise as_app_error(error, what=f"a recording of {conversation_id}") from error

    async def body() -> AsyncIterator[bytes]:
        try:
            if first:
                yield first
            async for chunk in stream:
                yield chunk
        finally:
            await _close(stream)

    return body()


async def _close(stream: AsyncIterator[bytes]) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        await closer()


async def conversation_for(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    source: ConversationSource,
    conversation_id: str,
    ask: RevealAsk,
    redaction: RedactionKeys | None = None,
) -> ConversationDetailOut:
    """One conversation as the provider holds it, masked unless a reveal is allowed (audited).

    Masked, it is also redacted as if it were stored (the provider keeps the words as said): a
    card or a security code never shows, other identifiers show as vault tokens that the audited
    reveal of a token opens (their sealed values are kept; no proof: nothing was stored)."""
    conversation, interaction_id = await get_conversation(session, source, conversation_id)
    reveal = await reveal_for(
        session,
        settings,
        context,
        ask,
        resource="elevenlabs.conversation",
        entity_type="conversation",
        entity_id=conversation_id,
    )
    if not reveal and redaction is not None:
        redactor = redaction.redactor()
        conversation = redactor.json(conversation, "conversation")
        await redaction_repository.save_sealed(session, redactor)
    return ConversationDetailOut(
        conversation_id=conversation_id,
        interaction_id=interaction_id,
        conversation=conversation if reveal else mask_json(conversation),
    )
