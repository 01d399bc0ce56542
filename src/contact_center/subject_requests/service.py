"""Data-subject requests (docs/data-lifecycle.md, "Data-subject requests").

A request is received (`RECEIVED`, with its legal due date), reviewed (`UNDER_REVIEW`: a
rectification's or deletion's subject data is blocked meanwhile), then completed or refused.
Completing applies it: an access request's export, a rectification's corrected master data, a
deletion's erasure with its certificate. A deletion is refused by itself, saying why, while a
legal hold covers the subject. Only compliance officers and admins act here; every step writes
an audit row (never with an unmasked phone).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.business_time import BusinessCalendar
from contact_center.db.base import utcnow
from contact_center.errors import Conflict, Forbidden, NotFound, ValidationFailed
from contact_center.holds.repository import holds_for_subject
from contact_center.models.enums import DsrKind, DsrStatus
from contact_center.models.lifecycle import DataSubjectRequest, LegalHold
from contact_center.phones import normalize_valid
from contact_center.pii import mask_name, mask_phone
from contact_center.principal import AuditContext, Principal
from contact_center.retention.erase import StoredFiles, erase_interactions
from contact_center.schemas import format_timestamp
from contact_center.service_levels.calendar import calendar_for
from contact_center.settings import Settings
from contact_center.subject_requests import repository
from contact_center.subject_requests.repository import OPEN, RequestFilters
from contact_center.subject_requests.schemas import (
    Clock,
    Decision,
    RequestCreate,
    RequestOut,
    RequestPage,
)

ENTITY = "data_subject_request"
PREFIX = "SDP"
NUMBER_DIGITS = 6
# Attempts at a number before giving up (each lost race takes the next number).
NUMBER_ATTEMPTS = 20
EXPORT_VERSION = 1
# Data classes kept after a deletion, and why (RETENTION_AUDIT_ROWS_DAYS: 0 keeps them always).
AUDIT_KEPT_ALWAYS = (
    "Registro de auditoría: se conserva por obligación legal (PCI DSS 10.5.1, al menos 12 meses; "
    "la política de retención del banco lo conserva siempre). No contiene su número de teléfono "
    "completo."
)
AUDIT_KEPT_DAYS = (
    "Registro de auditoría: se conserva por obligación legal (PCI DSS 10.5.1, al menos 12 meses) "
    "durante {days} días y luego se elimina. No contiene su número de teléfono completo."
)
REQUEST_KEPT_REASON = (
    "Constancia de esta solicitud y de su resolución (Ley 25.326, art. 16): prueba de que se "
    "atendió."
)
COMPLAINTS_KEPT_REASON = (
    "Reclamos presentados: se conservan por obligación regulatoria (normas del BCRA sobre "
    "protección de los usuarios de servicios financieros) como constancia de su atención."
)
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


# --- who may act ------------------------------------------------------------------------------


def authorize(principal: Principal) -> None:
    """Compliance officers and admins; everyone else 403."""
    if not principal.handles_compliance:
        raise Forbidden(
            "Data-subject requests are handled by compliance officers and admins.",
            code="forbidden",
        )


# --- due dates --------------------------------------------------------------------------------


def _end_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)


def due_at(
    kind: DsrKind, received: datetime, calendar: BusinessCalendar, settings: Settings
) -> datetime:
    """The legal due date: the end of the last day. Access: `DSR_ACCESS_DAYS` calendar days
    after the day received (art. 14); rectification and deletion: that many business days on
    the business calendar (art. 16), counted from the day after."""
    zone = calendar.zone
    day = received.astimezone(zone).date()
    if kind is DsrKind.ACCESS:
        return _end_of(day + timedelta(days=settings.dsr_access_days), zone)
    count = (
        settings.dsr_rectification_business_days
        if kind is DsrKind.RECTIFICATION
        else settings.dsr_deletion_business_days
    )
    return _end_of(calendar.add_business_days(day, count), zone)


def clock(row: DataSubjectRequest, now: datetime, zone: ZoneInfo) -> Clock:
    if row.status not in OPEN:
        return Clock.CLOSED
    if row.due_at <= now:
        return Clock.OVERDUE
    if row.due_at.astimezone(zone).date() == now.astimezone(zone).date():
        return Clock.DUE_TODAY
    return Clock.ON_TIME


# --- masking ----------------------------------------------------------------------------------


def mask_ref(value: str | None) -> str | None:
    """A customer reference shown by its ends: `CLI-000123` → `CL******23`."""
    if value is None:
        return None
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def out(row: DataSubjectRequest, settings: Settings, now: datetime | None = None) -> RequestOut:
    return RequestOut(
        id=row.id,
        number=row.number,
        kind=row.kind,
        status=row.status,
        subject_phone=mask_phone(row.subject_phone),
        subject_ref=row.subject_ref,
        details=row.details,
        received_at=row.received_at,
        due_at=row.due_at,
        clock=clock(row, now or utcnow(), settings.zone),
        blocked=row.blocked,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        refusal_reason=row.refusal_reason,
        result=row.result,
        created_by=row.created_by,
        updated_at=row.updated_at,
    )


# --- the steps --------------------------------------------------------------------------------


def _next_number(last: str | None, prefix: str) -> str:
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:0{NUMBER_DIGITS}d}"


async def create(
    session: AsyncSession, settings: Settings, context: AuditContext, body: RequestCreate
) -> RequestOut:
    """A new request with its number and its legal due date."""
    phone = None
    if body.phone is not None:
        phone = normalize_valid(body.phone, settings.default_phone_region)
        if phone is None:
            raise ValidationFailed(
                "The phone number is not valid.",
                code="invalid_phone",
                details=[{"field": "body.phone", "message": "not a valid phone number"}],
            )
    ref = body.customer_ref.strip() if body.customer_ref else None
    if not phone and not ref:
        raise ValidationFailed(
            "Name the subject: a phone number, a customer reference or both.",
            details=[{"field": "body.phone", "message": "phone or customerRef required"}],
        )
    details = body.details.strip() if body.details else None
    now = utcnow()
    calendar = await calendar_for(session, None, default_zone=settings.app_timezone)
    prefix = f"{PREFIX}-{now.astimezone(settings.zone).year}-"
    for _ in range(NUMBER_ATTEMPTS):
        row = DataSubjectRequest(
            id=uuid.uuid4(),
            number=_next_number(await repository.last_number(session, prefix), prefix),
            kind=body.kind,
            status=DsrStatus.RECEIVED,
            subject_phone=phone,
            subject_ref=ref,
            details=details or None,
            received_at=now,
            due_at=due_at(body.kind, now, calendar, settings),
            blocked=False,
            created_by=context.principal.actor_id,
            created_at=now,
            updated_at=now,
        )
        if await repository.try_insert(session, row):
            break
    else:
        raise Conflict("No request number could be issued; try again.", code="number_taken")
    await _audit(session, context, "subject_request.created", row)
    return out(row, settings, now)


async def listing(
    session: AsyncSession,
    settings: Settings,
    *,
    status: DsrStatus | None,
    kind: DsrKind | None,
    overdue: bool,
    limit: int,
) -> RequestPage:
    now = utcnow()
    filters = RequestFilters(status=status, kind=kind, overdue_at=now if overdue else None)
    rows = await repository.requests(session, filters, limit=limit)
    return RequestPage(items=[out(row, settings, now) for row in rows])


async def _load(
    session: AsyncSession, request_id: uuid.UUID, *, lock: bool = False
) -> DataSubjectRequest:
    row = await repository.request(session, request_id, lock=lock)
    if row is None:
        raise NotFound("No such data-subject request.", code="subject_request_not_found")
    return row


async def get(session: AsyncSession, settings: Settings, request_id: uuid.UUID) -> RequestOut:
    return out(await _load(session, request_id), settings)


def _require_open(row: DataSubjectRequest) -> None:
    if row.status not in OPEN:
        raise Conflict(
            f"The request {row.number} is {row.status.value} already.",
            code="subject_request_decided",
        )


async def review(
    session: AsyncSession, settings: Settings, context: AuditContext, request_id: uuid.UUID
) -> RequestOut:
    """Under review; a rectification's or deletion's subject data is blocked meanwhile. A
    deletion that a legal hold stops is refused at once, saying why."""
    row = await _load(session, request_id, lock=True)
    if row.status is not DsrStatus.RECEIVED:
        raise Conflict(
            f"The request {row.number} is {row.status.value}, not RECEIVED.",
            code="subject_request_not_received",
        )
    now = utcnow()
    if row.kind is DsrKind.DELETION and await _refused_for_holds(session, settings, context, row):
        return out(row, settings, now)
    row.status = DsrStatus.UNDER_REVIEW
    row.blocked = row.kind is not DsrKind.ACCESS
    row.updated_at = now
    await _audit(session, context, "subject_request.reviewed", row, blocked=row.blocked)
    return out(row, settings, now)


async def refuse(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    request_id: uuid.UUID,
    reason: str,
) -> RequestOut:
    text = reason.strip()
    if not text:
        raise ValidationFailed(
            "A refusal needs its reason.",
            details=[{"field": "body.reason", "message": "empty after trimming"}],
        )
    row = await _load(session, request_id, lock=True)
    _require_open(row)
    _decide(row, context, DsrStatus.REFUSED, utcnow())
    row.refusal_reason = text
    await _audit(session, context, "subject_request.refused", row, automatic=False)
    return out(row, settings)


async def complete(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    request_id: uuid.UUID,
    decision: Decision,
) -> RequestOut:
    """Apply the request (locked: two racing completions have one effect, the second 409)."""
    row = await _load(session, request_id, lock=True)
    _require_open(row)
    given = decision.customer_name is not None or decision.customer_ref is not None
    if row.kind is DsrKind.RECTIFICATION and not given:
        raise ValidationFailed(
            "A rectification names the corrected values: customerName, customerRef or both.",
            details=[{"field": "body", "message": "customerName or customerRef required"}],
        )
    if row.kind is not DsrKind.RECTIFICATION and given:
        raise ValidationFailed(
            "Only a rectification takes corrected values.",
            details=[{"field": "body", "message": f"not for a {row.kind.value} request"}],
        )
    now = utcnow()
    if row.kind is DsrKind.DELETION:
        if await _refused_for_holds(session, settings, context, row):
            return out(row, settings, now)
        result = await _delete(session, settings, context, row, now)
    elif row.kind is DsrKind.RECTIFICATION:
        result = await _rectify(session, row, decision, now)
    else:
        document = await export_document(session, settings, row, now)
        result = {
            "sha256": document_sha256(document),
            "generatedAt": document["generatedAt"],
            "counts": document["counts"],
        }
    _decide(row, context, DsrStatus.COMPLETED, now)
    row.result = result
    await _audit(session, context, "subject_request.completed", row, **_audit_summary(row))
    return out(row, settings, now)


def _decide(
    row: DataSubjectRequest, context: AuditContext, status: DsrStatus, now: datetime
) -> None:
    row.status = status
    row.blocked = False
    row.decided_at = now
    row.decided_by = context.principal.actor_id
    row.updated_at = now


def _audit_summary(row: DataSubjectRequest) -> dict[str, Any]:
    result = row.result or {}
    if row.kind is DsrKind.DELETION:
        certificate = result.get("certificate", {})
        return {"deleted": certificate.get("deleted"), "sha256": result.get("sha256")}
    if row.kind is DsrKind.RECTIFICATION:
        return {"changed": result.get("changed"), "fields": result.get("fields")}
    return {"sha256": result.get("sha256"), "counts": result.get("counts")}


async def _audit(
    session: AsyncSession,
    context: AuditContext,
    action: str,
    row: DataSubjectRequest,
    **extra: Any,
) -> None:
    """The step's audit row: the request's number and kind, its subject masked."""
    await audit.record(
        session,
        context,
        action,
        entity_type=ENTITY,
        entity_id=row.id,
        metadata={
            "number": row.number,
            "kind": row.kind.value,
            "status": row.status.value,
            "subjectPhone": mask_phone(row.subject_phone),
            "subjectRef": mask_ref(row.subject_ref),
            **extra,
        },
    )


# --- refusal under a legal hold ---------------------------------------------------------------


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d/%m/%Y")


def hold_refusal(holds: list[LegalHold], zone: ZoneInfo) -> str:
    """Why a deletion is refused, in words the customer's letter carries (Spanish)."""
    named = "; ".join(
        f"retención {hold.id}, dispuesta el {_local(hold.created_at, zone)}"
        f" (motivo: {hold.reason.strip()})"
        for hold in holds
    )
    plural = len(holds) > 1
    return (
        "No podemos eliminar sus datos por ahora: "
        + ("rigen retenciones legales" if plural else "rige una retención legal")
        + " que nos obliga"
        + " a conservarlos (Ley 25.326, art. 16, inc. 5: no procede la supresión cuando existe "
        + "una obligación legal de conservar los datos). "
        + named
        + ". Sus datos siguen protegidos y podrá pedir la supresión nuevamente cuando la "
        + ("retención se levante." if not plural else "retenciones se levanten.")
    )


