from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, JsonType, new_id


class CallDetail(Base):
    __tablename__ = "call_detail"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interaction.id", ondelete="CASCADE"), unique=True
    )
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    summary: Mapped[str | None] = mapped_column(Text)
    recording_url: Mapped[str | None] = mapped_column(String(512))
    duration_secs: Mapped[int | None]
    hangup_reason: Mapped[str | None] = mapped_column(String(256))
    call_successful: Mapped[str | None] = mapped_column(String(32))
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    has_audio: Mapped[bool] = mapped_column(default=False)
    # The transcript held a card number or a security code: the audio (which cannot be edited
    # here) is played to admins only, with a reason, and retention may purge it early.
    sensitive_audio: Mapped[bool] = mapped_column(default=False, server_default=false())
    fetched_at: Mapped[datetime | None]
    # When retention or a deletion request erased the transcript (with summary and analysis),
    # and the recording (docs/data-lifecycle.md, "Data classes").
    transcript_purged_at: Mapped[datetime | None]
    recording_purged_at: Mapped[datetime | None]

    __table_args__ = (
        # The dashboard's average handle time reads durations from this index alone (the rows
        # themselves are large: transcripts, analysis).
        Index(
            "ix_call_detail_interaction_duration",
            "interaction_id",
            postgresql_include=["duration_secs"],
        ).ddl_if(dialect="postgresql"),
    )
    # Full-text search (migration 0014) keeps its own structures beside this table, outside the
    # model: on PostgreSQL the generated columns `transcript_vector` (the turns' messages) and
    # `summary_vector` with their GIN indexes; on SQLite the FTS5 table `call_detail_fts` and its
    # triggers. contact_center.search.repository reads them.
