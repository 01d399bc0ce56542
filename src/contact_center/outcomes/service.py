"""Satisfaction surveys and repeat contacts (docs/service-levels.md, "CSAT" and "Outcomes").

The CSAT job sends one survey per resolved conversation through messaging's outbound path (a
QUEUED message written in the job's transaction, sent by the send job); the customer answers
once on a public page whose signed token names the survey. The outcomes job marks a resolved
conversation whose customer came back within 7 days (a repeat contact: not resolved first
time)."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import utcnow
from contact_center.db.fast import reader
from contact_center.errors import NotFound
from contact_center.interactions import repository as interactions_repository
from contact_center.interactions import whatsapp_window
from contact_center.interactions.service import Event, record, visible_interaction
from contact_center.links.service import make_token, read_token
from contact_center.message_templates import Templates
from contact_center.messaging import outbound
from contact_center.models.csat import CsatSurvey, RepeatContact
from contact_center.models.enums import Channel, EventType, Handler, MessageKind
from contact_center.models.interaction import Interaction
from contact_center.outcomes import repository
from contact_center.outcomes.schemas import CsatOut, CsatSurveyOut, RepeatContactOut
from contact_center.pii import mask_text
from contact_center.principal import SYSTEM_CONTEXT, Principal
from contact_center.redaction import repository as redaction_repository
from contact_center.redaction.redact import cut
from contact_center.redaction.service import RedactionKeys
from contact_center.settings import Settings

# A conversation resolved longer ago than this gets no survey (the job's look-back: turning
# CSAT on does not survey last year's conversations).
SURVEY_LOOKBACK = timedelta(days=1)
SURVEY_BATCH = 100
# A customer who comes back within this long of a resolution makes it a repeat contact.
REPEAT_WINDOW = timedelta(days=7)
REPEAT_BATCH = 500
COMMENT_MAX = 1000
PATH = "/csat"


def survey_key(link_signing_key: bytes) -> bytes:
    """The key that signs survey links: derived from LINK_SIGNING_KEY under its own label, so a
    verification link's token is never a survey's."""
    return hmac.new(link_signing_key, b"contact-center csat v1", hashlib.sha256).digest()


def survey_base_url(settings: Settings) -> str:
    """Where the survey page answers: PUBLIC_BASE_URL, else this service on its port."""
    base = settings.public_base_url or f"http://127.0.0.1:{settings.app_port}"
    return base.rstrip("/") + PATH


def survey_url(settings: Settings, key: bytes, survey: CsatSurvey) -> str:
    return f"{survey_base_url(settings)}/{make_token(key, survey.id, survey.expires_at)}"


# --- sending ----------------------------------------------------------------------------------


async def attribution(
    session: AsyncSession, interaction: Interaction
) -> tuple[Handler, str | None]:
    """Whom the answer is about: the person who resolved it (the resolve's actor, else the
    assigned person), or the AI agent when it closed the conversation with no person."""
    actor = await repository.resolver(session, interaction.id)
    if actor is not None and actor != SYSTEM_CONTEXT.principal.actor_id:
        return Handler.PERSON, actor[:128]
    if interaction.channel is Channel.CALL:
        # A call's assigned_agent names the voice agent while the AI keeps it.
        if interaction.ai_handled:
            return Handler.AI, None
        return Handler.PERSON, interaction.assigned_agent
    if interaction.assigned_agent is None and interaction.ai_handled:
        return Handler.AI, None
    return Handler.PERSON, interaction.assigned_agent


@dataclass(frozen=True)
class SurveyDeps:
    """What sending a survey needs (built once by the worker)."""

    settings: Settings
    templates: Templates
    key: bytes
    from_number: str


async def survey_channel(session: AsyncSession, interaction: Interaction, now: datetime) -> Channel:
    """WhatsApp when the conversation is one and the customer wrote within 24 hours (free text
    is allowed), else SMS."""
    if interaction.channel is not Channel.WHATSAPP:
        return Channel.SMS
    last = await interactions_repository.last_inbound_whatsapp(
        await reader(session), interaction_id=None, phone=interaction.customer_phone
    )
    closes = whatsapp_window.closes_at(last)
    return Channel.WHATSAPP if closes is not None and closes > now else Channel.SMS


async def send_survey(
    session: AsyncSession, deps: SurveyDeps, interaction_id: uuid.UUID
) -> uuid.UUID | None:
    """The conversation's one survey and its QUEUED message; the message's id for the send
    job, or None (no longer resolved, no phone to send to — recorded — or it has one)."""
    interaction = await repository.locked_interaction(session, interaction_id)
    if not await repository.still_resolved(session, interaction.id):
        return None
    phone = interaction.customer_phone
    if not phone:
        await record(
            session,
            interaction,
            Event(
                EventType.CSAT_SENT,
                f"csat:{interaction.id}:skipped",
                normalized={"sent": False, "reason": "no_phone"},
            ),
        )
        return None
    now = utcnow()
    handler, agent = await attribution(session, interaction)
    channel = await survey_channel(session, interaction, now)
    days = deps.settings.csat_expiry_days
    survey = CsatSurvey(
        id=uuid.uuid4(),
        interaction_id=interaction.id,
        channel=channel,
        message_id=None,
        handler=handler,
        agent=agent,
        team_id=interaction.team_id,
        sent_at=now,
        expires_at=now + timedelta(days=days),
        created_at=now,
        updated_at=now,
    )
    values = {c.key: getattr(survey, c.key) for c in CsatSurvey.__table__.columns}
    if not await repository.add_survey(session, values):
        return None  # another job wrote it first: one survey, one message
    body = deps.templates.csat(url=survey_url(deps.settings, deps.key, survey), days=days)
    queued = await outbound.queue_automated(
        session,
        SYSTEM_CONTEXT,
        interaction,
        channel,
        to=phone,
        body=body,
        kind=MessageKind.CSAT,
        from_number=deps.from_number,
        customer_ref=interaction.customer_ref,
        audit_metadata={"surveyOf": str(interaction.id)},
    )
    await repository.set_message(session, survey.id, queued.message_id)
    await record(
        session,
        interaction,
        Event(
            EventType.CSAT_SENT,
            f"csat:{interaction.id}:sent",
            normalized={
                "sent": True,
                "surveyId": str(survey.id),
                "channel": channel.value,
                "messageId": str(queued.message_id),
                "handler": handler.value,
                "agent": agent,
                "expiresAt": survey.expires_at.isoformat(),
            },
        ),
    )
    return queued.message_id


async def due_surveys(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """The conversations that wait for a survey (resolved within the look-back)."""
    found = await repository.survey_candidates(
        session, since=now - SURVEY_LOOKBACK, limit=SURVEY_BATCH
    )
    return [interaction.id for interaction in found]


# --- answering --------------------------------------------------------------------------------


class SurveyState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    EXPIRED = "expired"


def state_of(survey: CsatSurvey, now: datetime) -> SurveyState:
    if survey.answered_at is not None:
        return SurveyState.ANSWERED
    return SurveyState.EXPIRED if now >= survey.expires_at else SurveyState.OPEN


def _unknown() -> NotFound:
    return NotFound("Unknown or tampered survey link.", code="csat_not_found")


async def survey_by_token(
    session: AsyncSession, key: bytes, token: str, *, for_update: bool = False
) -> CsatSurvey:
    """The survey a well-signed token names (404 otherwise: unknown, forged or tampered)."""
    survey_id = read_token(key, token[:200])
    survey = (
        await repository.survey(session, survey_id, for_update=for_update) if survey_id else None
    )
    if survey is None:
        raise _unknown()
    return survey


class InvalidAnswer(ValueError):
    """The form's values are not an answer (what is wrong, for the page)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def valid_score(raw: str | None) -> int:
    text = (raw or "").strip()
    if len(text) != 1 or text not in "12345":
        raise InvalidAnswer("score")
    return int(text)