async def _refused_for_holds(
    session: AsyncSession, settings: Settings, context: AuditContext, row: DataSubjectRequest
) -> bool:
    now = utcnow()
    holds = await holds_for_subject(session, row.subject_phone, row.subject_ref, now)
    if not holds:
        return False
    _decide(row, context, DsrStatus.REFUSED, now)
    row.refusal_reason = hold_refusal(holds, settings.zone)
    await _audit(
        session,
        context,
        "subject_request.refused",
        row,
        automatic=True,
        holds=[str(hold.id) for hold in holds],
    )
    return True


# --- rectification ----------------------------------------------------------------------------


async def _rectify(
    session: AsyncSession, row: DataSubjectRequest, decision: Decision, now: datetime
) -> dict[str, Any]:
    """The corrected master data on every interaction of the subject; before and after kept
    masked."""
    ids = await repository.subject_interaction_ids(session, row.subject_phone, row.subject_ref)
    before = await repository.master_data(session, ids)
    values: dict[str, Any] = {}
    if decision.customer_name is not None:
        values["customer_name"] = decision.customer_name.strip()
    if decision.customer_ref is not None:
        values["customer_ref"] = decision.customer_ref.strip()
    changed = await repository.set_master_data(session, ids, values, now)
    return {
        "changed": changed,
        "fields": sorted("customerName" if k == "customer_name" else "customerRef" for k in values),
        "before": [
            {"customerName": mask_name(name), "customerRef": mask_ref(ref)} for name, ref in before
        ],
        "after": {
            "customerName": mask_name(values.get("customer_name")),
            "customerRef": mask_ref(values.get("customer_ref")),
        },
    }


