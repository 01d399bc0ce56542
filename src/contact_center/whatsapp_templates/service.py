"""The WhatsApp template registry (docs/whatsapp-cloud.md, "Outbound"): synced from the
account, listed, and the rules a template send must pass before anything is stored.

`sync` owns its transaction (a job, the CLI); `validate_and_fill` is a plain rule on a
registry row and the caller's variables, so the API and the console refuse the same things.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.audit import service as audit
from contact_center.db.base import new_id, utcnow
from contact_center.errors import Conflict, ValidationFailed
from contact_center.models.enums import TemplateStatus
from contact_center.models.whatsapp_template import WhatsAppTemplate
from contact_center.principal import AuditContext
from contact_center.providers.base import ProviderError, TemplateInfo, WhatsAppTemplateSource
from contact_center.whatsapp_templates import repository
from contact_center.whatsapp_templates.repository import TemplateFilters

log = structlog.get_logger(__name__)

# {{1}} (positional) or {{first_name}} (named), as Meta writes them.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# What people send from the API and the console: an authentication template carries a one-time
# code, which only `POST /api/otp` makes (and never shows anyone).
SENDABLE_CATEGORIES = ("UTILITY", "MARKETING")
# Meta's rules for a text parameter.
MAX_VARIABLE = 1024
MAX_SPACES = 4


class SyncFailed(Exception):
    """The account's templates could not be listed: nothing changed."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


def templates_unavailable() -> Conflict:
    return Conflict(
        "WhatsApp templates are sent only through the Cloud API (WHATSAPP_PROVIDER=cloud).",
        code="templates_unavailable",
    )


# --- reading a template's components --------------------------------------------------------


def _component(components: Sequence[Any], kind: str) -> dict[str, Any] | None:
    for component in components:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == kind:
            return component
    return None


def body_text(components: Sequence[Any]) -> str | None:
    """The BODY component's text, with its placeholders."""
    body = _component(components, "BODY")
    text = body.get("text") if body else None
    return text if isinstance(text, str) else None


def placeholders(text: str | None) -> list[str]:
    """The distinct placeholders of a text: positional ones by number, named ones in the order
    they first appear."""
    found: list[str] = []
    for match in PLACEHOLDER.finditer(text or ""):
        if match.group(1) not in found:
            found.append(match.group(1))
    if found and all(name.isdigit() for name in found):
        found.sort(key=int)
    return found


def url_buttons(components: Sequence[Any]) -> list[int]:
    """The indexes of the URL buttons whose address ends in a variable (one value each)."""
    buttons = _component(components, "BUTTONS")
    indexes = []
    for index, button in enumerate((buttons or {}).get("buttons") or []):
        if not isinstance(button, dict) or str(button.get("type", "")).upper() != "URL":
            continue
        if PLACEHOLDER.search(str(button.get("url") or "")):
            indexes.append(index)
    return indexes


def header_placeholders(components: Sequence[Any]) -> list[str]:
    """The placeholders of a TEXT header (one value each, before the body's)."""
    header = _component(components, "HEADER")
    if header is None or str(header.get("format") or "TEXT").upper() != "TEXT":
        return []
    text = header.get("text")
    return placeholders(text if isinstance(text, str) else None)


def media_header(components: Sequence[Any]) -> bool:
    """Whether the template's header is an image, a video, a document or a location: a send
    would need the media, which people do not send here."""
    header = _component(components, "HEADER")
    return header is not None and str(header.get("format") or "TEXT").upper() != "TEXT"


def variable_count(template: WhatsAppTemplate) -> int:
    """How many values a send of this template takes: its text header's, its body's, then its
    URL buttons'."""
    return (
        len(header_placeholders(template.components))
        + template.body_variables
        + len(url_buttons(template.components))
    )


# --- sync --------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "seen": self.seen,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


def _fields(info: TemplateInfo) -> dict[str, Any]:
    components = [c for c in info.components if isinstance(c, dict)]
    text = body_text(components)
    return {
        "status": (info.status or "").upper()[:32],
        "category": (info.category or "").upper()[:32],
        "components": components,
        "body_text": text,
        "body_variables": len(placeholders(text)),
        "provider_template_id": (info.provider_template_id or None),
    }


