"""The audit log's hash chain (docs/audit-chain.md).

Every audit row carries `mac`, an HMAC-SHA256 (AUDIT_MAC_KEY) of its canonical form, written
with the row. A sealing job links the rows in the order it finds them committed: link `seq`
stores SHA-256(previous link's hash ‖ canonical row ‖ mac ‖ seq). `verify` recomputes every link
and mac and names the first broken one; daily checkpoints of the head are kept and exported so
the chain can be anchored outside the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
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
VERIFY_BATCH = 20_000
# Links per range of a parallel verify (each range is checked on its own, then merged).
VERIFY_SPAN = 250_000
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
        when(occurred_at),
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


def utc(value: datetime) -> datetime:
    """An aware UTC datetime (SQLite gives naive UTC ones back)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def when(value: datetime) -> str:
    """A moment as the canonical form writes it: UTC, ISO 8601 with microseconds."""
    return utc(value).isoformat(timespec="microseconds")


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


def _as_number_int(text: str) -> int | float:
    number = int(text)
    try:
        return float(number)
    except OverflowError:
        return number


def _as_number_float(text: str) -> float:
    number = float(text)
    return 0.0 if number == 0 else number


# `json.loads` and `json.dumps` build a decoder and an encoder per call; verify reuses one C
# scanner and one C encoder set as `_json` sets them (same output), the numbers made doubles
# while parsing instead of by a second walk (`_numbers`).
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(  # type: ignore[attr-defined]
    parse_int=_as_number_int, parse_float=_as_number_float
).scan_once
_encode = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None,  # no circular check: a parsed document has no cycle
        None,
        json.encoder.encode_basestring_ascii,
        None,
        ":",
        ",",
        True,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )
    if getattr(json.encoder, "c_make_encoder", None) is not None
    else None
)


def metadata_part(text: str | None) -> bytes:
    """The metadata's field of the canonical form from its JSON text as PostgreSQL's jsonb
    gives it: the same bytes `canonical` writes for the parsed value."""
    if text is None:
        return b"\x00"
    value = _scan(text, 0)[0]
    if value is None:
        return b"\x00"
    if _encode is None:
        raw = _json(value).encode("ascii")
    else:
        raw = "".join(_encode(value, 0)).encode("ascii")
    return b"\x01" + len(raw).to_bytes(8, "big") + raw


def mac(key: bytes, row: bytes) -> str:
    return hmac.digest(key, row, "sha256").hex()


PRUNE_VERSION = b"contact-center audit prune point v1\n"


def prune_point_mac(key: bytes, seq: int, hash_: str, rows: int, cutoff: datetime) -> str:
    """A prune point's HMAC (audit.prune): only the application, holding the key, makes one."""
    body = b"".join(
        (
            PRUNE_VERSION,
            seq.to_bytes(8, "big"),
            hash_.encode("ascii", "replace"),
            rows.to_bytes(8, "big"),
            when(cutoff).encode("ascii"),
        )
    )
    return mac(key, body)


def _mac_with(keyed: hmac.HMAC, row: bytes) -> str:
    """`mac` from an HMAC already keyed (copying it spares the key setup per row)."""
    digest = keyed.copy()
    digest.update(row)
    return digest.hexdigest()


def link(previous: str, row: bytes, row_mac: str | None, seq: int) -> str:
    """Link `seq`'s hash: SHA-256(previous hash ‖ canonical row ‖ mac ‖ seq), hex."""
    return hashlib.sha256(
        b"".join(
            (
                bytes.fromhex(previous),
                row,
                b"\x00" if row_mac is None else b"\x01" + row_mac.encode("ascii", "replace"),
                seq.to_bytes(8, "big"),
            )
        )
    ).hexdigest()


# --- sealing ------------------------------------------------------------------------------------


