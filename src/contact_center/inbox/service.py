"""The inbox (docs/inbox.md): a person's views of the conversations they may work, each
conversation's unread count for them, and their read marks.

Scope is the workflow's (`interactions.service.agent_view`): every view is inside what the
reader sees. Names and phone numbers are masked, previews are masked text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import utcnow
from contact_center.errors import Forbidden, NotFound, ValidationFailed
from contact_center.inbox import repository
from contact_center.inbox.repository import UNREAD_CAP, ViewFilter
from contact_center.interactions import repository as interactions_repository
from contact_center.interactions.repository import visible_condition
from contact_center.interactions.service import agent_view, visible_interaction
from contact_center.interactions.workflow import LABEL
from contact_center.models.enums import Channel, Direction, InteractionStatus, Priority
from contact_center.models.interaction import Interaction
from contact_center.pii import mask_link_tokens, mask_name, mask_phone, mask_text
from contact_center.principal import Principal

PREVIEW_LENGTH = 120
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_SKIP = 100_000
# The views pane lists at most this many labels (the most used).
LABELS_SHOWN = 30


class View(StrEnum):
    MINE = "mine"
    UNASSIGNED = "unassigned"
    TEAM = "team"
    ALL = "all"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"
    LABEL = "label"


class Sort(StrEnum):
    WAITING = "waiting"
    RECENT = "recent"


@dataclass(frozen=True)
class InboxQuery:
    view: View = View.MINE
    team_id: uuid.UUID | None = None
    label: str | None = None
    channel: Channel | None = None
    sort: Sort = Sort.WAITING
    limit: int = DEFAULT_LIMIT
    skip: int = 0


@dataclass(frozen=True)
class LastMessage:
    direction: Direction
    preview: str
    at: datetime


@dataclass(frozen=True)
class InboxItem:
    id: uuid.UUID
    channel: Channel
    status: InteractionStatus
    customer_name: str | None
    customer_phone: str | None
    last_message: LastMessage | None
    unread: int
    waiting_since: datetime | None
    priority: Priority
    assigned_agent: str | None
    team_id: uuid.UUID | None
    labels: list[str]
    snoozed_until: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    has_more: bool


@dataclass(frozen=True)
class ViewCount:
    conversations: int


@dataclass(frozen=True)
class MineCount:
    conversations: int
    unread: int


@dataclass(frozen=True)
class TeamCount:
    id: uuid.UUID
    name: str
    conversations: int


@dataclass(frozen=True)
class LabelCount:
    label: str
    conversations: int


@dataclass(frozen=True)
class InboxCounts:
    mine: MineCount
    unassigned: ViewCount
    teams: list[TeamCount] = field(default_factory=list)
    # Supervisors and admins only.
    all: ViewCount | None = None
    snoozed: ViewCount = ViewCount(0)
    # The labels of the open conversations the reader sees (the label views), most used first.
    labels: list[LabelCount] = field(default_factory=list)


@dataclass(frozen=True)
class ReadState:
    unread: int
    last_read_at: datetime | None


# --- views -----------------------------------------------------------------------------------


def _invalid(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field_name, "message": message}])


def normalized_label(raw: str) -> str:
    label = " ".join(raw.split()).lower()
    if not LABEL.match(label):
        raise _invalid("query.label", "A label is 1 to 50 letters, digits, spaces, _ or -.")
    return label


def _scope(viewer: Principal) -> list[ColumnElement[bool]]:
    view = agent_view(viewer)
    return [] if view is None else [visible_condition(view)]


async def _view_filter(session: AsyncSession, viewer: Principal, query: InboxQuery) -> ViewFilter:
    """The view as conditions on interactions: always inside the reader's scope."""
    now = utcnow()
    conditions = _scope(viewer)
    order = "recent" if query.sort is Sort.RECENT else "waiting"
    agent = viewer.agent_scope
    if query.view is View.RESOLVED:
        conditions.append(repository.closed_condition())
        if agent is not None:
            conditions.append(repository.assigned_to(agent))
        order = "updated"
    elif query.view is View.SNOOZED:
        conditions += [repository.open_condition(), repository.asleep(now)]
        if agent is not None:
            conditions.append(repository.assigned_to(agent))
    else:
        conditions += [repository.open_condition(), repository.awake(now)]
        if query.view is View.MINE:
            conditions.append(repository.assigned_to(viewer.actor_id))
        elif query.view is View.UNASSIGNED:
            conditions.append(repository.unassigned())
        elif query.view is View.ALL:
            if agent is not None:
                raise Forbidden(
                    "The All view is for supervisors and admins.", code="forbidden_view"
                )
        elif query.view is View.TEAM:
            if query.team_id is None:
                raise _invalid("query.team", "The team view needs `team`.")
            await _require_team(session, viewer, query.team_id)
            conditions.append(repository.in_team(query.team_id))
        elif query.view is View.LABEL:
            if not query.label:
                raise _invalid("query.label", "The label view needs `label`.")
            conditions.append(repository.labelled(normalized_label(query.label)))
    if query.channel is not None:
        conditions.append(repository.channel_is(query.channel))
    return ViewFilter(tuple(conditions), order)


