"""Redaction detectors and `redact`: pure functions over text (no database, no I/O).

The labelled corpus (tests/data/redaction_corpus.jsonl, written by bench/redaction_corpus.py)
must meet the targets of docs/redaction.md: a quality gate computed from the metrics, the same
numbers bench/redaction_accuracy.py reports.
"""

from __future__ import annotations

import random

import pytest
from bench.redaction_accuracy import PRECISION_TARGET, RECALL_TARGETS, evaluate, load_corpus
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from num2words import num2words
from stdnum import luhn
from stdnum.ar import cbu, cuit

from contact_center.redaction.detectors import Entity, detect
from contact_center.redaction.redact import redact
from contact_center.redaction.spoken import number_runs

DIGIT_WORDS = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]


def _one(text: str, customer_name: str | None = None) -> list[tuple[Entity, str]]:
    return [(s.entity, s.original) for s in detect(text, customer_name=customer_name)]


# --- the corpus gate -----------------------------------------------------------------------------


def test_the_corpus_meets_the_recall_and_precision_targets() -> None:
    snippets = load_corpus()
    assert len(snippets) >= 300
    assert sum(1 for s in snippets if not s.spans) >= 80  # hard negatives: only not-sensitive
    scores = evaluate(snippets)
    for entity, target in RECALL_TARGETS.items():
        score = scores[entity]
        assert score.labelled >= 5, entity
        assert score.recall >= target, (entity, score.recall, score.misses)
    for entity, score in scores.items():
        assert score.precision >= PRECISION_TARGET, (entity, score.precision, score.false_alarms)


def test_the_corpus_labels_hold_valid_numbers() -> None:
    for snippet in load_corpus():
        for entity, start, end in snippet.spans:
            assert 0 <= start < end <= len(snippet.text)
            if entity in (Entity.CARD, Entity.CBU, Entity.CVU, Entity.CUIT):
                (run,) = [r for r in number_runs(snippet.text[start:end])]
                check = {
                    Entity.CARD: luhn.is_valid,
                    Entity.CBU: cbu.is_valid,
                    Entity.CVU: cbu.is_valid,
                    Entity.CUIT: cuit.is_valid,
                }[entity]
                assert check(run.digits), (snippet.id, run.digits)


# --- spoken numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("cuatro cinco cero nueve", "4509"),
        ("cuarenta y cinco, cero nueve", "4509"),
        ("cuatro mil quinientos nueve", "4509"),
        (
            "treinta y ocho millones ciento veintitrés mil cuatrocientos cincuenta y seis",
            "38123456",
        ),
        ("treinta y ocho, ciento veintitrés, cuatrocientos cincuenta y seis", "38123456"),
        ("dieciséis veintidós", "1622"),
        ("doble cero siete", "007"),
        ("triple cinco", "555"),
        ("cien", "100"),
        ("ciento uno", "101"),
        ("quinientos", "500"),
        ("un millón", "1000000"),
        ("mil", "1000"),
        ("dos mil cinco", "2005"),
        ("veintiún", "21"),
        ("Cuatro CINCO, eh, cero nueve", "4509"),
        ("cero cero cero tres", "0003"),
        ("45 09 noventa y cinco", "450995"),
        ("４５０９", "4509"),
        ("veinte guión treinta", "2030"),
        ("38 millones 123 mil 456", "38123456"),
        # A comma ends a number said in words: two groups, not 176,257.
        ("ciento setenta y seis, mil doscientos cincuenta y siete", "1761257"),
        ("cuatro cinco\nAgente: ajá\nCliente: cero nueve", "4509"),
    ],
)
def test_spoken_numbers_become_digits(text: str, digits: str) -> None:
    (run,) = number_runs(text)
    assert run.digits == digits
    assert (run.start, run.end) == (0, len(text))


