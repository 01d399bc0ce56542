"""The redaction pre-check (`detectors.may_hold`) and the shortcuts of `detect`: they never skip a
text that holds something.

`reference` below is every detector run over every text, as `detect` worked before it had
shortcuts; `detect` must give exactly its spans, and `may_hold` must say True wherever it finds
one: over the corpus, its labelled spans alone, pieces of its snippets and random mutations of
them (hostile characters included).
"""

from __future__ import annotations

import json
import random

from bench.redaction_accuracy import load_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contact_center.redaction.detectors import (
    Entity,
    FoldedText,
    Span,
    _resolve,
    detect,
    detect_aliases,
    detect_cards,
    detect_cbu,
    detect_cuit,
    detect_dni,
    detect_emails,
    detect_name,
    detect_security_codes,
    may_hold,
)
from contact_center.redaction.redact import redact
from contact_center.redaction.service import RedactionKeys
from contact_center.redaction.spoken import number_runs
from contact_center.redaction.vault import Keyring

SNIPPETS = load_corpus()
POSITIVE = [s for s in SNIPPETS if s.spans]
STANDALONE = {Entity.CARD, Entity.CBU, Entity.CVU, Entity.CUIT, Entity.EMAIL, Entity.PERSON_NAME}


def reference(text: str, customer_name: str | None = None) -> list[Span]:
    """Every detector over the whole text: no pre-check, no shortcut."""
    runs = number_runs(text)
    lowered = text.lower()
    folded = FoldedText(text) if customer_name or "arroba" in lowered else None
    candidates = [
        *detect_cbu(text, runs),
        *detect_cards(text, runs),
        *detect_cuit(text, runs),
        *detect_dni(text, runs),
        *detect_security_codes(text, runs),
        *detect_aliases(text),
        *detect_emails(text, folded if "arroba" in lowered else None),
    ]
    if customer_name and folded is not None:
        candidates += detect_name(text, folded, customer_name)
    return _resolve(candidates)


def _check(text: str, customer_name: str | None) -> None:
    expected = reference(text, customer_name)
    assert detect(text, customer_name=customer_name) == expected, text
    if expected:
        assert may_hold(text, customer_name), (text, customer_name)


def test_the_corpus_and_its_labelled_spans_are_never_skipped() -> None:
    for snippet in SNIPPETS:
        _check(snippet.text, snippet.customer_name)
        _check(snippet.text, None)
        for entity, start, end in snippet.spans:
            piece = snippet.text[start:end]
            if entity in STANDALONE:  # the others need their context words ("alias", "DNI")
                assert may_hold(piece, snippet.customer_name), (snippet.id, piece)
            _check(piece, snippet.customer_name)


def test_pieces_of_every_snippet_give_what_every_detector_gives() -> None:
    rng = random.Random(2026)
    for snippet in SNIPPETS:
        words = snippet.text.split(" ")
        for _ in range(6):
            a = rng.randrange(len(words) + 1)
            b = rng.randrange(a, min(len(words), a + 8) + 1)
            name = snippet.customer_name if rng.random() < 0.5 else None
            _check(" ".join(words[a:b]), name)


# Characters and words that change what the detectors read: digits of other scripts, joiners,
# NUL, a lone surrogate, combining accents, letters that case-fold to ASCII ("ſ", Kelvin "K",
# "İ"), number words, context words and signs.
HOSTILE = [
    *"0123456789 .,-_/+$@[]*\n\t",
    *"áéíóúñÑ\u0301\u0307\u200b\u200f\x00\ud800ſKİ٤４²½",
    *["uno ", "un ", "dos ", "cero ", "mil ", "millón ", "cien ", "doble ", "dieciséis "],
    *["dni ", "DNI:", "alias ", "ALİAS ", "arroba ", "código de seguridad ", "cvv ", "@"],
    *["[DNI]", "[TARJETA ****1234]", "sm_", "conv_", "x"],
]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str | None]:
    snippet = draw(st.sampled_from(POSITIVE))
    chars = list(snippet.text)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(chars)))
        operation = draw(st.sampled_from(["insert", "delete", "cut"]))
        if operation == "insert":
            chars.insert(at, draw(st.sampled_from(HOSTILE)))
        elif operation == "delete" and chars:
            del chars[min(at, len(chars) - 1)]
        else:
            chars = chars[at:] if draw(st.booleans()) else chars[:at]
    name = snippet.customer_name if draw(st.booleans()) else None
    return "".join(chars), name


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_snippets_are_never_skipped(case: tuple[str, str | None]) -> None:
    _check(*case)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(HOSTILE), max_size=40), st.sampled_from([None, "José Pérez"]))
def test_hostile_texts_give_what_every_detector_gives(pieces: list[str], name: str | None) -> None:
    _check("".join(pieces), name)


def test_a_plain_number_gives_what_every_detector_gives() -> None:
    rng = random.Random(11)
    numbers = ["", "+", "0", "+12", "5491155551234", "1767350000", "00000000000"]
    for length in (11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 23):
        for _ in range(40):
            body = "".join(rng.choice("0123456789") for _ in range(length - 1))
            numbers += [body + str(check) for check in range(10)]  # one of them passes Luhn
    numbers += [
        "4509953566233704",
        "20381234563",
        "2850590940090418135201",
        "0000003100010000000001",
    ]
    found = set()
    for number in numbers:
        for text in (number, "+" + number, "++" + number, number + "+", "٤" + number):
            spans = reference(text)
            assert detect(text) == spans, text
            found |= {s.entity for s in spans}
    assert found >= {Entity.CARD, Entity.CUIT, Entity.CBU}


