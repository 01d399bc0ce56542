"""Masking of personal data (docs/security.md): phone numbers and names."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers

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


# Epoch timestamps (masking hides phones, not times). A Unix time between 2001-09-09 and
# 2100-01-01 is 10 digits in seconds (1000000000…4102444799) and 13 in milliseconds
# (1000000000000…4102444799999), always starting with 1 to 4.
_EPOCH_SECONDS = range(10**9, 4_102_444_800)
_EPOCH_MILLIS = range(10**12, 4_102_444_800_000)
# `ts_ms=`, `"createdAt": `, `timestamp: ` right before a number: a key that names a time.
_KEY_BEFORE_RE = re.compile(r"([A-Za-z_][\w]{0,40})[\"']?\s*[=:]\s*[\"']?$")


def _is_epoch(match: re.Match[str], number: str) -> bool:
    """Whether a bare digit run (no "+", no separators, no letters glued to it) is a Unix time,
    kept readable in logs. The rule, strict where a number could be a phone:

    - It must lie in the window above (2001–2100), in seconds or in milliseconds.
    - After a key naming a time (`ts_ms=`, `"createdAt": `, `unix_secs=`), both lengths are
      times, as `mask_json` reads numbers under such keys.
    - Otherwise only 13 digits can be told apart by shape: read as E.164 without its "+", it
      must not be a possible phone number for its country code (`phonenumbers`). An Argentine
      mobile (549 + 10 digits, `5491155551234`) starts with 5, outside the window; a 13-digit
      number starting with 1 is never a phone (North America has 11); Nigerian (234…), Kenyan
      (254…) or Italian (39…) 13-digit numbers fall in the window but are possible phones, so
      they stay masked. National numbers of 13 digits start with a trunk 0.
    - 10 digits alone stay masked: national numbers have that length and start the same way
      (Buenos Aires `11 5555 1234`, a porteño mobile `15 5555 1234`, North America, Brazil).
    """
    value = int(number)
    if value not in _EPOCH_MILLIS and value not in _EPOCH_SECONDS:
        return False
    before = match.string[max(0, match.start() - 48) : match.start()]
    key = _KEY_BEFORE_RE.search(before)
    if key is not None and _names_a_time(key.group(1)):
        return True
    if value not in _EPOCH_MILLIS:
        return False
    return not phonenumbers.is_possible_number_string("+" + number, phonenumbers.UNKNOWN_REGION)


def _mask_digits(match: re.Match[str]) -> str:
    number = match.group("number")
    if number is None:  # a UUID, a date or an IPv4 address
        return match.group(0)
    digit_positions = [i for i, ch in enumerate(number) if ch.isdecimal()]
    if len(digit_positions) < MIN_PHONE_DIGITS or _DECIMAL_RE.fullmatch(number):
        return match.group(0)
    if match.group("letters") is None and number.isdecimal() and _is_epoch(match, number):
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


# A token in a page's path is the customer's proof (a survey's, a signed link's landing page):
# whoever holds the link answers or verifies as the customer.
PATH_TOKEN_RE = re.compile(r"(/csat/|/l/verify/|/l/onboarding/)[^\s/?#\"'<>]+")
LINK_PROOF_MASK = "••••••"


def mask_link_tokens(text: str, replacement: str = LINK_PROOF_MASK) -> str:
    """The token of every survey or signed link in `text` hidden, the rest of the address kept.
    Applied to a message's text wherever it is shown, revealed or not: the token is no personal
    data to reveal but a key (the customer's copy, sent as written, keeps it)."""
    if "/csat/" not in text and "/l/" not in text:
        return text
    return PATH_TOKEN_RE.sub(lambda m: m.group(1) + replacement, text)


def mask_text(text: str) -> str:
    """Mask every phone-number-like run (8+ digits) inside free text: written with spaces,
    hyphens, dots or parentheses, and glued to the letters before it ("Tel549…")."""
    return _PHONE_RE.sub(_mask_digits, text)


# Numbers under these words (in snake_case or camelCase keys) are times, durations and sizes.
_TIME_WORDS = frozenset(
    {"at", "date", "epoch", "millis", "ms", "seconds", "secs", "time", "timestamp", "ts", "unix"}
)
_NOT_PHONE_WORDS = _TIME_WORDS | {"bytes", "count", "duration", "elapsed", "length", "size"}
_KEY_WORD_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def _key_words(key: object) -> set[str]:
    if not isinstance(key, str):
        return set()
    return {word.lower() for word in _KEY_WORD_RE.findall(key)}


def _names_a_quantity(key: object) -> bool:
    return not _key_words(key).isdisjoint(_NOT_PHONE_WORDS)


def _names_a_time(key: object) -> bool:
    return not _key_words(key).isdisjoint(_TIME_WORDS)


def mask_number(value: float, key: object = None) -> float | str:
    """A JSON number that may be a phone (`5491122223333`): 8+ digits, whole, not negative, not
    under a key that names a time, duration or size, and not an epoch in milliseconds (see
    `_is_epoch`). Masked, it becomes a string."""
    if isinstance(value, bool) or value < 10 ** (MIN_PHONE_DIGITS - 1):
        return value
    if isinstance(value, float) and not value.is_integer():  # also NaN and infinities
        return value
    if _names_a_quantity(key):
        return value
    text = str(int(value))
    masked = mask_text(text)
    return value if masked == text else masked


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
