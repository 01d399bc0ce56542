"""WhatsApp media named by id (the Cloud API): fetched by a job after the message is stored,
kept in the media store by its SHA-256, served to whoever may see the conversation
(docs/whatsapp-cloud.md, "Inbound").

A message with media to fetch has `next_attempt_at` set (the time its fetch is due: at once,
then after each failure with backoff); a RECEIVED message never uses that column otherwise, so
the worker's sweep finds them on the (status, next_attempt_at) index. Each item of
`message.media` ends `stored` (with our `sha256` and `size`) or with an `error`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.errors import NotFound
from contact_center.interactions.service import require_visible
from contact_center.messaging import repository
from contact_center.messaging.service import to_fetch
from contact_center.models.enums import MessageStatus
from contact_center.principal import Principal
from contact_center.providers.base import ProviderAuthError, ProviderError, ProviderNotFound

# A fetch that fails is tried again after 15 s, 30 s, 1 min, 2 min, 4 min (or the provider's
# Retry-After), then the item is marked failed. (A media id lives 7 days at Meta.)
MEDIA_MAX_ATTEMPTS = 6
MEDIA_RETRY_BASE_SECONDS = 15.0
MEDIA_RETRY_MAX_SECONDS = 3600.0
# A job that claimed a message holds it this long: a sweep meanwhile leaves it alone, and a
# job that died lets it go again.
MEDIA_FETCH_LEASE = timedelta(minutes=5)
# A job scheduled for a time may start up to a second early (whole-second schedules).
CLAIM_EARLY = timedelta(seconds=1)
EXPIRED = "The media is no longer available at the provider (expired or deleted)."


@dataclass(frozen=True)
class MediaClaim:
    message_id: uuid.UUID
    # (index in message.media, the provider's media id)
    items: list[tuple[int, str]]


@dataclass(frozen=True)
class Fetched:
    sha256: str
    size: int
    content_type: str | None


FetchResult = Fetched | ProviderError


def media_retry_delay(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return min(MEDIA_RETRY_MAX_SECONDS, max(1.0, retry_after))
    return float(min(MEDIA_RETRY_MAX_SECONDS, MEDIA_RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1)))


async def claim_media(
    session: AsyncSession, message_id: uuid.UUID, *, now: datetime, lease: timedelta
) -> MediaClaim | None:
    """The message's media still to fetch, held for this job until `now + lease`; None when
    nothing is due (another job holds it, or it is all fetched)."""
    message = await repository.message(session, message_id)
    if (
        message is None
        or message.status is not MessageStatus.RECEIVED
        or message.next_attempt_at is None
        or message.next_attempt_at > now + CLAIM_EARLY
    ):
        return None
    media = list(message.media or [])
    pending = to_fetch(media)
    if not pending:
        message.next_attempt_at = None
        return None
    message.next_attempt_at = now + lease
    return MediaClaim(message.id, [(index, str(media[index]["mediaId"])) for index in pending])


def media_settled(
    media: list[dict[str, Any]], results: dict[int, FetchResult], now: datetime
) -> tuple[list[dict[str, Any]], datetime | None]:
    """The items after a fetch (a new list: the column is replaced, not mutated) and when to
    try the ones that failed again (None: nothing left to fetch)."""
    items = [dict(item) if isinstance(item, dict) else item for item in media]
    delays: list[float] = []
    for index, result in results.items():
        item = items[index]
        if isinstance(result, Fetched):
            item.update(stored=True, sha256=result.sha256, size=result.size)
            item.pop("lastError", None)
            if not item.get("contentType") and result.content_type:
                item["contentType"] = result.content_type
            continue
        attempts = int(item.get("attempts") or 0) + 1
        item["attempts"] = attempts
        if isinstance(result, ProviderNotFound):
            item["error"] = EXPIRED
        elif not result.retryable and not isinstance(result, ProviderAuthError):
            # Trying again gets the same answer (too large, no download URL, …). Our refused
            # token is retried: fixing it lets the fetch succeed.
            item["error"] = result.message[:500]
        elif attempts >= MEDIA_MAX_ATTEMPTS:
            item["error"] = f"Could not be fetched after {attempts} attempts: {result.message}"[
                :500
            ]
        else:
            item["lastError"] = (result.code or result.message)[:200]
            delays.append(media_retry_delay(attempts, result.retry_after))
    left = to_fetch(items)
    if not left:
        return items, None
    return items, now + timedelta(seconds=min(delays) if delays else 0.0)


async def record_media(
    session: AsyncSession, message_id: uuid.UUID, results: dict[int, FetchResult], *, now: datetime
) -> datetime | None:
    """What the fetch got, on the message's items; when to try again (None: all settled)."""
    message = await repository.message(session, message_id)
    if message is None:
        return None
    items, retry_at = media_settled(list(message.media or []), results, now)
    message.media = items
    message.next_attempt_at = retry_at
    message.updated_at = max(message.updated_at, now)
    return retry_at


@dataclass(frozen=True)
class MediaDue:
    message_id: uuid.UUID
    due_at: datetime


async def due_media(session: AsyncSession, *, now: datetime, limit: int) -> list[MediaDue]:
    """Messages whose media fetch is due (for the sweep to enqueue)."""
    return [
        MediaDue(message_id, at)
        for message_id, at in await repository.media_due(session, now=now, limit=limit)
    ]


@dataclass(frozen=True)
class MediaDownload:
    sha256: str
    content_type: str | None
    filename: str | None
    voice: bool


async def stored_media(
    session: AsyncSession,
    interaction_id: uuid.UUID,
    message_id: uuid.UUID,
    index: int,
    viewer: Principal,
) -> MediaDownload:
    """A stored media item of a message in a conversation `viewer` may see; 404 otherwise
    (the same answer for another agent's conversation as for an unknown one)."""
    require_visible(
        await repository.interaction_or_none(session, interaction_id), viewer, interaction_id
    )
    message = await repository.message_in(session, interaction_id, message_id)
    media = list(message.media or []) if message is not None else []
    item = media[index] if 0 <= index < len(media) else None
    if not isinstance(item, dict) or not item.get("stored") or not item.get("sha256"):
        raise NotFound("No stored media with that index.", code="media_not_found")
    return MediaDownload(
        sha256=str(item["sha256"]),
        content_type=item.get("contentType"),
        filename=item.get("filename"),
        voice=bool(item.get("voice")),
    )
