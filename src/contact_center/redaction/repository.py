"""The redaction tables: the vault, the proofs, the history command's progress (SQL only here)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Row,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import Base, utcnow
from contact_center.db.fast import Sql, Transaction
from contact_center.db.statements import insert_ignore
from contact_center.models.redaction import RedactionProof, RedactionRun, RedactionVault
from contact_center.redaction.service import Redactor

PROOFS = cast(Table, RedactionProof.__table__)
VAULT = cast(Table, RedactionVault.__table__)


def proof_rows(
    redactor: Redactor, source: str, interaction_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    """The proof rows of what `redactor` removed, for one source and conversation."""
    now = utcnow()
    return [
        {
            "id": uuid.uuid4(),
            "interaction_id": interaction_id,
            "source": source[:96],
            "field": record.field,
            "entity": record.entity,
            "detector": record.detector,
            "start": record.start,
            "end": record.end,
            "fingerprint": record.fingerprint,
            "key_id": record.key_id,
            "token": record.token,
            "created_at": now,
        }
        for record in redactor.proofs
    ]


def vault_rows(redactor: Redactor) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "token": value.token,
            "entity": value.entity,
            "sealed": value.sealed,
            "key_id": value.key_id,
            "created_at": now,
        }
        for value in redactor.sealed_values()
    ]


async def save_sealed(session: AsyncSession, redactor: Redactor) -> None:
    """Write the vault rows only (a token already there is kept): for a text shown but not
    stored, whose tokens the audited reveal must still open."""
    for row in vault_rows(redactor):
        await insert_ignore(session, RedactionVault, row, ["token"])


async def save(
    session: AsyncSession, redactor: Redactor, source: str, interaction_id: uuid.UUID | None
) -> int:
    """Write the vault rows (a token already there is kept) and the proofs; how many proofs."""
    await save_sealed(session, redactor)
    rows = proof_rows(redactor, source, interaction_id)
    if rows:
        await session.execute(insert(PROOFS), rows)
    return len(rows)


async def forget_proofs(session: AsyncSession, source: str) -> None:
    """Remove the proofs of a source whose text is stored again (a call fetched anew): the
    proofs describe the text as it is now kept."""
    await session.execute(delete(PROOFS).where(PROOFS.c.source == source[:96]))


# --- the hot path, below the ORM (db/fast.py) -------------------------------------------------

# Rows per statement below the ORM: one statement for what a delivery usually holds, and a
# bounded number of compiled shapes (one per row count up to this).
CHUNK = 32


def _rows(table: Table, count: int) -> list[dict[str, Any]]:
    return [
        {c.key: bindparam(f"{c.key}_{i}", type_=c.type) for c in table.columns}
        for i in range(count)
    ]


@functools.cache
def _insert_vault(count: int) -> Sql:
    def build(dialect: str) -> ClauseElement:
        build_insert = pg_insert if dialect == "postgresql" else sqlite_insert
        return (
            build_insert(VAULT)
            .values(_rows(VAULT, count))
            .on_conflict_do_nothing(index_elements=["token"])
        )

    return Sql(build)


@functools.cache
def _insert_proofs(count: int) -> Sql:
    return Sql(insert(PROOFS).values(_rows(PROOFS, count)))


def _numbered(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {f"{key}_{i}": value for i, row in enumerate(rows) for key, value in row.items()}


async def save_fast(
    tx: Transaction, redactor: Redactor, source: str, interaction_id: uuid.UUID | None
) -> int:
    """`save` below the ORM: the vault rows (a token already there is kept) and the proofs,
    in the transaction's own statements (one each, up to CHUNK rows); nothing when nothing
    was redacted. How many proofs."""
    for rows, statement in (
        (sorted(vault_rows(redactor), key=lambda row: str(row["token"])), _insert_vault),
        (proof_rows(redactor, source, interaction_id), _insert_proofs),
    ):
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            await tx.run(statement(len(chunk)), **_numbered(chunk))
    return len(redactor.proofs)


async def sealed(session: AsyncSession, token: str) -> RedactionVault | None:
    return await session.get(RedactionVault, token)


async def proofs_of(
    session: AsyncSession, interaction_id: uuid.UUID, *, limit: int = 1000
) -> Sequence[RedactionProof]:
    return (
        await session.scalars(
            select(RedactionProof)
            .where(RedactionProof.interaction_id == interaction_id)
            .order_by(RedactionProof.created_at, RedactionProof.id)
            .limit(limit)
        )
    ).all()


# The history command and the vault's rotation (docs/redaction.md, "Existing data", "Rotating
# the keys"): batches in primary-key order, their writes, and the progress per table.


async def run_state(session: AsyncSession, name: str) -> RedactionRun | None:
    return await session.get(RedactionRun, name)


async def start_run(session: AsyncSession, name: str, *, restart: bool) -> RedactionRun:
    """The progress row of `name`: kept when a run stopped half-way (it goes on from its
    cursor), started over when the last run finished or when `restart`."""
    now = utcnow()
    run = await session.get(RedactionRun, name, with_for_update=True)
    if run is None:
        run = RedactionRun(name=name, cursor=None, scanned=0, changed=0, findings=0)
        run.started_at = run.updated_at = now
        session.add(run)
    elif restart or run.finished_at is not None:
        run.cursor, run.scanned, run.changed, run.findings = None, 0, 0, 0
        run.started_at = run.updated_at = now
        run.finished_at = None
    await session.flush()
    return run


async def advance_run(
    session: AsyncSession,
    name: str,
    cursor: str | None,
    *,
    scanned: int,
    changed: int,
    findings: int,
    finished: bool = False,
) -> None:
    """Move the progress of `name` past a batch, in the batch's transaction."""
    now = utcnow()
    values: dict[str, Any] = {
        "scanned": RedactionRun.scanned + scanned,
        "changed": RedactionRun.changed + changed,
        "findings": RedactionRun.findings + findings,
        "updated_at": now,
    }
    if cursor is not None:
        values["cursor"] = cursor
    if finished:
        values["finished_at"] = now
    await session.execute(update(RedactionRun).where(RedactionRun.name == name).values(values))