async def _require_team(session: AsyncSession, viewer: Principal, team_id: uuid.UUID) -> None:
    """An unknown team is 404; an agent opens their own teams' views only (403)."""
    if not await repository.team_exists(session, team_id):
        raise NotFound(f"No team with id {team_id}.", code="team_not_found")
    if viewer.agent_scope is not None and team_id not in viewer.team_ids:
        raise Forbidden("An agent sees the views of their own teams only.", code="forbidden_view")


def preview(row: dict[str, Any]) -> str:
    """A message as one line of the list: its text masked, at most PREVIEW_LENGTH characters;
    without text, its kind (`[image]`, `[otp]`)."""
    body = (row.get("body") or "").strip()
    if body:
        text = " ".join(mask_text(mask_link_tokens(body)).split())
        return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"
    media = row.get("media") or []
    if media and isinstance(media[0], dict):
        content_type = str(media[0].get("contentType") or "")
        media_type = content_type.split("/", 1)[0] if content_type else "media"
        return f"[{media_type or 'media'}]"
    kind = row.get("kind")
    return f"[{str(getattr(kind, 'value', kind) or 'message').lower()}]"


def _item(
    interaction: Interaction, last: dict[str, Any] | None, unread: int, labels: list[str]
) -> InboxItem:
    return InboxItem(
        id=interaction.id,
        channel=interaction.channel,
        status=interaction.status,
        customer_name=mask_name(interaction.customer_name),
        customer_phone=mask_phone(interaction.customer_phone),
        last_message=None
        if last is None
        else LastMessage(direction=last["direction"], preview=preview(last), at=last["created_at"]),
        unread=min(unread, UNREAD_CAP),
        waiting_since=interaction.waiting_since,
        priority=interaction.priority,
        assigned_agent=interaction.assigned_agent,
        team_id=interaction.team_id,
        labels=labels,
        snoozed_until=interaction.snoozed_until,
        updated_at=interaction.updated_at,
    )


async def list_inbox(session: AsyncSession, viewer: Principal, query: InboxQuery) -> InboxPage:
    """One page of a view: four statements whatever the page's size (the page, then its last
    messages, unread counts and labels)."""
    if not 1 <= query.limit <= MAX_LIMIT:
        raise _invalid("query.limit", f"limit is 1 to {MAX_LIMIT}.")
    if not 0 <= query.skip <= MAX_SKIP:
        raise _invalid("query.skip", f"skip is 0 to {MAX_SKIP}.")
    view = await _view_filter(session, viewer, query)
    rows = await repository.page(session, view, limit=query.limit, skip=query.skip)
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    ids = [row.id for row in rows]
    last = await repository.last_messages(session, ids)
    unread = await repository.unread_counts(session, viewer.user_id, ids)
    labels = await interactions_repository.labels_for(session, ids)
    items = [_item(row, last.get(row.id), unread.get(row.id, 0), labels[row.id]) for row in rows]
    return InboxPage(items=items, has_more=has_more)