def valid_comment(raw: str | None) -> str | None:
    """The comment as kept: trimmed, NFC, at most COMMENT_MAX characters, no control
    characters but line breaks and tabs (NUL refused)."""
    text = unicodedata.normalize("NFC", (raw or "").replace("\r\n", "\n")).strip()
    if len(text) > COMMENT_MAX:
        raise InvalidAnswer("comment")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise InvalidAnswer("comment")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise InvalidAnswer("comment")
    return text or None


async def answer(
    session: AsyncSession,
    key: bytes,
    token: str,
    score: int,
    comment: str | None,
    *,
    redaction: RedactionKeys | None = None,
) -> SurveyState:
    """Record the customer's answer, once: OPEN when this call recorded it, else the state
    that refused it (ANSWERED, EXPIRED). The row lock makes two answers at once one. With
    `redaction`, the comment is redacted before it is stored (docs/redaction.md), its vault
    rows and proofs (`csat:<survey id>`) written in the same transaction."""
    survey = await survey_by_token(session, key, token, for_update=True)
    now = utcnow()
    state = state_of(survey, now)
    if state is not SurveyState.OPEN:
        return state
    if comment is not None and redaction is not None:
        redactor = redaction.redactor()
        # Tokens are longer than what they stand for: cut, never inside a placeholder.
        comment = cut(redactor.text(comment, "comment"), COMMENT_MAX)
        if redactor.count:
            await redaction_repository.save(
                session, redactor, f"csat:{survey.id}", survey.interaction_id
            )
    survey.answered_at = now
    survey.score = score
    survey.comment = comment
    survey.updated_at = now
    interaction = await repository.interaction_or_none(session, survey.interaction_id)
    assert interaction is not None
    await record(
        session,
        interaction,
        Event(
            EventType.CSAT_ANSWERED,
            f"csat:{survey.id}:answered",
            normalized={
                "surveyId": str(survey.id),
                "score": score,
                "comment": comment is not None,
                "handler": survey.handler.value,
            },
        ),
    )
    return SurveyState.OPEN


# --- reading (the API and the console) -------------------------------------------------------