def test_runs_end_at_words_and_map_back_to_the_text() -> None:
    text = "la tarjeta cuatro cinco y después el código 123; SM0123 conv_42 tel 11 4567-8901"
    runs = number_runs(text)
    assert [text[r.start : r.end] for r in runs] == [
        "cuatro cinco",
        "123",
        "11 4567-8901",
    ]
    assert runs[-1].digits == "1145678901"


# --- detectors, one by one -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("la tarjeta es 4509 9500 0000 0004", [(Entity.CARD, "4509 9500 0000 0004")]),
        ("tarjeta 4509-9500-0000-0004!", [(Entity.CARD, "4509-9500-0000-0004")]),
        (
            "es cuatro cinco cero nueve nueve cinco cero cero cero cero cero cero cero cero "
            "cero cuatro",
            [
                (
                    Entity.CARD,
                    "cuatro cinco cero nueve nueve cinco cero cero cero cero cero cero cero cero "
                    "cero cuatro",
                )
            ],
        ),
        (
            "cuarenta y cinco, cero nueve, noventa y cinco, doble cero, cero cero, cero cero, "
            "cero cero, cero cuatro",
            [
                (
                    Entity.CARD,
                    "cuarenta y cinco, cero nueve, noventa y cinco, doble cero, cero cero, "
                    "cero cero, cero cero, cero cuatro",
                )
            ],
        ),
        ("amex 3782 822463 10005", [(Entity.CARD, "3782 822463 10005")]),
        ("el cvv es 123", [(Entity.SECURITY_CODE, "123")]),
        (
            "los tres números de atrás: siete ocho nueve",
            [(Entity.SECURITY_CODE, "siete ocho nueve")],
        ),
        ("el de atrás es el 0 4 5", [(Entity.SECURITY_CODE, "0 4 5")]),
        ("código de seguridad 1234", [(Entity.SECURITY_CODE, "1234")]),
        ("mi DNI es 38123456", [(Entity.DNI, "38123456")]),
        ("38.123.456", [(Entity.DNI, "38.123.456")]),
        (
            "documento: treinta y ocho millones ciento veintitrés mil cuatrocientos "
            "cincuenta y seis",
            [
                (
                    Entity.DNI,
                    "treinta y ocho millones ciento veintitrés mil cuatrocientos cincuenta y seis",
                )
            ],
        ),
        ("cuil 20-38123456-9", [(Entity.CUIT, "20-38123456-9")]),
        ("20381234569", [(Entity.CUIT, "20381234569")]),
        ("CBU 2850590940090418135201", [(Entity.CBU, "2850590940090418135201")]),
        ("alias: gato.perro.mate", [(Entity.CBU_ALIAS, "gato.perro.mate")]),
        ("alias MARTINA2000", [(Entity.CBU_ALIAS, "MARTINA2000")]),
        ("escribime a juan.perez+banco@gmail.com.", [(Entity.EMAIL, "juan.perez+banco@gmail.com")]),
        (
            "juan punto perez arroba gmail punto com",
            [(Entity.EMAIL, "juan punto perez arroba gmail punto com")],
        ),
        ("456, ese es el código de seguridad", [(Entity.SECURITY_CODE, "456")]),
        (
            "el cvc es 231 eh no 556 perdón",
            [(Entity.SECURITY_CODE, "231"), (Entity.SECURITY_CODE, "556")],
        ),
        ("mi documento es 38 millones 123 mil 456", [(Entity.DNI, "38 millones 123 mil 456")]),
        # The agent's "de a cuatro" runs into the dictation: the card is the 16 digits after it.
        (
            "de a cuatro\nCliente: cuatro mil setecientos veintitrés mil cuatrocientos cuarenta y "
            "siete ocho mil doscientos cuatro siete mil trescientos cuarenta y ocho",
            [
                (
                    Entity.CARD,
                    "cuatro mil setecientos veintitrés mil cuatrocientos cuarenta y siete ocho mil "
                    "doscientos cuatro siete mil trescientos cuarenta y ocho",
                )
            ],
        ),
        ("maestro 6799 8001 5264 6480 782", [(Entity.CARD, "6799 8001 5264 6480 782")]),
    ],
)
def test_detectors_find(text: str, expected: list[tuple[Entity, str]]) -> None:
    assert _one(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "me cobraron $ 38.123.456 de más",
        "tengo un saldo de 12.345.678 pesos",
        "el pedido 38123456 no llegó",  # eight digits, no DNI context
        "la tarjeta que termina en 0004",
        "llamame al +54 9 11 4567 8901",
        "el código que me llegó es 482913",
        "4509 9500 0000 0005",  # Luhn fails
        "el turno es el 11-01-2025",
        "el alias nuevo no me anda",
        "pagué 1.500,50 el 12/05",
        "son dieciséis números, tómese su tiempo",
        "sesenta cuotas de doce mil quinientos",
        "el DNI no lo tengo, mi cel es 4567-8901",
        "dni lo tiene mi señora. el fijo es (0221) 496-5119",
        "el reclamo es el 50967878",
        "me prestaron 1.500.000 y debo 2.345.678",
        "en el resumen del 24/03/2026 5.444.122 pesos",  # no CUIT across a date
        "me mandaste un mail a info@banco.com.ar?",
    ],
)
def test_detectors_leave_alone(text: str) -> None:
    assert _one(text) == []


