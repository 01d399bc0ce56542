"""The proof of a redaction: what was removed, where, by which detector, and a keyed fingerprint.

`fingerprint(original, entity, key)` is HMAC-SHA256, keyed by a proof key (not a vault key),
over a canonical encoding of the entity type and the normalized original: the digits of a
number (typed with spaces, dots or hyphens, or said in words), an e-mail address, alias or name
casefolded. An auditor who holds a known original confirms with `confirms(...)` that it is what
was removed, while nobody keeps the original itself (docs/redaction.md).

A security code gets no fingerprint: it has three or four digits, so whoever held the proof key
could recover it from its fingerprint in a thousand tries, and PCI DSS forbids keeping it after
authorization in any form. Its proof records the type, the place and the detector only.

Pure: no database, no settings, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from contact_center.redaction.detectors import Entity
from contact_center.redaction.redact import Finding
from contact_center.redaction.spoken import number_runs
from contact_center.redaction.vault import KEY_BYTES, KEY_ID, Keyring, VaultError

VERSION = b"contact-center/redaction-proof/v1"
NUMERIC = frozenset(
    {Entity.CARD, Entity.SECURITY_CODE, Entity.DNI, Entity.CUIT, Entity.CBU, Entity.CVU}
)
NOT_FINGERPRINTED = frozenset({Entity.SECURITY_CODE})


class ProofError(VaultError):
    """A proof key or an entity type the proof refuses. Never quotes key material."""


@dataclass(frozen=True, slots=True)
class ProofKey:
    """An HMAC key with its id (the id goes into each proof; the secret never leaves here)."""

    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not KEY_ID.fullmatch(self.key_id):
            raise ProofError("a proof key id must be 1 to 32 letters, digits, '-' or '_'")
        if len(self.secret) != KEY_BYTES:
            raise ProofError(f"proof key {self.key_id!r} must be {KEY_BYTES} bytes")

    @classmethod
    def current(cls, keyring: Keyring) -> ProofKey:
        return cls(keyring.current_id, keyring.key(keyring.current_id))

    @classmethod
    def named(cls, keyring: Keyring, key_id: str) -> ProofKey:
        """The key a stored proof names (old proofs keep confirming after a rotation)."""
        return cls(key_id, keyring.key(key_id))


def _entity(entity_type: Entity | str) -> Entity:
    try:
        return Entity(entity_type)
    except ValueError:
        raise ProofError(f"unknown entity type {str(entity_type)[:40]!r}") from None


def _digits(original: str) -> str:
    """The digits as the detectors read them: typed, grouped, dotted or said in words."""
    spoken = "".join(run.digits for run in number_runs(original))
    if spoken:
        return spoken
    return "".join(c for c in original if c in "0123456789")


_SPOKEN_EMAIL = (
    (re.compile(r"\s*\barroba\b\s*"), "@"),
    (re.compile(r"\s*\bpunto\b\s*"), "."),
    (re.compile(r"\s*\bgui[oó]n\s+bajo\b\s*"), "_"),
    (re.compile(r"\s*\bgui[oó]n\b\s*"), "-"),
)


def _text(original: str) -> str:
    folded = unicodedata.normalize("NFKC", original).casefold()
    return " ".join(folded.split())


def _name(original: str) -> str:
    """Casefolded, accents off, spaces collapsed: "JOSÉ  Pérez" is "jose perez"."""
    decomposed = unicodedata.normalize("NFKD", _text(original))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _email(original: str) -> str:
    """Casefolded, with its spoken words ("juan punto perez arroba gmail punto com") as signs."""
    text = _text(original)
    if "@" not in text:
        for pattern, sign in _SPOKEN_EMAIL:
            text = pattern.sub(sign, text)
    return text.replace(" ", "")


def canonical(original: str, entity_type: Entity | str) -> bytes:
    """What the fingerprint is computed over: version, entity type and normalized original."""
    entity = _entity(entity_type)
    if entity in NUMERIC:
        value = _digits(original)
    elif entity is Entity.EMAIL:
        value = _email(original)
    elif entity is Entity.PERSON_NAME:
        value = _name(original)
    else:
        value = _text(original)
    data = value.encode("utf-8", "surrogatepass")
    return b"\x00".join((VERSION, entity.value.encode("ascii"), data))


def fingerprint(original: str, entity_type: Entity | str, key: ProofKey) -> str:
    """HMAC-SHA256 of the canonical encoding, hex. Refused for a security code."""
    entity = _entity(entity_type)
    if entity in NOT_FINGERPRINTED:
        raise ProofError(f"a {entity.value} is never fingerprinted (it could be recovered)")
    return hmac.new(key.secret, canonical(original, entity), hashlib.sha256).hexdigest()


def confirms(candidate: str, entity_type: Entity | str, expected: str, key: ProofKey) -> bool:
    """Whether `candidate` is the original that `expected` fingerprints (constant time)."""
    entity = _entity(entity_type)
    if entity in NOT_FINGERPRINTED:
        return False
    computed = fingerprint(candidate, entity, key).encode("ascii")
    given = expected.encode("utf-8", "surrogatepass") if isinstance(expected, str) else b""
    return hmac.compare_digest(computed, given)


@dataclass(frozen=True, slots=True)
class Proof:
    """One redaction's record: type, place in the redacted text, detector, fingerprint, key id.

    `fingerprint` and `key_id` are None for a security code (never fingerprinted).
    """

    entity: Entity
    start: int
    end: int
    detector: str
    fingerprint: str | None
    key_id: str | None


def proof(finding: Finding, key: ProofKey) -> Proof:
    if finding.entity in NOT_FINGERPRINTED:
        print_, key_id = None, None
    else:
        print_, key_id = fingerprint(finding.original, finding.entity, key), key.key_id
    return Proof(
        entity=finding.entity,
        start=finding.redacted_start,
        end=finding.redacted_end,
        detector=finding.detector,
        fingerprint=print_,
        key_id=key_id,
    )


def proofs(findings: Iterable[Finding], key: ProofKey) -> list[Proof]:
    """The proofs of `redact(...)`'s findings, in the same order."""
    return [proof(finding, key) for finding in findings]
