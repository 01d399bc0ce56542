"""Detectors of the sensitive data an Argentine bank's customers say and type (docs/redaction.md).

Each detector is a pure function of the text: it returns `Span`s (where, what, which detector,
the matched original). `detect` runs them all and keeps one span where two overlap (the
stronger proof wins: a check digit over a context word, a longer number over a shorter one).

Check digits come from python-stdnum (`luhn`, `ar.cuit`, `ar.cbu`, `ar.dni`); no checksum is
written here. Patterns are bounded (no nested unbounded repetition), so a hostile megabyte of
text takes linear time.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from stdnum import luhn
from stdnum.ar import cbu, cuit, dni

from contact_center.redaction.spoken import (
    NUMBER_WORDS,
    UNIT_WORDS,
    NumberRun,
    Window,
    fold,
    number_runs,
)


class Entity(StrEnum):
    CARD = "card"
    SECURITY_CODE = "security_code"
    DNI = "dni"
    CUIT = "cuit"  # CUIT and CUIL share one format and check digit
    CBU = "cbu"
    CVU = "cvu"
    CBU_ALIAS = "cbu_alias"
    EMAIL = "email"
    PERSON_NAME = "person_name"


# Which span stays when two overlap: higher first, then the longer.
PRIORITY = {
    Entity.EMAIL: 100,
    Entity.CBU: 90,
    Entity.CVU: 90,
    Entity.CARD: 80,
    Entity.CUIT: 70,
    Entity.SECURITY_CODE: 60,
    Entity.DNI: 50,
    Entity.CBU_ALIAS: 40,
    Entity.PERSON_NAME: 30,
}


@dataclass(frozen=True, slots=True)
class Span:
    """One finding in the original text: `text[start:end] == original`."""

    start: int
    end: int
    entity: Entity
    detector: str
    # The matched text and its digits (for numbers): never log or store them.
    original: str = field(repr=False)
    value: str = field(repr=False, default="")


# --- cards ---------------------------------------------------------------------------------------


def _card_prefix_ok(digits: str) -> bool:
    """Lengths and first digits the card networks use (Visa, Mastercard, Amex, Diners, Cabal,
    Naranja, Maestro…): a phone number with its country code is not a card even when Luhn-valid."""
    n = len(digits)
    first = digits[0]
    if n == 13:
        return first == "4"
    if n == 14:
        return digits[:2] in ("30", "36", "38", "39")
    if n == 15:
        return digits[:2] in ("34", "37")
    if n == 16:
        return first in "23456"
    if n == 19:
        return first in "3456"  # Visa, Maestro, UnionPay, Diners/JCB
    return first in "56"  # 17–18: Maestro


def _scan(
    run: NumberRun,
    min_digits: int,
    max_digits: int,
    valid: Callable[[Window], bool],
    rank: Callable[[Window], int] = lambda w: 0,
) -> Iterator[Window]:
    """The valid numbers of a run, left to right: each search starts where the last one ended.

    Of the valid stretches that start near there, the best `rank` wins, then the earliest, then
    the longest.
    """
    if len(run.digits) < min_digits:
        return
    first = 0
    while first < len(run.phrases):
        hits = [w for w in run.windows(min_digits, max_digits, first) if valid(w)]
        if not hits:
            return
        hit = min(hits, key=lambda w: (rank(w), w.first, -len(w.digits)))
        yield hit
        first = hit.last + 1


# A dictated card is read in stretches, and one stretch in ten passes Luhn by chance: prefer the
# whole run, then a stretch that ends where the run ends (a stray number said before the card,
# such as the agent's "de a cuatro"), then the lengths cards have most ("4 4723 1447 8204 7348"
# is the 16 digits after the stray "cuatro", not the 13 from it).
_CARD_LENGTH_RANK = {16: 0, 15: 1, 19: 2, 14: 3, 18: 4, 17: 5, 13: 6}


def _card_rank(run: NumberRun) -> Callable[[Window], int]:
    last = len(run.phrases) - 1

    def rank(window: Window) -> int:
        whole = window.first == 0 and window.last == last
        to_the_end = window.last == last
        return (0 if whole else 20 if to_the_end else 40) + _CARD_LENGTH_RANK[len(window.digits)]

    return rank


def _after_plus(text: str, start: int) -> bool:
    before = text[max(0, start - 3) : start].rstrip()
    return before.endswith("+")


def detect_cards(text: str, runs: Iterable[NumberRun]) -> list[Span]:
    spans: list[Span] = []
    for run in runs:

        def valid(window: Window) -> bool:
            digits = window.digits
            if not _card_prefix_ok(digits) or luhn.checksum(digits) != 0:
                return False
            # "+54 9 …": an international phone number
            return not (window.first == 0 and _after_plus(text, window.start))

        for window in _scan(run, 13, 19, valid, _card_rank(run)):
            digits = window.digits
            detector = "card.spoken" if window.spoken else "card.digits"
            spans.append(
                Span(
                    window.start,
                    window.end,
                    Entity.CARD,
                    detector,
                    text[window.start : window.end],
                    digits,
                )
            )
    return spans


# --- CBU / CVU and CUIT / CUIL -------------------------------------------------------------------


# The windows hold ASCII digits already: test the check digits first (stdnum's calculators),
# then let stdnum's validation have the last word (it also knows the CUIT type prefixes).
def _cbu_valid(digits: str) -> bool:
    return (
        cbu.calc_check_digit(digits[:7]) == digits[7]
        and cbu.calc_check_digit(digits[8:21]) == digits[21]
        and cbu.is_valid(digits)
    )


def _cuit_valid(digits: str) -> bool:
    return cuit.calc_check_digit(digits[:10]) == digits[10] and cuit.is_valid(digits)


def detect_cbu(text: str, runs: Iterable[NumberRun]) -> list[Span]:
    """22 digits with both CBU check digits; a CVU (a virtual account) has "bank" 000."""
    spans: list[Span] = []
    for run in runs:
        for window in _scan(run, 22, 22, lambda w: _cbu_valid(w.digits)):
            entity = Entity.CVU if window.digits.startswith("000") else Entity.CBU
            kind = "spoken" if window.spoken else "digits"
            spans.append(
                Span(
                    window.start,
                    window.end,
                    entity,
                    f"{entity.value}.{kind}",
                    text[window.start : window.end],
                    window.digits,
                )
            )
    return spans


def detect_cuit(text: str, runs: Iterable[NumberRun]) -> list[Span]:
    """11 digits with a CUIT/CUIL type prefix (20, 23, 24, 27, 30, 33, 34) and check digit."""
    spans: list[Span] = []
    for run in runs:
        for window in _scan(run, 11, 11, lambda w: _cuit_valid(w.digits)):
            kind = "spoken" if window.spoken else "digits"
            spans.append(
                Span(
                    window.start,
                    window.end,
                    Entity.CUIT,
                    f"cuit.{kind}",
                    text[window.start : window.end],
                    window.digits,
                )
            )
    return spans


# --- DNI -----------------------------------------------------------------------------------------

# "38.123.456", "5.123.456": the way a DNI is printed; amounts are told apart by their context.
_DOTTED_DNI = re.compile(r"(?<![\d.,$])\d{1,2}\.\d{3}\.\d{3}(?![\d]|[.,]\d)")
_DNI_CONTEXT = re.compile(
    r"(?<![^\W\d_])(?:d\.?\s?n\.?\s?i|documento|docu|doc|nro\.?\s+de\s+doc)(?![^\W\d_])",
    re.IGNORECASE,
)
_MONEY_BEFORE = re.compile(
    r"(?:\$|(?<![^\W\d_])(?:ars|usd|u\$s|us\$|saldo|monto|importe|total|deuda|debo|deb[eé]s"
    r"|pagu[eé]|cobr\w{0,5}|transfer\w{0,5}|gast[eé]|sueldo|cuotas?|pr[eé]st\w{0,6})(?:\W{1,3}de)?)"
    r"\W{0,3}$",
    re.I,
)
# A local phone number ("cel 4567-8901") said near "DNI" is still a phone number.
_PHONE_BEFORE = re.compile(
    r"(?:cel\w{0,5}|tel\w{0,6}|whatsapp|wsp|wpp|llam\w{0,5}|contacto|fijo)\W{0,3}"
    r"(?:(?:es|el|al|mi|de|a|número|numero)\W{1,3}){0,3}$",
    re.I,
)
_PHONE_SHAPE = re.compile(r"\d{4}[-\s]\d{4}")
_MONEY_AFTER = re.compile(
    r"^\s{0,2}(?:,\d|pesos|mangos|lucas|d[oó]lares|usd|ars|de\s+pesos|millones|de\s+deuda)", re.I
)
_CONTEXT_BEFORE = 60  # characters from the end of "DNI"/"documento" to the number
_CONTEXT_AFTER = 30  # from the end of the number to a following "…es mi DNI"


# A date written with hyphens or dots joins into one run of digits: "11-01-2025" is no DNI.
_DATE = re.compile(r"\d{1,2}[-./]\d{1,2}[-./](?:19|20)?\d{2}")


def _money(text: str, start: int, end: int) -> bool:
    return bool(
        _MONEY_BEFORE.search(text[max(0, start - 20) : start])
        or _MONEY_AFTER.match(text[end : end + 16])
    )


def _phone(text: str, start: int, end: int) -> bool:
    return bool(
        _PHONE_SHAPE.fullmatch(text, start, end)
        or _PHONE_BEFORE.search(text[max(0, start - 30) : start])
    )


def _dni_candidates(
    text: str, runs: list[NumberRun], keywords: list[tuple[int, int]]
) -> Iterator[NumberRun]:
    """The number a context word points at: the first number of five digits or more after it
    (within reach), or the last one just before it ("38123456 es mi DNI")."""
    run_starts = [r.start for r in runs]
    run_ends = [r.end for r in runs]
    for kw_start, kw_end in keywords:
        i = bisect.bisect_left(run_starts, kw_end)
        while i < len(runs) and runs[i].start - kw_end <= _CONTEXT_BEFORE:
            if len(runs[i].digits) >= 5:
                yield runs[i]
                break
            i += 1
        k = bisect.bisect_right(run_ends, kw_start) - 1
        if k >= 0 and kw_start - runs[k].end <= _CONTEXT_AFTER:
            yield runs[k]


# A DNI is written 38.123.456, 38 123 456 or 38123456; "4567-8901" is a local phone number.
_HYPHENATED = re.compile(r"\d{1,2}-\d{3}-\d{3}")


def _dni_shape_ok(text: str, start: int, end: int) -> bool:
    if "-" in text[start:end] and not _HYPHENATED.fullmatch(text, start, end):
        return False
    return not (_DATE.fullmatch(text, start, end) or _phone(text, start, end))


def detect_dni(text: str, runs: list[NumberRun]) -> list[Span]:
    spans: list[Span] = []
    for match in _DOTTED_DNI.finditer(text):
        start, end = match.span()
        digits = match.group().replace(".", "")
        # A round number with dots ("1.500.000") is an amount, whatever words stand near it.
        if dni.is_valid(digits) and not digits.endswith("000") and not _money(text, start, end):
            spans.append(Span(start, end, Entity.DNI, "dni.dotted", match.group(), digits))
    keywords = [m.span() for m in _DNI_CONTEXT.finditer(text)]
    seen: set[int] = set()
    for run in _dni_candidates(text, runs, keywords):
        if run.start in seen:
            continue
        seen.add(run.start)
        digits = run.digits
        phrases = run.phrases
        start = run.start
        if len(digits) not in (7, 8) and len(phrases) > 1 and phrases[0].digits == "1":
            # "un/una" before the number ("es una treinta y ocho…" is rare; "uno" starts digits)
            digits = digits[1:]
            start = phrases[1].start
        if len(digits) not in (7, 8) or digits[0] == "0" or not dni.is_valid(digits):
            continue
        if _money(text, start, run.end) or not _dni_shape_ok(text, start, run.end):
            continue
        kind = "spoken" if run.spoken else "digits"
        spans.append(
            Span(start, run.end, Entity.DNI, f"dni.context.{kind}", text[start : run.end], digits)
        )
    return spans


# --- security codes ------------------------------------------------------------------------------

_CODE_CONTEXT = re.compile(
    r"(?<![^\W\d_])(?:"
    r"c[oó]d(?:igo|\.)?\s{1,3}(?:de\s{1,3})?seguridad"
    r"|c[oó]digo\s{1,3}(?:de\s{1,3})?(?:atr[aá]s|del\s{1,3}dorso|verificador\s{1,3}de\s{1,3}la\s{1,3}tarjeta)"
    r"|cvv2?|cvc2?"
    r"|(?:el|los|las|del)\s{1,3}(?:(?:tres|cuatro|3|4|n[uú]meros?|n[uú]merit[oa]s?|d[ií]gitos?"
    r"|cifras?|codigos?|c[oó]digos?|que\s{1,3}est[aá]n?|que\s{1,3}tiene)\s{1,3}){0,3}"
    r"(?:de\s{1,3}atr[aá]s|del\s{1,3}dorso|de\s{1,3}la\s{1,3}parte\s{1,3}de\s{1,3}atr[aá]s|atr[aá]s)"
    r")(?![^\W\d_])",
    re.IGNORECASE,
)
_COUNT_WORD = re.compile(r"^\s{0,3}(?:n[uú]meros?|d[ií]gitos?|cifras?|numerit)", re.I)
_CODE_REACH = 60  # characters from the end of the context words to the code
# "…es dos tres uno, eh no, cinco cinco seis, perdón": a corrected code is a code too.
_CORRECTION = re.compile(
    r"(?<![^\W\d_])(?:no|perd[oó]n|digo|mejor\s{1,3}dicho|o\s{1,3}sea)(?![^\W\d_])", re.I
)


_CODE_THEN_CONTEXT = re.compile(
    r"[\s,.:;\-–]{0,4}(?:(?:es|son|ese|esos|eso|el|los|mi|del|de\s{1,3}la\s{1,3}tarjeta)[\s,]{1,3}){0,4}",
    re.I,
)


def _code_span(text: str, run: NumberRun) -> Span:
    kind = "spoken" if run.spoken else "digits"
    return Span(
        run.start,
        run.end,
        Entity.SECURITY_CODE,
        f"security_code.context.{kind}",
        text[run.start : run.end],
        run.digits,
    )


def detect_security_codes(text: str, runs: list[NumberRun]) -> list[Span]:
    spans: list[Span] = []
    run_starts = [r.start for r in runs]
    run_ends = [r.end for r in runs]
    for match in _CODE_CONTEXT.finditer(text):
        # "…456, ese es el código de seguridad": the code just before its context words.
        before = bisect.bisect_right(run_ends, match.start()) - 1
        if before >= 0:
            run = runs[before]
            gap = text[run.end : match.start()]
            if len(run.digits) in (3, 4) and _CODE_THEN_CONTEXT.fullmatch(gap):
                spans.append(_code_span(text, run))
        kw_end = match.end()
        i = bisect.bisect_left(run_starts, kw_end)
        while i < len(runs) and runs[i].start - kw_end <= _CODE_REACH:
            run = runs[i]
            i += 1
            if _COUNT_WORD.match(text[run.end : run.end + 12]):
                continue  # "son 3 números": how many, not which
            digits = run.digits
            if len(digits) in (3, 4):
                spans.append(_code_span(text, run))
                following = runs[i] if i < len(runs) else None
                if (
                    following is not None
                    and following.start - run.end <= _CODE_REACH
                    and _CORRECTION.search(text, run.end, following.start)
                ):
                    kw_end = run.end
                    continue
                break
            if len(digits) > 4:
                break
    return spans


# --- CBU aliases ---------------------------------------------------------------------------------

_ALIAS = re.compile(
    r"(?<![^\W\d_])alias(?![^\W\d_])[\s:,=\-–>\"'«“]{0,4}"
    r"(?:(?:es|mi|el|la|de|que|ser[ií]a|te|paso|queda|ahora|nuevo|tengo|sigue|siendo)[\s:,\"'«“]{1,3}){0,4}"
    r"(?P<alias>[A-Za-z0-9][A-Za-z0-9.\-]{4,18}[A-Za-z0-9])(?![A-Za-z0-9@]|[.\-][A-Za-z0-9])",
    re.IGNORECASE,
)


def detect_aliases(text: str) -> list[Span]:
    """A CBU alias (6–20 letters, digits, dots, hyphens) right after the word "alias"."""
    spans: list[Span] = []
    for match in _ALIAS.finditer(text):
        alias = match.group("alias")
        # A plain word after "alias" is usually just Spanish ("el alias nuevo"); the aliases
        # banks and people make have dots, hyphens or digits, or are written in capitals.
        marked = any(c in ".-" or c.isdigit() for c in alias)
        if not marked and not alias.isupper():
            continue
        start, end = match.span("alias")
        spans.append(Span(start, end, Entity.CBU_ALIAS, "cbu_alias.context", alias, alias))
    return spans


# --- e-mail addresses ----------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,6}(?![\w\-@])"
)
# Dictated: "juan punto perez arroba gmail punto com".
_SPOKEN_EMAIL = re.compile(
    r"(?<![a-z0-9])[a-z0-9]{1,30}(?:\s{1,3}(?:punto|guion\s{1,3}bajo|guion|_|\.|-)\s{1,3}[a-z0-9]{1,30}){0,4}"
    r"\s{1,3}arroba\s{1,3}[a-z0-9]{2,30}(?:\s{1,3}punto\s{1,3}[a-z]{2,6}){1,3}(?![a-z0-9])"
)


# A company's role address (the bank's own "info@…") is nobody's personal data.
_ROLE_ADDRESSES = frozenset(
    {"info", "contacto", "soporte", "ayuda", "noreply", "no-reply", "no_reply", "atencion"}
    | {"clientes", "consultas", "reclamos", "ventas", "prensa", "hola", "admin", "postmaster"}
)


def detect_emails(text: str, folded: FoldedText | None) -> list[Span]:
    spans = [
        Span(m.start(), m.end(), Entity.EMAIL, "email.written", m.group(), m.group())
        for m in _EMAIL.finditer(text)
        if not m.group().startswith(".")
        and m.group().split("@", 1)[0].lower() not in _ROLE_ADDRESSES
    ]
    if folded is not None:
        for m in _SPOKEN_EMAIL.finditer(folded.text):
            start, end = folded.original(m.start(), m.end())
            original = text[start:end]
            spans.append(Span(start, end, Entity.EMAIL, "email.spoken", original, original))
    return spans


# --- the customer's own name ---------------------------------------------------------------------


class FoldedText:
    """The text lower-cased and without accents, with a map back to the original offsets."""

    def __init__(self, text: str) -> None:
        if text.isascii():
            self.text = text.lower()
            self._map: list[int] | None = None
            return
        pieces: list[str] = []
        index: list[int] = []
        for i, char in enumerate(text):
            folded = fold(char) if not char.isascii() else char.lower()
            pieces.append(folded)
            index.extend([i] * len(folded))
        index.append(len(text))
        self.text = "".join(pieces)
        self._map = index

    def original(self, start: int, end: int) -> tuple[int, int]:
        if self._map is None:
            return start, end
        # The end maps to the character after the last one matched.
        return self._map[start], self._map[end - 1] + 1


_NAME_PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "da", "di", "van", "von"})


def detect_name(text: str, folded: FoldedText, customer_name: str) -> list[Span]:
    """The customer's own name, whole or any part of it, without regard to accents or case."""
    words = [fold(w) for w in re.findall(r"[^\W\d_]+", customer_name)]
    parts = sorted({w for w in words if len(w) >= 3 and w not in _NAME_PARTICLES}, key=len)
    if not parts:
        return []
    alternatives = [r"\s{1,3}".join(map(re.escape, words))] if len(words) > 1 else []
    alternatives += [re.escape(p) for p in reversed(parts)]
    pattern = re.compile(r"(?<![^\W\d_])(?:" + "|".join(alternatives) + r")(?![^\W\d_])")
    spans: list[Span] = []
    for m in pattern.finditer(folded.text):
        start, end = folded.original(m.start(), m.end())
        if spans and not text[spans[-1].end : start].strip():
            # "María" "Fernández" side by side: one name.
            start = spans.pop().start
        spans.append(Span(start, end, Entity.PERSON_NAME, "person_name.known", text[start:end]))
    return spans


