"""The audit log's hash chain (docs/audit-chain.md): one seal per audit row, in sealing order,
and the checkpoints exported for anchoring outside the database. Both tables are append-only:
the database refuses UPDATE and DELETE (see the migration)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, utcnow


class AuditSeal(Base):
    """Link `seq` of the chain: `hash` = SHA-256(previous hash ‖ the row's canonical bytes ‖
    its mac ‖ seq), hex. The first link's previous hash is 32 zero bytes."""

    __tablename__ = "audit_seal"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Deferrable: pruning (audit.prune) deletes a prefix's rows and links in one transaction.
    audit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("audit_log.id", deferrable=True, initially="IMMEDIATE"), unique=True
    )
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditCheckpoint(Base):
    """The chain's head at a moment (daily, or on demand): what is exported for anchoring."""

    __tablename__ = "audit_checkpoint"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[date]
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_audit_checkpoint_day", "day"),)


class AuditPrune(Base):
    """A prune point: the chain's links up to `seq` (and their audit rows, all older than
    `cutoff`) were removed by the retention purge; `hash` is link `seq`'s, so verify starts
    from it. `mac`: HMAC (AUDIT_MAC_KEY) of the point, made by the application. Append-only;
    the latest (highest seq) is the one that counts."""

    __tablename__ = "audit_prune"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(BigInteger)
    cutoff: Mapped[datetime]
    pruned_at: Mapped[datetime] = mapped_column(default=utcnow)
    mac: Mapped[str] = mapped_column(String(64))
