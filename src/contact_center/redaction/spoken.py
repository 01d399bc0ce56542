"""Runs of numbers in text, written with digits or spoken in (rioplatense) Spanish words.

A customer dictates a card as "cuatro cinco cero nueve…", "cuarenta y cinco, cero nueve…" or
"cuatro mil quinientos nueve…", a DNI as "treinta y ocho millones ciento veintitrés mil…", and
a transcript mixes digits and words. `number_runs` turns each stretch of numbers that follow one
another (separated only by spaces, commas, dots, hyphens, invisible characters or fillers such as
"eh", "guión") into a `NumberRun`: its phrases, each with the digits it stands for and its place
in the original text, so a detector can test any stretch of consecutive phrases and map it back.

Pure functions over `str`: no I/O, linear in the length of the text (one regex scan for tokens,
dictionary look-ups per token, runs capped in length).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache

# A token is a run of digits (any script's decimal digits: full-width "４５０９" too) or of letters.
_TOKEN = re.compile(r"(?P<digits>\d+)|[^\W\d_]+")

_UNITS = {
    "cero": 0,
    "uno": 1,
    "un": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
}
# Single words from ten to twenty-nine.
_TEENS = {
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    "veintiuno": 21,
    "veintiun": 21,
    "veintiuna": 21,
    "veintidos": 22,
    "veintitres": 23,
    "veinticuatro": 24,
    "veinticinco": 25,
    "veintiseis": 26,
    "veintisiete": 27,
    "veintiocho": 28,
    "veintinueve": 29,
}
_TENS = {
    "treinta": 30,
    "cuarenta": 40,
    "cincuenta": 50,
    "sesenta": 60,
    "setenta": 70,
    "ochenta": 80,
    "noventa": 90,
}
_HUNDREDS = {
    "ciento": 100,
    "doscientos": 200,
    "doscientas": 200,
    "trescientos": 300,
    "trescientas": 300,
    "cuatrocientos": 400,
    "cuatrocientas": 400,
    "quinientos": 500,
    "quinientas": 500,
    "seiscientos": 600,
    "seiscientas": 600,
    "setecientos": 700,
    "setecientas": 700,
    "ochocientos": 800,
    "ochocientas": 800,
    "novecientos": 900,
    "novecientas": 900,
}
_REPEAT = {"doble": 2, "triple": 3}
_MILLION = frozenset({"millon", "millones"})
_MULTIPLIERS = _MILLION | {"mil"}
# The words a spoken number can start with (`_Parser.phrase` reads nothing from any other word).
_STARTERS = frozenset(
    {"cero", "cien", "mil", *_REPEAT, *_HUNDREDS, *_TEENS, *_TENS}
    | {word for word, value in _UNITS.items() if value > 0}
)
# A unit alone is one digit; every other number word can make more ("cien", "doble cero",
# "un millón"), so a text whose only number words are two units holds no number of 3 digits.
UNIT_WORDS = frozenset(_UNITS)
NUMBER_WORDS = _STARTERS | _MULTIPLIERS
# Words people say between the groups of a number they dictate; they do not end the run.
_FILLERS = frozenset(
    {
        *("eh", "ehh", "ehhh", "em", "emm", "mm", "mmm", "mhm", "este", "guion", "guiones"),
        # A call transcript: the agent acknowledges each group while the customer dictates.
        *("agente", "cliente", "aja", "si", "ok", "okey", "dale", "bien", "perfecto", "listo"),
        *("sigo", "segui", "anoto", "anotado"),
    }
)
# What may stand between two phrases of one run, besides fillers (and invisible characters).
_SEPARATORS = frozenset(" \t\r\n\u00a0,.-–—:;")
_MAX_GAP = 40  # characters between two phrases of one run (fillers included)
MAX_RUN_PHRASES = 256  # a longer run is cut (with an overlap) so work per run stays bounded
RUN_OVERLAP = 24
LEADING_STARTS = 4  # phrases of a run where a number may start (see NumberRun.windows)


@lru_cache(maxsize=4096)
def fold(word: str) -> str:
    """Lower-case, without accents: "Dieciséis" → "dieciseis"."""
    decomposed = unicodedata.normalize("NFD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def ascii_digits(token: str) -> str:
    """Any script's decimal digits as ASCII: "４５０９" → "4509"."""
    if token.isascii():
        return token
    return "".join(str(unicodedata.decimal(c)) for c in token)


