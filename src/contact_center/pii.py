"""Masking of personal data (SPEC §4.7, §9.3): phone numbers and names."""

from __future__ import annotations

import re
from typing import Any

# A run of 8 or more digits, optionally with a leading "+" and the separators people type
# (spaces, hyphens, parentheses). Not inside a word or an id ("SM123…", "…-426614174000").
_PHONE_RE = re.compile(r"(?<![\w\-+])\+?\d(?:[\d \-()]*\d)?(?![\w-])")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME_KEYS = frozenset(
    {
        "name",
        "customername",
        "customer_name",
        "fullname",
        "full_name",
        "firstname",
        "first_name",
        "lastname",
        "last_name",
        "pushname",
        "push_name",
        "profilename",
        "profile_name",
        "username",
        "user_name",
        "contactname",
        "contact_name",
    }
)
MIN_PHONE_DIGITS = 8


def mask_phone(value: str | None) -> str | None:
    """`+5491155551234` → `+54911******34`: keep the first 6 and the last 2 characters."""
    if value is None:
        return None
    if len(value) <= MIN_PHONE_DIGITS:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 8) + value[-2:]


def _mask_digits(match: re.Match[str]) -> str:
    text = match.group(0)
    digit_positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    if len(digit_positions) < MIN_PHONE_DIGITS or _ISO_DATE_RE.fullmatch(text):
        return text
    # The same shape as mask_phone on E.164: the first 5 digits and the last 2 stay.
    keep = set(digit_positions[:5]) | set(digit_positions[-2:])
    return "".join(
        "*" if (i in digit_positions and i not in keep) else ch for i, ch in enumerate(text)
    )


def mask_text(text: str) -> str:
    """Mask every phone-number-like run (8+ digits) inside free text."""
    return _PHONE_RE.sub(_mask_digits, text)


def mask_name(value: str | None) -> str | None:
    """`Juan Pérez` → `J*** P****`."""
    if value is None:
        return None
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in value.split(" "))


def mask_json(value: Any) -> Any:
    """Mask phone numbers in every string and names under name-like keys, recursively."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_json(item) for item in value]
    if isinstance(value, dict):
        result: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(item, str) and str(key).lower() in _NAME_KEYS:
                result[key] = mask_name(item)
            else:
                result[key] = mask_json(item)
        return result
    return value
