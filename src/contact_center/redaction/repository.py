"""The redaction tables: the vault, the proofs, the history command's progress (SQL only here)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ClauseElement, Table, bindparam, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import utcnow
from contact_center.db.fast import Sql, Transaction
from contact_center.db.statements import insert_ignore
from contact_center.models.redaction import RedactionProof, RedactionVault
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