def test_a_date_near_dni_is_not_a_dni() -> None:
    assert _one("Tengo el DNI vencido, el turno es el 11-01-2025") == []


def test_dni_context_points_at_the_first_number_after_it() -> None:
    found = _one("mi dni 14931296, el reclamo anterior fue el 50967878")
    assert found == [(Entity.DNI, "14931296")]


def test_the_customers_own_name_without_accents_or_case() -> None:
    found = _one("hola soy maria jose FERNANDEZ, María para los amigos", "María José Fernández")
    assert found == [(Entity.PERSON_NAME, "maria jose FERNANDEZ"), (Entity.PERSON_NAME, "María")]
    assert _one("soy Martina, del banco", "María José Fernández") == []
    # Particles and short words of a name are not redacted alone.
    assert _one("de la nada", "María de la Paz") == []


def test_an_email_wins_over_the_name_inside_it() -> None:
    found = _one("mi mail maria.fernandez@gmail.com", "María Fernández")
    assert found == [(Entity.EMAIL, "maria.fernandez@gmail.com")]


def test_a_cvu_is_told_from_a_cbu() -> None:
    first = "0000003"
    second = "1000123456789"
    number = first + cbu.calc_check_digit(first) + second + cbu.calc_check_digit(second)
    assert _one(f"mi cvu {number}") == [(Entity.CVU, number)]


# --- redact --------------------------------------------------------------------------------------


def test_redact_replaces_and_reports_positions_in_both_texts() -> None:
    text = "tarjeta 4509 9500 0000 0004, cvv 123, DNI 38.123.456, mail a@b.com, soy Juan"
    result = redact(text, customer_name="Juan Pérez")
    assert result.text == (
        "tarjeta [TARJETA ****0004], cvv [CÓDIGO], DNI [DNI], mail [EMAIL], soy [NOMBRE]"
    )
    assert [f.entity for f in result.findings] == [
        Entity.CARD,
        Entity.SECURITY_CODE,
        Entity.DNI,
        Entity.EMAIL,
        Entity.PERSON_NAME,
    ]
    for finding in result.findings:
        assert text[finding.start : finding.end] == finding.original
        assert result.text[finding.redacted_start : finding.redacted_end] == finding.replacement
    # The originals never show in a repr (a log line, a traceback).
    assert "4509" not in repr(result.findings)
    assert "123" not in repr(result.findings)


def test_redact_of_a_spoken_card_keeps_the_last_four() -> None:
    spoken = " ".join(DIGIT_WORDS[int(d)] for d in "4509950000000004")
    result = redact(f"el número es {spoken}, gracias")
    assert result.text == "el número es [TARJETA ****0004], gracias"


