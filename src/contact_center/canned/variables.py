"""The variables a canned reply (or any reply) may hold, and how a message body is filled.

Filled on the server when the message is created: the stored body holds the real text, as any
message body does. The values are personal data: nothing here logs them."""

from __future__ import annotations

import re
from dataclasses import dataclass

CUSTOMER_FIRST_NAME = "customer_first_name"
AGENT_NAME = "agent_name"
VARIABLES = (CUSTOMER_FIRST_NAME, AGENT_NAME)

_ANY = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_KNOWN = re.compile(r"(?P<space>[ \t]*)\{\{\s*(?P<name>customer_first_name|agent_name)\s*\}\}")


@dataclass(frozen=True)
class Values:
    customer_first_name: str
    agent_name: str


def unknown(body: str) -> list[str]:
    """The `{{…}}` in `body` that are not a known variable, in order, once each."""
    found: list[str] = []
    for match in _ANY.finditer(body):
        name = match.group(1).strip()
        if name not in VARIABLES and match.group(0) not in found:
            found.append(match.group(0))
    return found


def holds_variables(body: str) -> bool:
    return _KNOWN.search(body) is not None


def first_name(customer_name: str | None) -> str:
    """The first word of the customer's name ("" when unknown)."""
    words = (customer_name or "").split()
    return words[0] if words else ""


def fill(body: str, values: Values) -> str:
    """`body` with its variables replaced. An empty value leaves no trace: neither a double
    space ("Hola {{customer_first_name}}, …" → "Hola, …") nor a leading comma."""

    def value(match: re.Match[str]) -> str:
        text = getattr(values, match.group("name"))
        return match.group("space") + text if text else ""

    filled = _KNOWN.sub(value, body)
    if filled != body:
        filled = re.sub(r"^[ \t]*[,;:][ \t]*", "", filled)
        filled = re.sub(r"(?<=\S)[ \t]{2,}", " ", filled)
    return filled
