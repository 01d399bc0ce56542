"""Signed, expiring links under FRONTEND_URL (verification and onboarding)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import utcnow
from contact_center.errors import NotFound, ValidationFailed
from contact_center.interactions.service import Event, record
from contact_center.links import repository
from contact_center.message_templates import Templates
from contact_center.messaging import outbound
from contact_center.messaging import repository as messaging_repository
from contact_center.messaging.outbound import Queued
from contact_center.models.enums import EventType, MessageKind
from contact_center.models.signed_link import SignedLink
from contact_center.principal import AuditContext, Principal
from contact_center.settings import Settings

PATHS = {"VERIFICATION_LINK": "verify", "ONBOARDING_LINK": "onboarding"}


def _signature(key: bytes, link_id: uuid.UUID, expires: int) -> str:
    digest = hmac.new(key, f"{link_id.hex}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def make_token(key: bytes, link_id: uuid.UUID, expires_at: datetime) -> str:
    expires = int(expires_at.timestamp())
    return f"{link_id.hex}.{expires}.{_signature(key, link_id, expires)}"


def read_token(key: bytes, token: str) -> uuid.UUID | None:
    """The link id of a well-signed token (expired or not), else None."""
    parts = token.split(".")
    # ASCII only: "²".isdigit() is true, and compare_digest refuses non-ASCII text.
    if len(parts) != 3 or not token.isascii() or not parts[1].isdigit() or len(parts[1]) > 12:
        return None
    try:
        link_id = uuid.UUID(hex=parts[0])
    except ValueError:
        return None
    if not hmac.compare_digest(_signature(key, link_id, int(parts[1])), parts[2]):
        return None
    return link_id


def new_link(
    kind: MessageKind,
    interaction_id: uuid.UUID,
    *,
    ttl_seconds: int,
    key: bytes,
    frontend_url: str,
    now: datetime,
    id: uuid.UUID | None = None,
) -> tuple[SignedLink, str]:
    """A link of `kind` for the SMS of `interaction_id`, valid `ttl_seconds` from `now`, and its
    signed URL under `frontend_url`."""
    link = SignedLink(
        id=id or uuid.uuid4(),
        kind=kind,
        interaction_id=interaction_id,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    token = make_token(key, link.id, link.expires_at)
    return link, f"{frontend_url}/{PATHS[kind]}/{token}"


async def create_link(
    session: AsyncSession,
    *,
    kind: MessageKind,
    interaction_id: uuid.UUID,
    ttl_seconds: int,
    key: bytes,
    frontend_url: str,
) -> tuple[SignedLink, str]:
    link, url = new_link(
        kind,
        interaction_id,
        ttl_seconds=ttl_seconds,
        key=key,
        frontend_url=frontend_url,
        now=utcnow(),
    )
    await repository.add(session, link)
    return link, url


def link_status(link: SignedLink, now: datetime) -> str:
    """valid, expired or used."""
    return "used" if link.used_at else ("expired" if now >= link.expires_at else "valid")


def link_opened(link: SignedLink, now: datetime) -> tuple[str, Event | None]:
    """The link's status when opened at `now`, and the event of its first opening."""
    status = link_status(link, now)
    if link.opened_at is not None:
        return status, None
    link.opened_at = now
    opened = Event(
        EventType.LINK_OPENED,
        f"link:{link.id}:opened",
        normalized={"kind": link.kind, "status": status},
    )
    return status, opened


def link_used(link: SignedLink, now: datetime) -> bool:
    """A valid link is used once; True when this use counted."""
    if link_status(link, now) != "valid":
        return False
    link.used_at = now
    return True


@dataclass(frozen=True)
class LinkState:
    status: str  # valid | expired | used
    kind: str
    expires_at: datetime
    interaction_id: uuid.UUID


async def open_link(session: AsyncSession, key: bytes, token: str, viewer: Principal) -> LinkState:
    """Whether a token is valid, expired or used; the first open is on the timeline.

    The link's interaction is read through the caller's scope: an agent's token learns nothing
    of a link on another agent's interaction (the same 404 as an unknown token)."""
    link_id = read_token(key, token)
    link = await repository.get(session, link_id) if link_id else None
    interaction = (
        await messaging_repository.interaction_or_none(session, link.interaction_id)
        if link is not None
        else None
    )
    visible = interaction is not None and viewer.sees_assignment(
        interaction.assigned_agent, interaction.team_id
    )
    if link is None or interaction is None or not visible:
        raise NotFound("Unknown or tampered link.", code="link_not_found")
    status, opened = link_opened(link, utcnow())
    if opened is not None:
        await record(session, interaction, opened)
    return LinkState(
        status=status,
        kind=link.kind,
        expires_at=link.expires_at,
        interaction_id=link.interaction_id,
    )


async def use_link(
    session: AsyncSession, key: bytes, token: str, viewer: Principal
) -> tuple[LinkState, bool]:
    """Mark a valid link used, once. Returns its state before, and whether this call used it."""
    state = await open_link(session, key, token, viewer)
    if state.status != "valid":
        return state, False
    link_id = read_token(key, token)
    assert link_id is not None
    link = await repository.get(session, link_id)
    assert link is not None
    return state, link_used(link, utcnow())


# --- a link sent by SMS -----------------------------------------------------------------------


def given_url(settings: Settings, url: str | None) -> str | None:
    """A given link must be https and under FRONTEND_URL: the bank never sends arbitrary links.
    None: a signed link is made."""
    if settings.frontend_url is None:
        raise ValidationFailed(
            "FRONTEND_URL is not configured; links cannot be sent.",
            code="frontend_url_missing",
            details=[{"field": "body.url", "message": "set FRONTEND_URL"}],
        )
    if url is None:
        return None
    base = settings.frontend_url
    if not url.startswith("https://") or not (url == base or url.startswith(base + "/")):
        raise ValidationFailed(
            "The link must be https and under FRONTEND_URL.",
            details=[{"field": "body.url", "message": f"must start with {base}/"}],
        )
    return url


async def queue_link_sms(
    session: AsyncSession,
    context: AuditContext,
    settings: Settings,
    templates: Templates,
    key: bytes,
    *,
    kind: MessageKind,
    to: str,
    url: str | None,
    from_number: str,
    customer_ref: str | None,
    name: str | None = None,
) -> Queued:
    """A link's SMS, QUEUED: the given link (checked by `given_url`), or a signed one
    `{FRONTEND_URL}/{verify|onboarding}/{token}` that expires after LINK_TTL_SECONDS. The
    signed link needs the interaction's id, so the text is written once the row exists."""
    placeholder = "{link}"
    text = templates.link(kind, url=placeholder, hours=settings.link_ttl_seconds // 3600, name=name)
    queued = await outbound.queue_sms(
        session,
        context,
        to=to,
        body=text,
        kind=kind,
        from_number=from_number,
        customer_ref=customer_ref,
        audit_metadata={"signedLink": url is None},
    )
    link_url = url
    if link_url is None:
        assert settings.frontend_url is not None
        _, link_url = await create_link(
            session,
            kind=kind,
            interaction_id=queued.interaction_id,
            ttl_seconds=settings.link_ttl_seconds,
            key=key,
            frontend_url=settings.frontend_url,
        )
    await outbound.set_body(session, queued.message_id, text.replace(placeholder, link_url))
    return queued
