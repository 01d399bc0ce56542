"""The vault (AES-256-GCM under a rotatable keyring) and the proof (HMAC fingerprints): pure
functions, no database, no I/O (docs/redaction.md)."""

from __future__ import annotations

import base64
import os
import pickle

import pytest
from bench.redaction_accuracy import load_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from contact_center.redaction.detectors import Entity, detect
from contact_center.redaction.proof import (
    NUMERIC,
    Proof,
    ProofError,
    ProofKey,
    canonical,
    confirms,
    fingerprint,
    proofs,
)
from contact_center.redaction.redact import redact
from contact_center.redaction.vault import (
    MAX_KEYS,
    Keyring,
    KeyringError,
    SealedValueError,
    UnknownKeyError,
    Vault,
    bind,
    new_key,
    sealed_key_id,
)

K1 = bytes(range(32))
K2 = bytes(range(100, 132))
K1_B64 = base64.b64encode(K1).decode()
K2_B64 = base64.b64encode(K2).decode()
PLACE = bind("tok_01H", "dni")


def _secrets(*keys: bytes) -> list[str]:
    """Every way a key could leak into a message: raw, hex, base64, URL-safe base64."""
    out: list[str] = []
    for key in keys:
        b64 = base64.b64encode(key).decode()
        out += [repr(key), key.hex(), b64, b64.rstrip("="), base64.urlsafe_b64encode(key).decode()]
    return out


def _no_key_material(text: str, *keys: bytes) -> None:
    for secret in _secrets(*keys):
        assert secret not in text


# --- sealing -------------------------------------------------------------------------------------


def test_a_sealed_value_opens_to_its_original() -> None:
    vault = Vault.from_setting(f"k1:{K1_B64}")
    sealed = vault.seal("38.123.456", PLACE)
    assert sealed.startswith("v1.k1.")
    assert "38.123.456" not in sealed
    assert sealed.isascii()
    assert " " not in sealed
    assert vault.open(sealed, PLACE) == "38.123.456"
    assert vault.open(vault.seal("", PLACE), PLACE) == ""
    assert vault.open(vault.seal("José ñandú 🙂\x00", "x"), "x") == "José ñandú 🙂\x00"


def test_rotation_old_keys_open_new_seals_use_the_current_key() -> None:
    old = Vault.from_setting(f"k1:{K1_B64}")
    sealed = old.seal("20-38123456-3", PLACE)
    rotated = Vault.from_setting(f"k2:{K2_B64},k1:{K1_B64}")
    assert rotated.open(sealed, PLACE) == "20-38123456-3"
    assert rotated.needs_reseal(sealed)
    moved = rotated.reseal(sealed, PLACE)
    assert sealed_key_id(moved) == "k2"
    assert not rotated.needs_reseal(moved)
    assert rotated.reseal(moved, PLACE) == moved  # already current: unchanged
    assert rotated.open(moved, PLACE) == "20-38123456-3"
    assert sealed_key_id(rotated.seal("x", PLACE)) == "k2"
    only_new = Vault.from_setting(f"k2:{K2_B64}")
    assert only_new.open(moved, PLACE) == "20-38123456-3"
    with pytest.raises(UnknownKeyError, match=r"no key 'k1' in the keyring \(it holds k2\)") as e:
        only_new.open(sealed, PLACE)
    _no_key_material(str(e.value), K1, K2)
    with pytest.raises(UnknownKeyError):
        only_new.reseal(sealed, PLACE)


def test_a_key_under_the_same_id_that_did_not_seal_it_fails_clearly() -> None:
    sealed = Vault.from_setting(f"k1:{K1_B64}").seal("x", PLACE)
    with pytest.raises(SealedValueError, match="does not open") as e:
        Vault.from_setting(f"k1:{K2_B64}").open(sealed, PLACE)
    _no_key_material(str(e.value), K1, K2)


