"""Masking of personal data (SPEC §4.7, §9.3): phone numbers and names."""

from __future__ import annotations

import re
from typing import Any

# What stays readable although it holds long digit runs: UUIDs, dates and times, IPv4 addresses.
_READABLE = (
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
    r"|\d{4}[./]\d{2}[./]\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{4}"
    r"|(?:\d{1,3}\.){3}\d{1,3}"
)
# A phone-like run: an optional "+", digits and the separators people type (spaces, hyphens,
# dots, parentheses). It starts a word, or follows the letters it is glued to ("Tel549…"), but
# never sits inside an id ("SM0123…abc", "conv_1234…", "…-426614174000").
_PHONE_RE = re.compile(
    rf"(?<![\w\-+])(?:(?P<readable>{_READABLE})(?!\w|\.\d)"
    r"|(?P<letters>[^\W\d_]++)?(?P<number>\+?\d(?:[\d \-().]*\d)?)(?![\w-]))"
)
_DECIMAL_RE = re.compile(r"\d+\.\d+")
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")
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
    number = match.group("number")
    if number is None:  # a UUID, a date or an IPv4 address
        return match.group(0)
    digit_positions = [i for i, ch in enumerate(number) if ch.isdecimal()]
    if len(digit_positions) < MIN_PHONE_DIGITS or _DECIMAL_RE.fullmatch(number):
        return match.group(0)
    rest = match.string[match.end() : match.end() + 2]
    if _THOUSANDS_RE.fullmatch(number) and rest[:1] == "," and rest[1:].isdecimal():
        return match.group(0)  # an amount such as 12.345.678,90
    # The shape of mask_phone on E.164 (the first 5 digits and the last 2 stay), but a shorter
    # national number ("1155551234") keeps fewer leading digits: at least 6 are always hidden.
    leading = min(5, len(digit_positions) - MIN_PHONE_DIGITS)
    keep = set(digit_positions[:leading]) | set(digit_positions[-2:])
    masked = "".join(
        "*" if (i not in keep and ch.isdecimal()) else ch for i, ch in enumerate(number)
    )
    return (match.group("letters") or "") + masked


def mask_text(text: str) -> str:
    """Mask every phone-number-like run (8+ digits) inside free text: written with spaces,
    hyphens, dots or parentheses, and glued to the letters before it ("Tel549…")."""
    return _PHONE_RE.sub(_mask_digits, text)


# Numbers under these words (in snake_case or camelCase keys) are times, durations and sizes.
_NOT_PHONE_WORDS = frozenset(
    {
        "at",
        "bytes",
        "count",
        "date",
        "duration",
        "elapsed",
        "epoch",
        "length",
        "millis",
        "ms",
        "seconds",
        "secs",
        "size",
        "time",
        "timestamp",
        "ts",
        "unix",
    }
)
_KEY_WORD_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def _names_a_quantity(key: object) -> bool:
    if not isinstance(key, str):
        return False
    return any(word.lower() in _NOT_PHONE_WORDS for word in _KEY_WORD_RE.findall(key))


def mask_number(value: float, key: object = None) -> float | str:
    """A JSON number that may be a phone (`5491122223333`): 8+ digits, whole, not negative, and
    not under a key that names a time, duration or size. Masked, it becomes a string."""
    if isinstance(value, bool) or value < 10 ** (MIN_PHONE_DIGITS - 1):
        return value
    if isinstance(value, float):
        if not value.is_integer():  # also NaN and infinities
            return value
        value = int(value)
    if _names_a_quantity(key):
        return value
    return mask_text(str(value))


def mask_name(value: str | None) -> str | None:
    """`Juan Pérez` → `J*** P****`."""
    if value is None:
        return None
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in value.split(" "))


def _mask_key(key: object) -> object:
    if isinstance(key, str):
        return mask_text(key)
    if isinstance(key, int | float):
        return mask_number(key)
    return key


def mask_json(value: Any, key: object = None) -> Any:
    """Mask phone numbers in every string, number and key, and names under name-like keys,
    recursively. `key` is the key `value` sits under (it tells a timestamp from a phone)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int | float):
        return mask_number(value, key)
    if isinstance(value, list | tuple):
        return [mask_json(item, key) for item in value]
    if isinstance(value, dict):
        result: dict[Any, Any] = {}
        for item_key, item in value.items():
            masked_key = _mask_key(item_key)
            while masked_key in result:  # two numbers that mask alike keep both entries
                masked_key = f"{masked_key}*"
            if isinstance(item, str) and str(item_key).lower() in _NAME_KEYS:
                result[masked_key] = mask_name(item)
            else:
                result[masked_key] = mask_json(item, item_key)
        return result
    return value
