"""Private notes on a conversation and the notifications of their @mentions (docs/workflow.md).

A note is written by a person for the people: never sent to the customer, shown on the
timeline (`note.added`), masked like a message's body for whoever may not see personal data.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.auth.reveal import RevealAsk, reveal_for
from contact_center.db.base import utcnow
from contact_center.errors import NotFound, ValidationFailed
from contact_center.interactions.service import Event, record, visible_interaction
from contact_center.live.bus import also_heard_by
from contact_center.models.enums import EventType
from contact_center.models.note import InteractionNote, Notification
from contact_center.notes import repository
from contact_center.notes.schemas import NoteOut, NotificationOut, NotificationPage
from contact_center.pii import mask_text
from contact_center.principal import AuditContext, Principal
from contact_center.settings import Settings

# `@ana` or `@ana.perez` (a username: docs/security.md), not inside an e-mail address.
MENTION = re.compile(r"(?<![\w.@])@([a-z0-9][a-z0-9._-]{1,62}[a-z0-9])", re.IGNORECASE)
MENTION_KIND = "mention"


def mentioned(body: str) -> list[str]:
    """The usernames a note's body mentions, each once, in order."""
    names: list[str] = []
    for match in MENTION.finditer(body):
        name = match.group(1).lower()
        if name not in names:
            names.append(name)
    return names


def _out(note: InteractionNote, *, reveal: bool) -> NoteOut:
    out = NoteOut.model_validate(note)
    return out if reveal else out.model_copy(update={"body": mask_text(out.body)})


async def add_note(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    interaction_id: uuid.UUID,
    body: str,
    ask: RevealAsk,
) -> NoteOut:
    """Add a note: its event, its audit row (without the body), a notification and a live
    notice for each active user it mentions (not its author)."""
    text = body.strip()
    if not text:
        raise ValidationFailed(
            "A note needs some text.",
            details=[{"field": "body.body", "message": "empty after trimming"}],
        )
    principal = context.principal
    interaction = await visible_interaction(session, interaction_id, principal)
    users = await repository.active_users(session, mentioned(text))
    mentions = [name for name in mentioned(text) if name in users]
    now = utcnow()
    note = InteractionNote(
        id=uuid.uuid4(),
        interaction_id=interaction.id,
        author=principal.actor_id,
        body=text,
        mentions=mentions,
        created_at=now,
    )
    notified = [name for name in mentions if name != principal.actor_id]
    await repository.add(
        session,
        note,
        *(
            Notification(
                user_id=users[name],
                kind=MENTION_KIND,
                interaction_id=interaction.id,
                note_id=note.id,
                actor=principal.actor_id,
                created_at=now,
            )
            for name in notified
        ),
    )
    await record(
        session,
        interaction,
        Event(
            EventType.NOTE_ADDED,
            f"note:{note.id}",
            normalized={
                "noteId": str(note.id),
                "author": note.author,
                "body": text,
                "mentions": mentions,
            },
        ),
    )
    # Each person mentioned hears of it on their live stream.
    for name in notified:
        also_heard_by(session.info, interaction.id, name, None)
    await audit.record(
        session,
        context,
        "interaction.note.added",
        entity_type="interaction",
        entity_id=interaction.id,
        metadata={"noteId": str(note.id), "mentions": mentions, "length": len(text)},
    )
    reveal = await reveal_for(
        session,
        settings,
        context,
        ask,
        resource="interactions.notes",
        entity_type="interaction",
        entity_id=interaction.id,
    )
    return _out(note, reveal=reveal)


async def list_notes(
    session: AsyncSession,
    settings: Settings,
    context: AuditContext,
    interaction_id: uuid.UUID,
    ask: RevealAsk,
) -> list[NoteOut]:
    """A conversation's notes, oldest first (masked unless revealed)."""
    interaction = await visible_interaction(session, interaction_id, context.principal)
    notes = await repository.notes_of(session, interaction.id)
    reveal = await reveal_for(
        session,
        settings,
        context,
        ask,
        resource="interactions.notes",
        entity_type="interaction",
        entity_id=interaction.id,
    )
    return [_out(note, reveal=reveal) for note in notes]


# --- notifications: a user's own ------------------------------------------------------------


def _user_id(principal: Principal) -> uuid.UUID | None:
    return principal.user_id


async def notifications(
    session: AsyncSession, principal: Principal, *, unread_only: bool, limit: int
) -> NotificationPage:
    """The caller's notifications, newest first (none for a caller who is not a user)."""
    user_id = _user_id(principal)
    if user_id is None:
        return NotificationPage(items=[], unread=0)
    rows = await repository.notifications_of(session, user_id, unread_only=unread_only, limit=limit)
    return NotificationPage(
        items=[NotificationOut.model_validate(row) for row in rows],
        unread=await repository.unread_count(session, user_id),
    )


async def unread(session: AsyncSession, principal: Principal) -> int:
    user_id = _user_id(principal)
    return 0 if user_id is None else await repository.unread_count(session, user_id)


async def mark_read(
    session: AsyncSession, principal: Principal, notification_id: uuid.UUID
) -> NotificationOut:
    """One of the caller's notifications, read (another user's is as unknown: 404)."""
    user_id = _user_id(principal)
    found = (
        None
        if user_id is None
        else await repository.notification_of(session, user_id, notification_id)
    )
    if found is None or user_id is None:
        raise NotFound(f"No notification with id {notification_id}.", code="notification_not_found")
    if found.read_at is None:
        found.read_at = utcnow()
        await session.flush()
    return NotificationOut.model_validate(found)


async def mark_all_read(session: AsyncSession, principal: Principal) -> int:
    user_id = _user_id(principal)
    if user_id is None:
        return 0
    return await repository.mark_read(session, user_id, None, utcnow())