def _flip(text: str, index: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    swapped = alphabet[(alphabet.index(text[index]) + 1) % 64]
    return text[:index] + swapped + text[index + 1 :]


def test_tampered_ciphertext_nonce_header_or_place_fails() -> None:
    vault = Vault.from_setting(f"k2:{K2_B64},k1:{K1_B64}")
    sealed = vault.seal("0170099220000067797370", PLACE)
    version, key_id, nonce, ciphertext = sealed.split(".")
    tampered = [
        ".".join((version, key_id, _flip(nonce, 0), ciphertext)),
        ".".join((version, key_id, nonce, _flip(ciphertext, 0))),
        ".".join((version, key_id, nonce, _flip(ciphertext, len(ciphertext) // 2))),
        ".".join((version, key_id, nonce, ciphertext[:-4])),  # tag cut
        ".".join((version, "k1", nonce, ciphertext)),  # header names the other key
    ]
    for value in tampered:
        with pytest.raises(SealedValueError):
            vault.open(value, PLACE)
    for place in (bind("tok_01H", "cuit"), bind("tok_02X", "dni"), b"", bind("tok_01Hdni")):
        with pytest.raises(SealedValueError, match="moved to another place"):
            vault.open(sealed, place)
    assert bind("ab", "c") != bind("a", "bc")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "v1",
        "v1.k1.AAAA",
        "v2.k1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.k 1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.k1.AAAA.AAAAAAAAAAAAAAAAAAAAAAAA",  # short nonce
        "v1.k1.AAAAAAAAAAAAAAAA.AAAA",  # shorter than a tag
        "v1.k1.AAAAAAAAAAAAAAA=.AAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.k1.AAAAAAAAAAAAAAAA.AAAA\x00AAAAAAAAAAAAAAAAAAA",
        "v1.k1.ÁAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.k1." + "A" * 2_000_000,
    ],
)
def test_a_malformed_sealed_value_is_refused_clearly(value: str) -> None:
    vault = Vault.from_setting(f"k1:{K1_B64}")
    with pytest.raises(SealedValueError, match="not a sealed value"):
        vault.open(value, PLACE)


def test_nonces_never_repeat() -> None:
    vault = Vault.from_setting(f"k1:{K1_B64}")
    sealed = [vault.seal("38123456", PLACE) for _ in range(20_000)]
    nonces = {s.split(".")[2] for s in sealed}
    assert len(nonces) == len(sealed)
    assert len(set(sealed)) == len(sealed)  # the same original never seals the same way twice


# --- the keyring setting -------------------------------------------------------------------------


def test_the_keyring_parser_reads_ids_and_the_current_key() -> None:
    urlsafe = base64.urlsafe_b64encode(K2).decode().rstrip("=")
    keyring = Keyring.parse(f" k2 : {urlsafe} , old_1:{K1_B64}")
    assert keyring.current_id == "k2"
    assert keyring.ids == ("k2", "old_1")
    assert keyring.key("old_1") == K1
    assert repr(keyring) == "Keyring(current='k2', ids=['k2', 'old_1'])"
    _no_key_material(repr(keyring) + str(keyring) + repr(Vault(keyring)), K1, K2)
    with pytest.raises(TypeError):
        pickle.dumps(keyring)
    assert len(base64.b64decode(new_key())) == 32
    assert new_key() != new_key()


SHORT = base64.b64encode(K1[:16]).decode()
LONG = base64.b64encode(K1 + K2).decode()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (f"k1:{K1_B64},", "entry 2 is empty"),
        (f",k1:{K1_B64}", "entry 1 is empty"),
        (K1_B64, "entry 1 is not 'id:base64key'"),
        (f"k1:{K1_B64},k1:{K2_B64}", "'k1' appears more than once"),
        (f"k1:{SHORT}", "'k1' decodes to 16 bytes; AES-256 needs 32"),
        (f"k1:{LONG}", "'k1' decodes to 64 bytes"),
        ("k1:", "'k1' is not valid base64"),
        (f"k1:{K1_B64[:-2]}!!", "'k1' is not valid base64"),
        (f"k1:{K1_B64[:10]}\x00{K1_B64[10:]}", "'k1' is not valid base64"),
        (f"k1:{K1_B64[:10]} {K1_B64[10:]}", "'k1' is not valid base64"),
        (f"k1:{K1_B64[:10]}é{K1_B64[11:]}", "'k1' is not valid base64"),
        (f"k\x001:{K1_B64}", "entry 1: the key id must be"),
        (f"{K1_B64}:{K2_B64}", "entry 1: the key id must be"),
        (f":{K1_B64}", "entry 1: the key id must be"),
        (f"{'k' * 33}:{K1_B64}", "entry 1: the key id must be"),
        (f"k1:{K1_B64}," * 10_000, "longer than"),
        (",".join(f"k{i}:{K1_B64}" for i in range(MAX_KEYS + 1))[:3200], "entries; at most"),
    ],
)
def test_a_hostile_keyring_gives_a_clear_error_without_key_material(
    setting: str, message: str
) -> None:
    with pytest.raises(KeyringError, match=message) as e:
        Keyring.parse(setting)
    _no_key_material(str(e.value) + repr(e.value), K1, K2, K1[:16], K1 + K2)
    # no chained exception (a base64 decoder's) carries the text along
    assert e.value.__cause__ is None
    assert e.value.__context__ is None or e.value.__suppress_context__


