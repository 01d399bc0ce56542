"""The vault: originals sealed with AES-256-GCM under a rotatable keyring (docs/redaction.md).

A sealed value is one ASCII string, `v1.<key id>.<nonce>.<ciphertext>` (nonce and ciphertext
in unpadded base64url; the ciphertext ends with GCM's 16-byte tag). Every seal draws a fresh
random 96-bit nonce. The associated data binds a sealed value to its place (a token id and an
entity type, `bind("tok_…", "dni")`): opened anywhere else, it fails. The format version and the
key id are bound too, so a header edited to name another key fails as well.

Keys come from a setting, `"k2:<base64 key>,k1:<base64 key>"`: the first is the current key
(new seals use it), the others still open what they sealed; `reseal` moves a value to the
current key. Key material never appears in an exception message or a `repr`.

Pure: no database, no settings, no I/O beyond the operating system's random numbers.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, GCM's own size
TAG_BYTES = 16
MAX_KEYS = 32  # a keyring is the current key and the few old ones still in use
MAX_KEYRING_CHARS = MAX_KEYS * 100
MAX_SEALED_CHARS = 1_000_000
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_DOMAIN = b"contact-center/vault/"


class VaultError(ValueError):
    """Anything the vault refuses. Messages name key ids, never key material or originals."""


class KeyringError(VaultError):
    """The keyring setting is not a valid keyring."""


class UnknownKeyError(VaultError):
    """A sealed value names a key the keyring does not hold."""


class SealedValueError(VaultError):
    """Not a sealed value, or one that does not open here (tampered, moved or the wrong key)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _decode_key(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not; raises a ValueError that quotes nothing."""
    if not text or not text.isascii():
        raise ValueError("not base64")
    unpadded = text.rstrip("=")
    if not re.fullmatch(r"[A-Za-z0-9+/_-]+", unpadded) or len(unpadded) % 4 == 1:
        raise ValueError("not base64")
    standard = unpadded.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None


def bind(*parts: str) -> bytes:
    """Associated data for a place: each part length-prefixed, so ("ab", "c") ≠ ("a", "bc")."""
    out = bytearray()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


def _associated(version: str, key_id: str, associated: bytes | str) -> bytes:
    data = (
        associated.encode("utf-8", "surrogatepass") if isinstance(associated, str) else associated
    )
    return _DOMAIN + bind(version, key_id) + data


def new_key() -> str:
    """A fresh random key, base64, for a keyring entry (`f"k3:{new_key()},{old}"`)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


class Keyring:
    """Named 32-byte keys, one of them current. Its `repr` shows key ids only."""

    __slots__ = ("_current", "_keys")

    def __init__(self, keys: Mapping[str, bytes] | Iterable[tuple[str, bytes]], current: str):
        items = list(keys.items()) if isinstance(keys, Mapping) else list(keys)
        if not items:
            raise KeyringError("the keyring is empty: give at least one key")
        if len(items) > MAX_KEYS:
            raise KeyringError(f"the keyring has {len(items)} keys; at most {MAX_KEYS}")
        self._keys: dict[str, bytes] = {}
        for position, (key_id, key) in enumerate(items, start=1):
            if not isinstance(key_id, str) or not KEY_ID.fullmatch(key_id):
                raise KeyringError(
                    f"key {position}: its id must be 1 to 32 letters, digits, '-' or '_'"
                )
            if key_id in self._keys:
                raise KeyringError(f"key id {key_id!r} appears more than once")
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise KeyringError(f"key {key_id!r} must be {KEY_BYTES} bytes (AES-256)")
            self._keys[key_id] = key
        if current not in self._keys:
            raise KeyringError("the current key id is not in the keyring")
        self._current = current

    @classmethod
    def parse(cls, setting: str) -> Keyring:
        """`"k2:<base64>,k1:<base64>"`: the first entry is the current key."""
        if not isinstance(setting, str):
            raise KeyringError("the keyring must be a string")
        if len(setting) > MAX_KEYRING_CHARS:
            raise KeyringError(f"the keyring is longer than {MAX_KEYRING_CHARS} characters")
        entries = [e.strip() for e in setting.split(",")]
        if entries == [""]:
            raise KeyringError("the keyring is empty: give at least one 'id:base64key'")
        if len(entries) > MAX_KEYS:
            raise KeyringError(f"the keyring has {len(entries)} entries; at most {MAX_KEYS}")
        keys: list[tuple[str, bytes]] = []
        seen: set[str] = set()
        for position, entry in enumerate(entries, start=1):
            key_id, colon, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not entry:
                raise KeyringError(f"entry {position} is empty (a stray comma?)")
            if not colon:
                raise KeyringError(f"entry {position} is not 'id:base64key'")
            if not KEY_ID.fullmatch(key_id):
                raise KeyringError(
                    f"entry {position}: the key id must be 1 to 32 letters, digits, '-' or '_'"
                )
            if key_id in seen:
                raise KeyringError(f"key id {key_id!r} appears more than once")
            seen.add(key_id)
            try:
                key = _decode_key(encoded.strip())
            except ValueError:
                raise KeyringError(f"key {key_id!r} is not valid base64") from None
            if len(key) != KEY_BYTES:
                raise KeyringError(
                    f"key {key_id!r} decodes to {len(key)} bytes; AES-256 needs {KEY_BYTES}"
                )
            keys.append((key_id, key))
        return cls(keys, current=keys[0][0])

    @property
    def current_id(self) -> str:
        return self._current

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def key(self, key_id: str) -> bytes:
        try:
            return self._keys[key_id]
        except KeyError:
            held = ", ".join(self._keys)
            raise UnknownKeyError(
                f"no key {key_id!r} in the keyring (it holds {held}): was it removed too soon?"
            ) from None

    def __repr__(self) -> str:
        return f"Keyring(current={self._current!r}, ids={list(self._keys)!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a keyring is not picklable")