def test_redact_without_findings_returns_the_text() -> None:
    result = redact("hola, ¿cómo andás? quería saber el saldo")
    assert result.text == "hola, ¿cómo andás? quería saber el saldo"
    assert result.findings == ()


# --- properties ----------------------------------------------------------------------------------

# Spanish words that are not numbers (nor "un"/"una"), for random text around a number.
WORDS = [
    "hola",
    "che",
    "dale",
    "bueno",
    "mirá",
    "quería",
    "saber",
    "por",
    "qué",
    "me",
    "cobraron",
    "esto",
    "tarjeta",
    "cuenta",
    "banco",
    "gracias",
    "igual",
    "después",
    "mañana",
    "ahora",
    "vos",
    "tenés",
    "podés",
    "sí",
    "no",
    "capaz",
    "posta",
    "boludo",
    "re",
    "mal",
    "cuota",
    "resumen",
    "saldo",
    "sucursal",
    "cajero",
    "transferencia",
    "préstamo",
    "turno",
    "reclamo",
    "consulta",
    "el",
    "la",
    "los",
    "las",
    "de",
    "del",
    "que",
    "en",
    "con",
    "para",
    "mi",
    "tu",
    "su",
    "es",
    "son",
    "era",
    "fue",
    "está",
]
words_text = st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join)
separators = st.sampled_from([" ", ": ", ", ", " -> ", "\n", " (", " «"])


def _luhn_number(body: str) -> str:
    return body + luhn.calc_check_digit(body)


card_bodies = st.tuples(
    st.sampled_from(["4", "51", "52", "53", "54", "55", "2223", "589657", "6042"]),
    st.text(alphabet="0123456789", min_size=15, max_size=15),
).map(lambda t: (t[0] + t[1])[:15])


def _spoken(number: str, style: int) -> str:
    if style == 0:
        return " ".join(DIGIT_WORDS[int(d)] for d in number)
    size = 2 if style == 1 else 4
    groups = [number[i : i + size] for i in range(0, len(number), size)]
    said = []
    for group in groups:
        zeros = len(group) - len(group.lstrip("0"))
        rest = group[zeros:]
        words = ["cero"] * zeros + ([num2words(int(rest), lang="es")] if rest else [])
        said.append(" ".join(words))
    return ", ".join(said)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=card_bodies,
    before=words_text,
    after=words_text,
    sep=separators,
    form=st.sampled_from(["digits", "spaced", "dashed", "spoken0", "spoken1", "spoken2"]),
)
def test_any_luhn_valid_card_in_spanish_text_is_found(
    body: str, before: str, after: str, sep: str, form: str
) -> None:
    number = _luhn_number(body)
    if form == "digits":
        written = number
    elif form in ("spaced", "dashed"):
        joiner = " " if form == "spaced" else "-"
        written = joiner.join(number[i : i + 4] for i in range(0, 16, 4))
    else:
        written = _spoken(number, int(form[-1]))
    text = f"{before}{sep}{written} {after}"
    start = len(before) + len(sep)
    cards = [s for s in detect(text) if s.entity is Entity.CARD]
    assert [(s.start, s.end, s.value) for s in cards] == [(start, start + len(written), number)]
    assert f"****{number[-4:]}" in redact(text).text
    assert number not in redact(text).text


