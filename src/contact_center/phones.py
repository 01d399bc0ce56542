"""Phone numbers: parsing any common format and normalising to E.164 (`phonenumbers`)."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

_NON_DIGITS = re.compile(r"\D")


def digits_only(value: str) -> str:
    return _NON_DIGITS.sub("", value)


def _candidates(raw: str) -> list[str]:
    text = raw.strip()
    candidates = [text]
    digits = digits_only(text)
    if digits and not text.startswith("+"):
        # "5491155551234" is an international number written without its "+".
        candidates.append("+" + digits)
    if text.startswith("00") and digits:
        candidates.append("+" + digits[2:])
    return candidates


# Parsing is the costliest step of a webhook's rules; the same customers write again and again.
@lru_cache(maxsize=4096)
def _parse(raw: str, region: str, *, valid: bool) -> str | None:
    if not raw or len(raw) > 64:
        return None
    for candidate in _candidates(raw):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        ok = (
            phonenumbers.is_valid_number(number)
            if valid
            else phonenumbers.is_possible_number(number)
        )
        if ok:
            return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return None


def normalize_valid(raw: str, region: str) -> str | None:
    """E.164 for a *valid* number (our own API input), else None."""
    return _parse(raw, region, valid=True)


def normalize_possible(raw: str, region: str) -> str | None:
    """E.164 for a *possible* number (provider payloads, which we never reject), else None."""
    return _parse(raw, region, valid=False)
