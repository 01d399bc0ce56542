"""Retention's SQL: erasing each data class of given rows, and finding the rows the purge
erases (docs/data-lifecycle.md, "Data classes" and "Retention")."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from contact_center.holds.repository import active, covers, held_ids, not_held
from contact_center.models.call_detail import CallDetail
from contact_center.models.enums import HoldScope, OtpStatus, PurgeStatus
from contact_center.models.interaction import Interaction
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.lifecycle import LegalHold, PurgeRun
from contact_center.models.message import Message
from contact_center.models.otp_challenge import OtpChallenge
from contact_center.models.redaction import RedactionProof, RedactionVault
from contact_center.models.user_account import ConsoleSession
from contact_center.models.webhook_delivery import WebhookDelivery
from contact_center.pii import mask_phone

# IN lists are cut to this many values (SQLite's and asyncpg's parameter limits).
CHUNK = 500
# Keys of an event's `normalized` that hold what someone said or wrote: erased with the
# payload. The rest (directions, statuses, durations, scores, digests) is what reports read.
FREE_TEXT_KEYS = frozenset(
    {"body", "caption", "comment", "filename", "message", "summary", "text", "transcript"}
)
# A ledger row whose processing is over: its body is not needed to apply it any more.
FINAL_DELIVERY = ("PROCESSED", "IGNORED", "FAILED", "INVALID")
WEBHOOK_KEY = "webhook:"


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---- Erasing given rows (each only touches rows not erased yet: a second call counts 0) ----


async def erase_recordings(
    session: AsyncSession, detail_ids: Sequence[uuid.UUID], now: datetime
) -> list[str]:
    """Forget the calls' recordings; the provider conversation ids whose stored file goes."""
    rows = (
        await session.execute(
            select(CallDetail.id, Interaction.provider_conversation_id)
            .join(Interaction, Interaction.id == CallDetail.interaction_id)
            .where(
                CallDetail.id.in_(detail_ids),
                CallDetail.recording_purged_at.is_(None),
                or_(CallDetail.has_audio.is_(True), CallDetail.recording_url.is_not(None)),
            )
        )
    ).all()
    if rows:
        await session.execute(
            update(CallDetail)
            .where(CallDetail.id.in_([row[0] for row in rows]))
            .values(has_audio=False, recording_url=None, recording_purged_at=now)
            .execution_options(synchronize_session=False)
        )
    return [row[1] or "" for row in rows]