@settings(max_examples=300, deadline=None)
@given(body=card_bodies, wrong=st.integers(1, 9), before=words_text, after=words_text)
def test_a_number_failing_luhn_is_not_a_card(
    body: str, wrong: int, before: str, after: str
) -> None:
    good = _luhn_number(body)
    bad = body + str((int(good[-1]) + wrong) % 10)
    assert not luhn.is_valid(bad)
    for written in (bad, " ".join(bad[i : i + 4] for i in range(0, 16, 4))):
        assert not [s for s in detect(f"{before} {written} {after}") if s.entity is Entity.CARD]
    # Spoken digit by digit, each digit is a phrase: a shorter stretch may pass Luhn and be
    # taken as a card (recall first), but never the whole failing number.
    spoken = _spoken(bad, 0)
    text = f"{before} {spoken} {after}"
    assert not [s for s in detect(text) if s.entity is Entity.CARD and s.value == bad]


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), name=st.none() | st.text(max_size=30))
def test_offsets_always_map_to_the_original_text(text: str, name: str | None) -> None:
    result = redact(text, customer_name=name)
    cursor = 0
    rebuilt = []
    for finding in result.findings:
        assert cursor <= finding.start < finding.end <= len(text)
        assert text[finding.start : finding.end] == finding.original
        assert result.text[finding.redacted_start : finding.redacted_end] == finding.replacement
        rebuilt.append(text[cursor : finding.start])
        rebuilt.append(finding.replacement)
        cursor = finding.end
    rebuilt.append(text[cursor:])
    assert "".join(rebuilt) == result.text


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(
        st.sampled_from(WORDS + DIGIT_WORDS + ["y", "mil", "cien", "millones", "doble", ","])
        | st.text(alphabet="0123456789 .-", max_size=25),
        max_size=60,
    )
)
def test_runs_of_numbers_and_words_map_back(pieces: list[str]) -> None:
    text = " ".join(pieces)
    for run in number_runs(text):
        for phrase in run.phrases:
            assert 0 <= phrase.start < phrase.end <= len(text)
            assert phrase.digits.isdigit()
        assert run.start <= run.end


# --- hostile input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "tarjeta 4509\x009500\x000000\x000004",
        "tarjeta \u202e4509 9500 0000 0004\u202c",
        "tarjeta 4509\u200f9500\u200f0000\u200f0004",
        "tarjeta ４５０９ ９５００ ００００ ０００４",
        "tarjeta 4509 9500 0000 0004 \ud800 cvv \udfff 123",
    ],
)
def test_hostile_text_still_redacts_the_card(text: str) -> None:
    result = redact(text)
    cards = [f for f in result.findings if f.entity is Entity.CARD]
    assert len(cards) == 1
    assert "[TARJETA ****0004]" in result.text


@pytest.mark.parametrize(
    "text",
    [
        "1" * 1_000_000,
        "4 " * 500_000,
        "cuatro " * 150_000,
        ("a" * 63 + "@") * 15_000,
        "alias " * 170_000,
        ("x." * 40 + "@" + "y." * 40) * 6_000,
        "código de seguridad " * 50_000,
        "dni 1 " * 170_000,
        "\x00" * 1_000_000,
        "".join(random.Random(25).choice("45 09\n-.,cuatro@arroba") for _ in range(1_000_000)),
    ],
    ids=[
        "digits",
        "spaced-digits",
        "spoken-digits",
        "at-signs",
        "alias",
        "dots-and-at",
        "code-context",
        "dni-context",
        "nul",
        "random",
    ],
)
def test_a_megabyte_of_hostile_text_finishes(text: str) -> None:
    # No catastrophic backtracking: every pattern is bounded, every run capped. (How fast is
    # measured in bench/redaction_accuracy.py, not asserted here.)
    result = redact(text, customer_name="Ana María Pérez")
    assert len(result.text) > 0


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200))
def test_any_unicode_text_is_handled(text: str) -> None:
    assume(text)
    redact(text, customer_name=text[:20])


def test_a_preview_shows_placeholders_without_their_tokens() -> None:
    from contact_center.redaction.redact import without_tokens

    text = "mi DNI es [DNI tok_abcdefghij234567] y la [TARJETA ****3704]"
    assert without_tokens(text) == "mi DNI es [DNI] y la [TARJETA ****3704]"
    assert without_tokens("un corte [DNI tok_abcd") == "un corte [DNI"
    assert without_tokens("nada que ver tok_ab aquí") == "nada que ver tok_ab aquí"
