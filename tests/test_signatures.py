"""The ElevenLabs webhook signature checked against the documented scheme, not against our sign().

The scheme, as ElevenLabs documents its webhook HMAC authentication: the `ElevenLabs-Signature`
header is `t=<unix seconds>,v0=<hex digest>`, the digest being HMAC-SHA256 of `<t>.<raw body>`
keyed with the webhook secret, and a timestamp more than 30 minutes old is refused. The vectors
here are computed with hmac and hashlib directly (or fixed), so a mistake shared by `sign()` and
`verify_signature()` cannot hide.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from contact_center.providers import elevenlabs

SECRET = "wsec_independent_vector"
BODY = (
    b'{"type":"post_call_transcription","event_timestamp":1700000000,'
    b'"data":{"conversation_id":"conv_vector","status":"done","analysis":{"summary":"ol\xc3\xa1"}}}'
)


def documented_header(body: bytes, secret: str, timestamp: int, scheme: str = "v0") -> str:
    """The header as the documentation describes it, built without our own code."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},{scheme}={digest}"


def test_a_header_built_from_the_documented_scheme_is_accepted() -> None:
    now = int(time.time())
    header = documented_header(BODY, SECRET, now)
    assert elevenlabs.verify_signature(BODY, header, SECRET, now=now)
    # The fields are named, so their order does not matter.
    t_part, v0_part = header.split(",")
    assert elevenlabs.verify_signature(BODY, f"{v0_part},{t_part}", SECRET, now=now)


def test_a_changed_body_is_refused() -> None:
    now = int(time.time())
    header = documented_header(BODY, SECRET, now)
    assert not elevenlabs.verify_signature(BODY.replace(b"done", b"fail"), header, SECRET, now=now)
    assert not elevenlabs.verify_signature(BODY + b"\n", header, SECRET, now=now)
    # The exact bytes are signed: the same JSON re-serialised is another body.
    assert not elevenlabs.verify_signature(BODY.replace(b",", b", "), header, SECRET, now=now)


def test_a_changed_timestamp_is_refused() -> None:
    now = int(time.time())
    digest = documented_header(BODY, SECRET, now).split("v0=", 1)[1]
    assert not elevenlabs.verify_signature(BODY, f"t={now - 1},v0={digest}", SECRET, now=now)
    assert not elevenlabs.verify_signature(BODY, f"t={now + 1},v0={digest}", SECRET, now=now)


def test_another_secret_is_refused() -> None:
    now = int(time.time())
    header = documented_header(BODY, "wsec_someone_else", now)
    assert not elevenlabs.verify_signature(BODY, header, SECRET, now=now)


def test_a_stale_timestamp_is_refused() -> None:
    now = int(time.time())
    tolerance = 30 * 60  # the documented tolerance
    inside = documented_header(BODY, SECRET, now - tolerance + 60)
    stale = documented_header(BODY, SECRET, now - tolerance - 60)
    assert elevenlabs.verify_signature(BODY, inside, SECRET, now=now)
    assert not elevenlabs.verify_signature(BODY, stale, SECRET, now=now)
    # A validly signed but old delivery, replayed days later.
    assert not elevenlabs.verify_signature(
        BODY, documented_header(BODY, SECRET, now - 3 * 86400), SECRET, now=now
    )


def test_only_the_v0_scheme_is_accepted() -> None:
    now = int(time.time())
    v1_only = documented_header(BODY, SECRET, now, scheme="v1")
    assert not elevenlabs.verify_signature(BODY, v1_only, SECRET, now=now)
    # A correct v1 beside a wrong v0 does not rescue the header.
    digest = v1_only.split("v1=", 1)[1]
    assert not elevenlabs.verify_signature(
        BODY, f"t={now},v0={'0' * 64},v1={digest}", SECRET, now=now
    )


# A fixed known-answer vector. The digest was computed once, outside our code, with
#   printf '%s' '1700000000.<KNOWN_BODY>' \
#     | openssl dgst -sha256 -hmac 'wsec_known_answer_0123456789'
# (and cross-checked with Python's hmac.new(secret, b"1700000000." + body, sha256).hexdigest()).
# If sign() and verify_signature() drift together, this vector still fails.
KNOWN_SECRET = "wsec_known_answer_0123456789"
KNOWN_TIMESTAMP = 1700000000
KNOWN_BODY = (
    b'{"type":"post_call_transcription","event_timestamp":1700000000,'
    b'"data":{"conversation_id":"conv_known_answer","status":"done"}}'
)
KNOWN_DIGEST = "d6ef4a98990914d6eb8bcd02c50c1202cf796797f71dc824540989fbc5e811ef"
KNOWN_HEADER = f"t={KNOWN_TIMESTAMP},v0={KNOWN_DIGEST}"


def test_known_answer_vector() -> None:
    assert documented_header(KNOWN_BODY, KNOWN_SECRET, KNOWN_TIMESTAMP) == KNOWN_HEADER
    assert elevenlabs.sign(KNOWN_BODY, KNOWN_SECRET, KNOWN_TIMESTAMP) == KNOWN_HEADER
    assert elevenlabs.verify_signature(
        KNOWN_BODY, KNOWN_HEADER, KNOWN_SECRET, now=KNOWN_TIMESTAMP + 10
    )
    assert not elevenlabs.verify_signature(
        KNOWN_BODY, KNOWN_HEADER, KNOWN_SECRET, now=KNOWN_TIMESTAMP + 31 * 60
    )
    flipped = KNOWN_DIGEST[:-1] + ("0" if KNOWN_DIGEST[-1] != "0" else "1")
    assert not elevenlabs.verify_signature(
        KNOWN_BODY, f"t={KNOWN_TIMESTAMP},v0={flipped}", KNOWN_SECRET, now=KNOWN_TIMESTAMP
    )
