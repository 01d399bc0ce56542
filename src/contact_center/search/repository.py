"""All SQL of search: PostgreSQL's full-text search (the `cc_spanish` configuration and the
generated tsvector columns of migration 0014) and SQLite's FTS5 tables (same migration).

The reader's words are never query syntax: on PostgreSQL they go through `plainto_tsquery`
(every word ANDed, operators read as words or dropped), on SQLite each word is quoted as an FTS5
string (a prefix search: `"tarjeta"*`).
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    FromClause,
    String,
    Table,
    Text,
    and_,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    true,
)
from sqlalchemy import cast as cast_
from sqlalchemy import text as text_
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.interactions.repository import AgentView, visible_condition
from contact_center.models.call_detail import CallDetail
from contact_center.models.enums import Channel
from contact_center.models.interaction import Interaction
from contact_center.models.message import Message

MESSAGE = cast(Table, Message.__table__)
CALL_DETAIL = cast(Table, CallDetail.__table__)
INTERACTION = cast(Table, Interaction.__table__)

# PostgreSQL: the generated columns of migration 0014 (outside the models).
MESSAGE_VECTOR: ColumnElement[Any] = literal_column("message.search_vector")
TRANSCRIPT_VECTOR: ColumnElement[Any] = literal_column("call_detail.transcript_vector")
SUMMARY_VECTOR: ColumnElement[Any] = literal_column("call_detail.summary_vector")

# SQLite: the FTS5 tables of migration 0014.
MESSAGE_FTS = table("message_fts", column("rowid"))
CALL_DETAIL_FTS = table("call_detail_fts", column("rowid"), column("interaction_id", String))

WORD = re.compile(r"\w+")


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@dataclass(frozen=True)
class TextQuery:
    """The words to find, as the database takes them (None: no word to search for)."""

    postgresql: str | None = None  # a tsquery's text, as plainto_tsquery made it
    sqlite: str | None = None  # an FTS5 expression of quoted words

    @property
    def empty(self) -> bool:
        return self.postgresql is None and self.sqlite is None


def _plain_words(q: str) -> list[str]:
    """The words of `q` (letters and digits), lower case; operators and quotes are dropped."""
    return [word.lower() for word in WORD.findall(q)]


def _sqlite_word(word: str) -> str:
    """An FTS5 prefix string for one word. Without a stemmer, a plural's `s`/`es` is cut so the
    singular and the plural both match ("tarjetas" → "tarjeta"*)."""
    base = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    if len(base) > 4 and base.endswith("es") and base[-3] not in "aeiou":
        base = base[:-2]
    elif len(base) > 3 and base.endswith("s"):
        base = base[:-1]
    return '"' + base.replace('"', "") + '"*'


async def text_query(session: AsyncSession, q: str) -> TextQuery:
    if _dialect(session) == "postgresql":
        found = (
            await session.execute(
                select(
                    cast_(
                        func.plainto_tsquery(literal_column("'cc_spanish'"), bindparam("q", q)),
                        Text,
                    )
                )
            )
        ).scalar_one()
        text = str(found or "").strip()
        return TextQuery(postgresql=text or None)
    words = [_sqlite_word(word) for word in _plain_words(q)]
    return TextQuery(sqlite=" ".join(words) if words else None)


@dataclass(frozen=True)
class Hit:
    source: str
    interaction_id: uuid.UUID
    message_id: uuid.UUID | None
    at: datetime


def _tsquery(query: TextQuery) -> ColumnElement[Any]:
    # Rendered into the statement (not a parameter) so the planner sees the words: how many rows
    # they match decides between the GIN index and walking the newest rows.
    return cast_(literal(query.postgresql, String, literal_execute=True), TSQUERY)


# PostgreSQL: words the planner expects in at most FEW rows are sorted from the GIN index's
# matches; more common ones are found walking the newest rows (ix_message_created,
# ix_interaction_started) until the page is full. Left to itself the planner walks for rare words
# too (its LIMIT costing assumes the matches spread evenly along the order), and reads every row
# when a word is nowhere. Calls walk the interactions (most of which are no call) and read each
# one's scope from the table; sorting their matches joins each to its interaction.
FEW = {"message": 10_000, "call_detail": 5_000}


async def _few(session: AsyncSession, table: Table, match: ColumnElement[bool]) -> bool:
    """Whether the planner expects `match` to hold for at most FEW rows of `table` (its
    statistics of the tsvector's lexemes; planning only, nothing is read)."""
    probe: Any = select(literal_column("1")).select_from(table).where(match)
    sql = str(
        probe.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    )
    # No parameter in the probe: a colon inside the words is text, not a bind parameter.
    plan = (
        await session.execute(text_("EXPLAIN (FORMAT JSON) " + sql.replace(":", "\\:")))
    ).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"]) <= FEW[table.name]


def _scope(view: AgentView | None) -> list[ColumnElement[bool]]:
    return [] if view is None else [visible_condition(view)]


async def message_hits(
    session: AsyncSession, query: TextQuery, view: AgentView | None, limit: int
) -> list[Hit]:
    """The newest messages whose text has every word."""
    source: FromClause = MESSAGE
    columns: Any = MESSAGE.c
    match: ColumnElement[bool]
    if query.postgresql is not None:
        match = MESSAGE_VECTOR.op("@@")(_tsquery(query))
        if await _few(session, MESSAGE, match):
            # OFFSET 0: the matches first (the GIN index), then their scope and order.
            found = (
                select(MESSAGE.c.id, MESSAGE.c.interaction_id, MESSAGE.c.created_at)
                .where(match)
                .offset(0)
                .subquery("found")
            )
            source, columns, match = found, found.c, true()
    elif query.sqlite is not None:
        source = source.join(MESSAGE_FTS, MESSAGE_FTS.c.rowid == literal_column("message.rowid"))
        match = literal_column("message_fts").op("MATCH")(bindparam("fts", query.sqlite))
    else:
        return []
    if view is not None:
        source = source.join(INTERACTION, INTERACTION.c.id == columns.interaction_id)
    stmt = (
        select(columns.id, columns.interaction_id, columns.created_at)
        .select_from(source)
        .where(match, *_scope(view))
        .order_by(columns.created_at.desc(), columns.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [Hit("message", row[1], row[0], row[2]) for row in rows]


async def call_hits(
    session: AsyncSession, query: TextQuery, view: AgentView | None, limit: int, *, part: str
) -> list[Hit]:
    """The newest calls whose transcript (`part="transcript"`) or summary has every word."""
    source: FromClause
    match: ColumnElement[bool]
    if query.postgresql is not None:
        vector = TRANSCRIPT_VECTOR if part == "transcript" else SUMMARY_VECTOR
        match = vector.op("@@")(_tsquery(query))
        if await _few(session, CALL_DETAIL, match):
            found = select(CALL_DETAIL.c.interaction_id).where(match).offset(0).subquery("found")
            source = found.join(INTERACTION, INTERACTION.c.id == found.c.interaction_id)
            match = true()
        else:
            source = CALL_DETAIL.join(INTERACTION, INTERACTION.c.id == CALL_DETAIL.c.interaction_id)
    elif query.sqlite is not None:
        source = CALL_DETAIL_FTS.join(
            INTERACTION, INTERACTION.c.id == CALL_DETAIL_FTS.c.interaction_id
        )
        match = literal_column("call_detail_fts").op("MATCH")(
            bindparam("fts", f"{{{part}}} : ({query.sqlite})")
        )
    else:
        return []
    stmt = (
        select(INTERACTION.c.id, INTERACTION.c.started_at)
        .select_from(source)
        # Only calls have a call detail: said here, the walk skips the other interactions in
        # ix_interaction_started (it holds the channel) instead of looking each one up.
        .where(match, INTERACTION.c.channel == Channel.CALL, *_scope(view))
        .order_by(INTERACTION.c.started_at.desc(), INTERACTION.c.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [Hit(part, row[0], None, row[1]) for row in rows]


async def customer_hits(
    session: AsyncSession,
    *,
    ref: str | None,
    digits: str | None,
    view: AgentView | None,
    limit: int,
) -> list[Hit]:
    """The conversations of the customer with reference `ref` or whose number contains `digits`
    (the trigram index serves it on PostgreSQL), last changed first."""
    matches: list[ColumnElement[bool]] = []
    if ref:
        matches.append(INTERACTION.c.customer_ref == ref)
    if digits:
        # Digits only (checked by the caller): no LIKE wildcard can be injected.
        matches.append(INTERACTION.c.customer_phone.contains(digits, autoescape=True))
    if not matches:
        return []
    condition = matches[0] if len(matches) == 1 else matches[0] | matches[1]
    stmt = select(INTERACTION.c.id, INTERACTION.c.updated_at).where(condition, *_scope(view))
    stmt = stmt.order_by(INTERACTION.c.updated_at.desc(), INTERACTION.c.id.desc()).limit(limit)
    rows = (await session.execute(stmt)).all()
    return [Hit("customer", row[0], None, row[1]) for row in rows]


async def message_bodies(
    session: AsyncSession, message_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str | None]:
    if not message_ids:
        return {}
    stmt = select(MESSAGE.c.id, MESSAGE.c.body).where(MESSAGE.c.id.in_(list(message_ids)))
    return {id: body for id, body in (await session.execute(stmt)).all()}


async def call_texts(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[list[dict[str, Any]], str | None]]:
    """Each call's transcript and summary."""
    if not interaction_ids:
        return {}
    stmt = select(
        CALL_DETAIL.c.interaction_id, CALL_DETAIL.c.transcript, CALL_DETAIL.c.summary
    ).where(CALL_DETAIL.c.interaction_id.in_(list(interaction_ids)))
    return {
        id: (transcript if isinstance(transcript, list) else [], summary)
        for id, transcript, summary in (await session.execute(stmt)).all()
    }


@dataclass(frozen=True)
class Conversation:
    channel: str
    customer_name: str | None
    customer_phone: str | None
    customer_ref: str | None


async def conversations(
    session: AsyncSession, interaction_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Conversation]:
    if not interaction_ids:
        return {}
    stmt = select(
        INTERACTION.c.id,
        INTERACTION.c.channel,
        INTERACTION.c.customer_name,
        INTERACTION.c.customer_phone,
        INTERACTION.c.customer_ref,
    ).where(and_(INTERACTION.c.id.in_(list(interaction_ids))))
    return {
        row[0]: Conversation(row[1], row[2], row[3], row[4])
        for row in (await session.execute(stmt)).all()
    }