def _after(model: type[Base], cursor: str | None) -> ColumnElement[bool]:
    key: ColumnElement[uuid.UUID] = cast(Table, model.__table__).c.id
    return key > uuid.UUID(cursor) if cursor is not None else key.is_not(None)


async def count_after(
    session: AsyncSession,
    model: type[Base],
    cursor: str | None,
    where: ColumnElement[bool] | None = None,
) -> int:
    """How many rows a walk of `model` has left after `cursor`."""
    query = select(func.count()).select_from(model).where(_after(model, cursor))
    if where is not None:
        query = query.where(where)
    return int(await session.scalar(query) or 0)


async def history_batch(
    session: AsyncSession,
    model: type[Base],
    columns: Sequence[str],
    cursor: str | None,
    limit: int,
    *,
    json_columns: Sequence[str] = (),
    where: ColumnElement[bool] | None = None,
) -> Sequence[Row[Any]]:
    """The next `limit` rows of `model` after `cursor`, in primary-key order: their id and
    `columns`. JSON columns come as their stored text (a document too deep for the JSON
    decoder is then the caller's to refuse, not the driver's to crash on)."""
    table = cast(Table, model.__table__)
    key = table.c.id
    selected: list[ColumnElement[Any]] = [key]
    for name in columns:
        column = table.c[name]
        selected.append(
            cast_(column, Text).label(name) if name in json_columns else column.label(name)
        )
    # Locked until the batch commits (PostgreSQL): a row written meanwhile (a call fetched
    # again) is not overwritten with what was read before it.
    query = (
        select(*selected)
        .where(_after(model, cursor))
        .order_by(key)
        .limit(limit)
        .with_for_update(of=table)
    )
    if where is not None:
        query = query.where(where)
    return (await session.execute(query)).all()


async def write_back(
    session: AsyncSession, model: type[Base], rows: Sequence[dict[str, Any]]
) -> None:
    """The redacted values of a batch, by primary key (one statement for the batch)."""
    if rows:
        await session.execute(update(model), list(rows))


async def save_many(
    session: AsyncSession, units: Sequence[tuple[Redactor, str, uuid.UUID | None]]
) -> int:
    """`save` for a whole batch: every vault row (a token already there is kept) and every
    proof in two statements; how many proofs."""
    vault: dict[str, dict[str, Any]] = {}
    proofs: list[dict[str, Any]] = []
    for redactor, source, interaction_id in units:
        for row in vault_rows(redactor):
            vault.setdefault(row["token"], row)
        proofs += proof_rows(redactor, source, interaction_id)
    if vault:
        dialect = session.get_bind().dialect.name
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = make(VAULT).on_conflict_do_nothing(index_elements=["token"])
        await session.execute(statement, list(vault.values()))
    if proofs:
        await session.execute(insert(PROOFS), proofs)
    return len(proofs)


async def vault_batch(
    session: AsyncSession, current_key: str, cursor: str | None, limit: int
) -> Sequence[RedactionVault]:
    """The next vault rows after `cursor` (token order) not sealed with `current_key`."""
    query = (
        select(RedactionVault)
        .where(RedactionVault.key_id != current_key)
        .order_by(RedactionVault.token)
        .limit(limit)
    )
    if cursor is not None:
        query = query.where(RedactionVault.token > cursor)
    return (await session.scalars(query)).all()


async def count_to_reseal(session: AsyncSession, current_key: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(RedactionVault)
            .where(RedactionVault.key_id != current_key)
        )
        or 0
    )


async def vault_key_counts(session: AsyncSession) -> dict[str, int]:
    """How many vault rows each key sealed."""
    rows = await session.execute(
        select(RedactionVault.key_id, func.count()).group_by(RedactionVault.key_id)
    )
    return {key_id: int(n) for key_id, n in rows.all()}


async def proof(session: AsyncSession, proof_id: uuid.UUID) -> RedactionProof | None:
    return await session.get(RedactionProof, proof_id)