# --- all together --------------------------------------------------------------------------------


def _resolve(candidates: list[Span]) -> list[Span]:
    """Keep the strongest of overlapping spans; return them in text order."""
    ordered = sorted(candidates, key=lambda s: (-PRIORITY[s.entity], -(s.end - s.start), s.start))
    starts: list[int] = []
    kept: list[Span] = []
    for span in ordered:
        i = bisect.bisect_right(starts, span.start)
        if i > 0 and kept[i - 1].end > span.start:
            continue
        if i < len(kept) and kept[i].start < span.end:
            continue
        starts.insert(i, span.start)
        kept.insert(i, span)
    return kept


# --- the pre-check ------------------------------------------------------------------------------

# Most strings of a webhook body (ids, event names, timestamps, a short chat line) hold nothing:
# `may_hold` tells so in a few microseconds, from what every detector needs before it can find
# anything. It never says False for a text where `detect` finds something (it reads the text the
# way the detectors do: the same tokens, the same folding); a True only means "look".
_ALIAS_WORD = re.compile("alias", re.IGNORECASE)  # what `_ALIAS` needs, as it reads it
# The digit tokens of `spoken.number_runs` but those next to an ASCII letter or "_" (glued, as
# "SM0123" or "conv_42", they are part of an identifier and no number).
_MAYBE_LOOSE_DIGITS = re.compile(r"(?<![A-Za-z_\d])\d+(?![A-Za-z_\d])")
_LETTER_RUN = re.compile(r"[^\W\d_]+")  # and its word tokens


