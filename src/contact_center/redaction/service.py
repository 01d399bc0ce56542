"""Redaction of one unit of work: a webhook delivery, a call fetched from the provider, a batch
of stored history (docs/redaction.md, "At ingest").

A `Redactor` redacts texts, JSON values and request bodies, and collects what the caller writes
in the same transaction as the redacted text: the vault rows of the identifiers it kept
(sealed) and one proof per redaction. It holds the originals only in memory, for as long as the
unit of work lasts. No I/O here: `repository.py` writes what it collected.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from contact_center.redaction.detectors import Entity, Span, may_hold
from contact_center.redaction.proof import NOT_FINGERPRINTED, ProofKey, canonical, fingerprint
from contact_center.redaction.redact import Redaction, redact
from contact_center.redaction.vault import Keyring, Vault, bind

# Strings longer than this made of base64 characters only (audio, media) are blobs, not words;
# a long string of digits alone is not one (it goes to the detectors, which test it whole).
BLOB = 4096
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=_-]+")
_DIGITS = re.compile(r"[0-9]+")
# Below this depth a JSON value is walked with an explicit stack (no recursion limit).
DEEP = 100
# The entities that are removed and never kept anywhere (the vault has no row for them).
NEVER_KEPT = frozenset({Entity.CARD, Entity.SECURITY_CODE})
TOKEN_LABEL = b"contact-center/redaction-token/v1"


_WALKED = (str, dict, list)


def _blob(value: str) -> bool:
    return (
        len(value) > BLOB
        and _BASE64_TEXT.fullmatch(value) is not None
        and _DIGITS.fullmatch(value) is None
    )


@dataclass(frozen=True, slots=True)
class SealedValue:
    """A vault row: the token, its entity type, the sealed original and the key that sealed it."""

    token: str
    entity: str
    sealed: str = field(repr=False)
    key_id: str


@dataclass(frozen=True, slots=True)
class ProofRecord:
    """A proof row, without its source and conversation (the caller knows those)."""

    field: str
    entity: str
    detector: str
    start: int
    end: int
    fingerprint: str | None
    key_id: str | None
    token: str | None


class RedactionKeys:
    """The vault and the current proof key, built once per process from the keyrings."""

    def __init__(self, vault_keyring: Keyring, proof_keyring: Keyring) -> None:
        self.vault = Vault(vault_keyring)
        self.proof_keyring = proof_keyring
        self.proof_key = ProofKey.current(proof_keyring)

    def __repr__(self) -> str:
        return f"RedactionKeys(vault={self.vault!r}, proof_key={self.proof_key.key_id!r})"

    def token(self, original: str, entity: Entity) -> str:
        """The vault token of a value: derived from it under the proof key, so the same DNI
        said twice (or a delivery received twice) gives the same token and the same text."""
        digest = hmac.new(
            self.proof_key.secret, TOKEN_LABEL + b"\x00" + canonical(original, entity), "sha256"
        ).digest()
        return "tok_" + base64.b32encode(digest[:10]).decode("ascii").lower()

    def redactor(self, *, customer_name: str | None = None) -> Redactor:
        return Redactor(self, customer_name=customer_name)


class Redactor:
    """Redacts the texts of one unit of work and collects its vault rows and proofs."""

    def __init__(self, keys: RedactionKeys, *, customer_name: str | None = None) -> None:
        self._keys = keys
        self.customer_name = customer_name
        self.sealed: dict[str, SealedValue] = {}
        self.proofs: list[ProofRecord] = []

    def __repr__(self) -> str:
        return f"Redactor(proofs={len(self.proofs)}, sealed={len(self.sealed)})"

    @property
    def count(self) -> int:
        return len(self.proofs)

    @property
    def removed_card_or_code(self) -> bool:
        """A card number or a security code was found (its recording is then restricted)."""
        return any(p.entity in (Entity.CARD, Entity.SECURITY_CODE) for p in self.proofs)

    def _token(self, span: Span) -> str | None:
        if span.entity in NEVER_KEPT:
            return None
        token = self._keys.token(span.original, span.entity)
        if token not in self.sealed:
            sealed = self._keys.vault.seal(span.original, bind(token, span.entity.value))
            self.sealed[token] = SealedValue(
                token=token,
                entity=span.entity.value,
                sealed=sealed,
                key_id=self._keys.vault.keyring.current_id,
            )
        return token

    def _record(self, result: Redaction, where: str) -> None:
        key = self._keys.proof_key
        for finding in result.findings:
            token = None
            if finding.entity not in NEVER_KEPT:
                token = finding.replacement.rsplit(" ", 1)[-1].rstrip("]")
            printed = finding.entity not in NOT_FINGERPRINTED
            self.proofs.append(
                ProofRecord(
                    field=where[:300],
                    entity=finding.entity.value,
                    detector=finding.detector[:64],
                    start=finding.redacted_start,
                    end=finding.redacted_end,
                    fingerprint=fingerprint(finding.original, finding.entity, key)
                    if printed
                    else None,
                    key_id=key.key_id if printed else None,
                    token=token,
                )
            )

    def _quiet(self, value: str) -> bool:
        """Nothing to look at: empty, a blob, or a text where the detectors find nothing."""
        return not value or _blob(value) or not may_hold(value, self.customer_name)

    def text(self, value: str, where: str, *, customer_name: str | None = None) -> str:
        """`value` with its sensitive data replaced; the proofs name `where` as the field."""
        if not value or _blob(value):
            return value
        result = redact(value, customer_name=customer_name or self.customer_name, token=self._token)
        if not result.findings:
            return value
        self._record(result, where)
        return result.text

    def json(self, value: Any, where: str) -> Any:
        """A JSON value with every string in it redacted (keys are left alone); the same
        object when nothing was found."""
        changed, result = self._walk(value, where, 0)
        return result if changed else value

    def _walk(self, value: Any, where: str, depth: int) -> tuple[bool, Any]:
        if isinstance(value, str):
            redacted = self.text(value, where)
            return redacted is not value, redacted
        if depth > DEEP:  # a hostile depth: every string below still goes through
            return self._deep(value, where)
        # Numbers, booleans, null and the strings with nothing in them are passed over without
        # a call or a path (most of a webhook body: ids, timestamps, flags, event names).
        if isinstance(value, dict):
            changed = False
            out: dict[Any, Any] = {}
            for key, item in value.items():
                if (isinstance(item, str) and self._quiet(item)) or not isinstance(item, _WALKED):
                    out[key] = item
                    continue
                moved, out[key] = self._walk(item, f"{where}.{key}", depth + 1)
                changed = changed or moved
            return changed, out if changed else value
        if isinstance(value, list):
            items = [
                (False, item)
                if (isinstance(item, str) and self._quiet(item)) or not isinstance(item, _WALKED)
                else self._walk(item, f"{where}[{i}]", depth + 1)
                for i, item in enumerate(value)
            ]
            if any(moved for moved, _ in items):
                return True, [item for _, item in items]
            return False, value
        return False, value

    def _deep(self, value: Any, where: str) -> tuple[bool, Any]:
        """The walk of a deeply nested value without recursion: its containers copied, its
        strings redacted in the copies (the field is the path where the depth ran out)."""
        root: list[Any] = [value]
        stack: list[tuple[Any, Any]] = [(root, 0)]
        changed = False
        while stack:
            parent, key = stack.pop()
            item = parent[key]
            if isinstance(item, str):
                redacted = self.text(item, where)
                if redacted is not item:
                    parent[key] = redacted
                    changed = True
            elif isinstance(item, dict):
                parent[key] = mapping = dict(item)
                stack.extend((mapping, k) for k in mapping)
            elif isinstance(item, list):
                parent[key] = items = list(item)
                stack.extend((items, i) for i in range(len(items)))
        return changed, root[0] if changed else value

    def body(self, raw: bytes, content_type: str | None, where: str = "raw_body") -> bytes:
        """A request body with its sensitive data replaced: a JSON document's strings, or a
        form's values; any other body (or one that does not read) as it came. The same bytes
        when nothing was found."""
        kind = (content_type or "").split(";")[0].strip().lower()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
        if kind == "application/x-www-form-urlencoded":
            pairs = parse_qsl(text, keep_blank_values=True)
            redacted = [
                (k, v if self._quiet(v) else self.text(v, f"{where}.{k}")) for k, v in pairs
            ]
            if all(a[1] is b[1] for a, b in zip(pairs, redacted, strict=True)):
                return raw
            return urlencode(redacted).encode("utf-8")
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            return raw
        result = self.json(document, where)
        if result is document:
            return raw
        try:
            return json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\\ud800") stays escaped
            return json.dumps(result, separators=(",", ":")).encode("ascii")
        except RecursionError:  # read, but too deep to write back: the redacted strings only
            return json.dumps(_flat(result)).encode("ascii")

    def sealed_values(self) -> Iterator[SealedValue]:
        return iter(self.sealed.values())


def _flat(value: Any) -> list[str]:
    """The strings of a value too deep to serialise, in document order (what the ledger keeps of
    a hostile body that parsed but cannot be written back)."""
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return out