# --- deletion and its certificate -------------------------------------------------------------


def canonical(document: dict[str, Any]) -> bytes:
    """The canonical JSON a document's SHA-256 is taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def document_sha256(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def audit_kept_reason(settings: Settings) -> str:
    """Why audit rows stay: their term (RETENTION_AUDIT_ROWS_DAYS; 0 keeps them always)."""
    days = settings.retention_audit_rows_days
    return AUDIT_KEPT_DAYS.format(days=days) if days else AUDIT_KEPT_ALWAYS


async def _delete(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    row: DataSubjectRequest,
    now: datetime,
) -> dict[str, Any]:
    ids = await repository.subject_interaction_ids(session, row.subject_phone, row.subject_ref)
    erased = await erase_interactions(session, ids, now=now, files=StoredFiles.of(settings))
    pseudonym = "anon-" + secrets.token_hex(6)
    pseudonymized = await repository.pseudonymize(session, ids, row.subject_phone, pseudonym, now)
    kept_audit = await repository.audit_rows_about(session, ids)
    kept_complaints = await repository.complaints_of(session, row.subject_phone, row.subject_ref)
    notes, comments = await repository.erase_notes_and_comments(session, ids)
    erased = {**erased, "interaction_notes": notes, "satisfaction_comments": comments}
    certificate = {
        "title": "Certificado de supresión de datos personales",
        "number": row.number,
        "subject": {
            "phone": mask_phone(row.subject_phone),
            "customerRef": mask_ref(row.subject_ref),
        },
        "receivedAt": format_timestamp(row.received_at),
        "completedAt": format_timestamp(now),
        "completedBy": context.principal.actor_id,
        "bank": settings.bank_name,
        "interactions": len(ids),
        "deleted": {key: int(value) for key, value in sorted(erased.items())},
        "pseudonymized": {
            "interactions": pseudonymized["interactions"],
            "otpChallenges": pseudonymized["otp_challenges"],
            "note": "El teléfono del titular se reemplazó por un seudónimo; su nombre y su "
            "referencia de cliente se borraron.",
        },
        "kept": [
            {"dataClass": "audit_log", "count": kept_audit, "reason": audit_kept_reason(settings)},
            {"dataClass": "data_subject_request", "count": 1, "reason": REQUEST_KEPT_REASON},
            *(
                [
                    {
                        "dataClass": "complaint",
                        "count": kept_complaints,
                        "reason": COMPLAINTS_KEPT_REASON,
                    }
                ]
                if kept_complaints
                else []
            ),
        ],
    }
    return {"certificate": certificate, "sha256": document_sha256(certificate)}


async def certificate(
    session: AsyncSession, request_id: uuid.UUID
) -> tuple[DataSubjectRequest, dict[str, Any]]:
    """A completed deletion's certificate with its SHA-256 (409 before it is completed)."""
    row = await _load(session, request_id)
    if row.kind is not DsrKind.DELETION or row.status is not DsrStatus.COMPLETED or not row.result:
        raise Conflict(
            "Only a completed deletion has a certificate.", code="subject_request_no_certificate"
        )
    return row, {**row.result["certificate"], "sha256": row.result["sha256"]}


