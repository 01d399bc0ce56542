"""Replace what the detectors find: the text to store, and what was removed where.

Card numbers keep their last four ("[TARJETA ****1234]") and security codes become "[CÓDIGO]":
neither is kept anywhere. The other identifiers become placeholders ("[DNI]", "[CBU]"…) that the
vault step turns into tokens whose originals it encrypts (docs/redaction.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from contact_center.redaction.detectors import Entity, Span, detect

PLACEHOLDERS = {
    Entity.SECURITY_CODE: "[CÓDIGO]",
    Entity.DNI: "[DNI]",
    Entity.CUIT: "[CUIT]",
    Entity.CBU: "[CBU]",
    Entity.CVU: "[CVU]",
    Entity.CBU_ALIAS: "[ALIAS]",
    Entity.EMAIL: "[EMAIL]",
    Entity.PERSON_NAME: "[NOMBRE]",
}


# What a redaction leaves in a text: a placeholder, with the vault token where there is one.
# A text is redacted again (the history command, a call fetched again) without finding anything
# new in them: they are hidden from the detectors first.
VAULT_REF = r"tok_[a-z2-7]{16}"
PLACEHOLDER = re.compile(
    r"\[(?:TARJETA \*{4}[0-9]{4}|CÓDIGO|(?:DNI|CUIT|CBU|CVU|ALIAS|EMAIL|NOMBRE)(?: "
    + VAULT_REF
    + r")?)\]"
)


def placeholder(span: Span, token: str | None = None) -> str:
    if span.entity is Entity.CARD:
        return f"[TARJETA ****{span.value[-4:]}]"
    bare = PLACEHOLDERS[span.entity]
    return bare if token is None else f"{bare[:-1]} {token}]"


def _hide_placeholders(text: str) -> str:
    """The text with each placeholder turned into a neutral word of its length (no digits, no
    context word), so that "[TARJETA ****1234]" is no number and "[DNI]" no context."""
    return PLACEHOLDER.sub(lambda m: " " + "x" * (len(m.group()) - 2) + " ", text)


# A context detector takes the first number after its words ("DNI …", "código de seguridad …").
# Once that number is a placeholder, the next number along is not what the words pointed at:
# on a text redacted before, a context finding that follows a placeholder of its own entity
# this closely is the same context seen twice, and is left alone.
_CONTEXT_REACH = 60
_PLACEHOLDER_ENTITY = {
    "[TARJETA": Entity.CARD,
    "[CÓDIGO": Entity.SECURITY_CODE,
    **{bare[:-1]: entity for entity, bare in PLACEHOLDERS.items()},
}


def _already_taken(text: str, spans: list[Span]) -> list[Span]:
    """`spans` without the context findings whose context's number is already a placeholder."""
    ends: dict[Entity, list[int]] = {}
    for match in PLACEHOLDER.finditer(text):
        word = match.group().split(" ", 1)[0].rstrip("]")
        ends.setdefault(_PLACEHOLDER_ENTITY[word], []).append(match.end())
    if not ends:
        return spans
    return [
        span
        for span in spans
        if ".context" not in span.detector
        or not any(0 <= span.start - end <= _CONTEXT_REACH for end in ends.get(span.entity, ()))
    ]


_TOKEN_IN_PLACEHOLDER = re.compile(r" tok_[a-z2-7]{1,16}(?=\]|$)")


def without_tokens(text: str) -> str:
    """The text with its placeholders bare ("[DNI tok_…]" → "[DNI]"): for a one-line preview,
    where a token is noise (a snippet cut inside a token loses what is left of it too)."""
    return _TOKEN_IN_PLACEHOLDER.sub("", text) if " tok_" in text else text


def cut(text: str, limit: int) -> str:
    """`text` at most `limit` characters long, never cut inside a placeholder (a redacted text
    is longer than what it came from: a column of a fixed width still takes it)."""
    if len(text) <= limit:
        return text
    end = limit
    for match in PLACEHOLDER.finditer(text, 0, limit + 64):
        if match.start() < end < match.end():
            end = match.start()
    return text[:end]


def count_placeholders(text: str | None) -> int:
    """How many redactions a stored text shows ("3 datos sensibles ocultos")."""
    return 0 if not text else len(PLACEHOLDER.findall(text))


@dataclass(frozen=True, slots=True)
class Finding:
    """One redaction: where it was in the original text and where its placeholder is now."""

    entity: Entity
    detector: str
    start: int
    end: int
    redacted_start: int
    redacted_end: int
    replacement: str
    # What was removed, for the vault and the proof (an HMAC) only: never store or log it.
    original: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    findings: tuple[Finding, ...]


def redact(
    text: str,
    *,
    customer_name: str | None = None,
    token: Callable[[Span], str | None] | None = None,
) -> Redaction:
    """The text with every sensitive span replaced, and the findings in order of position.

    `token(span)` names the vault token of a span whose original is kept (None: a bare
    placeholder). Placeholders already in the text are left as they are: redacting twice
    changes nothing.
    """
    scanned = _hide_placeholders(text) if "[" in text else text
    pieces: list[str] = []
    findings: list[Finding] = []
    cursor = 0
    length = 0
    spans = detect(scanned, customer_name=customer_name)
    if scanned is not text:
        spans = _already_taken(text, spans)
    for span in spans:
        original = text[span.start : span.end]
        before = text[cursor : span.start]
        pieces.append(before)
        length += len(before)
        kept = span.entity not in (Entity.CARD, Entity.SECURITY_CODE)
        replacement = placeholder(span, token(span) if token is not None and kept else None)
        pieces.append(replacement)
        findings.append(
            Finding(
                entity=span.entity,
                detector=span.detector,
                start=span.start,
                end=span.end,
                redacted_start=length,
                redacted_end=length + len(replacement),
                replacement=replacement,
                original=original,
            )
        )
        length += len(replacement)
        cursor = span.end
    pieces.append(text[cursor:])
    return Redaction("".join(pieces), tuple(findings))
