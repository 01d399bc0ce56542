"""The redaction tables: the vault, the proofs, the history command's progress (SQL only here)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import utcnow
from contact_center.db.statements import insert_ignore
from contact_center.models.redaction import RedactionProof, RedactionVault
from contact_center.redaction.service import Redactor

PROOFS = cast(Table, RedactionProof.__table__)


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


async def save(
    session: AsyncSession, redactor: Redactor, source: str, interaction_id: uuid.UUID | None
) -> int:
    """Write the vault rows (a token already there is kept) and the proofs; how many proofs."""
    for row in vault_rows(redactor):
        await insert_ignore(session, RedactionVault, row, ["token"])
    rows = proof_rows(redactor, source, interaction_id)
    if rows:
        await session.execute(insert(PROOFS), rows)
    return len(rows)


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


async def proof(session: AsyncSession, proof_id: uuid.UUID) -> RedactionProof | None:
    return await session.get(RedactionProof, proof_id)