def _loose_digits(text: str) -> bool:
    """A digit token not glued to a letter or "_" (`spoken._glued`)."""
    for match in _MAYBE_LOOSE_DIGITS.finditer(text):
        start, end = match.span()
        before = text[start - 1] if start > 0 else " "
        after = text[end] if end < len(text) else " "
        if not (before == "_" or after == "_" or before.isalpha() or after.isalpha()):
            return True
    return False


def _number_words(text: str) -> bool:
    """A spoken number of three digits or more may be in the text: a number word other than a
    unit ("cien", "mil", "doble", "treinta"…), or three units ("uno", "dos"…, one digit each)."""
    if text.isascii():
        words = _LETTER_RUN.findall(text.lower())
    else:
        words = list(map(fold, _LETTER_RUN.findall(text)))
    present = NUMBER_WORDS.intersection(words)
    if not present:
        return False
    if not present <= UNIT_WORDS:
        return True
    return sum(words.count(word) for word in present) >= 3


@lru_cache(maxsize=256)
def _name_parts(customer_name: str) -> tuple[str, ...] | None:
    """The words `detect_name` looks for (each match holds one of them), or None when one is
    not ASCII (the pre-check then always looks)."""
    words = [fold(w) for w in re.findall(r"[^\W\d_]+", customer_name)]
    parts = tuple({w for w in words if len(w) >= 3 and w not in _NAME_PARTICLES})
    return parts if all(p.isascii() for p in parts) else None


