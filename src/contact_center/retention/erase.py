"""Erasing conversations' data by class: the one primitive the retention purge and the
deletion requests share (docs/data-lifecycle.md, "Data classes").

It does not look at legal holds: callers keep held conversations out
(`contact_center.holds.repository`). It is idempotent (what is erased is marked, and a second
call counts 0) and keeps the rows reports and the audit trail need: the conversation, each
message (no body, no media, `purged_at` set), each event (no payload), each ledger row (no
body), each challenge (anonymized)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.media import MediaStore
from contact_center.recordings import RecordingStore
from contact_center.retention import repository
from contact_center.retention.classes import (
    ERASABLE,
    EVENT_PAYLOADS,
    MESSAGE_BODIES,
    OTP_CHALLENGES,
    RECORDINGS,
    TRANSCRIPTS,
    WEBHOOK_BODIES,
)
from contact_center.settings import Settings, load_settings


class StoredFiles:
    """Where recordings and media files are kept (RECORDINGS_DIR, MEDIA_DIR)."""

    def __init__(self, recordings: RecordingStore, media: MediaStore) -> None:
        self.recordings = recordings
        self.media = media

    @classmethod
    def of(cls, settings: Settings) -> StoredFiles:
        return cls(RecordingStore(settings.recordings_dir), MediaStore(settings.media_dir))

    async def drop_recordings(self, conversation_ids: Sequence[str]) -> None:
        paths = [self.recordings.path_for(c) for c in conversation_ids if c]
        await asyncio.to_thread(_unlink, [p for p in paths if p is not None])

    async def drop_media(self, digests: Collection[str]) -> None:
        paths = [self.media.path_for(d) for d in digests]
        await asyncio.to_thread(_unlink, [p for p in paths if p is not None])


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


async def erase_recordings(
    session: AsyncSession, detail_ids: Sequence[uuid.UUID], now: datetime, files: StoredFiles
) -> int:
    conversations = await repository.erase_recordings(session, detail_ids, now)
    await session.flush()
    await files.drop_recordings(conversations)
    return len(conversations)


async def erase_messages(
    session: AsyncSession, message_ids: Sequence[uuid.UUID], now: datetime, files: StoredFiles
) -> int:
    count, digests = await repository.erase_messages(session, message_ids, now)
    if digests:
        await session.flush()
        await files.drop_media(digests - await repository.media_in_use(session, digests))
    return count


async def erase_interactions(
    session: AsyncSession,
    interaction_ids: Sequence[uuid.UUID],
    *,
    classes: Collection[str] | None = None,
    now: datetime,
    files: StoredFiles | None = None,
) -> dict[str, int]:
    """Erase `classes` (all of ERASABLE by default) of these conversations; counts by class.
    Files (recordings, media no other message names) are removed once their rows are marked;
    `files` defaults to the directories of the settings."""
    wanted = ERASABLE if classes is None else tuple(c for c in ERASABLE if c in classes)
    unknown = set(classes or ()) - set(ERASABLE)
    if unknown:
        raise ValueError(f"unknown data classes: {sorted(unknown)}")
    stores = files or StoredFiles.of(load_settings())
    counts = dict.fromkeys(wanted, 0)
    for batch in repository.chunks(dict.fromkeys(interaction_ids)):
        details: list[uuid.UUID] = []
        if RECORDINGS in counts or TRANSCRIPTS in counts:
            details = await repository.call_details_of(session, batch)
        if WEBHOOK_BODIES in counts:
            deliveries = await repository.deliveries_of(session, batch)
            counts[WEBHOOK_BODIES] += await repository.erase_deliveries(session, deliveries, now)
        if RECORDINGS in counts:
            counts[RECORDINGS] += await erase_recordings(session, details, now, stores)
        if TRANSCRIPTS in counts:
            counts[TRANSCRIPTS] += await repository.erase_transcripts(session, details, now)
        if MESSAGE_BODIES in counts:
            messages = await repository.messages_of(session, batch)
            counts[MESSAGE_BODIES] += await erase_messages(session, messages, now, stores)
        if EVENT_PAYLOADS in counts:
            events = await repository.events_of(session, batch)
            counts[EVENT_PAYLOADS] += await repository.erase_events(session, events, now)
        if OTP_CHALLENGES in counts:
            otps = await repository.otps_of(session, batch)
            counts[OTP_CHALLENGES] += await repository.erase_otps(session, otps, now)
        await repository.release_redactions(session, batch)
    await session.flush()
    return counts
