"""Write the labelled redaction corpus (tests/data/redaction_corpus.jsonl) from written snippets.

The snippets are rioplatense chat and call transcripts written for the project. Each marker such
as `{card:spoken_pairs}` or `{dni:dotted}` is filled with a fresh number (valid check digits from
python-stdnum's Luhn, CUIT and CBU calculators) in the style it names, and the span it fills is
labelled; markers of things that are not sensitive (`{amount}`, `{phone}`, `{order8}`…) are
filled but not labelled: they are the hard negatives. Deterministic (a fixed seed):

    .venv/bin/python -m bench.redaction_corpus    # rewrites tests/data/redaction_corpus.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from num2words import num2words
from stdnum import luhn
from stdnum.ar import cbu, cuit

from bench.redaction_snippets import NEGATIVE, POSITIVE

CORPUS = Path(__file__).parent.parent / "tests" / "data" / "redaction_corpus.jsonl"

DIGIT_WORDS = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]
FIRST_NAMES = [
    "María José",
    "Juan Ignacio",
    "Lucía",
    "Martín",
    "Florencia",
    "Gonzalo",
    "Agustina",
    "Matías",
    "Romina",
    "Sebastián",
    "Valeria",
    "Nicolás",
    "Camila",
    "Facundo",
    "Milagros",
    "Ezequiel",
    "Carolina",
    "Federico",
    "Micaela",
    "Leandro",
]
LAST_NAMES = [
    "Fernández",
    "González",
    "Rodríguez",
    "López",
    "Martínez",
    "Pérez",
    "Gómez",
    "Sánchez",
    "Romero",
    "Álvarez",
    "Benítez",
    "Acosta",
    "Sosa",
    "Giménez",
    "Ibáñez",
    "Quiroga",
    "Villafañe",
    "Etchegaray",
]
ALIAS_WORDS = [
    "gato",
    "perro",
    "mate",
    "sol",
    "luna",
    "rio",
    "nube",
    "casa",
    "arbol",
    "tango",
    "faro",
    "lapiz",
    "vaca",
    "pampa",
    "limon",
    "trueno",
    "pera",
    "silla",
]
DOMAINS = [
    "gmail.com",
    "hotmail.com",
    "yahoo.com.ar",
    "outlook.com",
    "live.com.ar",
    "fibertel.com.ar",
]
BANKS = ["007", "011", "014", "015", "017", "072", "285", "191", "034", "044", "150", "389"]


class Filler:
    """Fresh values in each style; `rng` makes the corpus reproducible."""

    def __init__(self, rng: random.Random, first: str, last: str) -> None:
        self.rng = rng
        self.first = first
        self.last = last

    # --- numbers with check digits ---------------------------------------------------------------

    def card_number(self) -> str:
        rng = self.rng
        prefix, length = rng.choice(
            [
                ("4", 16),
                ("4", 16),
                ("4509", 16),
                ("4517", 16),
                ("5", 16),
                ("5406", 16),
                ("589657", 16),  # Cabal
                ("589562", 16),  # Naranja
                ("37", 15),
                ("36", 14),
                ("6042", 16),
                ("2223", 16),
                ("6799", 19),  # Maestro
            ]
        )
        if prefix == "5":
            prefix = rng.choice(["51", "52", "53", "54", "55"])
        body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
        return body + luhn.calc_check_digit(body)

    def dni_number(self) -> str:
        if self.rng.random() < 0.15:
            return str(self.rng.randint(3_000_000, 9_999_999))
        return str(self.rng.randint(10_000_000, 46_999_999))

    def cuit_number(self) -> str:
        while True:
            prefix = self.rng.choice(["20", "27", "23", "20", "27", "30", "33"])
            body = prefix + self.dni_number().zfill(8)
            number = body + cuit.calc_check_digit(body)
            if cuit.is_valid(number):
                return number

    def cbu_number(self, virtual: bool = False) -> str:
        rng = self.rng
        first = "0000003" if virtual else rng.choice(BANKS) + f"{rng.randint(0, 9999):04d}"
        second = "".join(rng.choice("0123456789") for _ in range(13))
        return first + cbu.calc_check_digit(first) + second + cbu.calc_check_digit(second)

    # --- spoken forms ---------------------------------------------------------------------------

    def words(self, n: int) -> str:
        return str(num2words(n, lang="es"))

    def spoken_digits(self, digits: str, group: int = 0) -> str:
        words = [DIGIT_WORDS[int(d)] for d in digits]
        if not group:
            return " ".join(words)
        chunks = [" ".join(words[i : i + group]) for i in range(0, len(words), group)]
        return self.rng.choice([", ", " ", "... ", ", eh, "]).join(chunks)

    def spoken_group(self, digits: str) -> str:
        """A group as people say it: leading zeros one by one, the rest as a number."""
        zeros = len(digits) - len(digits.lstrip("0"))
        if zeros == len(digits):
            if len(digits) == 2 and self.rng.random() < 0.5:
                return "doble cero"
            return " ".join(["cero"] * zeros)
        rest = digits[zeros:]
        return " ".join([*["cero"] * zeros, self.words(int(rest))])

    def spoken_groups(self, digits: str, size: int) -> str:
        groups = [digits[i : i + size] for i in range(0, len(digits), size)]
        sep = self.rng.choice([", ", " ", "... "])
        return sep.join(self.spoken_group(g) for g in groups)

    # --- the styles -------------------------------------------------------------------------------

    def card(self, style: str) -> str:
        number = self.card_number()
        if style == "any":
            style = self.rng.choice(
                ["digits", "spaced", "dashed", "spoken_digits", "spoken_pairs", "spoken_groups"]
            )
        if style == "digits":
            return number
        if style in ("spaced", "dashed"):
            sep = " " if style == "spaced" else "-"
            if len(number) in (14, 15):  # Diners and Amex: 4-6-4 and 4-6-5
                return sep.join([number[:4], number[4:10], number[10:]])
            return sep.join(number[i : i + 4] for i in range(0, len(number), 4))
        if style == "spoken_digits":
            return self.spoken_digits(number, group=self.rng.choice([0, 4, 4]))
        if style == "spoken_pairs":
            return self.spoken_groups(number, 2)
        if style == "spoken_groups":
            return self.spoken_groups(number, 4)
        if style == "mixed":
            return number[:4] + " " + number[4:8] + ", " + self.spoken_digits(number[8:], group=4)
        if style == "turns":
            # The agent acknowledges each group while the customer dictates.
            groups = [number[i : i + 4] for i in range(0, len(number), 4)]
            said = [
                self.spoken_digits(g) if self.rng.random() < 0.6 else self.spoken_group(g)
                for g in groups
            ]
            acks = ["ajá", "sí", "ok", "dale", "perfecto, sigo", "mhm", "anotado"]
            pieces = [said[0]]
            for group in said[1:]:
                pieces.append(f"\nAgente: {self.rng.choice(acks)}\nCliente: {group}")
            return "".join(pieces)
        raise ValueError(style)

    def last_four_of_card(self) -> str:
        return self.card_number()[-4:]

    def cvv(self, style: str) -> str:
        code = f"{self.rng.randint(0, 999):03d}"
        if style == "any":
            style = self.rng.choice(["digits", "spaced", "spoken_digits", "spoken_number"])
        if style == "digits":
            return code
        if style == "spaced":
            return " ".join(code)
        if style == "spoken_digits":
            return self.spoken_digits(code)
        if style == "spoken_number":
            if code[0] == "0":
                return self.spoken_group(code)
            return self.words(int(code))
        raise ValueError(style)

    def dni(self, style: str) -> str:
        number = self.dni_number()
        if style == "any":
            style = self.rng.choice(
                ["digits", "dotted", "spaced", "spoken_number", "spoken_groups", "spoken_digits"]
            )
        if style == "digits":
            return number
        if style == "dotted":
            return f"{int(number):,}".replace(",", ".")
        if style == "spaced":
            return f"{int(number):,}".replace(",", " ")
        if style == "spoken_number":
            return self.words(int(number))
        if style == "spoken_groups":
            groups = f"{int(number):,}".split(",")
            return ", ".join(self.spoken_group(g) for g in groups)
        if style == "spoken_digits":
            return self.spoken_digits(number)
        if style == "said_with_digits":  # "38 millones 123 mil 456"
            value = int(number)
            millions, rest = divmod(value, 1_000_000)
            thousands, units = divmod(rest, 1000)
            return f"{millions} millones {thousands} mil {units}"
        raise ValueError(style)

    def cuit(self, style: str) -> str:
        number = self.cuit_number()
        if style == "any":
            style = self.rng.choice(["dashed", "digits", "spoken_digits", "spoken_parts"])
        if style == "digits":
            return number
        if style == "dashed":
            return f"{number[:2]}-{number[2:10]}-{number[10]}"
        if style == "spoken_digits":
            return self.spoken_digits(number)
        if style == "spoken_parts":
            middle = number[2:10]
            middle_words = self.spoken_group(middle)
            sep = self.rng.choice([", guión, ", " guión ", ", "])
            return sep.join(
                [self.words(int(number[:2])), middle_words, DIGIT_WORDS[int(number[10])]]
            )
        raise ValueError(style)

    def cbu(self, style: str) -> str:
        number = self.cbu_number()
        if style == "any":
            style = self.rng.choice(["digits", "digits", "spaced", "spoken_digits"])
        if style == "digits":
            return number
        if style == "spaced":
            return " ".join([number[:8], number[8:]])
        if style == "spoken_digits":
            return self.spoken_digits(number, group=self.rng.choice([0, 4]))
        raise ValueError(style)

    def cvu(self, style: str) -> str:
        return self.cbu_number(virtual=True)

    def alias(self, style: str) -> str:
        rng = self.rng
        kind = rng.choice(["words", "words", "name", "digits"])
        if kind == "words":
            value = ".".join(rng.sample(ALIAS_WORDS, 3))
        elif kind == "name":
            value = f"{_plain(self.first.split()[0])}.{_plain(self.last)}"
            value = f"{value[:16]}.{rng.choice(['mp', 'bna'])}"  # an alias has at most 20
        else:
            value = f"{rng.choice(ALIAS_WORDS)}.{rng.choice(ALIAS_WORDS)}{rng.randint(10, 99)}"
        return value.upper() if rng.random() < 0.4 else value

    def email(self, style: str) -> str:
        rng = self.rng
        user = rng.choice(
            [
                f"{_plain(self.first.split()[0])}.{_plain(self.last)}",
                f"{_plain(self.first.split()[0])[0]}{_plain(self.last)}{rng.randint(70, 99)}",
                f"{_plain(self.last)}_{_plain(self.first.split()[0])}",
            ]
        )
        domain = rng.choice(DOMAINS)
        if style == "spoken":
            spoken_user = user.replace(".", " punto ").replace("_", " guión bajo ")
            return f"{spoken_user} arroba {domain.replace('.', ' punto ')}"
        return f"{user}@{domain}"

    def name(self, style: str) -> str:
        if style == "first":
            return self.first.split()[0]
        if style == "last":
            return self.last
        if style == "lower":
            return " ".join(_plain(w) for w in f"{self.first} {self.last}".split())
        return f"{self.first} {self.last}"

    # --- hard negatives (filled, not labelled) ---------------------------------------------------

    def amount(self, style: str) -> str:
        rng = self.rng
        value = rng.choice(
            [
                rng.randint(500, 99_999),
                rng.randint(100_000, 9_999_999),
                rng.randint(10_000_000, 45_000_000),
            ]
        )
        text = f"{value:,}".replace(",", ".")
        return rng.choice(
            [
                f"$ {text}",
                f"${text}",
                f"$ {text},{rng.randint(10, 99)}",
                f"{text} pesos",
                f"$ {text}",
            ]
        )

    def amount_spoken(self, style: str) -> str:
        value = self.rng.choice([1500, 12500, 45000, 250000, 38000, 1200000, 7800])
        return f"{self.words(value)} pesos"

    def phone(self, style: str) -> str:
        rng = self.rng
        a, b = rng.randint(1000, 9999), rng.randint(1000, 9999)
        return rng.choice(
            [
                f"11 {a}-{b}",
                f"+54 9 11 {a} {b}",
                f"15-{a}-{b}",
                f"(0221) 4{a % 100:02d}-{b}",
                f"+54911{a}{b}",
                f"011 {a}-{b}",
                f"0800-{rng.randint(100, 999)}-{b}",
                f"351 {rng.randint(100, 999)} {b}",
            ]
        )

    def phone_spoken(self, style: str) -> str:
        digits = "11" + "".join(self.rng.choice("0123456789") for _ in range(8))
        return self.spoken_digits(digits, group=self.rng.choice([0, 4]))

    def date(self, style: str) -> str:
        rng = self.rng
        d, m = rng.randint(1, 28), rng.randint(1, 12)
        return rng.choice(
            [
                f"{d}/{m}",
                f"{d:02d}/{m:02d}/2026",
                f"{d:02d}-{m:02d}-2025",
                f"{m:02d}/{rng.randint(26, 31)}",
            ]
        )

    def order(self, style: str) -> str:
        return str(self.rng.randint(100_000, 9_999_999_999))

    def order8(self, style: str) -> str:
        """Eight digits that are not a DNI: a claim, a receipt, an operation."""
        return str(self.rng.randint(10_000_000, 99_999_999))

    def long_operation(self, style: str) -> str:
        """An operation number of card length that does not pass Luhn."""
        while True:
            number = str(self.rng.randint(10**15, 10**16 - 1))
            if not luhn.is_valid(number):
                return number

    def last4(self, style: str) -> str:
        return self.last_four_of_card()

    def otp(self, style: str) -> str:
        return f"{self.rng.randint(0, 999_999):06d}"

    def small(self, style: str) -> str:
        return str(self.rng.randint(2, 48))

    def agent(self, style: str) -> str:
        return self.rng.choice(["Brenda", "Tomás", "Julieta", "Ramiro", "Sofía", "Diego", "Noelia"])


def _plain(value: str) -> str:
    table = str.maketrans("áéíóúÁÉÍÓÚñÑü", "aeiouAEIOUnNu")
    return value.translate(table).lower().replace(" ", "")


LABELLED = {
    "card": "card",
    "cvv": "security_code",
    "dni": "dni",
    "cuit": "cuit",
    "cbu": "cbu",
    "cvu": "cvu",
    "alias": "cbu_alias",
    "email": "email",
    "name": "person_name",
}
_MARKER = re.compile(r"\{(\w+)(?::(\w+))?\}")


def fill(template: str, filler: Filler) -> tuple[str, list[dict[str, object]]]:
    out: list[str] = []
    spans: list[dict[str, object]] = []
    cursor = 0
    length = 0
    for match in _MARKER.finditer(template):
        before = template[cursor : match.start()]
        out.append(before)
        length += len(before)
        kind, style = match.group(1), match.group(2) or "any"
        method: Callable[[str], str] = getattr(filler, kind)
        value = method(style)
        if kind in LABELLED:
            spans.append({"type": LABELLED[kind], "start": length, "end": length + len(value)})
        out.append(value)
        length += len(value)
        cursor = match.end()
    out.append(template[cursor:])
    return "".join(out), spans


def build(seed: int = 25, copies: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for group, templates, n in (("positive", POSITIVE, copies), ("negative", NEGATIVE, 2)):
        for t_index, (channel, template) in enumerate(templates):
            for copy in range(n):
                first = rng.choice(FIRST_NAMES)
                last = rng.choice(LAST_NAMES)
                filler = Filler(rng, first, last)
                text, spans = fill(template, filler)
                rows.append(
                    {
                        "id": f"{group[:3]}-{t_index:03d}-{copy}",
                        "channel": channel,
                        "customer_name": f"{first} {last}",
                        "text": text,
                        "spans": spans,
                    }
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CORPUS)
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args()
    rows = build(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    labelled = sum(len(row["spans"]) for row in rows)
    print(f"{len(rows)} snippets, {labelled} labelled spans → {args.out}")


if __name__ == "__main__":
    main()