def _name_may_occur(text: str, customer_name: str) -> bool:
    parts = _name_parts(customer_name)
    if parts is None:
        return True
    if not parts:
        return False
    # `FoldedText(text).text` without its non-ASCII characters: a part found there is here too.
    if text.isascii():
        folded = text.lower()
    else:
        folded = unicodedata.normalize("NFD", text.casefold()).encode("ascii", "ignore").decode()
    return any(part in folded for part in parts)


def may_hold(text: str, customer_name: str | None = None) -> bool:
    """False when `detect(text, customer_name=customer_name)` certainly finds nothing: no "@",
    no "arroba", no "alias", no part of the customer's name, no digits except those glued into
    identifiers and no dotted DNI, and no spoken number of three digits or more."""
    lowered = text.lower()
    if "@" in text or "arroba" in lowered or "alias" in lowered:
        return True
    if not text.isascii() and _ALIAS_WORD.search(text):  # "ALİAS": as `_ALIAS` reads it
        return True
    if customer_name and _name_may_occur(text, customer_name):
        return True
    if ("." in text and _DOTTED_DNI.search(text)) or _loose_digits(text):
        return True
    return _number_words(text)


def _plain_number(text: str, digits: str) -> list[Span]:
    """What the detectors find in a text of ASCII digits, or a "+" and digits: one run of one
    number, tested whole (the lengths of a card, a CBU and a CUIT do not meet)."""
    start, end, n = len(text) - len(digits), len(text), len(digits)
    if 13 <= n <= 19:
        if start == 0 and _card_prefix_ok(digits) and luhn.checksum(digits) == 0:
            return [Span(start, end, Entity.CARD, "card.digits", text[start:], digits)]
    elif n == 22:
        if _cbu_valid(digits):
            entity = Entity.CVU if digits.startswith("000") else Entity.CBU
            return [Span(start, end, entity, f"{entity.value}.digits", text[start:], digits)]
    elif n == 11 and _cuit_valid(digits):
        return [Span(start, end, Entity.CUIT, "cuit.digits", text[start:], digits)]
    return []


