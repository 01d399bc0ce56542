"""Existing data: redact the history stored before redaction existed, and reseal the vault after
a key rotation (docs/redaction.md, "Existing data" and "Rotating the keys").

Both walk their rows in primary-key order, batch by batch. Each batch is one transaction: the
redacted values written back, the vault rows and proofs saved, and the table's `redaction_run`
row advanced to the batch's last key. A run that is killed loses at most the batch in flight and
the next run goes on from the cursor; a run that finished starts over next time (and, redacting
twice changing nothing, finds nothing new). Nothing here prints or logs an original.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from sqlalchemy import ColumnElement, Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import Base
from contact_center.models import CallDetail, InteractionEvent, Message, WebhookDelivery
from contact_center.models.csat import CsatSurvey
from contact_center.models.enums import Direction
from contact_center.redaction import repository
from contact_center.redaction.redact import PLACEHOLDER, cut
from contact_center.redaction.service import RedactionKeys, Redactor
from contact_center.redaction.vault import VaultError, bind
from contact_center.storable import BASE64, stored_body

log = structlog.get_logger(__name__)

RESEAL = "vault_reseal"
# How many keys of rows that could not be read a report lists (the counts are complete).
LISTED = 20
CSAT_COMMENT_CHARS = 1000  # csat_survey.comment is a VARCHAR(1000)


class Unreadable(Exception):
    """A stored value the command cannot read (JSON too deep for the decoder, a ledger body in
    an unknown encoding): the row is left as it is and listed in the report."""


class Progress(Protocol):
    """What a run tells its caller (the command line draws a bar or prints lines)."""

    def start(self, name: str, total: int) -> None: ...

    def advance(self, name: str, scanned: int, changed: int) -> None: ...

    def finish(self, name: str) -> None: ...


@dataclass
class TableReport:
    """One table's part of a run: what this invocation did (a resumed run counts from where it
    went on)."""

    table: str
    resumed_from: str | None = None
    scanned: int = 0
    changed: int = 0
    findings: Counter[str] = field(default_factory=Counter)
    unreadable: int = 0
    unreadable_keys: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.scanned / self.seconds if self.seconds > 0 else 0.0

    def skip(self, key: str) -> None:
        self.unreadable += 1
        if len(self.unreadable_keys) < LISTED:
            self.unreadable_keys.append(key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "resumedFrom": self.resumed_from,
            "scanned": self.scanned,
            "changed": self.changed,
            "findings": dict(sorted(self.findings.items())),
            "unreadable": self.unreadable,
            "unreadableKeys": self.unreadable_keys,
            "seconds": round(self.seconds, 3),
            "rowsPerSecond": round(self.rows_per_second, 1),
        }


Row_ = Row[Any]
# What redacting one row gives: the columns to write back (none when nothing changed). The
# columns it could not read are added to the list (the others are still redacted).
Redact = Callable[[Redactor, Row_, str, list[str]], dict[str, Any]]


@dataclass(frozen=True)
class Walk:
    """A table the history command goes through and how one of its rows is redacted."""

    table: str
    model: type[Base]
    columns: tuple[str, ...]
    redact: Redact
    json_columns: tuple[str, ...] = ()
    where: Callable[[], ColumnElement[bool]] | None = None
    has_interaction: bool = True


def _json(row: Row_, name: str, unreadable: list[str]) -> Any:
    """A JSON column read from its stored text; None, and its name listed in `unreadable`,
    when the decoder refuses it (too deep)."""
    raw = getattr(row, name)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        unreadable.append(name)
        return None


def _message(redactor: Redactor, row: Row_, table: str, unreadable: list[str]) -> dict[str, Any]:
    body = row.body
    if not isinstance(body, str):
        return {}
    redacted = redactor.text(body, f"{table}.body")
    return {} if redacted is body else {"body": redacted}


def _card_or_code(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    return any(m.group().startswith(("[TARJETA", "[CÓDIGO")) for m in PLACEHOLDER.finditer(text))


def _call_detail(
    redactor: Redactor, row: Row_, table: str, unreadable: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    transcript = _json(row, "transcript", unreadable)
    if isinstance(transcript, list):
        turns: list[Any] = []
        moved = False
        for i, turn in enumerate(transcript):
            if isinstance(turn, dict) and isinstance(turn.get("message"), str):
                said = redactor.text(turn["message"], f"{table}.transcript[{i}].message")
                if said is not turn["message"]:
                    turn = {**turn, "message": said}
                    moved = True
            turns.append(turn)
        if moved:
            out["transcript"] = turns
    elif transcript is not None:  # not the usual list of turns: every string of it
        redacted = redactor.json(transcript, f"{table}.transcript")
        if redacted is not transcript:
            out["transcript"] = redacted
    summary = row.summary
    if isinstance(summary, str):
        redacted_summary = redactor.text(summary, f"{table}.summary")
        if redacted_summary is not summary:
            out["summary"] = redacted_summary
    analysis = _json(row, "analysis", unreadable)
    if analysis is not None:
        redacted = redactor.json(analysis, f"{table}.analysis")
        if redacted is not analysis:
            out["analysis"] = redacted
    if not row.sensitive_audio:
        final = out.get("transcript", transcript)
        turns_now = final if isinstance(final, list) else []
        if any(isinstance(t, dict) and _card_or_code(t.get("message")) for t in turns_now):
            out["sensitive_audio"] = True
    return out


def _event(redactor: Redactor, row: Row_, table: str, unreadable: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("payload", "normalized"):
        value = _json(row, name, unreadable)
        if value is None:
            continue
        redacted = redactor.json(value, f"{table}.{name}")
        if redacted is not value:
            out[name] = redacted
    return out


def received_body(raw_body: str, encoding: str | None) -> bytes:
    """The exact bytes of a stored ledger body (webhooks/service.received_body's rules)."""
    if encoding is None:
        return raw_body.encode("utf-8", "surrogatepass")
    if encoding == BASE64:
        try:
            return base64.b64decode(raw_body, validate=True)
        except (binascii.Error, ValueError):
            raise Unreadable("raw_body is not base64") from None
    raise Unreadable("raw_body has an unknown encoding")


def _delivery(redactor: Redactor, row: Row_, table: str, unreadable: list[str]) -> dict[str, Any]:
    try:
        raw = received_body(row.raw_body, row.raw_body_encoding)
    except Unreadable:
        unreadable.append("raw_body")
        return {}
    redacted = redactor.body(raw, row.content_type)
    if redacted is raw:
        return {}
    text, encoding = stored_body(redacted)
    return {"raw_body": text, "raw_body_encoding": encoding}


def _comment(redactor: Redactor, row: Row_, table: str, unreadable: list[str]) -> dict[str, Any]:
    comment = row.comment
    if not isinstance(comment, str):
        return {}
    redacted = redactor.text(comment, f"{table}.comment")
    if redacted is comment:
        return {}
    # Tokens are longer than what they stand for: cut, never inside a placeholder.
    return {"comment": cut(redacted, CSAT_COMMENT_CHARS)}


WALKS: tuple[Walk, ...] = (
    # What the bank wrote (replies, templates, OTP messages) is stored as it was sent.
    Walk(
        "message",
        Message,
        ("interaction_id", "body"),
        _message,
        where=lambda: Message.direction == Direction.INBOUND,
    ),
    Walk(
        "call_detail",
        CallDetail,
        ("interaction_id", "transcript", "summary", "analysis", "sensitive_audio"),
        _call_detail,
        json_columns=("transcript", "analysis"),
    ),
    Walk(
        "interaction_event",
        InteractionEvent,
        ("interaction_id", "payload", "normalized"),
        _event,
        json_columns=("payload", "normalized"),
    ),
    Walk(
        "webhook_delivery",
        WebhookDelivery,
        ("raw_body", "raw_body_encoding", "content_type"),
        _delivery,
        has_interaction=False,
    ),
    Walk(
        "csat_survey",
        CsatSurvey,
        ("interaction_id", "comment"),
        _comment,
        where=lambda: CsatSurvey.comment.is_not(None),
    ),
)
TABLES = tuple(walk.table for walk in WALKS)


@dataclass
class HistoryReport:
    tables: list[TableReport]

    def as_dict(self) -> dict[str, Any]:
        return {
            "tables": [t.as_dict() for t in self.tables],
            "scanned": sum(t.scanned for t in self.tables),
            "changed": sum(t.changed for t in self.tables),
            "findings": sum(sum(t.findings.values()) for t in self.tables),
            "unreadable": sum(t.unreadable for t in self.tables),
        }


async def redact_history(
    sessions: async_sessionmaker[AsyncSession],
    keys: RedactionKeys,
    *,
    batch: int = 500,
    only: Sequence[str] | None = None,
    restart: bool = False,
    progress: Progress | None = None,
) -> HistoryReport:
    """Redact every stored text a customer wrote or said, table by table (all of `TABLES`, or
    `only` those), in batches of `batch` rows."""
    if batch < 1:
        raise ValueError("the batch must hold at least one row")
    unknown = [name for name in only or () if name not in TABLES]
    if unknown:
        raise ValueError(f"unknown table {unknown[0]!r}: one of {', '.join(TABLES)}")
    walks = [w for w in WALKS if not only or w.table in only]
    reports = [await _walk(sessions, keys, w, batch, restart, progress) for w in walks]
    return HistoryReport(reports)


async def _walk(
    sessions: async_sessionmaker[AsyncSession],
    keys: RedactionKeys,
    walk: Walk,
    batch: int,
    restart: bool,
    progress: Progress | None,
) -> TableReport:
    began = time.monotonic()
    where = walk.where() if walk.where is not None else None
    async with sessions() as session:
        run = await repository.start_run(session, walk.table, restart=restart)
        cursor = run.cursor
        total = await repository.count_after(session, walk.model, cursor, where)
        await session.commit()
    report = TableReport(walk.table, resumed_from=cursor)
    if progress is not None:
        progress.start(walk.table, total)
    while True:
        async with sessions() as session:
            rows = await repository.history_batch(
                session,
                walk.model,
                walk.columns,
                cursor,
                batch,
                json_columns=walk.json_columns,
                where=where,
            )
            done = len(rows) < batch
            changes: list[dict[str, Any]] = []
            units: list[tuple[Redactor, str, uuid.UUID | None]] = []
            findings: Counter[str] = Counter()
            for row in rows:
                key = str(row.id)
                redactor = keys.redactor()
                unreadable: list[str] = []
                try:
                    values = walk.redact(redactor, row, walk.table, unreadable)
                except Exception as exc:  # one row must not stop the run: listed, left as it is
                    log.error(
                        "redaction_history_row_failed",
                        table=walk.table,
                        id=key,
                        error=type(exc).__name__,
                    )
                    report.skip(key)
                    continue
                if unreadable:  # what did read is redacted all the same
                    log.warning(
                        "redaction_history_unreadable", table=walk.table, id=key, columns=unreadable
                    )
                    report.skip(key)
                if not values:
                    continue
                changes.append({"id": row.id, **values})
                interaction = row.interaction_id if walk.has_interaction else None
                units.append((redactor, f"history:{walk.table}:{key}", interaction))
                findings.update(p.entity for p in redactor.proofs)
            # Rows that change the same columns go in one statement.
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for change in changes:
                groups.setdefault(tuple(sorted(change)), []).append(change)
            for group in groups.values():
                await repository.write_back(session, walk.model, group)
            saved = await repository.save_many(session, units)
            cursor = str(rows[-1].id) if rows else cursor
            await repository.advance_run(
                session,
                walk.table,
                cursor,
                scanned=len(rows),
                changed=len(changes),
                findings=saved,
                finished=done,
            )
            await session.commit()
        report.scanned += len(rows)
        report.changed += len(changes)
        report.findings.update(findings)
        if progress is not None:
            progress.advance(walk.table, report.scanned, report.changed)
        if done:
            break
    report.seconds = time.monotonic() - began
    if progress is not None:
        progress.finish(walk.table)
    return report


@dataclass
class ResealReport:
    current_key: str
    resumed_from: str | None = None
    scanned: int = 0
    resealed: int = 0
    failed: int = 0
    failed_tokens: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # How many vault rows each key sealed, once the run ended.
    keys: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "currentKey": self.current_key,
            "resumedFrom": self.resumed_from,
            "scanned": self.scanned,
            "resealed": self.resealed,
            "failed": self.failed,
            "failedTokens": self.failed_tokens,
            "seconds": round(self.seconds, 3),
            "rowsPerSecond": round(self.scanned / self.seconds, 1) if self.seconds else 0.0,
            "keys": dict(sorted(self.keys.items())),
        }