class Vault:
    """Seal and open originals with a keyring."""

    __slots__ = ("_ciphers", "keyring")

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._ciphers: dict[str, AESGCM] = {}

    @classmethod
    def from_setting(cls, setting: str) -> Vault:
        return cls(Keyring.parse(setting))

    def _cipher(self, key_id: str) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            cipher = self._ciphers[key_id] = AESGCM(self.keyring.key(key_id))
        return cipher

    def seal(self, original: str, associated: bytes | str) -> str:
        """`original` encrypted with the current key, bound to `associated`."""
        key_id = self.keyring.current_id
        nonce = os.urandom(NONCE_BYTES)
        data = original.encode("utf-8", "surrogatepass")
        sealed = self._cipher(key_id).encrypt(nonce, data, _associated(VERSION, key_id, associated))
        return f"{VERSION}.{key_id}.{_b64url(nonce)}.{_b64url(sealed)}"

    def open(self, sealed: str, associated: bytes | str) -> str:
        """The original, if `sealed` was sealed by a key of the keyring for this very place."""
        key_id, nonce, ciphertext = _parse(sealed)
        cipher = self._cipher(key_id)
        try:
            data = cipher.decrypt(nonce, ciphertext, _associated(VERSION, key_id, associated))
        except InvalidTag:
            raise SealedValueError(
                f"the value sealed with key {key_id!r} does not open: it was altered, moved "
                "to another place, or the key with that id is not the one that sealed it"
            ) from None
        return data.decode("utf-8", "surrogatepass")

    def reseal(self, sealed: str, associated: bytes | str) -> str:
        """The same original under the current key (unchanged if it is there already)."""
        original = self.open(sealed, associated)
        if sealed_key_id(sealed) == self.keyring.current_id:
            return sealed
        return self.seal(original, associated)

    def needs_reseal(self, sealed: str) -> bool:
        return sealed_key_id(sealed) != self.keyring.current_id

    def __repr__(self) -> str:
        return f"Vault({self.keyring!r})"


def _parse(sealed: str) -> tuple[str, bytes, bytes]:
    if not isinstance(sealed, str) or len(sealed) > MAX_SEALED_CHARS:
        raise SealedValueError("not a sealed value")
    parts = sealed.split(".")
    if len(parts) != 4 or parts[0] != VERSION or not KEY_ID.fullmatch(parts[1]):
        raise SealedValueError(f"not a sealed value of format {VERSION}")
    try:
        nonce = _unb64url(parts[2])
        ciphertext = _unb64url(parts[3])
    except (ValueError, binascii.Error):
        raise SealedValueError(
            "not a sealed value: its nonce or ciphertext is not base64url"
        ) from None
    if len(nonce) != NONCE_BYTES or len(ciphertext) < TAG_BYTES:
        raise SealedValueError("not a sealed value: nonce or ciphertext of the wrong size")
    return parts[1], nonce, ciphertext


def sealed_key_id(sealed: str) -> str:
    """The id of the key a value was sealed with (for rotating in batches)."""
    return _parse(sealed)[0]
