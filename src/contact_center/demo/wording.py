"""Filling the demo's Spanish templates (content.py): one set of placeholder values per
interaction, shared by the demo data set and the emulator's simulated customers.

Every placeholder a template uses must have a value: `fill` raises on a missing one instead of
leaving a gap ("¡Hola !", "hasta ."), so a wording bug fails loudly in the tests.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from contact_center.demo import content


def pesos(amount: float | Decimal) -> str:
    """`1234567.8` → `$ 1.234.567,80` (Argentine notation)."""
    text = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"$ {text}"


def placeholder_values(
    rng: random.Random,
    *,
    first_name: str,
    female: bool,
    at: datetime,
    zone: ZoneInfo,
    queue: str | None = None,
    agent_first_name: str | None = None,
) -> dict[str, str]:
    """The values of one interaction (one ticket for its transcript and its summary).

    `agente` is there only when a person takes part: a template that names the agent cannot be
    filled without one."""
    recent = (at - timedelta(days=rng.randint(0, 6))).astimezone(zone)
    loan = rng.choice((500_000, 800_000, 1_200_000, 2_000_000, 3_500_000))
    values = {
        "banco": content.BANK_NAME,
        "nombre": first_name,
        "bienvenido": "Bienvenida" if female else "Bienvenido",
        "cola": content.QUEUE_LABELS.get(queue or "general", content.QUEUE_LABELS["general"]),
        "ticket": f"RC-{rng.randint(100000, 999999)}",
        "ult4": f"{rng.randint(0, 9999):04d}",
        "dni3": f"{rng.randint(0, 999):03d}",
        "saldo": pesos(round(rng.uniform(1_500, 2_500_000), 2)),
        "monto": pesos(rng.choice((8_500, 15_000, 23_990, 48_500, 89_900, 120_000, 350_000))),
        "prestamo": pesos(loan),
        "cuota": pesos(round(loan * rng.uniform(0.105, 0.125), 2)),
        "limite": pesos(rng.choice((500_000, 1_000_000, 2_000_000, 3_000_000))),
        "fecha": recent.strftime("%d/%m"),
        "vence": (at + timedelta(days=rng.randint(3, 20))).astimezone(zone).strftime("%d/%m"),
        "comercio": rng.choice(content.MERCHANTS),
        "ayuda": content.HELP_LINE,
    }
    if agent_first_name:
        values["agente"] = agent_first_name
    return values


def fill(template: str, values: Mapping[str, object]) -> str:
    """`str.format` with every placeholder required (KeyError on a missing one)."""
    return template.format_map(values)