def test_what_it_skips_and_what_it_keeps() -> None:
    skipped = [
        "",
        "message.incoming",
        "7d4339ee-2a9b-424e-92f6-ad7790c1662f",  # digits glued to letters: an identifier
        "conv_01jz8mb2k7e4r9t3y6u0p2q8sd",
        "SM00000000000000000000000000000001",
        "Hola, necesito ayuda con mi tarjeta",
        "Me cobraron dos veces una compra",  # two units: two digits at most
        "Quería consultar por un cargo",
    ]
    for text in skipped:
        assert not may_hold(text), text
    kept = [
        "4509953566233704",  # a card alone is a card
        "+5491155551234",
        "ref:4509953566233704",  # after ":" the digits are no part of the identifier
        "uno dos tres",  # three digits: a security code after its context words
        "doble cero",
        "un millón",
        "dieciséis",
        "DIECISÉIS",
        "cien",
        "mil",
        "12.345.678",
        "juan@example.com",
        "juan arroba gmail punto com",
        "mi alias es casa.perro.sol",
        "mi ALİAS es CASA.PERRO",  # as the alias pattern reads it, ignoring case
        "2010-04-01",
    ]
    for text in kept:
        assert may_hold(text), text


def test_the_customer_name_is_looked_for_in_any_case_and_accent() -> None:
    assert not may_hold("hola, quiero hablar con alguien", "José Pérez")
    assert may_hold("soy PEREZ", "José Pérez")
    assert may_hold("soy Pe\u0301rez", "José Pérez")  # a combining accent
    assert may_hold("soy jose", "José Pérez")
    assert not may_hold("soy jo", "José Pérez")  # parts of three letters or more
    assert not may_hold("hola", "Li Wu")  # no part to look for
    assert may_hold("hola", "Σωκράτης Παπαδόπουλος")  # not ASCII: always looked for
    assert [s.original for s in detect("soy Pe\u0301rez", customer_name="José Pérez")] == [
        "Pe\u0301rez"
    ]


def test_hostile_values_pass_the_pre_check() -> None:
    assert not may_hold("\x00" * 10_000)
    assert not may_hold("\ud800 hola \udfff")
    assert not may_hold("a" * 1_000_000)
    assert may_hold("a " * 100_000 + "4509953566233704")
    assert not may_hold("abc1" * 50_000)  # every digit glued: one long identifier
    text = "hola " * 20_000 + "dni 38.123.456"
    assert [s.original for s in detect(text)] == ["38.123.456"]


def _keys() -> RedactionKeys:
    return RedactionKeys(
        Keyring({"v1": b"\x01" * 32}, current="v1"), Keyring({"p1": b"\x02" * 32}, current="p1")
    )


def test_the_walk_and_the_form_skip_quiet_values_and_redact_the_rest() -> None:
    redactor = _keys().redactor()
    body = {
        "eventName": "message.incoming",
        "data": {
            "body": "mi tarjeta es 4509 9535 6623 3704",
            "from": "5491155551234",
            "n": 3,
            "ok": True,
            "none": None,
            "list": ["hola", "DNI 38.123.456", 7, ["código de seguridad 123"]],
        },
    }
    result = redactor.json(body, "raw_body")
    assert result["eventName"] == "message.incoming"
    assert result["data"]["body"] == "mi tarjeta es [TARJETA ****3704]"
    assert result["data"]["from"] == "5491155551234"
    assert result["data"]["list"][0] == "hola"
    assert result["data"]["list"][1].startswith("DNI [DNI tok_")
    assert result["data"]["list"][3] == ["código de seguridad [CÓDIGO]"]
    assert [p.field for p in redactor.proofs] == [
        "raw_body.data.body",
        "raw_body.data.list[1]",
        "raw_body.data.list[3][0]",
    ]
    quiet = {"eventName": "message.incoming", "data": {"body": "hola", "n": 1}}
    assert redactor.json(quiet, "raw_body") is quiet
    form = b"AccountSid=AC00&Body=mi+DNI+es+38.123.456&From=%2B5491155551234&NumMedia=0"
    again = _keys().redactor()
    out = again.body(form, "application/x-www-form-urlencoded")
    assert b"38.123.456" not in out
    assert b"NumMedia=0" in out
    assert [p.field for p in again.proofs] == ["raw_body.Body"]
    assert again.body(b"AccountSid=AC00&Body=hola", "application/x-www-form-urlencoded") == (
        b"AccountSid=AC00&Body=hola"
    )
    assert redact("hola").findings == ()


def test_a_deep_document_and_a_long_word_are_redacted_all_the_same() -> None:
    # Nested far below where the walk recurses: every string still goes through.
    document: dict[str, object] = {"a": "hola"}
    node = document
    for _ in range(600):
        child: dict[str, object] = {"t": "mi tarjeta 4509 9535 6623 3704"}
        node["n"] = child
        node = child
    redactor = _keys().redactor()
    body = redactor.body(json.dumps(document).encode(), "application/json")
    assert b"4509" not in body
    assert b"6623" not in body
    assert body.count(b"[TARJETA ****3704]") == 600 == redactor.count
    # A long string is a blob (left alone) only when it is base64 text: a card in a long
    # string without spaces but with punctuation is found; digits alone are tested whole.
    long_word = "x" * 5000 + ",tarjeta:4509-9535-6623-3704"
    assert "4509" not in _keys().redactor().text(long_word, "f")
    blob = "QUJD" * 2000
    assert _keys().redactor().text(blob, "f") is blob
    digits = "4509953566233704"
    assert _keys().redactor().text(digits, "f") == "[TARJETA ****3704]"
