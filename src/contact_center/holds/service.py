"""Legal holds (docs/data-lifecycle.md, "Legal hold"): placed and released by compliance
officers and admins, each step audited in the same transaction. What a hold keeps is decided in
holds.repository (`covers`), the one definition the purge and deletion requests ask."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.db.base import utcnow
from contact_center.errors import Conflict, Forbidden, NotFound, ValidationFailed
from contact_center.holds import repository
from contact_center.holds.schemas import (
    HoldState,
    LegalHoldIn,
    LegalHoldOut,
    LegalHoldPage,
    ReleaseIn,
)
from contact_center.models.enums import HoldScope
from contact_center.models.lifecycle import LegalHold
from contact_center.phones import normalize_valid
from contact_center.pii import mask_phone
from contact_center.principal import AuditContext, Principal

ENTITY = "legal_hold"
PLACED = "legal_hold.placed"
RELEASED = "legal_hold.released"

# The fields each scope takes; the others must be absent.
_FIELDS = {
    HoldScope.CUSTOMER: {"customer_phone", "customer_ref"},
    HoldScope.INTERACTION: {"interaction_id"},
    HoldScope.DATE_RANGE: {"range_start", "range_end"},
}
_WIRE = {
    "customer_phone": "customerPhone",
    "customer_ref": "customerRef",
    "interaction_id": "interactionId",
    "range_start": "rangeStart",
    "range_end": "rangeEnd",
}


def require_compliance(principal: Principal) -> None:
    """Compliance officers and admins (every caller in trusted mode); others 403."""
    if not principal.handles_compliance:
        raise Forbidden("Legal holds are for compliance officers and admins.", code="forbidden")


def _invalid(field: str, message: str, code: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, code=code, details=[{"field": field, "message": message}])


def state_of(hold: LegalHold, now: datetime) -> HoldState:
    if hold.released_at is not None:
        return HoldState.RELEASED
    if hold.ends_at is not None and hold.ends_at <= now:
        return HoldState.LAPSED
    return HoldState.ACTIVE


def _out(hold: LegalHold, now: datetime, covered: int) -> LegalHoldOut:
    return LegalHoldOut(
        id=hold.id,
        scope=hold.scope,
        state=state_of(hold, now),
        customer_phone=mask_phone(hold.customer_phone),
        customer_ref=hold.customer_ref,
        interaction_id=hold.interaction_id,
        range_start=hold.range_start,
        range_end=hold.range_end,
        reason=hold.reason,
        ends_at=hold.ends_at,
        created_by=hold.created_by,
        created_at=hold.created_at,
        released_at=hold.released_at,
        released_by=hold.released_by,
        release_reason=hold.release_reason,
        covered_interactions=covered,
    )


async def _check(
    session: AsyncSession, payload: LegalHoldIn, region: str, now: datetime
) -> str | None:
    """422 naming the field for what the scope does not take or lacks; the phone in E.164."""
    given = {name for name in _WIRE if getattr(payload, name) is not None}
    extra = sorted(given - _FIELDS[payload.scope])
    if extra:
        raise _invalid(
            f"body.{_WIRE[extra[0]]}",
            f"Not used by a {payload.scope.value} hold.",
            "hold_field_not_used",
        )
    if payload.ends_at is not None and payload.ends_at <= now:
        raise _invalid("body.endsAt", "Must be in the future.", "hold_end_in_past")
    phone = None
    if payload.scope is HoldScope.CUSTOMER:
        if payload.customer_phone is None and payload.customer_ref is None:
            raise _invalid(
                "body.customerPhone",
                "A customer hold names a phone or a reference.",
                "hold_needs_customer",
            )
        if payload.customer_phone is not None:
            phone = normalize_valid(payload.customer_phone, region)
            if phone is None:
                raise _invalid(
                    "body.customerPhone", "The phone number is not valid.", "invalid_phone"
                )
    elif payload.scope is HoldScope.INTERACTION:
        if payload.interaction_id is None:
            raise _invalid("body.interactionId", "An interaction hold names an interaction.")
        if not await repository.interaction_exists(session, payload.interaction_id):
            raise _invalid("body.interactionId", "No such interaction.", code="unknown_interaction")
    else:
        if payload.range_start is None:
            raise _invalid("body.rangeStart", "A date-range hold needs its start.")
        if payload.range_end is not None and payload.range_end <= payload.range_start:
            raise _invalid("body.rangeEnd", "Must be after the start.", "hold_range_order")
    return phone


def _audited(hold: LegalHold) -> dict[str, Any]:
    """What the audit row says about a hold: the phone masked, never as typed."""
    return {
        "scope": hold.scope.value,
        "customerPhone": mask_phone(hold.customer_phone),
        "customerRef": hold.customer_ref,
        "interactionId": str(hold.interaction_id) if hold.interaction_id else None,
        "rangeStart": hold.range_start.isoformat() if hold.range_start else None,
        "rangeEnd": hold.range_end.isoformat() if hold.range_end else None,
        "endsAt": hold.ends_at.isoformat() if hold.ends_at else None,
        "reason": hold.reason,
    }


async def place(
    session: AsyncSession, region: str, context: AuditContext, payload: LegalHoldIn
) -> LegalHoldOut:
    """Place a hold (audited `legal_hold.placed`). `region`: where a number without its
    country code is (DEFAULT_PHONE_REGION)."""
    require_compliance(context.principal)
    now = utcnow()
    phone = await _check(session, payload, region, now)
    hold = await repository.add(
        session,
        LegalHold(
            scope=payload.scope,
            customer_phone=phone,
            customer_ref=payload.customer_ref,
            interaction_id=payload.interaction_id,
            range_start=payload.range_start,
            range_end=payload.range_end,
            reason=payload.reason,
            ends_at=payload.ends_at,
            created_by=context.principal.actor_id,
            created_at=now,
        ),
    )
    await audit.record(
        session, context, PLACED, entity_type=ENTITY, entity_id=hold.id, metadata=_audited(hold)
    )
    counts = await repository.covered_counts(session, [hold.id], now)
    return _out(hold, now, counts[hold.id])


async def listing(
    session: AsyncSession,
    principal: Principal,
    *,
    state: HoldState | None,
    scope: HoldScope | None,
    limit: int,
    skip: int,
) -> LegalHoldPage:
    """Active holds first, then the newest."""
    require_compliance(principal)
    now = utcnow()
    rows: Sequence[LegalHold] = await repository.listing(
        session,
        now,
        state=state.value if state else None,
        scope=scope,
        limit=limit,
        skip=skip,
    )
    shown = rows[:limit]
    counts = await repository.covered_counts(session, [h.id for h in shown], now)
    return LegalHoldPage(
        items=[_out(h, now, counts[h.id]) for h in shown],
        limit=limit,
        skip=skip,
        has_more=len(rows) > limit,
    )


async def _found(session: AsyncSession, hold_id: uuid.UUID) -> LegalHold:
    hold = await repository.get(session, hold_id)
    if hold is None:
        raise NotFound(f"No legal hold with id {hold_id}.", code="legal_hold_not_found")
    return hold


async def get(session: AsyncSession, principal: Principal, hold_id: uuid.UUID) -> LegalHoldOut:
    require_compliance(principal)
    now = utcnow()
    hold = await _found(session, hold_id)
    counts = await repository.covered_counts(session, [hold.id], now)
    return _out(hold, now, counts[hold.id])


async def release(
    session: AsyncSession, context: AuditContext, hold_id: uuid.UUID, payload: ReleaseIn
) -> LegalHoldOut:
    """Release a hold (audited `legal_hold.released`); 409 `already_released` when it was.
    Of two racing releases one wins and writes the one audit row."""
    require_compliance(context.principal)
    now = utcnow()
    await _found(session, hold_id)
    hold = await repository.release(
        session, hold_id, at=now, by=context.principal.actor_id, reason=payload.reason
    )
    if hold is None:
        raise Conflict("This legal hold was already released.", code="already_released")
    await audit.record(
        session,
        context,
        RELEASED,
        entity_type=ENTITY,
        entity_id=hold.id,
        metadata={**_audited(hold), "reason": payload.reason, "holdReason": hold.reason},
    )
    return _out(hold, now, 0)


async def holds_on_interaction(
    session: AsyncSession, principal: Principal, interaction_id: uuid.UUID
) -> LegalHoldPage:
    """The active holds that keep this interaction (404 for an unknown one)."""
    require_compliance(principal)
    if not await repository.interaction_exists(session, interaction_id):
        raise NotFound(f"No interaction with id {interaction_id}.", code="interaction_not_found")
    now = utcnow()
    rows = await repository.holds_on(session, interaction_id, now)
    counts = await repository.covered_counts(session, [h.id for h in rows], now)
    return LegalHoldPage(
        items=[_out(h, now, counts[h.id]) for h in rows],
        limit=len(rows),
        skip=0,
        has_more=False,
    )
