"""Redaction at ingest: the vault of removed identifiers, the proofs of every redaction, and the
progress of the history command (docs/redaction.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, new_id, utcnow


class RedactionVault(Base):
    """One removed identifier (DNI, CUIT/CUIL, CBU/CVU, alias, e-mail, name), sealed with
    AES-256-GCM under the vault keyring and bound to its token and entity type. The token is
    derived from the value, so the same value said twice has one row. Card numbers and security
    codes are never here."""

    __tablename__ = "redaction_vault"

    token: Mapped[str] = mapped_column(String(40), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[str] = mapped_column(Text)
    # The key that sealed it (a rotation reseals the rows whose key is not the current one).
    key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_redaction_vault_key", "key_id"),)


class RedactionProof(Base):
    """One redaction: what kind of datum, where its placeholder is, which detector found it and
    an HMAC of the original under the proof key (none for a security code)."""

    __tablename__ = "redaction_proof"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The conversation the text belongs to, when known (a ledger body before it is applied has
    # none yet).
    interaction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE")
    )
    # Where the text came from: "webhook:<delivery id>", "call:<interaction id>",
    # "message:<message id>", "history:<table>:<id>"…
    source: Mapped[str] = mapped_column(String(96))
    # Which text of it: "message.body", "call.transcript[3].message", "raw_body$.data…".
    field: Mapped[str] = mapped_column(String(300))
    entity: Mapped[str] = mapped_column(String(32))
    detector: Mapped[str] = mapped_column(String(64))
    # The placeholder's place in the stored (redacted) text.
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(32))
    # The vault token that stands for it (None for a card or a security code).
    token: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_redaction_proof_interaction", "interaction_id", "created_at"),
        Index("ix_redaction_proof_source", "source"),
        Index("ix_redaction_proof_token", "token"),
    )


class RedactionRun(Base):
    """The history command's progress: where it stands in each table, so a run that was stopped
    goes on from there (docs/redaction.md, "Existing data")."""

    __tablename__ = "redaction_run"

    # One row per table the command goes through ("message", "call_detail", …).
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The last primary key done, as text (rows are walked in key order).
    cursor: Mapped[str | None] = mapped_column(String(64))
    scanned: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