async def counts(session: AsyncSession, viewer: Principal) -> InboxCounts:
    """The views' sizes and the reader's unread total over Mine."""
    now = utcnow()
    scope = _scope(viewer)
    agent = viewer.agent_scope
    open_awake = [*scope, repository.open_condition(), repository.awake(now)]
    mine = [*open_awake, repository.assigned_to(viewer.actor_id)]
    snoozed = [*scope, repository.open_condition(), repository.asleep(now)]
    if agent is not None:
        snoozed.append(repository.assigned_to(agent))
    by_team = await repository.count_by_team(session, open_awake)
    teams = await repository.teams(session, None if agent is None else sorted(viewer.team_ids))
    return InboxCounts(
        mine=MineCount(
            conversations=await repository.count(session, mine),
            unread=await repository.unread_total(session, viewer.user_id, mine),
        ),
        unassigned=ViewCount(
            await repository.count(session, [*open_awake, repository.unassigned()])
        ),
        teams=[TeamCount(t.id, t.name, by_team.get(t.id, 0)) for t in teams],
        all=None if agent is not None else ViewCount(await repository.count(session, open_awake)),
        snoozed=ViewCount(await repository.count(session, snoozed)),
        labels=await open_labels(session, viewer),
    )


async def team_name(session: AsyncSession, team_id: uuid.UUID) -> str | None:
    """A team's name (None: no such team)."""
    found = await repository.teams(session, [team_id])
    return found[0].name if found else None


async def open_labels(
    session: AsyncSession, viewer: Principal, limit: int = LABELS_SHOWN
) -> list[LabelCount]:
    """The labels of the open, awake conversations the reader sees (what each label view
    holds), the `limit` most used first, each with its number of conversations."""
    conditions = [*_scope(viewer), repository.open_condition(), repository.awake(utcnow())]
    found = await repository.label_counts(session, conditions, limit)
    return [LabelCount(label, conversations) for label, conversations in found]


# --- read marks ------------------------------------------------------------------------------


def _reader(viewer: Principal) -> uuid.UUID:
    if viewer.user_id is None:
        raise Forbidden("Read marks are a signed-in person's.", code="no_user")
    return viewer.user_id


async def mark_read(
    session: AsyncSession,
    viewer: Principal,
    interaction_id: uuid.UUID,
    message_id: uuid.UUID | None = None,
) -> ReadState:
    """Mark the conversation read up to `message_id` (default: its newest message). A mark
    only moves forward: an older one than the reader's leaves theirs as it is."""
    user_id = _reader(viewer)
    interaction = await visible_interaction(session, interaction_id, viewer)
    if message_id is not None:
        found = await repository.message_of(session, interaction.id, message_id)
        if found is None:
            raise NotFound(
                f"No message with id {message_id} in this conversation.",
                code="message_not_found",
            )
    else:
        found = await repository.newest_message(session, interaction.id)
    await _move_mark(session, user_id, interaction.id, found)
    return await read_state(session, viewer, interaction.id)


async def mark_shown(
    session: AsyncSession,
    viewer: Principal,
    interaction_id: uuid.UUID,
    newest: tuple[uuid.UUID, datetime] | None,
) -> None:
    """The console's mark once it has shown a conversation (read within the reader's scope):
    up to the newest message it showed, `(id, created_at)`."""
    await _move_mark(session, _reader(viewer), interaction_id, newest)


async def _move_mark(
    session: AsyncSession,
    user_id: uuid.UUID,
    interaction_id: uuid.UUID,
    found: tuple[uuid.UUID, datetime] | None,
) -> None:
    now = utcnow()
    read_id, read_at = found if found is not None else (None, now)
    await repository.move_mark(session, user_id, interaction_id, read_id, read_at, now)


async def read_state(
    session: AsyncSession, viewer: Principal, interaction_id: uuid.UUID
) -> ReadState:
    """The reader's unread count and mark of one conversation (the caller checked scope)."""
    unread = await repository.unread_counts(session, viewer.user_id, [interaction_id])
    mark = (
        None
        if viewer.user_id is None
        else await repository.mark_of(session, viewer.user_id, interaction_id)
    )
    return ReadState(unread=min(unread.get(interaction_id, 0), UNREAD_CAP), last_read_at=mark)