@dataclass(frozen=True, slots=True)
class NumberPhrase:
    """One number as written or said: "4509", "cuarenta y cinco", "doble cero"."""

    start: int
    end: int
    digits: str
    spoken: bool


@dataclass(frozen=True, slots=True)
class Window:
    """Consecutive phrases of a run taken as one number."""

    start: int
    end: int
    digits: str
    spoken: bool
    first: int  # index of its first phrase in the run
    last: int  # and of its last


@dataclass(frozen=True)  # no slots: `digits` is cached on the instance
class NumberRun:
    """Numbers that follow one another in the text, in order."""

    phrases: tuple[NumberPhrase, ...]

    @property
    def start(self) -> int:
        return self.phrases[0].start

    @property
    def end(self) -> int:
        return self.phrases[-1].end

    @cached_property
    def digits(self) -> str:
        return "".join(p.digits for p in self.phrases)

    @property
    def spoken(self) -> bool:
        return any(p.spoken for p in self.phrases)

    def windows(
        self, min_digits: int, max_digits: int, first: int = 0, starts: int = LEADING_STARTS
    ) -> Iterator[Window]:
        """Stretches of consecutive phrases holding min…max digits, starting at phrase `first`
        or one of the next `starts - 1` phrases (a number is dictated from the start of a run,
        after a word or two such as "una" or "opción 1"; a detector that finds one goes on from
        its end). Longest first from each starting phrase, so a caller that takes the first
        valid one prefers the whole number to a part of it.
        """
        phrases = self.phrases
        digits = self.digits
        offsets, spoken = self._prefix_sums
        for i in range(first, min(first + starts, len(phrases))):
            begin = offsets[i]
            # The last phrase j with offsets[j + 1] - begin <= max_digits, then back.
            j = bisect.bisect_right(offsets, begin + max_digits) - 2
            while j >= i and offsets[j + 1] - begin >= min_digits:
                yield Window(
                    phrases[i].start,
                    phrases[j].end,
                    digits[begin : offsets[j + 1]],
                    spoken[j + 1] > spoken[i],
                    i,
                    j,
                )
                j -= 1

    @cached_property
    def _prefix_sums(self) -> tuple[list[int], list[int]]:
        """Digits before each phrase, and how many of the phrases before are spoken."""
        offsets = [0]
        spoken = [0]
        for phrase in self.phrases:
            offsets.append(offsets[-1] + len(phrase.digits))
            spoken.append(spoken[-1] + phrase.spoken)
        return offsets, spoken


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    word: str  # folded; "" for a digit token
    digits: str  # ASCII digits; "" for a word


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        raw = match.group()
        start, end = match.span()
        if match.group("digits") is not None:
            tokens.append(_Token(start, end, "", ascii_digits(raw)))
        else:
            tokens.append(_Token(start, end, fold(raw), ""))
    return tokens


