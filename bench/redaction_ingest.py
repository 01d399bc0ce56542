"""What redaction costs per webhook delivery, in the API process: `Redactor.body` over the bodies
each provider sends, with and without sensitive data in them, in µs per body.

    .venv/bin/python -m bench.redaction_ingest                  # every body, 2,000 rounds
    .venv/bin/python -m bench.redaction_ingest --rounds 500 --profile builderbot

The bodies are built the way the emulator builds them (`contact_center.emulator`): a BuilderBot
inbound message (the demo customers' openings), a WhatsApp Cloud API inbound message in Meta's
envelope, Twilio's form posts (a status callback, and an inbound SMS with Twilio's ~20 fields),
and an ElevenLabs post-call transcription (a whole scripted call). Each kind comes "clean" (what
most deliveries are) and "sensitive" (a card number, a DNI or a CBU typed or dictated in it).

For each body it times every call, round after round over a few dozen different bodies of the
kind:

  - `json`: `json.loads` and a walk over every string that does nothing (the floor any JSON
    redaction pays; a form's parse for Twilio);
  - `body`: `Redactor.body` itself (a fresh `Redactor` per delivery, as ingest makes one), what
    redaction adds to a delivery.

It prints the median and the 95th percentile in µs. `--profile KIND` also samples where the time
of one kind goes (the standard library's `cProfile`, top functions by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bench.common import percentile
from contact_center.emulator import scenarios
from contact_center.emulator.whatsapp_cloud import envelope, new_wamid
from contact_center.providers.registry import EMULATOR_BUILDERBOT_BOT_ID
from contact_center.redaction.service import RedactionKeys
from contact_center.redaction.vault import Keyring

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# Valid numbers (Luhn, the DNI's length, both CBU check digits): what the detectors look for.
CARD = "4509 9535 6623 3704"
SPOKEN_CARD = (
    "cuatro cinco cero nueve, nueve cinco tres cinco, seis seis dos tres, tres siete cero cuatro"
)
DNI = "38.123.456"
CBU = "2850590940090418135201"
SENSITIVE_LINES = (
    f"Hola, quiero dar de baja la tarjeta {CARD}, me la robaron",
    f"Mi DNI es {DNI}, necesito el resumen de la cuenta",
    f"Te paso el CBU {CBU} para la transferencia",
    f"Buenas, la tarjeta {CARD} me rebota en todos lados, DNI {DNI}",
)


def keys() -> RedactionKeys:
    def keyring(seed: int) -> Keyring:
        return Keyring({f"k{seed}": bytes([seed]) * 32}, current=f"k{seed}")

    return RedactionKeys(keyring(1), keyring(2))


def builderbot(rng: random.Random, sensitive: bool) -> tuple[bytes, str]:
    name = scenarios.random_customer_name(rng)
    text = rng.choice(SENSITIVE_LINES) if sensitive else scenarios.whatsapp_opening(rng, name)
    data = {
        "body": text,
        "name": name,
        "from": scenarios.random_customer_number(rng),
        "attachment": [],
        "projectId": EMULATOR_BUILDERBOT_BOT_ID,
        "host": {"id": str(uuid.UUID(int=rng.getrandbits(128))), "phone": "5491152500000"},
        "messageId": "3EB0" + "".join(rng.choice("0123456789ABCDEF") for _ in range(16)),
    }
    return json.dumps({"eventName": "message.incoming", "data": data}).encode(), JSON


def cloud_api(rng: random.Random, sensitive: bool) -> tuple[bytes, str]:
    name = scenarios.random_customer_name(rng)
    number = scenarios.random_customer_number(rng)
    text = rng.choice(SENSITIVE_LINES) if sensitive else scenarios.whatsapp_opening(rng, name)
    message = {
        "from": number,
        "id": new_wamid(),
        "timestamp": str(1767350000 + rng.randint(0, 10**6)),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "metadata": {"display_phone_number": "5491152500000", "phone_number_id": "1234567890"},
        "contacts": [{"profile": {"name": name}, "wa_id": number}],
        "messages": [message],
    }
    return json.dumps(envelope(value), ensure_ascii=False).encode(), JSON


def _sid(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice("0123456789abcdef") for _ in range(32))


def twilio_status(rng: random.Random, sensitive: bool) -> tuple[bytes, str]:
    """A status callback as the emulator signs it: no customer text (sensitive or not)."""
    sid = _sid(rng, "SM")
    form = {
        "AccountSid": _sid(rng, "AC"),
        "ApiVersion": "2010-04-01",
        "From": "+15017250604",
        "MessageSid": sid,
        "MessageStatus": "delivered",
        "SmsSid": sid,
        "SmsStatus": "delivered",
        "To": "+" + scenarios.random_customer_number(rng),
        "RawDlrDoneDate": "2601021041",
    }
    return urlencode(form).encode(), FORM


def twilio_inbound(rng: random.Random, sensitive: bool) -> tuple[bytes, str]:
    """An inbound SMS in the fields Twilio posts for one."""
    sid = _sid(rng, "SM")
    name = scenarios.random_customer_name(rng)
    text = rng.choice(SENSITIVE_LINES) if sensitive else scenarios.whatsapp_opening(rng, name)
    form = {
        "ToCountry": "AR",
        "ToState": "Buenos Aires",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "Buenos Aires",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": text,
        "FromCountry": "AR",
        "To": "+5491152500000",
        "MessagingServiceSid": _sid(rng, "MG"),
        "ToZip": "",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": _sid(rng, "AC"),
        "From": "+" + scenarios.random_customer_number(rng),
        "ApiVersion": "2010-04-01",
    }
    return urlencode(form).encode(), FORM


def elevenlabs(rng: random.Random, sensitive: bool) -> tuple[bytes, str]:
    name = scenarios.random_customer_name(rng)
    conversation = scenarios.conversation(
        rng,
        agent_id="agent_bench",
        started_at=datetime(2026, 12, 1, 15, tzinfo=UTC),
        customer_number=scenarios.random_customer_number(rng),
        conversation_id="conv_" + uuid.UUID(int=rng.getrandbits(128)).hex[:26],
        customer_name=name,
    )
    if sensitive:
        transcript = conversation["transcript"]
        at = min(3, len(transcript))
        turn = dict(transcript[at - 1])
        transcript[at:at] = [
            turn | {"role": "agent", "message": "Perfecto, ¿me dicta el número de la tarjeta?"},
            turn | {"role": "user", "message": f"Sí, es {SPOKEN_CARD}."},
            turn | {"role": "agent", "message": "Gracias. ¿Y su número de documento?"},
            turn
            | {
                "role": "user",
                "message": "Treinta y ocho millones ciento veintitrés mil "
                "cuatrocientos cincuenta y seis.",
            },
        ]
    body = {"type": "post_call_transcription", "event_timestamp": 1767350490, "data": conversation}
    return json.dumps(body).encode(), JSON


KINDS: dict[str, Callable[[random.Random, bool], tuple[bytes, str]]] = {
    "builderbot": builderbot,
    "cloud_api": cloud_api,
    "twilio_status": twilio_status,
    "twilio_inbound": twilio_inbound,
    "elevenlabs": elevenlabs,
}


def _walk(value: Any) -> int:
    """Every string of a JSON value, visited and counted: the walk without the redaction."""
    if isinstance(value, str):
        return 1
    if isinstance(value, dict):
        return sum(_walk(item) for item in value.values())
    if isinstance(value, list):
        return sum(_walk(item) for item in value)
    return 0


def parse_only(raw: bytes, content_type: str) -> object:
    text = raw.decode("utf-8")
    if content_type == FORM:
        return parse_qsl(text, keep_blank_values=True)
    return _walk(json.loads(text))


def time_us(calls: Callable[[], object], rounds: int) -> tuple[list[float], list[float]]:
    """CPU time (the thread's: what the call burnt, not the time it waited for a core on a busy
    machine) and wall-clock time of each call, in µs."""
    cpu, wall = [], []
    cpu_clock, wall_clock = time.thread_time_ns, time.perf_counter_ns
    for _ in range(rounds):
        started_cpu, started_wall = cpu_clock(), wall_clock()
        calls()
        wall.append((wall_clock() - started_wall) / 1000)
        cpu.append((cpu_clock() - started_cpu) / 1000)
    return cpu, wall


def measure(
    kind: str, sensitive: bool, rounds: int, variants: int, redaction: RedactionKeys
) -> dict[str, float]:
    rng = random.Random(f"{kind}-{sensitive}")
    bodies = [KINDS[kind](rng, sensitive) for _ in range(variants)]
    for raw, content_type in bodies:  # warm caches; check the sensitive ones are redacted
        redactor = redaction.redactor()
        out = redactor.body(raw, content_type)
        if sensitive and kind != "twilio_status" and redactor.count == 0:
            raise SystemExit(f"{kind}: a sensitive body was not redacted")
        if not sensitive and out is not raw:
            raise SystemExit(f"{kind}: a clean body was changed: {out[:200]!r}")
    cycle = iter(bodies * (rounds // variants + 1))

    def one_parse() -> object:
        raw, content_type = next(cycle)
        return parse_only(raw, content_type)

    def one_body() -> object:
        raw, content_type = next(cycle)
        return redaction.redactor().body(raw, content_type)

    parse, _ = time_us(one_parse, rounds)
    cycle = iter(bodies * (rounds // variants + 1))
    body, wall = time_us(one_body, rounds)
    return {
        "bytes": statistics.mean(len(raw) for raw, _ in bodies),
        "parse_p50": statistics.median(parse),
        "body_p50": statistics.median(body),
        "body_p95": percentile(body, 95),
        "wall_p50": statistics.median(wall),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--variants", type=int, default=40, help="different bodies per kind")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--profile", choices=list(KINDS), help="profile one kind (sensitive)")
    args = parser.parse_args()
    redaction = keys()
    if args.profile:
        rng = random.Random("profile")
        bodies = [KINDS[args.profile](rng, s) for s in (False, True) for _ in range(20)]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(max(1, args.rounds // len(bodies))):
            for raw, content_type in bodies:
                redaction.redactor().body(raw, content_type)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
        return
    print(
        f"\n{args.rounds} deliveries per row ({args.variants} different bodies), "
        "µs of CPU per body (wall clock in the last column)\n"
    )
    print("| body | data | bytes | parse + walk p50 | `Redactor.body` p50 | p95 | wall p50 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for kind in args.kinds:
        for sensitive in (False, True):
            if kind == "twilio_status" and sensitive:
                continue
            r = measure(kind, sensitive, args.rounds, args.variants, redaction)
            print(
                f"| {kind} | {'sensitive' if sensitive else 'clean'} | {r['bytes']:,.0f} "
                f"| {r['parse_p50']:.1f} | {r['body_p50']:.1f} | {r['body_p95']:.1f} "
                f"| {r['wall_p50']:.1f} |"
            )
    print()


if __name__ == "__main__":
    main()
