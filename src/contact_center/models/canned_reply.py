"""Canned replies: saved answers an agent inserts by shortcut, global or for one team."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, new_id, utcnow


class CannedReply(Base):
    __tablename__ = "canned_reply"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # NULL: for everyone.
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    # "global" or the team's id: a shortcut is unique within its scope (NULLs would not be).
    scope_key: Mapped[str] = mapped_column(String(40))
    shortcut: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(100))
    # May hold {{customer_first_name}} and {{agent_name}}.
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("scope_key", "shortcut"),)