def _glued(text: str, token: _Token) -> bool:
    """Digits stuck to letters or an underscore ("SM0123", "conv_42") are part of an id."""
    before = text[token.start - 1] if token.start > 0 else " "
    after = text[token.end] if token.end < len(text) else " "
    return before == "_" or after == "_" or before.isalpha() or after.isalpha()


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens

    def word(self, i: int) -> str:
        return self.tokens[i].word if i < len(self.tokens) else ""

    def next(self, i: int) -> str:
        """Token i's word if it goes on the same number: only spaces since the one before
        ("ciento setenta y seis, mil doscientos" is two numbers, not 176,200)."""
        if i >= len(self.tokens) or i == 0:
            return ""
        gap = self.text[self.tokens[i - 1].end : self.tokens[i].start]
        return self.tokens[i].word if gap.isspace() and "\n" not in gap else ""

    def digit_group(self, i: int, multiplied: bool) -> int | None:
        """Up to three digits said with "mil"/"millones" ("38 millones 123 mil 456")."""
        if i >= len(self.tokens):
            return None
        token = self.tokens[i]
        if not token.digits or len(token.digits) > 3 or _glued(self.text, token):
            return None
        if multiplied and not self.next(i) and i > 0:
            gap = self.text[self.tokens[i - 1].end : token.start]
            if not gap.isspace() or "\n" in gap:
                return None
        if multiplied or self.next(i + 1) in _MULTIPLIERS:
            return int(token.digits)
        return None

    def below_thousand(self, i: int, multiplied: bool = False) -> tuple[int, int] | None:
        """A number below 1000 from token i: (value, next index), or None."""
        group = self.digit_group(i, multiplied)
        if group is not None:
            return group, i + 1
        w = self.next(i) if multiplied else self.word(i)
        value = 0
        if w == "cien":
            return 100, i + 1
        if w in _HUNDREDS:
            value = _HUNDREDS[w]
            i += 1
            w = self.next(i)
        if w in _TEENS:
            return value + _TEENS[w], i + 1
        if w in _TENS:
            value += _TENS[w]
            if self.next(i + 1) == "y" and _UNITS.get(self.next(i + 2), 0) > 0:
                return value + _UNITS[self.word(i + 2)], i + 3
            return value, i + 1
        if _UNITS.get(w, 0) > 0:
            return value + _UNITS[w], i + 1
        if value:
            return value, i
        return None

    def cardinal(self, i: int) -> tuple[int, int] | None:
        """A whole number in words from token i ("treinta y ocho millones ciento…")."""
        total = 0
        part = self.below_thousand(i)
        j = part[1] if part else i
        current = part[0] if part else None
        if current is not None and self.next(j) in _MILLION:
            total += current * 1_000_000
            j += 1
            part = self.below_thousand(j, multiplied=True)
            current = part[0] if part else None
            j = part[1] if part else j
        word = self.word(j) if j == i else self.next(j)
        if word == "mil" and (current is None or current < 1000):
            total += (1 if current is None else current) * 1000
            j += 1
            part = self.below_thousand(j, multiplied=True)
            current = part[0] if part else None
            j = part[1] if part else j
        if j == i:
            return None
        return total + (current or 0), j

    def phrase(self, text: str, i: int) -> tuple[NumberPhrase, int] | None:
        token = self.tokens[i]
        if token.digits:
            if _glued(text, token):
                return None
            said = self.cardinal(i) if self.next(i + 1) in _MULTIPLIERS else None
            if said is not None:  # "38 millones 123 mil 456"
                value, j = said
                return NumberPhrase(token.start, self.tokens[j - 1].end, str(value), True), j
            return NumberPhrase(token.start, token.end, token.digits, False), i + 1
        w = token.word
        if w == "cero":
            return NumberPhrase(token.start, token.end, "0", True), i + 1
        if w in _REPEAT and self.next(i + 1) in _UNITS:
            digit = str(_UNITS[self.word(i + 1)])
            end = self.tokens[i + 1].end
            return NumberPhrase(token.start, end, digit * _REPEAT[w], True), i + 2
        parsed = self.cardinal(i)
        if parsed is None:
            return None
        value, j = parsed
        return NumberPhrase(token.start, self.tokens[j - 1].end, str(value), True), j


def _joinable(text: str, start: int, end: int) -> bool:
    if end - start > _MAX_GAP:
        return False
    for char in text[start:end]:
        if char in _SEPARATORS or char.isspace():
            continue
        if unicodedata.category(char) in ("Cf", "Cc"):
            continue
        if char.isalpha():
            continue  # a filler word: the caller only lets fillers through
        return False
    return True


def _slashed(text: str, phrase: NumberPhrase) -> bool:
    before = text[phrase.start - 1] if phrase.start > 0 else ""
    after = text[phrase.end] if phrase.end < len(text) else ""
    return before == "/" or after == "/"


def number_runs(text: str) -> list[NumberRun]:
    """Every run of consecutive numbers in `text` (digits, spoken words, or both)."""
    tokens = _tokens(text)
    parser = _Parser(text, tokens)
    runs: list[NumberRun] = []
    current: list[NumberPhrase] = []

    def flush() -> None:
        if current:
            runs.append(NumberRun(tuple(current)))
            current.clear()

    i = 0
    while i < len(tokens):
        token = tokens[i]
        parsed = parser.phrase(text, i) if token.digits or token.word in _STARTERS else None
        if parsed is None:
            if not (current and token.word in _FILLERS):
                flush()
            i += 1
            continue
        phrase, i = parsed
        if current and not _joinable(text, current[-1].end, phrase.start):
            flush()
        # Next to a slash a number is part of a date or a fraction ("24/03/2026", "08/27"):
        # it stands alone, so "…/2026 5.444.122" is no 11-digit number.
        if _slashed(text, phrase):
            flush()
            runs.append(NumberRun((phrase,)))
            continue
        if len(current) >= MAX_RUN_PHRASES:
            # Cut a very long run, keeping an overlap so a number across the cut is still seen.
            kept = current[-RUN_OVERLAP:]
            flush()
            current.extend(kept)
        current.append(phrase)
    flush()
    return runs
