"""Teams (queues), their members, and the rules that send conversations to them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db.base import Base, new_id, utcnow
from contact_center.models.enums import Channel, RoutingMode
from contact_center.models.interaction import str_enum


class Team(Base):
    """A queue of conversations and the people who work it."""

    __tablename__ = "team"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(String(300))
    routing_mode: Mapped[RoutingMode] = mapped_column(
        str_enum(RoutingMode, "routing_mode"), default=RoutingMode.ROUND_ROBIN
    )
    # Where a conversation no rule matches goes (at most one team; the service keeps it so).
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_member"

    team_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Round-robin picks the member assigned least recently in this team (NULL: never).
    last_assigned_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_team_member_user", "user_id"),)


class RoutingRule(Base):
    """Conversations matching every given criterion (NULL: any) go to `team_id`; rules are
    tried by `position`, the first match wins; no match goes to the default team."""

    __tablename__ = "routing_rule"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    position: Mapped[int] = mapped_column(default=0)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    channel: Mapped[Channel | None] = mapped_column(str_enum(Channel, "channel"))
    intent: Mapped[str | None] = mapped_column(String(128))
    queue: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_routing_rule_position", "position"),)