def detect(text: str, *, customer_name: str | None = None) -> list[Span]:
    """Every sensitive span in `text`, without overlaps, in order of position."""
    if not may_hold(text, customer_name):
        return []
    digits = text[1:] if text[:1] == "+" else text
    plain_number = digits.isascii() and digits.isdigit()
    if plain_number:  # a phone number, a timestamp: one number, no words, no context
        return _plain_number(text, digits)
    runs = number_runs(text)
    lowered = text.lower()
    folded = FoldedText(text) if customer_name or "arroba" in lowered else None
    candidates: list[Span] = []
    # Each detector only where it can find something (the same result, without the calls).
    longest = max((len(run.digits) for run in runs), default=0)
    if longest >= 11:
        long_runs = [run for run in runs if len(run.digits) >= 11]
        candidates += detect_cbu(text, long_runs)
        candidates += detect_cards(text, long_runs)
        candidates += detect_cuit(text, long_runs)
    if longest >= 3 or _DOTTED_DNI.search(text):
        candidates += detect_dni(text, runs)
        candidates += detect_security_codes(text, runs)
    if _ALIAS_WORD.search(text):
        candidates += detect_aliases(text)
    if "@" in text or folded is not None:
        candidates += detect_emails(text, folded if "arroba" in lowered else None)
    if customer_name and folded is not None:
        candidates += detect_name(text, folded, customer_name)
    return _resolve(candidates) if len(candidates) > 1 else candidates
