"""The console's view of redacted text: each placeholder as a chip, a count per bubble or turn,
and the reveal of a vault token for supervisors and admins (docs/redaction.md, "Reveal, proofs
and recordings"). The reveal goes through the same service as the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from contact_center.calls.conversations import may_hear_restricted
from contact_center.console.pages import page, runtime_of, templates
from contact_center.dependencies import AuditContextDep, SessionDep
from contact_center.errors import ValidationFailed
from contact_center.redaction.redact import PLACEHOLDER, count_placeholders, without_tokens
from contact_center.sensitive import service
from contact_center.sensitive.schemas import REASON_MAX, REASON_MIN
from contact_center.storable import storable

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Part:
    """A piece of a stored text: plain text, or a placeholder (its label and vault token)."""

    text: str
    label: str | None = None
    token: str | None = None


def parts(text: str | None) -> list[Part]:
    """`text` split into its plain pieces and its placeholders ("[DNI tok_…]" → label "DNI",
    token "tok_…"; "[TARJETA ****3704]" → label "TARJETA ****3704", no token)."""
    if not text:
        return []
    out: list[Part] = []
    cursor = 0
    for match in PLACEHOLDER.finditer(text):
        if match.start() > cursor:
            out.append(Part(text[cursor : match.start()]))
        inner = match.group()[1:-1]
        label, _, token = inner.partition(" tok_")
        out.append(Part(match.group(), label=label, token=f"tok_{token}" if token else None))
        cursor = match.end()
    if cursor < len(text):
        out.append(Part(text[cursor:]))
    return out


templates.env.filters["redacted_parts"] = parts
templates.env.filters["hidden_count"] = count_placeholders
templates.env.filters["without_tokens"] = without_tokens
templates.env.globals["may_reveal_redaction"] = service.may_reveal
templates.env.globals["may_hear_restricted"] = may_hear_restricted


@router.post("/console/redactions/{token}/reveal", response_class=HTMLResponse)
async def reveal_token(
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    token: Annotated[str, PathParam(max_length=64)],
    reason: Annotated[str, Form(max_length=REASON_MAX * 4)] = "",
) -> HTMLResponse:
    """The value behind a chip's token, shown once in place (one `redaction.revealed` audit
    row). The reason and the CSRF token travel in the body, never in a URL."""
    text = reason.strip()
    if not storable(text) or not REASON_MIN <= len(text) <= REASON_MAX:
        raise ValidationFailed(
            f"The reason must be {REASON_MIN} to {REASON_MAX} characters.",
            code="invalid_reason",
            details=[{"field": "body.reason", "message": "10 to 500 characters"}],
        )
    keys = runtime_of(request).keys.redaction
    result = await service.reveal(session, keys, context, token, text)
    if isinstance(result, service.RevealRefused):
        response = page(request, "_redaction_value.html", failed=True, token=token)
    else:
        response = page(request, "_redaction_value.html", failed=False, revealed=result)
    response.headers["Cache-Control"] = "no-store"
    return response