async def seal_batch(
    session: AsyncSession,
    *,
    batch: int = SEAL_BATCH,
    past: tuple[datetime, Any] | None = None,
) -> tuple[int, tuple[datetime, Any] | None]:
    """Seal up to `batch` unsealed rows in the caller's transaction: how many were sealed, and
    the (occurred_at, id) of the last one. `past`: the last row the previous batch of this run
    sealed; only rows after it are looked at (the first batch of a run looks LOOKBACK back)."""
    await repository.lock_sealing(session)
    head = await repository.head(session)
    since = None if head is None or head.occurred_at is None else head.occurred_at - LOOKBACK
    seq, previous = (0, GENESIS) if head is None else (head.seq, head.hash)
    at = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # The lookback window by its index, each row's seal by its own (not a hash of them all).
        await repository.pg_prepare_walk(await repository.driver(session), local=True, sealing=True)
        rows = await repository.pg_unsealed(session, VERSION, since, past, batch)
        seqs, ids, hashes = [], [], []
        for row in rows:
            seq += 1
            previous = link(previous, row[1] + metadata_part(row[2]), row[3], seq)
            seqs.append(seq)
            ids.append(row[0])
            hashes.append(previous)
        await repository.pg_add_seals(session, seqs, ids, hashes, at)
        return len(rows), None if not rows else (rows[-1][4], rows[-1][0])
    found = await repository.unsealed(session, since, batch, past)
    seals: list[dict[str, Any]] = []
    for row in found:
        seq += 1
        previous = link(previous, canonical(*row[:10]), row[10], seq)
        seals.append({"seq": seq, "audit_id": row[0], "hash": previous, "sealed_at": at})
    await repository.add_seals(session, seals)
    return len(seals), None if not found else (found[-1][1], found[-1][0])


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
    PRUNE = "prune point not made by the application"


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
    # The chain was pruned up to this link (audit.prune): verify starts after it.
    pruned_to: int = 0
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
            "prunedTo": self.pruned_to,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "checkpointsChecked": self.checkpoints_checked,
            "unsealed": self.unsealed,
            "findings": [f.as_dict() for f in self.findings],
            "truncated": self.truncated,
        }


# A link as the walk reads it: seq, stored hash, the sealed row's id, the row's canonical bytes
# (None when the row is gone) and its mac.
Link = tuple[int, str, str, bytes | None, str | None]


@dataclass
class Walk:
    """Checks links after..upto in seq order against each previous link's STORED hash: walks of
    separate seq ranges are independent (`verify` runs them in parallel and merges them)."""

    key: bytes
    after: int
    upto: int
    # The stored hash of link `after` (None when that link is gone: the walk before reports it).
    previous: str | None
    # A row with a valid mac was seen before this walk (its mac-less rows are then forged).
    began: bool
    expected: dict[int, tuple[str, str]]
    checked: int = 0
    checkpoints_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    truncated: bool = False
    # Rows without a mac before this walk's first valid one, while not `began`: from before
    # sealing began, or forged; the merge decides (the count, and the first MAX_FINDINGS).
    unmacked: int = 0
    unmacked_first: list[tuple[int, str]] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.truncated = True

    def feed(self, links: Iterable[Link]) -> None:
        after, previous, began = self.after, self.previous, self.began
        expected, add = self.expected, self.add
        keyed = hmac.new(self.key, digestmod=hashlib.sha256)  # copied per row: no key setup
        sha256, fromhex, compare = hashlib.sha256, bytes.fromhex, hmac.compare_digest
        for seq, stored_hash, audit_id, body, row_mac in links:
            gap = seq != after + 1
            if gap:  # the link after a gap cannot be recomputed; its mac still is checked
                add(Finding(Broken.MISSING, after + 1, None, f"links {after + 1}–{seq - 1} gone"))
            if body is None:
                add(Finding(Broken.MISSING, seq, audit_id, "sealed row is gone"))
            elif (
                not gap
                and previous is not None
                and sha256(
                    b"".join(
                        (
                            fromhex(previous),
                            body,
                            b"\x00"
                            if row_mac is None
                            else b"\x01" + row_mac.encode("ascii", "replace"),
                            seq.to_bytes(8, "big"),
                        )
                    )
                ).hexdigest()
                != stored_hash
            ):
                add(Finding(Broken.CHANGED, seq, audit_id, "hash mismatch"))
            elif row_mac is not None and compare(row_mac, _mac_with(keyed, body)):
                began = True
            elif row_mac is None and not began:
                self.unmacked += 1
                if len(self.unmacked_first) < MAX_FINDINGS:
                    self.unmacked_first.append((seq, audit_id))
            else:
                add(
                    Finding(
                        Broken.FORGED,
                        seq,
                        audit_id,
                        "no mac" if row_mac is None else "mac mismatch",
                    )
                )
            if seq in expected:
                self.checkpoints_checked += 1
                if expected[seq][0] != stored_hash:
                    add(Finding(Broken.CHECKPOINT, seq, None, expected[seq][1]))
            previous, after = stored_hash, seq
            self.checked += 1
        self.after, self.previous, self.began = after, previous, began

    def finish(self) -> Walk:
        """Links missing at the range's end (a gap the next range's first link cannot see)."""
        if self.after < self.upto:
            self.add(
                Finding(
                    Broken.MISSING, self.after + 1, None, f"links {self.after + 1}–{self.upto} gone"
                )
            )
        return self


