"""Full-text search over what the reader may see (docs/inbox.md, "Search"): message texts, call
transcripts and summaries, and the customer (an exact reference, or digits of their number).

Results are newest first across the sources; each carries a masked snippet of about 160
characters around the first word found.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.interactions.service import agent_view
from contact_center.models.enums import Channel
from contact_center.pii import mask_link_tokens, mask_name, mask_phone, mask_text
from contact_center.principal import Principal
from contact_center.search import repository
from contact_center.search.repository import Hit
from contact_center.search.schemas import SearchHit, SearchPage

SNIPPET = 160
# A query of digits (and the punctuation numbers are written with) looks for phone numbers.
PHONE_LIKE = re.compile(r"[\d\s+().-]+")
MIN_DIGITS = 3
MAX_SKIP = 1000
_WORD = re.compile(r"\w+")
_SOURCES = ("message", "transcript", "summary", "customer")


def _plain(text: str) -> str:
    """Lower case without accents, the same length as `text` for the letters that matter."""
    out = []
    for char in text:
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append((base[:1] or char).lower())
    return "".join(out)


def _hit_at(text: str, words: list[str]) -> int:
    """Where the first word of `text` that matches one of `words` starts (its stem: a word's
    first letters, as a stemmer would keep them); 0 when none does."""
    stems = [w[: max(3, len(w) - 2)] if len(w) > 3 else w for w in words]
    for match in _WORD.finditer(_plain(text)):
        token = match.group(0)
        if any(
            token.startswith(stem) or (stem.startswith(token) and len(token) >= 3) for stem in stems
        ):
            return match.start()
    return 0


def snippet(text: str, words: list[str]) -> str:
    """About SNIPPET characters of `text` around the first hit, masked, cut at word boundaries,
    with an ellipsis where text was left out. Masked first, so a cut never leaves a part of a
    number readable."""
    text = " ".join(mask_text(mask_link_tokens(text)).split())
    if len(text) <= SNIPPET:
        return text
    at = _hit_at(text, words)
    start = max(0, at - SNIPPET // 3)
    end = min(len(text), start + SNIPPET)
    start = max(0, end - SNIPPET)
    if start > 0:
        space = text.find(" ", start, at if at > start else start + 20)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", max(start, end - 20), end)
        end = space if space != -1 else end
    return ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def _digits(q: str) -> str | None:
    if not PHONE_LIKE.fullmatch(q):
        return None
    digits = "".join(c for c in q if c.isdigit())
    return digits if len(digits) >= MIN_DIGITS else None


def _transcript_text(transcript: list[dict[str, Any]]) -> str:
    return " ".join(
        turn["message"]
        for turn in transcript
        if isinstance(turn, dict) and isinstance(turn.get("message"), str)
    )


async def search(
    session: AsyncSession, viewer: Principal, q: str, limit: int, skip: int
) -> SearchPage:
    """One page of what `viewer` may see that matches `q`, newest first (`limit` items after
    `skip`; `hasMore` when there are more)."""
    q = q.strip()
    limit = max(1, limit)
    skip = min(max(0, skip), MAX_SKIP)
    view = agent_view(viewer)
    wanted = skip + limit + 1
    hits: list[Hit] = []
    if q:
        query = await repository.text_query(session, q)
        if not query.empty:
            hits += await repository.message_hits(session, query, view, wanted)
            for part in ("transcript", "summary"):
                hits += await repository.call_hits(session, query, view, wanted, part=part)
        hits += await repository.customer_hits(
            session, ref=q[:128], digits=_digits(q), view=view, limit=wanted
        )
    hits.sort(
        key=lambda h: (h.at, -_SOURCES.index(h.source), str(h.message_id or h.interaction_id)),
        reverse=True,
    )
    page = hits[skip : skip + limit + 1]
    has_more = len(page) > limit
    page = page[:limit]
    return SearchPage(items=await _present(session, page, q), has_more=has_more)


async def _present(session: AsyncSession, hits: list[Hit], q: str) -> list[SearchHit]:
    words = [_plain(w) for w in _WORD.findall(q)]
    ids = list({h.interaction_id for h in hits})
    conversations = await repository.conversations(session, ids)
    bodies = await repository.message_bodies(
        session, [h.message_id for h in hits if h.message_id is not None]
    )
    calls = await repository.call_texts(
        session, [h.interaction_id for h in hits if h.source in ("transcript", "summary")]
    )
    items = []
    for hit in hits:
        conversation = conversations.get(hit.interaction_id)
        if conversation is None:
            continue  # gone between the two reads
        if hit.source == "message":
            text = bodies.get(hit.message_id) if hit.message_id else None
        elif hit.source in ("transcript", "summary"):
            transcript, summary = calls.get(hit.interaction_id, ([], None))
            text = _transcript_text(transcript) if hit.source == "transcript" else summary
        elif conversation.customer_ref == q:
            text = conversation.customer_ref
        else:
            text = mask_phone(conversation.customer_phone)
        items.append(
            SearchHit(
                interaction_id=hit.interaction_id,
                channel=Channel(conversation.channel),
                source=hit.source,
                message_id=hit.message_id,
                snippet=snippet(text or "", words),
                at=hit.at,
                customer_name=mask_name(conversation.customer_name),
                customer_phone=mask_phone(conversation.customer_phone),
            )
        )
    return items