def test_ten_thousand_short_entries_are_refused() -> None:
    with pytest.raises(KeyringError, match=r"longer than|at most"):
        Keyring.parse(",".join(f"k{i}:AA" for i in range(10_000)))


def test_the_keyring_constructor_checks_too() -> None:
    with pytest.raises(KeyringError, match="empty"):
        Keyring({}, current="k1")
    with pytest.raises(KeyringError, match="must be 32 bytes") as e:
        Keyring({"k1": K1[:31]}, current="k1")
    _no_key_material(str(e.value), K1[:31])
    with pytest.raises(KeyringError, match="current key id is not in the keyring"):
        Keyring({"k1": K1}, current="k2")
    with pytest.raises(KeyringError, match="appears more than once"):
        Keyring([("k1", K1), ("k1", K2)], current="k1")


# --- the proof -----------------------------------------------------------------------------------

P1 = ProofKey("p1", bytes(range(200, 232)))
P2 = ProofKey("p2", bytes(range(50, 82)))


def test_a_fingerprint_is_stable_across_formatting_and_differs_for_another_value_or_key() -> None:
    card = fingerprint("4509 9535 6623 3704", Entity.CARD, P1)
    assert len(card) == 64
    assert int(card, 16) >= 0
    assert fingerprint("4509-9535-6623-3704", Entity.CARD, P1) == card
    assert fingerprint("4509953566233704", "card", P1) == card
    assert (
        fingerprint(
            "cuatro cinco cero nueve, nueve cinco tres cinco, seis seis dos tres, "
            "tres siete cero cuatro",
            Entity.CARD,
            P1,
        )
        == card
    )
    assert fingerprint("4509 9535 6623 3705", Entity.CARD, P1) != card
    assert fingerprint("4509 9535 6623 3704", Entity.CARD, P2) != card
    # the entity type is part of what is fingerprinted
    assert fingerprint("38123456", Entity.DNI, P1) != fingerprint("38123456", Entity.CUIT, P1)
    assert fingerprint("38.123.456", Entity.DNI, P1) == fingerprint(
        "treinta y ocho millones ciento veintitrés mil cuatrocientos cincuenta y seis",
        Entity.DNI,
        P1,
    )
    assert fingerprint("Juan.Perez@Gmail.com", Entity.EMAIL, P1) == fingerprint(
        "juan punto perez arroba gmail punto com", Entity.EMAIL, P1
    )
    assert fingerprint("JOSÉ  Pérez", Entity.PERSON_NAME, P1) == fingerprint(
        "jose perez", Entity.PERSON_NAME, P1
    )
    assert fingerprint("Mi.Alias.Casa", Entity.CBU_ALIAS, P1) == fingerprint(
        "mi.alias.casa", Entity.CBU_ALIAS, P1
    )