def _generic_links(rows: Iterable[Any]) -> Iterator[Link]:
    for row in rows:
        body = None if row[3] is None else canonical(*row[3:13])
        yield row[0], row[1], str(row[2]), body, row[13]


def _pg_links(rows: Iterable[Any]) -> Iterator[Link]:
    for seq, stored_hash, audit_id, prefix, metadata, row_mac in rows:
        yield (
            seq,
            stored_hash,
            audit_id,
            None if prefix is None else prefix + metadata_part(metadata),
            row_mac,
        )


async def _walk_pg(connection: Any, walk: Walk, batch: int, *, local: bool) -> Walk:
    await repository.pg_prepare_walk(connection, local=local)
    if walk.after > 0 and walk.previous is None:
        walk.previous = await repository.pg_hash_at(connection, walk.after)
    while True:
        rows = await repository.pg_links(connection, VERSION, walk.after, walk.upto, batch)
        walk.feed(_pg_links(rows))
        if len(rows) < batch:
            return walk.finish()


async def links(session: AsyncSession, after: int, upto: int, limit: int) -> list[Link]:
    """Links `after` < seq ≤ `upto` (at most `limit`) as the walk reads them, on the session's
    connection (PostgreSQL's fast path, or the generic one)."""
    if session.get_bind().dialect.name == "postgresql":
        rows = await repository.pg_links(
            await repository.driver(session), VERSION, after, upto, limit
        )
        return list(_pg_links(rows))
    return list(_generic_links(await repository.links(session, after, limit, upto=upto)))


async def _walk_in(session: AsyncSession, walk: Walk, batch: int) -> Walk:
    """One range on the session's connection (SQLite, or PostgreSQL in one process)."""
    if session.get_bind().dialect.name == "postgresql":
        return await _walk_pg(await repository.driver(session), walk, batch, local=True)
    if walk.after > 0 and walk.previous is None:
        walk.previous = await repository.hash_at(session, walk.after)
    while True:
        rows = await repository.links(session, walk.after, batch, upto=walk.upto)
        walk.feed(_generic_links(rows))
        if len(rows) < batch:
            return walk.finish()


def _walk_process(dsn: str, walk: Walk, batch: int) -> Walk:
    """A range in a process of its own (its own connection): `verify`'s pool runs these."""
    import asyncpg

    async def run() -> Walk:
        connection = await asyncpg.connect(dsn)
        try:
            return await _walk_pg(connection, walk, batch, local=False)
        finally:
            await connection.close()

    return asyncio.run(run())


def _merge(report: Report, walks: list[Walk], began: bool) -> None:
    """The walks' results in seq order: mac-less rows before the first valid mac anywhere are
    from before sealing began, later ones forged; findings sorted by seq (the first broken link
    is the lowest seq, whichever range found it)."""
    found: list[Finding] = []
    truncated = False
    for walk in sorted(walks, key=lambda w: w.after):
        report.checked += walk.checked
        report.checkpoints_checked += walk.checkpoints_checked
        found.extend(walk.findings)
        truncated = truncated or walk.truncated
        if began:
            found.extend(Finding(Broken.FORGED, s, a, "no mac") for s, a in walk.unmacked_first)
            truncated = truncated or walk.unmacked > len(walk.unmacked_first)
        else:
            report.before_sealing += walk.unmacked
        began = began or walk.began
    found.sort(key=lambda f: f.seq if f.seq is not None else 0)
    for finding in found:
        report.add(finding)
    report.truncated = report.truncated or truncated


