"""Entering and leaving a queue: what every path that hands a conversation to the people (an
inbound conversation, a reopen, an unassign, a transfer to a team, an escalated call) sets on
it. The router (routing.service) then picks a team by the rules when none is set, and a member.
Pure functions on the model (or on a detached copy on the paths below the ORM)."""

from __future__ import annotations

import uuid
from datetime import datetime

from contact_center.models.interaction import Interaction


def enter_queue(interaction: Interaction, now: datetime, team_id: uuid.UUID | None = None) -> None:
    """Waiting for a person from `now`, in `team_id`'s queue (None: the one it is in, else the
    one the rules choose)."""
    interaction.assigned_agent = None
    interaction.assigned_at = None
    interaction.queued_at = now
    if team_id is not None:
        interaction.team_id = team_id


def leave_queue(interaction: Interaction, agent: str, now: datetime) -> None:
    """Assigned to `agent` at `now`: no longer waiting."""
    interaction.assigned_agent = agent
    interaction.assigned_at = now
    interaction.queued_at = None
