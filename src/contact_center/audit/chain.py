"""The audit log's hash chain (docs/audit-chain.md).

Every audit row carries `mac`, an HMAC-SHA256 (AUDIT_MAC_KEY) of its canonical form, written
with the row. A sealing job links the rows in the order it finds them committed: link `seq`
stores SHA-256(previous link's hash ‖ canonical row ‖ mac ‖ seq). `verify` recomputes every link
and mac and names the first broken one; daily checkpoints of the head are kept and exported so
the chain can be anchored outside the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.audit import repository
from contact_center.db.base import utcnow

log = structlog.get_logger(__name__)

VERSION = b"contact-center audit row v1\n"
GENESIS = "0" * 64
SEAL_BATCH = 5000
VERIFY_BATCH = 10_000
# Every row is sealed within this long when the worker runs; older unsealed rows are a finding.
SEAL_WITHIN = timedelta(seconds=60)
# The sealer looks for unsealed rows from its head's time less this much: a transaction that
# stamped its row earlier but committed later is still sealed (later, further down the chain).
LOOKBACK = timedelta(minutes=5)
MAX_FINDINGS = 100


# --- the canonical form -------------------------------------------------------------------------


def canonical(
    id: object,
    occurred_at: datetime,
    actor_type: object,
    actor_id: str | None,
    action: str,
    entity_type: str | None,
    entity_id: str | None,
    ip: str | None,
    user_agent: str | None,
    metadata: Any,
) -> bytes:
    """The bytes an audit row is authenticated and chained by: a version, then each field as a
    presence byte and, when present, its UTF-8 length (8 bytes, big-endian) and bytes. The same
    row read back from SQLite or PostgreSQL encodes to the same bytes (UTC timestamps with
    microseconds, JSON with sorted keys, ASCII escapes and every number as its double)."""
    parts = [VERSION]
    for value in (
        str(id),
        _when(occurred_at),
        str(getattr(actor_type, "value", actor_type)),
        actor_id,
        action,
        entity_type,
        entity_id,
        ip,
        user_agent,
        None if metadata is None else _json(metadata),
    ):
        if value is None:
            parts.append(b"\x00")
        else:
            raw = value.encode("utf-8", "surrogatepass")
            parts.append(b"\x01" + len(raw).to_bytes(8, "big") + raw)
    return b"".join(parts)


def canonical_of(values: Mapping[str, Any]) -> bytes:
    """`canonical` of a row as `audit.service.row` builds it (or as read: ROW_COLUMNS)."""
    return canonical(
        values["id"],
        values["occurred_at"],
        values["actor_type"],
        values["actor_id"],
        values["action"],
        values["entity_type"],
        values["entity_id"],
        values["ip"],
        values["user_agent"],
        values["metadata"],
    )


def _when(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _json(value: Any) -> str:
    return json.dumps(
        _numbers(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True
    )


def _numbers(value: Any) -> Any:
    """Every JSON number as the double nearest to it (an integer beyond a double's range as
    itself): PostgreSQL's jsonb writes 1e+16 back as 10000000000000000, 2.50 as 2.5 and -0.0
    as 0.0."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return value
        return 0.0 if number == 0 else number  # jsonb has no negative zero
    if isinstance(value, dict):
        return {str(k): _numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_numbers(v) for v in value]
    return value


def mac(key: bytes, row: bytes) -> str:
    return hmac.new(key, row, hashlib.sha256).hexdigest()


def link(previous: str, row: bytes, row_mac: str | None, seq: int) -> str:
    """Link `seq`'s hash: SHA-256(previous hash ‖ canonical row ‖ mac ‖ seq), hex."""
    digest = hashlib.sha256(bytes.fromhex(previous))
    digest.update(row)
    digest.update(b"\x00" if row_mac is None else b"\x01" + row_mac.encode("ascii", "replace"))
    digest.update(seq.to_bytes(8, "big"))
    return digest.hexdigest()


# --- sealing ------------------------------------------------------------------------------------


async def seal_batch(session: AsyncSession, *, batch: int = SEAL_BATCH) -> int:
    """Seal up to `batch` unsealed rows in the caller's transaction; how many were sealed."""
    await repository.lock_sealing(session)
    head = await repository.head(session)
    since = None if head is None or head.occurred_at is None else head.occurred_at - LOOKBACK
    rows = await repository.unsealed(session, since, batch)
    seq, previous = (0, GENESIS) if head is None else (head.seq, head.hash)
    at = utcnow()
    seals: list[dict[str, Any]] = []
    for row in rows:
        seq += 1
        previous = link(previous, canonical(*row[:10]), row[10], seq)
        seals.append({"seq": seq, "audit_id": row[0], "hash": previous, "sealed_at": at})
    await repository.add_seals(session, seals)
    return len(seals)


# --- checkpoints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    day: date
    seq: int
    hash: str
    created_at: datetime


async def checkpoint(session: AsyncSession, now: datetime) -> Checkpoint | None:
    """Record the chain's head as today's checkpoint (None while the chain is empty)."""
    head = await repository.head(session)
    if head is None:
        return None
    made = Checkpoint(day=now.astimezone(UTC).date(), seq=head.seq, hash=head.hash, created_at=now)
    await repository.add_checkpoint(session, made.__dict__)
    return made


async def daily_checkpoint(session: AsyncSession, now: datetime) -> Checkpoint | None:
    """Today's checkpoint, unless one was made today already."""
    if await repository.checkpoint_on(session, now.astimezone(UTC).date()) is not None:
        return None
    return await checkpoint(session, now)