async def erase_transcripts(
    session: AsyncSession, detail_ids: Sequence[uuid.UUID], now: datetime
) -> int:
    """Empty the transcripts, summaries and analyses (the full-text index follows: triggers on
    SQLite, generated columns on PostgreSQL)."""
    result = await session.execute(
        update(CallDetail)
        .where(CallDetail.id.in_(detail_ids), CallDetail.transcript_purged_at.is_(None))
        .values(transcript=[], summary=None, analysis=None, transcript_purged_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def erase_messages(
    session: AsyncSession, message_ids: Sequence[uuid.UUID], now: datetime
) -> tuple[int, set[str]]:
    """Empty the bodies and media lists (a template keeps its name, not its variables); the
    count, and the digests of the media files they named."""
    rows = (
        await session.execute(
            select(Message.id, Message.media, Message.template).where(
                Message.id.in_(message_ids), Message.purged_at.is_(None)
            )
        )
    ).all()
    if not rows:
        return 0, set()
    digests = {
        str(item["sha256"])
        for row in rows
        for item in row[1] or []
        if isinstance(item, dict) and item.get("sha256")
    }
    await session.execute(
        update(Message)
        .where(Message.id.in_([row[0] for row in rows]))
        .values(body=None, media=[], error_message=None, purged_at=now)
        .execution_options(synchronize_session=False)
    )
    templated = [
        {"id": row[0], "template": {k: v for k, v in row[2].items() if k != "variables"}}
        for row in rows
        if isinstance(row[2], dict) and "variables" in row[2]
    ]
    if templated:
        await session.execute(
            update(Message).execution_options(synchronize_session=False), templated
        )
    return len(rows), digests


async def media_in_use(session: AsyncSession, digests: set[str]) -> set[str]:
    """Which of these media files a message not erased still names (one file may be sent
    in several messages)."""
    used: set[str] = set()
    for batch in chunks(sorted(digests), 50):
        text = cast(Message.media, String)
        rows = await session.scalars(
            select(text).where(
                Message.purged_at.is_(None), or_(*(text.contains(digest) for digest in batch))
            )
        )
        for media in rows:
            used.update(digest for digest in batch if digest in (media or ""))
    return used


async def erase_events(session: AsyncSession, event_ids: Sequence[uuid.UUID], now: datetime) -> int:
    """Drop the raw payloads, and the free text of the normalized facts."""
    rows = (
        await session.execute(
            select(InteractionEvent.id, InteractionEvent.normalized).where(
                InteractionEvent.id.in_(event_ids), InteractionEvent.purged_at.is_(None)
            )
        )
    ).all()
    if not rows:
        return 0
    await session.execute(
        update(InteractionEvent)
        .where(InteractionEvent.id.in_([row[0] for row in rows]))
        .values(payload=None, purged_at=now)
        .execution_options(synchronize_session=False)
    )
    scrubbed = [
        {
            "id": row[0],
            "normalized": {k: v for k, v in row[1].items() if k not in FREE_TEXT_KEYS},
        }
        for row in rows
        if isinstance(row[1], dict) and FREE_TEXT_KEYS.intersection(row[1])
    ]
    if scrubbed:
        await session.execute(
            update(InteractionEvent).execution_options(synchronize_session=False), scrubbed
        )
    return len(rows)


async def erase_deliveries(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID], now: datetime
) -> int:
    """Empty the ledger bodies, headers and errors; the keys stay (a repeat is still known)."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.purged_at.is_(None))
        .values(raw_body="", raw_body_encoding=None, headers=None, error=None, purged_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def erase_otps(session: AsyncSession, otp_ids: Sequence[uuid.UUID], now: datetime) -> int:
    """Anonymize the challenges: no code hash, context or reference, the phone masked; status,
    purpose and times stay (the OTP report counts them). A pending one ends EXPIRED."""
    rows = (
        await session.execute(
            select(OtpChallenge.id, OtpChallenge.phone, OtpChallenge.status).where(
                OtpChallenge.id.in_(otp_ids), OtpChallenge.purged_at.is_(None)
            )
        )
    ).all()
    if not rows:
        return 0
    await session.execute(
        update(OtpChallenge).execution_options(synchronize_session=False),
        [
            {
                "id": row[0],
                "phone": mask_phone(row[1]) or "",
                "status": OtpStatus.EXPIRED if row[2] is OtpStatus.PENDING else row[2],
                "code_hash": None,
                "context": None,
                "customer_ref": None,
                "purged_at": now,
            }
            for row in rows
        ],
    )
    return len(rows)


async def release_redactions(session: AsyncSession, interaction_ids: Sequence[uuid.UUID]) -> None:
    """Once none of a conversation's texts is left (messages, transcript, events), drop its
    redaction proofs, and the vault rows no other proof needs any more."""
    for batch in chunks(interaction_ids):
        done = select(Interaction.id).where(
            Interaction.id.in_(batch),
            ~exists().where(Message.interaction_id == Interaction.id, Message.purged_at.is_(None)),
            ~exists().where(
                CallDetail.interaction_id == Interaction.id,
                CallDetail.transcript_purged_at.is_(None),
            ),
            ~exists().where(
                InteractionEvent.interaction_id == Interaction.id,
                InteractionEvent.purged_at.is_(None),
            ),
        )
        emptied = list(await session.scalars(done))
        if not emptied:
            continue
        tokens = set(
            await session.scalars(
                select(RedactionProof.token).where(
                    RedactionProof.interaction_id.in_(emptied), RedactionProof.token.is_not(None)
                )
            )
        )
        await session.execute(
            delete(RedactionProof)
            .where(RedactionProof.interaction_id.in_(emptied))
            .execution_options(synchronize_session=False)
        )
        for group in chunks(sorted(t for t in tokens if t)):
            await session.execute(
                delete(RedactionVault)
                .where(
                    RedactionVault.token.in_(group),
                    ~exists().where(RedactionProof.token == RedactionVault.token),
                )
                .execution_options(synchronize_session=False)
            )


# ---- What belongs to given conversations ----


async def call_details_of(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(CallDetail.id).where(CallDetail.interaction_id.in_(interaction_ids))
    )
    return list(rows)


async def messages_of(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(Message.id).where(
            Message.interaction_id.in_(interaction_ids), Message.purged_at.is_(None)
        )
    )
    return list(rows)


async def events_of(session: AsyncSession, interaction_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(InteractionEvent.id).where(
            InteractionEvent.interaction_id.in_(interaction_ids),
            InteractionEvent.purged_at.is_(None),
        )
    )
    return list(rows)


def _delivery_id(key: str) -> uuid.UUID | None:
    """`webhook:<delivery id>:…`, the idempotency key of what a delivery applied."""
    if not key.startswith(WEBHOOK_KEY):
        return None
    try:
        return uuid.UUID(key[len(WEBHOOK_KEY) :].split(":", 1)[0])
    except ValueError:
        return None


async def deliveries_of(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """The ledger rows applied to these conversations: named by the idempotency keys of the
    events they left (`webhook:<id>:…`) and by the sources of their redaction proofs."""
    keys = await session.scalars(
        select(InteractionEvent.idempotency_key).where(
            InteractionEvent.interaction_id.in_(interaction_ids),
            InteractionEvent.idempotency_key.startswith(WEBHOOK_KEY),
        )
    )
    sources = await session.scalars(
        select(RedactionProof.source).where(
            RedactionProof.interaction_id.in_(interaction_ids),
            RedactionProof.source.startswith(WEBHOOK_KEY),
        )
    )
    found = {_delivery_id(key) for key in [*keys, *(f"{s}:" for s in sources)]}
    ids = [i for i in found if i is not None]
    if not ids:
        return []
    rows = await session.scalars(
        select(WebhookDelivery.id).where(
            WebhookDelivery.id.in_(ids), WebhookDelivery.purged_at.is_(None)
        )
    )
    return list(rows)


async def otps_of(session: AsyncSession, interaction_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(OtpChallenge.id).where(
            or_(
                OtpChallenge.interaction_id.in_(interaction_ids),
                OtpChallenge.requested_from_interaction_id.in_(interaction_ids),
            ),
            OtpChallenge.purged_at.is_(None),
        )
    )
    return list(rows)


# ---- What the purge erases: expired, not erased yet, not held ----


def _customer_held(now: datetime, phone: Any, ref: Any) -> ColumnElement[bool]:
    """An active customer hold names this phone or reference (data not tied to a
    conversation)."""
    return exists(
        select(LegalHold.id).where(
            active(now),
            LegalHold.scope == HoldScope.CUSTOMER,
            or_(
                and_(LegalHold.customer_phone.is_not(None), LegalHold.customer_phone == phone),
                and_(LegalHold.customer_ref.is_not(None), LegalHold.customer_ref == ref),
            ),
        )
    )


def _range_held(now: datetime, at: Any) -> ColumnElement[bool]:
    """An active date-range hold covers this moment (data not tied to a conversation)."""
    return exists(
        select(LegalHold.id).where(
            active(now),
            LegalHold.scope == HoldScope.DATE_RANGE,
            at >= LegalHold.range_start,
            or_(LegalHold.range_end.is_(None), at < LegalHold.range_end),
        )
    )


def _recordings(cutoff: datetime, now: datetime) -> Any:
    return (
        select(CallDetail.id)
        .join(Interaction, Interaction.id == CallDetail.interaction_id)
        .where(
            Interaction.started_at < cutoff,
            CallDetail.recording_purged_at.is_(None),
            or_(CallDetail.has_audio.is_(True), CallDetail.recording_url.is_not(None)),
            not_held(now),
        )
    )


def _transcripts(cutoff: datetime, now: datetime) -> Any:
    return (
        select(CallDetail.id)
        .join(Interaction, Interaction.id == CallDetail.interaction_id)
        .where(
            Interaction.started_at < cutoff,
            CallDetail.transcript_purged_at.is_(None),
            not_held(now),
        )
    )


def _messages(cutoff: datetime, now: datetime) -> Any:
    return (
        select(Message.id)
        .join(Interaction, Interaction.id == Message.interaction_id)
        .where(Message.created_at < cutoff, Message.purged_at.is_(None), not_held(now))
    )


def _events(cutoff: datetime, now: datetime) -> Any:
    return (
        select(InteractionEvent.id)
        .join(Interaction, Interaction.id == InteractionEvent.interaction_id)
        .where(
            InteractionEvent.occurred_at < cutoff,
            InteractionEvent.purged_at.is_(None),
            not_held(now),
        )
    )


def _otps(cutoff: datetime, now: datetime) -> Any:
    linked_held = exists(
        select(Interaction.id).where(
            or_(
                Interaction.id == OtpChallenge.interaction_id,
                Interaction.id == OtpChallenge.requested_from_interaction_id,
            ),
            covers(now),
        )
    )
    return select(OtpChallenge.id).where(
        OtpChallenge.created_at < cutoff,
        OtpChallenge.purged_at.is_(None),
        or_(OtpChallenge.status != OtpStatus.PENDING, OtpChallenge.expires_at < now),
        ~linked_held,
        ~_customer_held(now, OtpChallenge.phone, OtpChallenge.customer_ref),
        ~_range_held(now, OtpChallenge.created_at),
    )


def _deliveries(cutoff: datetime, now: datetime) -> Any:
    """Expired ledger rows a hold cannot name through their text: not in a held date range,
    and no held customer's phone (without its +) or reference appears in the body (a body
    kept as base64 is not read: it is kept while any customer hold is active). The
    conversations they were applied to are checked after (`held_deliveries`)."""
    in_body = exists(
        select(LegalHold.id).where(
            active(now),
            LegalHold.scope == HoldScope.CUSTOMER,
            or_(
                WebhookDelivery.raw_body_encoding.is_not(None),
                and_(
                    LegalHold.customer_phone.is_not(None),
                    WebhookDelivery.raw_body.contains(func.substr(LegalHold.customer_phone, 2)),
                ),
                and_(
                    LegalHold.customer_ref.is_not(None),
                    WebhookDelivery.raw_body.contains(LegalHold.customer_ref),
                ),
            ),
        )
    )
    return select(WebhookDelivery.id).where(
        WebhookDelivery.received_at < cutoff,
        WebhookDelivery.purged_at.is_(None),
        WebhookDelivery.status.in_(FINAL_DELIVERY),
        ~_range_held(now, WebhookDelivery.received_at),
        ~in_body,
    )


async def held_deliveries(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """Which of these ledger rows were applied to a conversation a hold covers."""
    if not delivery_ids:
        return set()
    ranges = [
        and_(
            InteractionEvent.idempotency_key > f"{WEBHOOK_KEY}{i}:",
            InteractionEvent.idempotency_key < f"{WEBHOOK_KEY}{i};",
        )
        for i in delivery_ids
    ]
    links: list[tuple[uuid.UUID, uuid.UUID]] = []
    for group in chunks(ranges, 100):
        rows = await session.execute(
            select(InteractionEvent.idempotency_key, InteractionEvent.interaction_id).where(
                or_(*group)
            )
        )
        links.extend((d, row[1]) for row in rows if (d := _delivery_id(row[0])) is not None)
    sources = {f"{WEBHOOK_KEY}{i}": i for i in delivery_ids}
    for group in chunks(list(sources)):
        rows = await session.execute(
            select(RedactionProof.source, RedactionProof.interaction_id).where(
                RedactionProof.source.in_(group), RedactionProof.interaction_id.is_not(None)
            )
        )
        links.extend((sources[row[0]], row[1]) for row in rows)
    held = await held_ids(session, {interaction for _, interaction in links}, now)
    return {delivery for delivery, interaction in links if interaction in held}


CANDIDATES = {
    "recordings": _recordings,
    "transcripts": _transcripts,
    "message_bodies": _messages,
    "event_payloads": _events,
    "webhook_bodies": _deliveries,
    "otp_challenges": _otps,
}


async def count_candidates(
    session: AsyncSession, name: str, cutoff: datetime, now: datetime
) -> int:
    query = CANDIDATES[name](cutoff, now)
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def candidates(
    session: AsyncSession, name: str, cutoff: datetime, now: datetime, limit: int
) -> list[uuid.UUID]:
    return list(await session.scalars(CANDIDATES[name](cutoff, now).limit(limit)))


def _sessions(cutoff: datetime) -> Any:
    return select(ConsoleSession.id).where(
        func.coalesce(ConsoleSession.ended_at, ConsoleSession.expires_at) < cutoff
    )


async def count_sessions(session: AsyncSession, cutoff: datetime) -> int:
    query = _sessions(cutoff)
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def delete_sessions(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    ids = list(await session.scalars(_sessions(cutoff).limit(limit)))
    if not ids:
        return 0
    await session.execute(
        delete(ConsoleSession)
        .where(ConsoleSession.id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return len(ids)


async def delivery_page(
    session: AsyncSession,
    cutoff: datetime,
    now: datetime,
    after: uuid.UUID | None,
    limit: int,
) -> list[uuid.UUID]:
    """The next page (by id) of expired ledger rows not held through their text."""
    query = _deliveries(cutoff, now)
    if after is not None:
        query = query.where(WebhookDelivery.id > after)
    return list(await session.scalars(query.order_by(WebhookDelivery.id).limit(limit)))


_OWNER = {
    "transcripts": (CallDetail.id, CallDetail.interaction_id),
    "message_bodies": (Message.id, Message.interaction_id),
    "event_payloads": (InteractionEvent.id, InteractionEvent.interaction_id),
}


async def owners(session: AsyncSession, name: str, ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """The conversations of these rows of a class (whose redaction proofs may go now)."""
    if name not in _OWNER:
        return []
    key, owner = _OWNER[name]
    return list(set(await session.scalars(select(owner).where(key.in_(ids)))))


# ---- purge_run ----


async def unfinished_run(session: AsyncSession) -> PurgeRun | None:
    """The newest run that did not finish (killed, or failed): the next run goes on with it."""
    run = await session.scalar(
        select(PurgeRun)
        .where(PurgeRun.finished_at.is_(None))
        .order_by(PurgeRun.started_at.desc())
        .limit(1)
    )
    if run is not None:
        run.status = PurgeStatus.RUNNING
        run.error = None
    return run


async def new_run(
    session: AsyncSession, trigger: str, progress: dict[str, Any], now: datetime
) -> PurgeRun:
    run = PurgeRun(
        status=PurgeStatus.RUNNING, trigger=trigger, started_at=now, counts={}, progress=progress
    )
    session.add(run)
    await session.flush()
    return run


async def save_progress(
    session: AsyncSession, run_id: uuid.UUID, counts: dict[str, int], progress: dict[str, Any]
) -> None:
    await session.execute(
        update(PurgeRun)
        .where(PurgeRun.id == run_id)
        .values(counts=dict(counts), progress={k: dict(v) for k, v in progress.items()})
        .execution_options(synchronize_session=False)
    )


async def fail_run(session: AsyncSession, run_id: uuid.UUID, error: str) -> None:
    await session.execute(
        update(PurgeRun)
        .where(PurgeRun.id == run_id)
        .values(status=PurgeStatus.FAILED, error=error[:2000])
        .execution_options(synchronize_session=False)
    )


async def finish_run(session: AsyncSession, run_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(PurgeRun)
        .where(PurgeRun.id == run_id)
        .values(status=PurgeStatus.COMPLETED, finished_at=now)
        .execution_options(synchronize_session=False)
    )


async def latest_runs(session: AsyncSession, limit: int = 10) -> list[PurgeRun]:
    return list(
        await session.scalars(select(PurgeRun).order_by(PurgeRun.started_at.desc()).limit(limit))
    )


async def try_session_lock(connection: AsyncConnection, key: int) -> bool:
    """PostgreSQL's session advisory lock `key`, if free (held until `session_unlock`)."""
    return bool(await connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))


async def session_unlock(connection: AsyncConnection, key: int) -> None:
    await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
