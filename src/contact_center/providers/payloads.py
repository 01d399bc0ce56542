"""Reading what a provider sends: a JSON loader and typed readers shared by every vendor module.

A provider body is hostile until read: it may nest 10,000 levels, carry NaN or 10^400, hold NUL
characters that PostgreSQL refuses, or put a number where a string belongs. Everything here raises
UnparseablePayload with a message naming the field, so the delivery is kept as INVALID (and the
provider answered 422) instead of failing somewhere deeper.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from contact_center.providers.base import UnparseablePayload
from contact_center.storable import storable

# Real payloads nest about 8 levels; the limit leaves room and stops the parser long before
# Python's recursion limit.
MAX_DEPTH = 64
# Integers with more digits are not counts, durations or timestamps (and int() of a very long
# digit string is slow).
MAX_INT_DIGITS = 18
# Unix seconds from 1970 to the year 3000: later is not a time a provider reports, and adding a
# duration to it must still be a datetime.
MAX_UNIX_SECONDS = 32_503_680_000

# A string token (with its escapes) or a bracket: only brackets outside strings nest.
_DECIMAL = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH without recursing (the C scanner is linear here)."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise UnparseablePayload(f"JSON nested deeper than {MAX_DEPTH} levels")
        elif token in ("]", "}"):
            depth -= 1


def _constant(name: str) -> Any:
    raise UnparseablePayload(f"{name} is not a JSON number")


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise UnparseablePayload(f"number out of range ({digits[:20]}…)")
    return int(digits)


def _real(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnparseablePayload(f"number out of range ({text[:20]})")
    return value


def _check_strings(value: Any) -> None:
    """Every key and string value storable; iterative, so depth costs no stack."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not storable(item):
                raise UnparseablePayload("a string holds a NUL character or an invalid code point")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def load_json(raw: bytes) -> Any:
    """The body as JSON: UTF-8, no NaN/Infinity, bounded numbers and depth, storable strings."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnparseablePayload(f"body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    _check_depth(text)
    try:
        value = json.loads(text, parse_constant=_constant, parse_int=_integer, parse_float=_real)
    except UnparseablePayload:
        raise
    except (ValueError, RecursionError) as exc:
        raise UnparseablePayload(f"body is not JSON: {exc}") from None
    _check_strings(value)
    return value


def load_form(raw: bytes) -> dict[str, str]:
    """A form-encoded body: ASCII on the wire, UTF-8 once percent-decoded, storable values.
    A repeated field keeps its first value."""
    try:
        pairs = parse_qsl(
            raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except UnicodeDecodeError as exc:
        raise UnparseablePayload(f"form is not UTF-8: {exc.reason}") from None
    except ValueError as exc:
        raise UnparseablePayload(f"body is not a form: {exc}") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if not storable(key) or not storable(value):
            raise UnparseablePayload(f"form field {key[:40]!r} holds a NUL character")
        form.setdefault(key, value)
    return form


# --- typed readers ---------------------------------------------------------------------------
# Each reads one field of a JSON object: absent or null is None; a value of another type raises
# UnparseablePayload naming the field (`where` is the object's path, for the message).


def _name(where: str, key: str) -> str:
    return f"'{where}.{key}'" if where else f"'{key}'"


def obj(value: Any, where: str) -> dict[str, Any]:
    """`value` itself as an object."""
    if not isinstance(value, dict):
        raise UnparseablePayload(
            f"'{where}' is not an object" if where else "body is not a JSON object"
        )
    return value


def optional_obj(data: Mapping[str, Any], key: str, where: str = "") -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise UnparseablePayload(f"{_name(where, key)} is not an object")
    return value


def optional_list(data: Mapping[str, Any], key: str, where: str = "") -> list[Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise UnparseablePayload(f"{_name(where, key)} is not a list")
    return value


def optional_text(
    data: Mapping[str, Any], key: str, where: str = "", *, max_length: int | None = None
) -> str | None:
    """A string field; longer than `max_length` is refused (identifiers, keys)."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnparseablePayload(f"{_name(where, key)} is not a string")
    if max_length is not None and len(value) > max_length:
        raise UnparseablePayload(f"{_name(where, key)} is longer than {max_length} characters")
    return value


def required_text(
    data: Mapping[str, Any], key: str, where: str = "", *, max_length: int | None = None
) -> str:
    value = optional_text(data, key, where, max_length=max_length)
    if not value:
        raise UnparseablePayload(f"{_name(where, key)} is missing")
    return value


def clipped_text(data: Mapping[str, Any], key: str, where: str = "", *, limit: int) -> str | None:
    """A string field kept to `limit` characters (names and labels shown to people)."""
    value = optional_text(data, key, where)
    return value[:limit] if value is not None else None


def optional_scalar_text(
    data: Mapping[str, Any], key: str, where: str = "", *, max_length: int | None = None
) -> str | None:
    """A string, or an integer sent where a string is documented (phone numbers often are)."""
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnparseablePayload(f"{_name(where, key)} is not a string")
    if max_length is not None and len(value) > max_length:
        raise UnparseablePayload(f"{_name(where, key)} is longer than {max_length} characters")
    return value


def optional_number(
    data: Mapping[str, Any],
    key: str,
    where: str = "",
    *,
    minimum: float = -math.inf,
    maximum: float = math.inf,
) -> float | None:
    """A JSON number (not a boolean) within [minimum, maximum]."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnparseablePayload(f"{_name(where, key)} is not a number")
    if not math.isfinite(value) or not minimum <= value <= maximum:
        raise UnparseablePayload(f"{_name(where, key)} is out of range")
    return float(value)


def optional_bool(data: Mapping[str, Any], key: str, where: str = "") -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise UnparseablePayload(f"{_name(where, key)} is not true or false")
    return value


def optional_unix(data: Mapping[str, Any], key: str, where: str = "") -> datetime | None:
    """Unix seconds (a number, or digits in a string, as some events send) as an aware datetime;
    before 1970 or after MAX_UNIX_SECONDS is refused."""
    value = data.get(key)
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        data = {key: float(value)}
    seconds = optional_number(data, key, where, minimum=0, maximum=MAX_UNIX_SECONDS)
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None