async def reseal_vault(
    sessions: async_sessionmaker[AsyncSession],
    keys: RedactionKeys,
    *,
    batch: int = 500,
    restart: bool = False,
    progress: Progress | None = None,
) -> ResealReport:
    """Reseal under the current vault key every vault row another key sealed, in batches of
    `batch` rows (token order); afterwards the old keys open nothing still in use."""
    if batch < 1:
        raise ValueError("the batch must hold at least one row")
    vault = keys.vault
    current = vault.keyring.current_id
    began = time.monotonic()
    async with sessions() as session:
        run = await repository.start_run(session, RESEAL, restart=restart)
        cursor = run.cursor
        total = await repository.count_to_reseal(session, current)
        await session.commit()
    report = ResealReport(current, resumed_from=cursor)
    if progress is not None:
        progress.start(RESEAL, total)
    while True:
        async with sessions() as session:
            rows = await repository.vault_batch(session, current, cursor, batch)
            done = len(rows) < batch
            resealed = 0
            for row in rows:
                try:
                    row.sealed = vault.reseal(row.sealed, bind(row.token, row.entity))
                except VaultError as exc:  # an old key removed too soon, an altered row
                    log.error("redaction_reseal_failed", token=row.token, error=type(exc).__name__)
                    report.failed += 1
                    if len(report.failed_tokens) < LISTED:
                        report.failed_tokens.append(row.token)
                    continue
                row.key_id = current
                resealed += 1
            cursor = rows[-1].token if rows else cursor
            await repository.advance_run(
                session,
                RESEAL,
                cursor,
                scanned=len(rows),
                changed=resealed,
                findings=0,
                finished=done,
            )
            await session.commit()
        report.scanned += len(rows)
        report.resealed += resealed
        if progress is not None:
            progress.advance(RESEAL, report.scanned, report.resealed)
        if done:
            break
    report.seconds = time.monotonic() - began
    async with sessions() as session:
        report.keys = await repository.vault_key_counts(session)
    if progress is not None:
        progress.finish(RESEAL)
    return report


def next_key_id(ids: Sequence[str]) -> str:
    """An id for a new keyring entry: `k<n+1>` after the highest `k<n>` in use."""
    numbers = [int(i[1:]) for i in ids if i[:1] == "k" and i[1:].isdigit() and len(i) < 12]
    return f"k{max(numbers, default=0) + 1}"