def render_certificate(document: dict[str, Any], settings: Settings) -> str:
    return TEMPLATES.get_template("certificate.html").render(
        doc=document, when=_when(settings.zone)
    )


# --- the access export ------------------------------------------------------------------------


def _ts(value: datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


def _enum(value: Any) -> Any:
    return getattr(value, "value", value)


async def build_access_export(
    session: AsyncSession, phone: str | None, customer_ref: str | None
) -> dict[str, Any]:
    """Everything held about a customer (their own phone unmasked: the document is theirs).
    A fixed number of index-backed queries, each batched by interaction ids."""
    held = await repository.held_about(session, phone, customer_ref)
    by_interaction: dict[uuid.UUID, dict[str, Any]] = {}
    interactions = []
    for i in held.interactions:
        item = {
            "id": str(i.id),
            "channel": _enum(i.channel),
            "direction": _enum(i.direction),
            "status": _enum(i.status),
            "startedAt": _ts(i.started_at),
            "endedAt": _ts(i.ended_at),
            "customerPhone": i.customer_phone,
            "customerName": i.customer_name,
            "customerRef": i.customer_ref,
            "fromNumber": i.from_number,
            "toNumber": i.to_number,
            "queue": i.queue,
            "intent": i.intent,
            "outcome": _enum(i.outcome),
            "resolutionCode": i.resolution_code,
            "labels": [],
            "messages": [],
            "calls": [],
            "events": [],
            "notes": [],
            "satisfaction": [],
            "otpChallenges": [],
        }
        by_interaction[i.id] = item
        interactions.append(item)
    for label in held.labels:
        by_interaction[label.interaction_id]["labels"].append(label.label)
    for m in held.messages:
        by_interaction[m.interaction_id]["messages"].append(
            {
                "id": str(m.id),
                "direction": _enum(m.direction),
                "kind": _enum(m.kind),
                "body": m.body,
                "media": m.media,
                "status": _enum(m.status),
                "createdAt": _ts(m.created_at),
                "deliveredAt": _ts(m.delivered_at),
                "readAt": _ts(m.read_at),
            }
        )
    for c in held.calls:
        by_interaction[c.interaction_id]["calls"].append(
            {
                "transcript": c.transcript,
                "summary": c.summary,
                "durationSecs": c.duration_secs,
                "hangupReason": c.hangup_reason,
                "hasAudio": c.has_audio,
            }
        )
    for e in held.events:
        by_interaction[e.interaction_id]["events"].append(
            {"type": e.type, "occurredAt": _ts(e.occurred_at), "data": e.normalized}
        )
    for n in held.notes:
        by_interaction[n.interaction_id]["notes"].append(
            {"body": n.body, "createdAt": _ts(n.created_at)}
        )
    for s in held.surveys:
        by_interaction[s.interaction_id]["satisfaction"].append(
            {
                "channel": _enum(s.channel),
                "sentAt": _ts(s.sent_at),
                "answeredAt": _ts(s.answered_at),
                "score": s.score,
                "comment": s.comment,
            }
        )
    loose = []
    for o in held.challenges:
        # Never the code's hash: what was asked, how and what became of it.
        challenge = {
            "purpose": _enum(o.purpose),
            "channel": _enum(o.channel),
            "status": _enum(o.status),
            "phone": o.phone,
            "attempts": o.attempts,
            "createdAt": _ts(o.created_at),
            "expiresAt": _ts(o.expires_at),
            "verifiedAt": _ts(o.verified_at),
        }
        if o.interaction_id in by_interaction:
            by_interaction[o.interaction_id]["otpChallenges"].append(challenge)
        else:
            loose.append(challenge)
    trail = [
        {
            "occurredAt": _ts(a.occurred_at),
            "action": a.action,
            "actorType": _enum(a.actor_type),
            "entityType": a.entity_type,
            "entityId": a.entity_id,
        }
        for a in held.audit
    ]
    return {
        "version": EXPORT_VERSION,
        "generatedAt": format_timestamp(utcnow()),
        "subject": {"phone": phone, "customerRef": customer_ref},
        "counts": {
            "interactions": len(held.interactions),
            "messages": len(held.messages),
            "calls": len(held.calls),
            "events": len(held.events),
            "notes": len(held.notes),
            "labels": len(held.labels),
            "satisfaction": len(held.surveys),
            "otpChallenges": len(held.challenges),
            "audit": len(held.audit),
        },
        "interactions": interactions,
        "otpChallenges": loose,
        "audit": trail,
    }


async def export_document(
    session: AsyncSession, settings: Settings, row: DataSubjectRequest, now: datetime
) -> dict[str, Any]:
    """The customer's export with its request; dated `now` (the completion's moment, so a later
    download of unchanged data has the SHA-256 stored then)."""
    document = await build_access_export(session, row.subject_phone, row.subject_ref)
    return {
        **document,
        "generatedAt": format_timestamp(now),
        "request": {
            "number": row.number,
            "receivedAt": format_timestamp(row.received_at),
            "dueAt": format_timestamp(row.due_at),
        },
        "bank": settings.bank_name,
    }


async def export(
    session: AsyncSession, settings: Settings, context: AuditContext, request_id: uuid.UUID
) -> tuple[DataSubjectRequest, dict[str, Any], str]:
    """A completed access request's export, built from what is held now, and its SHA-256
    (equal to the one stored at completion while the data has not changed)."""
    row = await _load(session, request_id)
    if row.kind is not DsrKind.ACCESS or row.status is not DsrStatus.COMPLETED:
        raise Conflict(
            "Only a completed access request has an export.", code="subject_request_no_export"
        )
    document = await export_document(session, settings, row, row.decided_at or utcnow())
    digest = document_sha256(document)
    await _audit(session, context, "subject_request.exported", row, sha256=digest)
    return row, document, digest


def _when(zone: ZoneInfo) -> Any:
    def when(value: str | None) -> str:
        if not value:
            return "—"
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")

    return when


def render_export(document: dict[str, Any], digest: str, settings: Settings) -> str:
    return TEMPLATES.get_template("export.html").render(
        doc=document, sha256=digest, when=_when(settings.zone)
    )


# --- blocking ---------------------------------------------------------------------------------


async def blocking_numbers(
    session: AsyncSession, phone: str | None, customer_ref: str | None
) -> list[str]:
    """The requests under review that block this customer's data (the conversation's notice)."""
    return await repository.blocking_numbers(session, phone, customer_ref)


async def blocking_conversation(session: AsyncSession, interaction_id: uuid.UUID) -> list[str]:
    """The requests under review that block the customer of this conversation (its notice
    "Datos bloqueados: solicitud SDP-… en revisión")."""
    phone, ref = await repository.customer_of(session, interaction_id)
    return await repository.blocking_numbers(session, phone, ref)