def test_confirms_a_known_original_and_nothing_else() -> None:
    print_ = fingerprint("20-38123456-3", Entity.CUIT, P1)
    assert confirms("20381234563", Entity.CUIT, print_, P1)
    assert not confirms("20381234564", Entity.CUIT, print_, P1)
    assert not confirms("20381234563", Entity.CUIT, print_, P2)
    assert not confirms("20381234563", Entity.DNI, print_, P1)
    assert not confirms("20381234563", Entity.CUIT, print_.upper(), P1)
    assert not confirms("20381234563", Entity.CUIT, "", P1)
    assert not confirms("20381234563", Entity.CUIT, "ñ\x00\udc80", P1)


def test_a_security_code_is_never_fingerprinted() -> None:
    with pytest.raises(ProofError, match="never fingerprinted"):
        fingerprint("123", Entity.SECURITY_CODE, P1)
    assert not confirms("123", Entity.SECURITY_CODE, "0" * 64, P1)


def test_unknown_entities_and_bad_proof_keys_are_refused_without_key_material() -> None:
    with pytest.raises(ProofError, match="unknown entity type"):
        fingerprint("x", "passport", P1)
    with pytest.raises(ProofError, match="must be 32 bytes") as e:
        ProofKey("p1", K1[:20])
    _no_key_material(str(e.value), K1[:20])
    with pytest.raises(ProofError, match="key id"):
        ProofKey("p 1", K1)
    _no_key_material(repr(P1), P1.secret)


def test_proofs_of_a_redaction() -> None:
    text = (
        "Soy Ana Gómez, mi tarjeta es 4509 9535 6623 3704 y el código de seguridad 123, "
        "DNI 38.123.456, mail ana.gomez@gmail.com"
    )
    redaction = redact(text, customer_name="Ana Gómez")
    keyring = Keyring.parse(f"p2:{base64.b64encode(P2.secret).decode()},p1:{K1_B64}")
    key = ProofKey.current(keyring)
    assert key == P2
    records = proofs(redaction.findings, key)
    assert [p.entity for p in records] == [
        Entity.PERSON_NAME,
        Entity.CARD,
        Entity.SECURITY_CODE,
        Entity.DNI,
        Entity.EMAIL,
    ]
    for record, finding in zip(records, redaction.findings, strict=True):
        assert isinstance(record, Proof)
        assert redaction.text[record.start : record.end] == finding.replacement
        assert record.detector == finding.detector
        assert finding.original not in repr(record)
    by_entity = {p.entity: p for p in records}
    code = by_entity[Entity.SECURITY_CODE]
    assert code.fingerprint is None
    assert code.key_id is None
    card = by_entity[Entity.CARD]
    assert card.key_id == "p2"
    assert card.fingerprint is not None
    # an auditor with the card number, years later, after the proof key was rotated
    later = Keyring.parse(f"p3:{K2_B64},p2:{base64.b64encode(P2.secret).decode()}")
    assert confirms("4509953566233704", card.entity, card.fingerprint, ProofKey.named(later, "p2"))
    dni_ = by_entity[Entity.DNI]
    assert dni_.fingerprint is not None
    assert confirms("38123456", Entity.DNI, dni_.fingerprint, key)
    assert not confirms("38123457", Entity.DNI, dni_.fingerprint, key)
    with pytest.raises(UnknownKeyError):
        ProofKey.named(later, "p1")