def _spans(after: int, head: int, span: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + span, head)) for lo in range(after, head, span)] or [(after, after)]


async def verify(
    sessions: async_sessionmaker[AsyncSession],
    key: bytes,
    now: datetime,
    *,
    from_checkpoint: bool = False,
    anchors: Mapping[int, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch: int = VERIFY_BATCH,
    span: int = VERIFY_SPAN,
    workers: int | None = None,
) -> Report:
    """Recompute each link and each row's mac, and compare the chain with the stored
    checkpoints (and `anchors`, seq → hash, kept outside the database). The chain is cut into
    ranges of `span` links, each checked against the stored hash of the link before it; on
    PostgreSQL `workers` processes (default: one per CPU; 0: in this process) check them at
    once, reading `batch` links at a time. `from_checkpoint`: start at the latest stored
    checkpoint, trusting the chain before it. `progress(done, total)` after every range."""
    report = Report()
    async with sessions() as session:
        stored = await repository.checkpoints(session)
        head = await repository.head(session)
        postgresql = session.get_bind().dialect.name == "postgresql"
        expected: dict[int, tuple[str, str]] = {
            c.seq: (c.hash, f"checkpoint of {c.day.isoformat()}") for c in stored
        }
        for seq, hash_ in (anchors or {}).items():
            expected.setdefault(seq, (hash_, "exported checkpoint"))
            if expected[seq][0] != hash_:
                report.add(Finding(Broken.CHECKPOINT, seq, None, "stored and exported differ"))
        after, previous, began = 0, GENESIS, False
        points = await repository.prune_points(session)
        for point in points:
            made = prune_point_mac(key, point.seq, point.hash, point.rows, point.cutoff)
            if not hmac.compare_digest(point.mac, made):
                report.add(Finding(Broken.PRUNE, point.seq, None, "prune point mac mismatch"))
        if points:  # the links up to the latest prune point are gone on purpose
            after, previous = points[0].seq, points[0].hash
            report.started_at_seq = report.pruned_to = after
            hashes = {point.seq: point.hash for point in points}
            for seq in [seq for seq in expected if seq <= after]:
                hash_, what = expected.pop(seq)
                if seq in hashes:  # a checkpoint at a prune point (earlier ones are gone)
                    report.checkpoints_checked += 1
                    if hash_ != hashes[seq]:
                        report.add(Finding(Broken.CHECKPOINT, seq, None, f"{what} (pruned)"))
        if from_checkpoint and stored and stored[0].seq > after:
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
    walks = [
        Walk(key, lo, hi, previous if lo == after else None, False, expected)
        for lo, hi in _spans(after, head_seq, span)
    ]
    done: list[Walk] = []

    def finished(walk: Walk) -> None:
        done.append(walk)
        if progress is not None:
            progress(sum(w.checked for w in done), total)

    count = (os.cpu_count() or 1) if workers is None else workers
    if postgresql and count > 0 and len(walks) > 1:
        dsn = sessions.kw["bind"].url.set(drivername="postgresql").render_as_string(False)
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(count, len(walks)), mp_context=context) as pool:
            futures = [
                loop.run_in_executor(pool, _walk_process, dsn, walk, batch) for walk in walks
            ]
            for future in asyncio.as_completed(futures):
                finished(await future)
    else:
        for walk in walks:
            async with sessions() as session:
                finished(await _walk_in(session, walk, batch))
    _merge(report, done, began)
    for seq, (_, what) in sorted(expected.items()):
        if seq > head_seq:
            report.add(Finding(Broken.MISSING, seq, None, f"{what}: beyond the chain's end"))
    async with sessions() as session:
        unsealed, lonely = await repository.unsealed_before(session, now - SEAL_WITHIN, 10)
    report.unsealed = unsealed
    for audit_id, occurred_at in lonely:
        report.add(Finding(Broken.UNSEALED, None, str(audit_id), f"occurred {when(occurred_at)}"))
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