@dataclass(frozen=True)
class Outcomes:
    """A conversation's survey (None: none sent) and repeat contact (None: none found)."""

    interaction_id: uuid.UUID
    survey: CsatSurvey | None
    repeat: RepeatContact | None
    now: datetime


async def outcomes_for(
    session: AsyncSession, interaction_id: uuid.UUID, viewer: Principal
) -> Outcomes:
    """The conversation's survey and repeat contact, in the viewer's scope (404 otherwise)."""
    await visible_interaction(session, interaction_id, viewer)
    return Outcomes(
        interaction_id,
        await repository.survey_of(session, interaction_id),
        await repository.repeat_of(session, interaction_id),
        utcnow(),
    )


# --- repeat contacts --------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatPage:
    marked: int
    # The last conversation looked at (its created_at and id): where the next page starts.
    last: tuple[datetime, uuid.UUID] | None
    full: bool


async def find_repeats(
    session: AsyncSession,
    *,
    since: datetime,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = REPEAT_BATCH,
) -> RepeatPage:
    """Mark the resolved conversations whose customer started a new inbound conversation
    within 7 days (the first repeat only), for one page of new conversations."""
    contacts = await repository.new_inbound(session, since=since, after=after, limit=limit)
    marked = 0
    for contact in contacts:
        earlier = await repository.resolved_before(
            session, contact, earliest=contact.started_at - REPEAT_WINDOW
        )
        for resolved in earlier:
            added = await repository.add_repeat(
                session,
                {
                    "interaction_id": resolved.id,
                    "repeat_interaction_id": contact.id,
                    "detected_at": utcnow(),
                },
            )
            if not added:
                continue
            marked += 1
            await record(
                session,
                resolved,
                Event(
                    EventType.REPEAT_CONTACT,
                    f"repeat:{resolved.id}",
                    normalized={
                        "repeatInteractionId": str(contact.id),
                        "channel": contact.channel.value,
                        "afterSecs": int((contact.started_at - resolved.ended_at).total_seconds())
                        if resolved.ended_at
                        else None,
                    },
                ),
            )
    last = (contacts[-1].created_at, contacts[-1].id) if contacts else after
    return RepeatPage(marked, last, len(contacts) == limit)


@dataclass(frozen=True)
class ReopenPage:
    marked: int
    last: tuple[datetime, uuid.UUID] | None  # the last reopen looked at (occurred_at, id)
    full: bool


async def find_reopened_repeats(
    session: AsyncSession,
    *,
    since: datetime,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = REPEAT_BATCH,
) -> ReopenPage:
    """A customer who writes again on a resolved conversation's thread reopens it (WhatsApp
    within 24 h, SMS): the same conversation is its own repeat contact when the customer's
    message came within 7 days of the resolution it reopened (the last `conversation.resolved`
    before it, with no reopen between)."""
    reopens = await repository.customer_reopens(session, since=since, after=after, limit=limit)
    marked = 0
    for event, item in reopens:
        normalized = event.normalized if isinstance(event.normalized, dict) else {}
        if normalized.get("by") != "customer" or normalized.get("from") != "COMPLETED":
            continue
        before = await repository.closing_before(session, event)
        if before is None or before.type != EventType.CONVERSATION_RESOLVED.value:
            continue
        after_secs = int((event.occurred_at - before.occurred_at).total_seconds())
        if not 0 <= after_secs <= REPEAT_WINDOW.total_seconds():
            continue
        added = await repository.add_repeat(
            session,
            {"interaction_id": item.id, "repeat_interaction_id": item.id, "detected_at": utcnow()},
        )
        if not added:
            continue
        marked += 1
        await record(
            session,
            item,
            Event(
                EventType.REPEAT_CONTACT,
                f"repeat:{item.id}",
                normalized={
                    "repeatInteractionId": str(item.id),
                    "channel": item.channel.value,
                    "afterSecs": after_secs,
                    "reopened": True,
                },
            ),
        )
    last = (reopens[-1][0].occurred_at, reopens[-1][0].id) if reopens else after
    return ReopenPage(marked, last, len(reopens) == limit)


def csat_out(found: Outcomes) -> CsatOut:
    """The wire form: the comment masked like any customer text."""
    survey = found.survey
    survey_out = None
    if survey is not None:
        survey_out = CsatSurveyOut(
            id=survey.id,
            status=state_of(survey, found.now).value,
            channel=survey.channel,
            handler=survey.handler,
            agent=survey.agent,
            team_id=survey.team_id,
            sent_at=survey.sent_at,
            expires_at=survey.expires_at,
            answered_at=survey.answered_at,
            score=survey.score,
            comment=mask_text(survey.comment) if survey.comment else None,
        )
    repeat = found.repeat
    return CsatOut(
        interaction_id=found.interaction_id,
        survey=survey_out,
        repeat_contact=RepeatContactOut(
            repeat_interaction_id=repeat.repeat_interaction_id, detected_at=repeat.detected_at
        )
        if repeat
        else None,
        first_contact_resolution=repeat is None,
    )