def test_a_number_s_canonical_digits_are_the_detector_s_over_the_corpus() -> None:
    """The proof reads a number's digits from the removed text as the detector did, typed or
    spoken, so a fingerprint made at ingest confirms the plain digits an auditor holds."""
    checked = 0
    for snippet in load_corpus():
        for span in detect(snippet.text, customer_name=snippet.customer_name):
            if span.entity in NUMERIC and span.entity is not Entity.SECURITY_CODE:
                assert fingerprint(span.original, span.entity, P1) == fingerprint(
                    span.value, span.entity, P1
                ), span.detector
                checked += 1
    assert checked >= 250


# --- properties ----------------------------------------------------------------------------------

TEXT = st.text(max_size=200)
PLACES = st.tuples(st.text(max_size=20), st.sampled_from([e.value for e in Entity]))


@settings(max_examples=200, deadline=None)
@given(original=TEXT, place=PLACES, other=PLACES)
def test_property_seal_opens_only_in_its_place(
    original: str, place: tuple[str, str], other: tuple[str, str]
) -> None:
    vault = Vault.from_setting(f"k2:{K2_B64},k1:{K1_B64}")
    sealed = vault.seal(original, bind(*place))
    assert vault.open(sealed, bind(*place)) == original
    if other != place:
        with pytest.raises(SealedValueError):
            vault.open(sealed, bind(*other))


@settings(max_examples=200, deadline=None)
@given(original=TEXT, key=st.binary(min_size=32, max_size=32))
def test_property_reseal_keeps_the_original(original: str, key: bytes) -> None:
    encoded = base64.b64encode(key).decode()
    old = Vault.from_setting(f"a:{encoded}")
    new = Vault.from_setting(f"b:{K2_B64},a:{encoded}")
    moved = new.reseal(old.seal(original, PLACE), PLACE)
    assert sealed_key_id(moved) == "b"
    assert new.open(moved, PLACE) == original


@settings(max_examples=300, deadline=None)
@given(setting=st.text(max_size=300))
def test_property_any_keyring_text_parses_or_fails_clearly(setting: str) -> None:
    message = ""
    try:
        keyring = Keyring.parse(setting)
    except KeyringError as error:
        message = str(error)
    else:
        assert keyring.current_id in keyring.ids
        return
    assert message


@settings(max_examples=200, deadline=None)
@given(sealed=st.text(max_size=200))
def test_property_any_text_opens_or_fails_clearly(sealed: str) -> None:
    vault = Vault.from_setting(f"k1:{K1_B64}")
    with pytest.raises(SealedValueError):
        vault.open(sealed, PLACE)


@settings(max_examples=200, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=1, max_size=22),
    separator=st.sampled_from(["", " ", "-", ".", " - "]),
    group=st.integers(min_value=1, max_value=6),
)
def test_property_a_number_s_fingerprint_ignores_its_formatting(
    digits: str, separator: str, group: int
) -> None:
    formatted = separator.join(digits[i : i + group] for i in range(0, len(digits), group))
    for entity in (Entity.CARD, Entity.DNI, Entity.CUIT, Entity.CBU):
        print_ = fingerprint(digits, entity, P1)
        assert fingerprint(formatted, entity, P1) == print_
        assert confirms(formatted, entity, print_, P1)


@settings(max_examples=200, deadline=None)
@given(a=TEXT, b=TEXT, entity=st.sampled_from(sorted(set(Entity) - {Entity.SECURITY_CODE})))
def test_property_confirms_agrees_with_the_canonical_form(a: str, b: str, entity: Entity) -> None:
    same = canonical(a, entity) == canonical(b, entity)
    assert confirms(b, entity, fingerprint(a, entity, P1), P1) is same


def test_random_keys_never_show_in_any_error() -> None:
    for _ in range(50):
        key = os.urandom(32)
        encoded = base64.b64encode(key).decode()
        for setting in (f"k1:{encoded[:-3]}", f"k1:{encoded},k1:{encoded}", f"x y:{encoded}"):
            with pytest.raises(KeyringError) as e:
                Keyring.parse(setting)
            _no_key_material(str(e.value), key)
