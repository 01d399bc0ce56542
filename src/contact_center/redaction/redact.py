"""Replace what the detectors find: the text to store, and what was removed where.

Card numbers keep their last four ("[TARJETA ****1234]") and security codes become "[CÓDIGO]":
neither is kept anywhere. The other identifiers become placeholders ("[DNI]", "[CBU]"…) that the
vault step turns into tokens whose originals it encrypts (docs/redaction.md).
"""

from __future__ import annotations

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


def placeholder(span: Span) -> str:
    if span.entity is Entity.CARD:
        return f"[TARJETA ****{span.value[-4:]}]"
    return PLACEHOLDERS[span.entity]


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


def redact(text: str, *, customer_name: str | None = None) -> Redaction:
    """The text with every sensitive span replaced, and the findings in order of position."""
    pieces: list[str] = []
    findings: list[Finding] = []
    cursor = 0
    length = 0
    for span in detect(text, customer_name=customer_name):
        before = text[cursor : span.start]
        pieces.append(before)
        length += len(before)
        replacement = placeholder(span)
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
                original=span.original,
            )
        )
        length += len(replacement)
        cursor = span.end
    pieces.append(text[cursor:])
    return Redaction("".join(pieces), tuple(findings))