def apply_listing(
    rows: Sequence[WhatsAppTemplate], listed: Sequence[TemplateInfo], now: datetime
) -> tuple[list[WhatsAppTemplate], SyncResult]:
    """The registry after a sync, by (name, language): listed templates updated or new
    (present), the others kept with present=false. (The new rows, and the counts.)"""
    result = SyncResult()
    existing = {(row.name, row.language): row for row in rows}
    created: list[WhatsAppTemplate] = []
    seen: set[tuple[str, str]] = set()
    for info in listed:
        key = (info.name[:512], info.language[:16])
        if not key[0] or not key[1] or key in seen:
            continue
        seen.add(key)
        result.seen += 1
        values = _fields(info)
        row = existing.get(key)
        if row is None:
            created.append(
                WhatsAppTemplate(
                    id=new_id(),
                    name=key[0],
                    language=key[1],
                    present=True,
                    synced_at=now,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            result.created += 1
            continue
        changed = not row.present or any(getattr(row, k) != v for k, v in values.items())
        for name, value in values.items():
            setattr(row, name, value)
        row.present = True
        row.synced_at = now
        if changed:
            row.updated_at = now
            result.updated += 1
        else:
            result.unchanged += 1
    for key, row in existing.items():
        if key not in seen and row.present:
            row.present = False
            row.synced_at = now
            row.updated_at = now
            result.removed += 1
    return created, result


async def sync(
    sessions: async_sessionmaker[AsyncSession],
    source: WhatsAppTemplateSource,
    context: AuditContext,
    *,
    trigger: str,
) -> SyncResult:
    """List the account's templates and bring the registry to them, in one transaction with
    its audit row (`whatsapp.templates.sync`, with the counts). A list that cannot be read
    changes nothing (audited as failed) and raises SyncFailed."""
    try:
        listed = await source.list_templates()
    except ProviderError as exc:
        log.warning("whatsapp_template_sync_failed", error=exc.message, code=exc.code)
        async with sessions.begin() as session:
            await audit.record(
                session,
                context,
                "whatsapp.templates.sync",
                metadata={"trigger": trigger, "ok": False, "error": exc.message[:200]},
            )
        raise SyncFailed(exc) from exc
    async with sessions.begin() as session:
        rows = await repository.all_templates(session, for_sync=True)
        created, result = apply_listing(rows, listed, utcnow())
        for row in created:
            await repository.add(session, row)
        await audit.record(
            session,
            context,
            "whatsapp.templates.sync",
            metadata={"trigger": trigger, "ok": True, **result.counts()},
        )
    log.info("whatsapp_template_sync", trigger=trigger, **result.counts())
    return result


# --- listing -----------------------------------------------------------------------------------


async def listing(
    session: AsyncSession, filters: TemplateFilters, *, limit: int, skip: int
) -> Sequence[WhatsAppTemplate]:
    return await repository.listing(session, filters, limit=limit, skip=skip)


async def offered(session: AsyncSession) -> list[WhatsAppTemplate]:
    """What the console offers: approved templates of the account that people may send."""
    found = await repository.offered(session, SENDABLE_CATEGORIES)
    return [template for template in found if not media_header(template.components)]


# --- a send ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filled:
    """A template with its variables: the text the customer reads, and what the message keeps
    (`message.template`, docs/whatsapp-cloud.md)."""

    body: str
    template: dict[str, Any]
    variables: list[str] = field(default_factory=list)


def _problem(value: str) -> str | None:
    if not value.strip():
        return "must not be empty"
    if len(value) > MAX_VARIABLE:
        return f"must be at most {MAX_VARIABLE} characters"
    if any(c in value for c in "\n\r\t"):
        return "must not contain a newline or a tab"
    if " " * (MAX_SPACES + 1) in value:
        return f"must not contain more than {MAX_SPACES} spaces in a row"
    return None


def _render(text: str, names: list[str], values: list[str]) -> str:
    by_name = dict(zip(names, values, strict=True))
    return PLACEHOLDER.sub(lambda m: by_name.get(m.group(1), m.group(0)), text)


def validate_and_fill(
    template: WhatsAppTemplate | None,
    variables: Sequence[str],
    *,
    field_prefix: str = "body.template",
    name: str | None = None,
) -> Filled:
    """The template's text with `variables` filled in, if the template may be sent with them:
    in the registry and the account (else 422 `template_not_found`), of a category people send
    without a media header (422), APPROVED (409 `template_not_approved`), and exactly one value
    per placeholder (a text header's, the body's, then each URL button's), each non-empty, at
    most 1,024 characters, without a newline or a tab and without more than four spaces in a row
    (422 naming the field)."""
    if template is None or not template.present:
        shown = name if name is not None else (template.name if template else "")
        message = f"No WhatsApp template {shown!r} in that language in the account's registry."
        raise ValidationFailed(
            message,
            code="template_not_found",
            details=[{"field": f"{field_prefix}.name", "message": "unknown template"}],
        )
    if template.category.upper() not in SENDABLE_CATEGORIES:
        message = "Authentication templates carry one-time codes: send those with POST /api/otp."
        raise ValidationFailed(
            message,
            code="template_not_sendable",
            details=[{"field": f"{field_prefix}.name", "message": message}],
        )
    if template.status != TemplateStatus.APPROVED:
        raise Conflict(
            f"The template {template.name!r} is {template.status}, not APPROVED: "
            "it cannot be sent.",
            code="template_not_approved",
        )
    if media_header(template.components):
        message = "Templates with a media header (image, video, document) cannot be sent here."
        raise ValidationFailed(
            message,
            code="template_not_sendable",
            details=[{"field": f"{field_prefix}.name", "message": message}],
        )
    headers = header_placeholders(template.components)
    names = placeholders(template.body_text)
    buttons = url_buttons(template.components)
    expected = len(headers) + len(names) + len(buttons)
    values = list(variables)
    if len(values) != expected:
        message = f"The template {template.name!r} takes {expected} variables; {len(values)} given."
        raise ValidationFailed(
            message,
            details=[{"field": f"{field_prefix}.variables", "message": message}],
        )
    details = []
    for index, value in enumerate(values):
        problem = _problem(value)
        if problem is not None:
            details.append({"field": f"{field_prefix}.variables[{index}]", "message": problem})
    if details:
        first = details[0]
        raise ValidationFailed(f"{first['field']} {first['message']}.", details=details)
    header_values = values[: len(headers)]
    body_values = values[len(headers) : len(headers) + len(names)]
    button_values = values[len(headers) + len(names) :]
    body = _render(template.body_text or "", names, body_values)
    kept: dict[str, Any] = {
        "name": template.name,
        "language": template.language,
        "category": template.category,
        "variables": {
            "body": body_values,
            "buttons": [
                {"index": index, "subType": "url", "value": value}
                for index, value in zip(buttons, button_values, strict=True)
            ],
        },
        "otp": False,
    }
    if header_values:
        kept["variables"]["header"] = header_values
    if names and not all(n.isdigit() for n in names):
        kept["variables"]["bodyNames"] = names
    return Filled(body=body or template.name, template=kept, variables=values)


async def for_send(
    session: AsyncSession,
    name: str,
    language: str,
    variables: Sequence[str],
    *,
    field_prefix: str = "body.template",
) -> tuple[WhatsAppTemplate, Filled]:
    """The registry's template (name, language) and its filled text (see validate_and_fill)."""
    template = await repository.by_name(session, name, language)
    filled = validate_and_fill(template, variables, field_prefix=field_prefix, name=name)
    assert template is not None  # validate_and_fill refuses a missing one
    return template, filled


async def by_id(session: AsyncSession, template_id: uuid.UUID) -> WhatsAppTemplate | None:
    return await repository.by_id(session, template_id)
