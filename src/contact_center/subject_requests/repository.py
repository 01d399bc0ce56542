"""All SQL of data-subject requests: the requests themselves and what is held about a subject
(read for an access export in a handful of index-backed, batched queries)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.holds.repository import customer_of_interaction
from contact_center.models.audit_log import AuditLog
from contact_center.models.call_detail import CallDetail
from contact_center.models.complaint import Complaint
from contact_center.models.csat import CsatSurvey
from contact_center.models.enums import DsrKind, DsrStatus
from contact_center.models.interaction import Interaction, InteractionLabel
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.lifecycle import DataSubjectRequest
from contact_center.models.message import Message
from contact_center.models.note import InteractionNote, Notification
from contact_center.models.otp_challenge import OtpChallenge

# Ids per IN (…) list: well under every driver's limit on bound parameters.
BATCH = 1000
OPEN = (DsrStatus.RECEIVED, DsrStatus.UNDER_REVIEW)
T = TypeVar("T")


def _batches(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


# --- the requests -------------------------------------------------------------------------


async def last_number(session: AsyncSession, prefix: str) -> str | None:
    """The highest number issued with `prefix` ("SDP-2026-"); numbers are zero-padded, so the
    highest is the greatest string."""
    stmt = select(func.max(DataSubjectRequest.number)).where(
        DataSubjectRequest.number.startswith(prefix, autoescape=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def try_insert(session: AsyncSession, row: DataSubjectRequest) -> bool:
    """Insert inside a savepoint; False when its number is taken (a concurrent request got it
    first: the caller picks the next and tries again)."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def request(
    session: AsyncSession, request_id: uuid.UUID, *, lock: bool = False
) -> DataSubjectRequest | None:
    """One request; `lock`: held until the transaction ends (two decisions never overlap)."""
    stmt = select(DataSubjectRequest).where(DataSubjectRequest.id == request_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


@dataclass(frozen=True)
class RequestFilters:
    status: DsrStatus | None = None
    kind: DsrKind | None = None
    overdue_at: datetime | None = None  # open and due before this moment


async def requests(
    session: AsyncSession, filters: RequestFilters, *, limit: int
) -> list[DataSubjectRequest]:
    """By due date, soonest first (index status, due_at)."""
    stmt = select(DataSubjectRequest)
    if filters.status is not None:
        stmt = stmt.where(DataSubjectRequest.status == filters.status)
    if filters.kind is not None:
        stmt = stmt.where(DataSubjectRequest.kind == filters.kind)
    if filters.overdue_at is not None:
        stmt = stmt.where(
            DataSubjectRequest.status.in_(OPEN), DataSubjectRequest.due_at < filters.overdue_at
        )
    stmt = stmt.order_by(DataSubjectRequest.due_at, DataSubjectRequest.number).limit(limit)
    return list((await session.scalars(stmt)).all())


async def blocking_numbers(
    session: AsyncSession, phone: str | None, customer_ref: str | None
) -> list[str]:
    """Numbers of the requests under review that block this customer's data."""
    who: list[ColumnElement[bool]] = []
    if phone:
        who.append(DataSubjectRequest.subject_phone == phone)
    if customer_ref:
        who.append(DataSubjectRequest.subject_ref == customer_ref)
    if not who:
        return []
    stmt = (
        select(DataSubjectRequest.number)
        .where(
            DataSubjectRequest.blocked.is_(True),
            DataSubjectRequest.status == DsrStatus.UNDER_REVIEW,
            or_(*who),
        )
        .order_by(DataSubjectRequest.number)
    )
    return list((await session.scalars(stmt)).all())


def blocks_customer() -> ColumnElement[bool]:
    """A request under review blocks the customer of the enclosing query's `Interaction` (its
    phone or reference): their data is not used meanwhile (no satisfaction survey is sent)."""
    return exists(
        select(DataSubjectRequest.id).where(
            DataSubjectRequest.blocked.is_(True),
            DataSubjectRequest.status == DsrStatus.UNDER_REVIEW,
            customer_of_interaction(
                DataSubjectRequest.subject_phone, DataSubjectRequest.subject_ref
            ),
        )
    )


# --- what is held about a subject ----------------------------------------------------------


def _subject(
    phone: str | None,
    customer_ref: str | None,
    phone_column: Any = Interaction.customer_phone,
    ref_column: Any = Interaction.customer_ref,
) -> ColumnElement[bool] | None:
    """Rows of the subject: their phone or their reference in these columns (None: nobody)."""
    who: list[ColumnElement[bool]] = []
    if phone:
        who.append(phone_column == phone)
    if customer_ref:
        who.append(ref_column == customer_ref)
    return or_(*who) if who else None


async def subject_interactions(
    session: AsyncSession, phone: str | None, customer_ref: str | None
) -> list[Interaction]:
    """The subject's interactions, oldest first (indexes on customer_phone and customer_ref)."""
    who = _subject(phone, customer_ref)
    if who is None:
        return []
    stmt = select(Interaction).where(who).order_by(Interaction.started_at, Interaction.id)
    return list((await session.scalars(stmt)).all())


async def subject_interaction_ids(
    session: AsyncSession, phone: str | None, customer_ref: str | None
) -> list[uuid.UUID]:
    who = _subject(phone, customer_ref)
    if who is None:
        return []
    return list((await session.scalars(select(Interaction.id).where(who))).all())


async def _children(
    session: AsyncSession, model: Any, column: Any, ids: Sequence[Any], *order: Any
) -> list[Any]:
    found: list[Any] = []
    for batch in _batches(ids):
        stmt = select(model).where(column.in_(batch)).order_by(*order)
        found.extend((await session.scalars(stmt)).all())
    return found


@dataclass
class Held:
    """Everything held about a subject, loaded in batches (never one query per interaction)."""

    interactions: list[Interaction]
    messages: list[Message]
    calls: list[CallDetail]
    events: list[InteractionEvent]
    notes: list[InteractionNote]
    labels: list[InteractionLabel]
    surveys: list[CsatSurvey]
    challenges: list[OtpChallenge]
    audit: list[AuditLog]


async def held_about(session: AsyncSession, phone: str | None, customer_ref: str | None) -> Held:
    interactions = await subject_interactions(session, phone, customer_ref)
    ids = [i.id for i in interactions]
    messages = await _children(
        session, Message, Message.interaction_id, ids, Message.created_at, Message.id
    )
    challenges = await _children(
        session, OtpChallenge, OtpChallenge.interaction_id, ids, OtpChallenge.created_at
    )
    if phone:
        # Challenges sent to the number outside any of its conversations.
        loose = select(OtpChallenge).where(
            OtpChallenge.phone == phone, OtpChallenge.interaction_id.is_(None)
        )
        challenges.extend((await session.scalars(loose)).all())
    entities = {
        "interaction": [str(i) for i in ids],
        "message": [str(m.id) for m in messages],
        "otp_challenge": [str(c.id) for c in challenges],
    }
    audit: list[AuditLog] = []
    for entity_type, entity_ids in entities.items():
        for batch in _batches(entity_ids):
            stmt = select(AuditLog).where(
                AuditLog.entity_type == entity_type, AuditLog.entity_id.in_(batch)
            )
            audit.extend((await session.scalars(stmt)).all())
    audit.sort(key=lambda row: (row.occurred_at, str(row.id)))
    return Held(
        interactions=interactions,
        messages=messages,
        calls=await _children(session, CallDetail, CallDetail.interaction_id, ids, CallDetail.id),
        events=await _children(
            session,
            InteractionEvent,
            InteractionEvent.interaction_id,
            ids,
            InteractionEvent.occurred_at,
            InteractionEvent.id,
        ),
        notes=await _children(
            session,
            InteractionNote,
            InteractionNote.interaction_id,
            ids,
            InteractionNote.created_at,
            InteractionNote.id,
        ),
        labels=await _children(
            session, InteractionLabel, InteractionLabel.interaction_id, ids, InteractionLabel.label
        ),
        surveys=await _children(
            session, CsatSurvey, CsatSurvey.interaction_id, ids, CsatSurvey.sent_at
        ),
        challenges=challenges,
        audit=audit,
    )


# --- rectification and deletion --------------------------------------------------------------


async def master_data(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[tuple[str | None, str | None]]:
    """The distinct (customer_name, customer_ref) pairs of these interactions."""
    found: set[tuple[str | None, str | None]] = set()
    for batch in _batches(ids):
        stmt = (
            select(Interaction.customer_name, Interaction.customer_ref)
            .where(Interaction.id.in_(batch))
            .distinct()
        )
        found.update((name, ref) for name, ref in (await session.execute(stmt)).all())
    return sorted(found, key=lambda pair: (pair[0] or "", pair[1] or ""))


async def set_master_data(
    session: AsyncSession, ids: Sequence[uuid.UUID], values: dict[str, Any], now: datetime
) -> int:
    changed = 0
    for batch in _batches(ids):
        result = await session.execute(
            update(Interaction)
            .where(Interaction.id.in_(batch))
            .values(**values, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        changed += int(getattr(result, "rowcount", 0) or 0)
    return changed


async def pseudonymize(
    session: AsyncSession,
    ids: Sequence[uuid.UUID],
    phone: str | None,
    pseudonym: str,
    now: datetime,
) -> dict[str, int]:
    """The interactions' customer: the phone (in customer_phone and whichever of from/to was
    the customer's) becomes `pseudonym`; the name and the reference are cleared. OTP challenges
    sent to the phone outside the interactions carry the pseudonym too."""
    counts = {"interactions": 0, "otp_challenges": 0}
    for batch in _batches(ids):
        result = await session.execute(
            update(Interaction)
            .where(Interaction.id.in_(batch))
            .values(customer_phone=pseudonym, customer_name=None, customer_ref=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        counts["interactions"] += int(getattr(result, "rowcount", 0) or 0)
        if phone:
            for column in ("from_number", "to_number"):
                await session.execute(
                    update(Interaction)
                    .where(Interaction.id.in_(batch), getattr(Interaction, column) == phone)
                    .values({column: pseudonym})
                    .execution_options(synchronize_session=False)
                )
            result = await session.execute(
                update(OtpChallenge)
                .where(OtpChallenge.interaction_id.in_(batch), OtpChallenge.phone == phone)
                .values(phone=pseudonym, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            counts["otp_challenges"] += int(getattr(result, "rowcount", 0) or 0)
    if phone:
        result = await session.execute(
            update(OtpChallenge)
            .where(OtpChallenge.phone == phone, OtpChallenge.interaction_id.is_(None))
            .values(phone=pseudonym, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        counts["otp_challenges"] += int(getattr(result, "rowcount", 0) or 0)
    return counts


async def complaints_of(session: AsyncSession, phone: str | None, customer_ref: str | None) -> int:
    """How many complaints the subject made (kept: the BCRA's rules ask for their record)."""
    who = _subject(phone, customer_ref, Complaint.customer_phone, Complaint.customer_ref)
    if who is None:
        return 0
    stmt = select(func.count()).select_from(Complaint).where(who)
    return int((await session.execute(stmt)).scalar_one())


async def audit_rows_about(session: AsyncSession, ids: Sequence[uuid.UUID]) -> int:
    """How many audit rows name these interactions (kept: a legal minimum retention)."""
    total = 0
    for batch in _batches([str(i) for i in ids]):
        stmt = (
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.entity_type == "interaction", AuditLog.entity_id.in_(batch))
        )
        total += int((await session.execute(stmt)).scalar_one())
    return total


async def erase_notes_and_comments(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> tuple[int, int]:
    """Delete these interactions' internal notes (and the notifications of their mentions) and
    clear their satisfaction comments (the score stays: it says nothing of the person); how
    many of each."""
    notes = comments = 0
    for batch in _batches(ids):
        note_ids = select(InteractionNote.id).where(InteractionNote.interaction_id.in_(batch))
        await session.execute(delete(Notification).where(Notification.note_id.in_(note_ids)))
        gone = await session.execute(
            delete(InteractionNote).where(InteractionNote.interaction_id.in_(batch))
        )
        notes += int(getattr(gone, "rowcount", 0) or 0)
        cleared = await session.execute(
            update(CsatSurvey)
            .where(CsatSurvey.interaction_id.in_(batch), CsatSurvey.comment.is_not(None))
            .values(comment=None)
        )
        comments += int(getattr(cleared, "rowcount", 0) or 0)
    return notes, comments


async def customer_of(
    session: AsyncSession, interaction_id: uuid.UUID
) -> tuple[str | None, str | None]:
    """An interaction's customer phone and reference (None, None when unknown)."""
    stmt = select(Interaction.customer_phone, Interaction.customer_ref).where(
        Interaction.id == interaction_id
    )
    found = (await session.execute(stmt)).one_or_none()
    return (found[0], found[1]) if found else (None, None)