async def checkpoints(session: AsyncSession, limit: int | None = None) -> list[Checkpoint]:
    return [
        Checkpoint(day=c.day, seq=c.seq, hash=c.hash, created_at=c.created_at)
        for c in await repository.checkpoints(session, limit)
    ]


# --- verification -------------------------------------------------------------------------------


class Broken(StrEnum):
    CHANGED = "row changed"
    MISSING = "row missing"
    FORGED = "row not written by the application"
    UNSEALED = "unsealed for more than 60 s"
    CHECKPOINT = "checkpoint mismatch"


@dataclass(frozen=True)
class Finding:
    what: Broken
    seq: int | None
    audit_id: str | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "what": self.what.value,
            "seq": self.seq,
            "auditId": self.audit_id,
            "detail": self.detail,
        }


@dataclass
class Report:
    checked: int = 0
    # Rows sealed without a mac before the first row that has one (written before the chain).
    before_sealing: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    started_at_seq: int = 0
    checkpoints_checked: int = 0
    unsealed: int = 0
    findings: list[Finding] = field(default_factory=list)
    # More findings than MAX_FINDINGS were found (only the first ones are kept).
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, finding: Finding) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.truncated = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "beforeSealing": self.before_sealing,
            "startedAtSeq": self.started_at_seq,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "checkpointsChecked": self.checkpoints_checked,
            "unsealed": self.unsealed,
            "findings": [f.as_dict() for f in self.findings],
            "truncated": self.truncated,
        }


async def verify(
    sessions: async_sessionmaker[AsyncSession],
    key: bytes,
    now: datetime,
    *,
    from_checkpoint: bool = False,
    anchors: Mapping[int, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch: int = VERIFY_BATCH,
) -> Report:
    """Walk the chain in seq order (batches of `batch` links), recomputing each link and each
    row's mac, and compare it with the stored checkpoints (and `anchors`, seq → hash, kept
    outside the database). `from_checkpoint`: start at the latest stored checkpoint, trusting
    the chain before it. `progress(done, total)` after every batch."""
    report = Report()
    async with sessions() as session:
        stored = await repository.checkpoints(session)
        head = await repository.head(session)
        expected: dict[int, tuple[str, str]] = {
            c.seq: (c.hash, f"checkpoint of {c.day.isoformat()}") for c in stored
        }
        for seq, hash_ in (anchors or {}).items():
            expected.setdefault(seq, (hash_, "exported checkpoint"))
            if expected[seq][0] != hash_:
                report.add(Finding(Broken.CHECKPOINT, seq, None, "stored and exported differ"))
        after, previous, began = 0, GENESIS, False
        if from_checkpoint and stored:
            latest = stored[0]
            start = await repository.link_at(session, latest.seq)
            after, previous = latest.seq, latest.hash
            began = start is not None and start[13] is not None
            report.started_at_seq = after
            if start is None or start.hash != latest.hash:
                report.add(Finding(Broken.CHECKPOINT, latest.seq, None, "the chain differs at it"))
            report.checkpoints_checked += 1
    head_seq = 0 if head is None else head.seq
    report.head_seq, report.head_hash = head_seq, GENESIS if head is None else head.hash
    total = max(0, head_seq - after)
    while True:
        async with sessions() as session:
            rows = await repository.links(session, after, batch)
        for row in rows:
            seq, stored_hash, audit_id = row[0], row[1], row[2]
            gap = seq != after + 1
            if gap:  # the link after a gap cannot be recomputed; its mac still is checked
                report.add(
                    Finding(Broken.MISSING, after + 1, None, f"links {after + 1}–{seq - 1} gone")
                )
            if row[3] is None:
                report.add(Finding(Broken.MISSING, seq, str(audit_id), "sealed row is gone"))
            else:
                body = canonical(*row[3:13])
                row_mac = row[13]
                if not gap and link(previous, body, row_mac, seq) != stored_hash:
                    report.add(Finding(Broken.CHANGED, seq, str(audit_id), "hash mismatch"))
                elif row_mac is not None and hmac.compare_digest(row_mac, mac(key, body)):
                    began = True
                elif row_mac is None and not began:
                    report.before_sealing += 1
                else:
                    report.add(
                        Finding(
                            Broken.FORGED,
                            seq,
                            str(audit_id),
                            "no mac" if row_mac is None else "mac mismatch",
                        )
                    )
            if seq in expected:
                report.checkpoints_checked += 1
                if expected[seq][0] != stored_hash:
                    report.add(Finding(Broken.CHECKPOINT, seq, None, expected[seq][1]))
            previous, after = stored_hash, seq
            report.checked += 1
        if progress is not None:
            progress(report.checked, total)
        if len(rows) < batch:
            break
    for seq, (_, what) in sorted(expected.items()):
        if seq > after:
            report.add(Finding(Broken.MISSING, seq, None, f"{what}: beyond the chain's end"))
    async with sessions() as session:
        count, lonely = await repository.unsealed_before(session, now - SEAL_WITHIN, 10)
    report.unsealed = count
    for audit_id, occurred_at in lonely:
        report.add(Finding(Broken.UNSEALED, None, str(audit_id), f"occurred {_when(occurred_at)}"))
    log.info(
        "audit_verified",
        checked=report.checked,
        findings=len(report.findings),
        head_seq=report.head_seq,
    )
    return report


def export(made: list[Checkpoint]) -> dict[str, Any]:
    """The checkpoints as exported for anchoring (`audit checkpoint --export`, the API)."""
    return {
        "format": "contact-center audit checkpoints v1",
        "checkpoints": [
            {
                "day": c.day.isoformat(),
                "seq": c.seq,
                "hash": c.hash,
                "createdAt": c.created_at.astimezone(UTC).isoformat(),
            }
            for c in made
        ],
    }
