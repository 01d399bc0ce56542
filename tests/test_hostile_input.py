"""Hostile input answers 4xx, never 500, on every route the app has; a webhook keeps it.

The routes come from the app itself, so a new route is covered the day it is added: every webhook
gets NUL bytes, invalid UTF-8, 10,000-deep JSON and fields of the wrong type, properly signed,
and must answer 422 with exactly one INVALID ledger row holding the bytes received; every API
route that writes gets NUL in a JSON string, deep JSON and wrong types as an admin, every route
NUL in its query string and string path parameters, and nothing may be written.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select

from contact_center.app import create_app
from contact_center.db.base import Base
from contact_center.models.webhook_delivery import WebhookDelivery
from contact_center.providers import builderbot
from contact_center.providers.elevenlabs import sign
from contact_center.providers.registry import (
    EMULATOR_BUILDERBOT_TOKEN,
    EMULATOR_ELEVENLABS_SECRET,
    EMULATOR_TWILIO_AUTH_TOKEN,
    EMULATOR_WHATSAPP_CLOUD_APP_SECRET,
)
from contact_center.providers.twilio import compute_signature
from contact_center.providers.whatsapp_cloud import signature as cloud_signature
from contact_center.webhooks.service import received_body
from tests import deliveries
from tests.conftest import make_settings
from tests.test_errors import assert_envelope

pytestmark = pytest.mark.slow  # a sweep: hundreds of hostile requests over every operation

DEEP = 10_000
WRITES = {"POST", "PATCH", "PUT"}


def _routes() -> list[tuple[str, str, bool]]:
    """(method, path, in the OpenAPI document) of every route of the app."""
    app = create_app(make_settings("sqlite+aiosqlite://"), migrate=False, with_worker=False)
    found = []
    for route in iter_route_contexts(app.routes):
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                found.append((method, str(route.path), bool(route.include_in_schema)))
    return found


ROUTES = _routes()
WEBHOOKS = sorted({path for method, path, _ in ROUTES if path.startswith("/webhooks/")})
API_WRITES = [
    (method, path) for method, path, _ in ROUTES if method in WRITES and path.startswith("/api/")
]
CONSOLE_FORMS = [
    (method, path)
    for method, path, public in ROUTES
    if method in WRITES and not public and not path.startswith(("/api/", "/webhooks/"))
]

# A valid body of every API route that takes JSON: each test spoils one field of it. A new route
# with a body fails test_every_json_route_has_a_sample until it gets one here.
PHONE = "+5491155551234"
TX = {"amount": "150000.00", "currency": "ARS", "payee": "Juan Pérez"}
SAMPLES: dict[str, dict[str, Any]] = {
    "/api/interactions/{interaction_id}": {
        "queue": "ventas",
        "intent": "consulta",
        "assignedAgent": "admin",
    },
    "/api/sms/send": {"to": PHONE, "body": "Hola", "customerRef": "c-1", "assignedAgent": "admin"},
    "/api/sms/verification-link": {"to": PHONE, "customerRef": "c-1"},
    "/api/sms/onboarding": {"to": PHONE, "name": "Juan", "customerRef": "c-1"},
    "/api/sms/activate-card": {"to": PHONE, "cardLast4": "1234", "customerRef": "c-1"},
    "/api/whatsapp/send": {
        "to": PHONE,
        "body": "Hola",
        "mediaUrl": "https://banco.example/media/a.jpg",
        "assignedAgent": "admin",
        "customerRef": "c-1",
    },
    "/api/whatsapp/diagnostic": {"interactionId": str(uuid.uuid4())},
    "/api/otp": {
        "phone": PHONE,
        "purpose": "TX_CONFIRMATION",
        "customerRef": "c-1",
        "correlationId": "corr-1",
        "context": TX,
    },
    "/api/otp/verify": {"correlationId": "corr-1", "code": "123456", "context": TX},
    "/api/elevenlabs/sync": {"hours": 1, "limit": 1, "includeDetails": False},
    "/api/users": {
        "username": "nuevo",
        "role": "agent",
        "displayName": "Nuevo Agente",
        "password": "una clave bastante larga 2026",
    },
    "/api/users/{user_id}": {"role": "agent", "active": True, "displayName": "Otro Nombre"},
    "/api/tokens": {"name": "integración", "expiresInDays": 30},
    "/api/teams": {"name": "Tarjetas", "description": "Consultas", "routingMode": "LEAST_BUSY"},
    "/api/teams/{team_id}": {"name": "Ventas", "description": "Otra", "isDefault": True},
    "/api/teams/{team_id}/members": {"userIds": [str(uuid.uuid4())]},
    "/api/routing/rules": {
        "teamId": str(uuid.uuid4()),
        "channel": "WHATSAPP",
        "intent": "deuda",
        "queue": "mora",
        "position": 1,
    },
    "/api/account/availability": {"availability": "ONLINE"},
    "/api/users/{user_id}/availability": {"availability": "AWAY"},
    "/api/users/{user_id}/capacity": {"call": 1, "whatsapp": 5, "sms": 5},
    "/api/canned-replies": {
        "shortcut": "saludo",
        "title": "Saludo",
        "body": "Hola {{customer_first_name}}, soy {{agent_name}}.",
        "teamId": str(uuid.uuid4()),
    },
    "/api/canned-replies/{reply_id}/preview": {"interactionId": str(uuid.uuid4())},
    "/api/interactions/{interaction_id}/assign": {"agent": "ana"},
    "/api/interactions/{interaction_id}/transfer": {"teamId": str(uuid.uuid4())},
    "/api/interactions/{interaction_id}/resolve": {"resolutionCode": "consulta_resuelta"},
    "/api/interactions/{interaction_id}/snooze": {
        "until": (datetime.now(UTC) + timedelta(days=1)).isoformat()
    },
    "/api/interactions/{interaction_id}/priority": {"priority": "HIGH"},
    "/api/interactions/{interaction_id}/labels": {"labels": ["fraude", "tarjeta"]},
    "/api/interactions/{interaction_id}/notes": {"body": "Revisar el reclamo @ana"},
    "/api/interactions/{interaction_id}/read": {"messageId": str(uuid.uuid4())},
    "/api/interactions/{interaction_id}/presence": {"typing": True},
    "/api/sla-policies": {
        "name": "WhatsApp",
        "position": 1,
        "teamId": str(uuid.uuid4()),
        "channel": "WHATSAPP",
        "priority": "HIGH",
        "firstResponseSecs": 3600,
        "nextResponseSecs": 1800,
        "resolutionSecs": 86400,
        "pauseWhileWaitingOnCustomer": True,
        "breachAction": "NOTIFY",
        "enabled": True,
    },
    "/api/business-calendar/default": {
        "zone": "America/Argentina/Buenos_Aires",
        "hours": {"monday": [{"opens": "09:00", "closes": "18:00"}]},
        "holidayCountry": "AR",
    },
    "/api/business-calendar/closed-days": {"day": "2026-12-24", "name": "Nochebuena"},
    "/api/redactions/{token}/reveal": {"reason": "reclamo del cliente 4411"},
    "/api/redactions/confirm": {"proofId": str(uuid.uuid4()), "candidate": "38123456"},
    "/api/legal-holds": {
        "scope": "CUSTOMER",
        "customerPhone": PHONE,
        "customerRef": "c-1",
        "reason": "Causa 1234/2026 del Juzgado Comercial 5",
        "endsAt": "2099-01-01T00:00:00Z",
    },
    "/api/legal-holds/{hold_id}/release": {"reason": "La causa terminó con sentencia firme"},
    "/api/complaints": {
        "interactionIds": [str(uuid.uuid4())],
        "type": "cargo no reconocido",
        "product": "tarjeta de crédito",
        "description": "Desconoce un consumo",
        "amountDisputed": "15000.00",
        "currency": "ARS",
        "priority": "HIGH",
        "owner": "ana",
        "teamId": str(uuid.uuid4()),
    },
    "/api/complaints/{complaint_id}/confirm": {
        "type": "cobro indebido",
        "product": "cuenta",
        "description": "Cobro de mantenimiento",
        "amountDisputed": "1200.50",
        "currency": "ARS",
    },
    "/api/complaints/{complaint_id}/discard": {"reason": "Era una consulta"},
    "/api/complaints/{complaint_id}/link": {"interactionId": str(uuid.uuid4())},
    "/api/complaints/{complaint_id}/answer": {"text": "Reintegramos el consumo."},
    "/api/complaints/{complaint_id}/escalate": {"reason": "El cliente insiste"},
    "/api/complaints/{complaint_id}/report": {
        "regulatorReference": "BCRA-2026-77",
        "reason": "Denuncia",
    },
    "/api/complaints/{complaint_id}/close": {"reason": "Resuelto"},
}
SAMPLES["/api/data-subject-requests"] = {
    "kind": "ACCESS",
    "phone": PHONE,
    "customerRef": "CLI-000123",
    "details": "Quiero saber qué datos míos tienen",
}
SAMPLES["/api/data-subject-requests/{request_id}/complete"] = {
    "customerName": "Juan Pérez",
    "customerRef": "CLI-000124",
}
SAMPLES["/api/data-subject-requests/{request_id}/refuse"] = {"reason": "No acreditó identidad"}
SAMPLES["/api/sla-policies/{policy_id}"] = SAMPLES["/api/sla-policies"]
SAMPLES["/api/teams/{team_id}/business-hours"] = SAMPLES["/api/business-calendar/default"]
SAMPLES["/api/sms/otp"] = SAMPLES["/api/otp"]
SAMPLES["/api/canned-replies/{reply_id}"] = SAMPLES["/api/canned-replies"]
SAMPLES["/api/sync/full"] = SAMPLES["/api/elevenlabs/sync"]
PATH_VALUES = {
    "token": "abc.123.def",
    "conversationId": "conv_hostile",
    "phone": PHONE,
    "index": "0",
    "day": "2026-12-24",
}


def _json_routes() -> dict[tuple[str, str], bool]:
    """Which API write routes take a JSON body (from the OpenAPI document)."""
    app = create_app(make_settings("sqlite+aiosqlite://"), migrate=False, with_worker=False)
    spec = app.openapi()["paths"]
    return {
        (method, path): "application/json"
        in spec[path][method.lower()].get("requestBody", {}).get("content", {})
        for method, path in API_WRITES
    }


JSON_ROUTES = [route for route, takes_json in _json_routes().items() if takes_json]


def _url(path: str, **override: str) -> str:
    """The path with its parameters filled: UUIDs for ids, plausible values for the others."""
    for name in [p.split("}")[0] for p in path.split("{")[1:]]:
        value = override.get(name, PATH_VALUES.get(name, str(uuid.uuid4())))
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def _spoiled(sample: dict[str, Any], make: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(field, body) with one field replaced by make(value), for every field (nested too)."""

    def walk(value: Any, path: list[str]) -> Iterator[list[str]]:
        yield path
        if isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, [*path, key])

    for path in walk(sample, []):
        if not path:
            continue
        body = copy.deepcopy(sample)
        holder = body
        for key in path[:-1]:
            holder = holder[key]
        replaced = make(holder[path[-1]])
        if replaced is None:
            continue
        holder[path[-1]] = replaced
        yield ".".join(path), body


def _with_nul(value: Any) -> Any:
    return value[:1] + "\x00" + value[1:] if isinstance(value, str) else None


def _wrong_type(value: Any) -> Any:
    return [1] if isinstance(value, dict) else {"wrong": [1]}


def _deep(value: Any) -> Any:
    return json.loads("[" * 200 + "]" * 200)


async def _row_counts(app: FastAPI) -> dict[str, int]:
    async with app.state.session_factory() as session:
        return {
            table.name: int(
                (await session.execute(select(func.count()).select_from(table))).scalar_one()
            )
            for table in Base.metadata.sorted_tables
        }


def _refused(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert response.status_code not in (401, 403), response.text
    assert_envelope(response, response.status_code)


# --- API routes -------------------------------------------------------------------------------


def test_every_json_route_has_a_sample() -> None:
    assert len(JSON_ROUTES) >= 12
    missing = [path for _, path in JSON_ROUTES if path not in SAMPLES]
    assert missing == [], f"add a valid body to SAMPLES for {missing}"


def _cases() -> Iterator[Any]:
    for method, path in JSON_ROUTES:
        sample = SAMPLES.get(path, {})
        for kind, make in (("nul", _with_nul), ("type", _wrong_type), ("deep", _deep)):
            for field, body in _spoiled(sample, make):
                yield pytest.param(method, path, body, id=f"{method} {path} {kind} {field}")
        yield pytest.param(method, path, [1, 2], id=f"{method} {path} array body")
        yield pytest.param(method, path, "text", id=f"{method} {path} string body")


@pytest.mark.parametrize(("method", "path", "body"), list(_cases()))
async def test_a_spoiled_json_body_answers_4xx_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    before = await _row_counts(app)
    response = await client.request(method, _url(path), json=body)
    _refused(response)
    assert await _row_counts(app) == before


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in JSON_ROUTES])
async def test_deep_and_unstorable_json_answer_4xx(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str
) -> None:
    before = await _row_counts(app)
    headers = {"Content-Type": "application/json"}
    deep = ("[" * DEEP + "]" * DEEP).encode()
    _refused(await client.request(method, _url(path), content=deep, headers=headers))
    not_utf8 = json.dumps(SAMPLES[path]).encode()[:-1] + b', "x": "\xff\xfe"}'
    _refused(await client.request(method, _url(path), content=not_utf8, headers=headers))
    sample = SAMPLES[path]
    for field, value in sample.items():
        if isinstance(value, str):  # a lone surrogate: valid JSON, no UTF-8 form
            spoiled = json.dumps({**sample, field: "x"}).replace('"x"', '"\\ud800"', 1)
            _refused(await client.request(method, _url(path), content=spoiled, headers=headers))
    assert await _row_counts(app) == before


API_ROUTES = [(m, p) for m, p, _ in ROUTES if p.startswith("/api/") and p != "/api/docs"]


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
async def test_nul_in_the_query_string_answers_422(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str
) -> None:
    before = await _row_counts(app)
    for query in ("q=a%00b", "queue=%00", "actor=%00&limit=1", "%00=1"):
        response = await client.request(method, f"{_url(path)}?{query}")
        assert_envelope(response, 422, "validation_error")
    assert await _row_counts(app) == before


STRING_PATH_ROUTES = [
    (m, p, name) for m, p in API_ROUTES for name in PATH_VALUES if "{" + name + "}" in p
]


@pytest.mark.parametrize(("method", "path", "name"), STRING_PATH_ROUTES)
async def test_nul_and_odd_digits_in_a_path_parameter_answer_4xx(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, name: str
) -> None:
    before = await _row_counts(app)
    for value in ("a\x00b", f"{uuid.uuid4().hex}.²³.abc", "é" * 40):
        response = await client.request(method, _url(path, **{name: value}))
        assert 400 <= response.status_code < 500, (value, response.status_code, response.text)
        assert_envelope(response, response.status_code)
    assert await _row_counts(app) == before


async def test_console_forms_with_nul_answer_422_and_write_nothing(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    assert ("POST", "/login") in CONSOLE_FORMS
    before = await _row_counts(app)
    for _, path in CONSOLE_FORMS:
        response = await anonymous.post(
            _url(path),
            content=b"username=ad%00min&password=x&body=hola%00&action=pause&csrf=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        # A route that needs a session refuses first (401/403/redirect); the others see the NUL.
        assert response.status_code in (303, 401, 403, 422), (path, response.status_code)
        if response.status_code == 422:
            assert_envelope(response, 422, "validation_error")
    login = await anonymous.post(
        "/login",
        content=b"username=ad%00min&password=x&csrf=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_envelope(login, 422, "validation_error")
    assert login.json()["error"]["details"][0]["field"] == "body.username"
    assert await _row_counts(app) == before


# --- webhooks ---------------------------------------------------------------------------------

TRANSCRIPTION = deliveries.transcription("conv_hostile")


def _eleven(**changes: Any) -> bytes:
    payload = copy.deepcopy(TRANSCRIPTION)
    for dotted, value in changes.items():
        holder = payload
        keys = dotted.split("__")
        for key in keys[:-1]:
            holder = holder[key]
        holder[keys[-1]] = value
    return json.dumps(payload).encode()


def _builder(**changes: Any) -> bytes:
    payload = deliveries.incoming("5491155551234", "hola")
    for key, value in changes.items():
        if key == "eventName":
            payload[key] = value
        else:
            payload["data"][key] = value
    return json.dumps(payload).encode()


def _form(**changes: str) -> bytes:
    form = deliveries.status_form("SM" + "a" * 32, "delivered")
    form.update(changes)
    return "&".join(f"{k}={v}" for k, v in form.items()).encode()


CLOUD_TEXT = json.loads(
    (deliveries.FIXTURES.parent / "whatsapp_cloud" / "inbound_text.json").read_text()
)


def _cloud(**changes: Any) -> bytes:
    """The reference's inbound text (§2.1) with `changes` applied to its message
    (`text__body=…`), or to its `value` (`value__…`)."""
    payload = copy.deepcopy(CLOUD_TEXT)
    value = payload["entry"][0]["changes"][0]["value"]
    for path, change in changes.items():
        keys = path.split("__")
        target = value if keys[0] == "value" else value["messages"][0]
        keys = keys[1:] if keys[0] == "value" else keys
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = change
    return json.dumps(payload, ensure_ascii=False).encode()


GOOD = {
    "/webhooks/elevenlabs/call": _eleven(),
    "/webhooks/builderbot/whatsapp": _builder(),
    "/webhooks/twilio/sms/status": _form(),
    "/webhooks/whatsapp-cloud": _cloud(),
}
DEEP_JSON = (
    '{"type": "post_call_transcription", "data": ' + "[" * DEEP + "]" * DEEP + "}"
).encode()
HOSTILE: dict[str, list[tuple[str, bytes]]] = {
    "/webhooks/elevenlabs/call": [
        ("raw NUL byte", _eleven()[:-2] + b"\x00}}"),
        ("escaped NUL in a string", _eleven(data__agent_name="Soporte\u0000")),
        ("NUL in a transcript", _eleven(data__transcript=[{"role": "user", "message": "a\x00"}])),
        ("lone surrogate", _eleven().replace(b'"Support Line ES"', b'"\\udc80"')),
        ("invalid UTF-8", _eleven().replace(b"Support Line ES", b"Support \xff\xfe")),
        ("10,000-deep JSON", DEEP_JSON),
        ("transcript: 5", _eleven(data__transcript=5)),
        ("a turn that is a number", _eleven(data__transcript=[5])),
        ("conversation_id: 5", _eleven(data__conversation_id=5)),
        ("conversation_id too long", _eleven(data__conversation_id="c" * 400)),
        ("type as a list", _eleven(type=["post_call_transcription"])),
        ("data as a list", _eleven(data=[1])),
        ("metadata as a string", _eleven(data__metadata="x")),
        ("analysis as a list", _eleven(data__analysis=[1])),
        ("agent_name as an object", _eleven(data__agent_name={"a": 1})),
        (
            "NaN duration",
            _eleven().replace(b'"call_duration_secs": 74', b'"call_duration_secs": NaN'),
        ),
        (
            "Infinity duration",
            _eleven().replace(b'"call_duration_secs": 74', b'"call_duration_secs": Infinity'),
        ),
        (
            "1e400 duration",
            _eleven().replace(b'"call_duration_secs": 74', b'"call_duration_secs": 1e400'),
        ),
        ("10^400 duration", _eleven(data__metadata__call_duration_secs=10**400)),
        ("duration 2^40", _eleven(data__metadata__call_duration_secs=2**40)),
        ("negative duration", _eleven(data__metadata__call_duration_secs=-5)),
        ("start time in the year 300000", _eleven(data__metadata__start_time_unix_secs=10**13)),
        ("event_timestamp as a list", _eleven(event_timestamp=[1])),
        ("has_audio as a string", _eleven(data__has_audio="yes")),
        (
            "full_audio as a number",
            json.dumps(
                {"type": "post_call_audio", "data": {"conversation_id": "c", "full_audio": 7}}
            ).encode(),
        ),
        ("not JSON", b"\x00\x01\x02"),
        ("empty", b""),
    ],
    "/webhooks/builderbot/whatsapp": [
        ("raw NUL byte", _builder()[:-2] + b"\x00}}"),
        ("escaped NUL in the body", _builder(body="ho\x00la")),
        ("NUL in an object key", _builder(extra={"a\x00": 1})),
        ("lone surrogate", _builder().replace(b'"hola"', b'"\\ud800"')),
        ("invalid UTF-8", _builder().replace(b"hola", b"ho\xc3\x28la")),
        (
            "10,000-deep JSON",
            ('{"eventName": "message.incoming", "data": ' + "[" * DEEP + "]" * DEEP + "}").encode(),
        ),
        ("eventName as a list", _builder(eventName=["message.incoming"])),
        ("attachment: 7", _builder(attachment=7)),
        ("an attachment that is a string", _builder(attachment=["x"])),
        ("attachment url as a number", _builder(attachment=[{"url": 5}])),
        ("from as an object", _builder(**{"from": {"n": 1}})),
        ("from too long", _builder(**{"from": "5" * 300})),
        ("body as a list", _builder(body=["hola"])),
        ("name as a number", _builder(name=5)),
        ("data as a string", json.dumps({"eventName": "message.incoming", "data": "x"}).encode()),
        ("NaN anywhere", _builder().replace(b'"attachment": []', b'"attachment": [], "n": NaN')),
        (
            "a 400-digit number",
            _builder().replace(b'"attachment": []', b'"attachment": [], "n": 1' + b"0" * 400),
        ),
    ],
    "/webhooks/twilio/sms/status": [
        ("NUL in MessageSid", _form(MessageSid="SM%00a", SmsSid="SM%00a")),
        ("raw NUL byte", _form() + b"&Extra=\x00"),
        ("NUL in ErrorMessage", _form(ErrorMessage="boom%00")),
        ("invalid UTF-8", _form(ErrorMessage="%FF%FE")),
        ("raw non-ASCII bytes", _form() + b"&Extra=\xe9"),
        ("MessageSid too long", _form(MessageSid="SM" + "a" * 300, SmsSid="SM" + "a" * 300)),
        ("no MessageSid", b"MessageStatus=delivered"),
    ],
    "/webhooks/whatsapp-cloud": [
        ("raw NUL byte", _cloud()[:-2] + b"\x00}"),
        ("escaped NUL in the text", _cloud(text__body="ho\x00la")),
        ("NUL in an object key", _cloud(extra={"a\x00": 1})),
        ("lone surrogate", _cloud().replace(b'"Hola, necesito', b'"\\ud800')),
        ("invalid UTF-8", _cloud().replace(b"Hola", b"Ho\xc3\x28la")),
        (
            "10,000-deep JSON",
            (
                '{"object": "whatsapp_business_account", "entry": ' + "[" * DEEP + "]" * DEEP + "}"
            ).encode(),
        ),
        (
            "entry as a string",
            json.dumps({"object": "whatsapp_business_account", "entry": "x"}).encode(),
        ),
        ("messages: 7", _cloud(value__messages=7)),
        ("a message that is a string", _cloud(value__messages=["x"])),
        ("text as a string", _cloud(text="hola")),
        ("text body as a list", _cloud(text__body=["hola"])),
        ("from as an object", _cloud(**{"from": {"n": 1}})),
        ("from too long", _cloud(**{"from": "5" * 300})),
        ("id as a number", _cloud(id=5)),
        ("wamid too long", _cloud(id="w" * 400)),
        ("timestamp as a list", _cloud(timestamp=[1])),
        ("timestamp in the year 300000", _cloud(timestamp=str(10**13))),
        (
            "contact name as a number",
            _cloud(value__contacts=[{"profile": {"name": 5}, "wa_id": "5491100000000"}]),
        ),
        ("NaN anywhere", _cloud().replace(b'"type":', b'"n": NaN, "type":')),
        ("a 400-digit number", _cloud().replace(b'"type":', b'"n": 1' + b"0" * 400 + b', "type":')),
        (
            "status as a number",
            _cloud(value__messages=None, value__statuses=[{"id": "wamid.X", "status": 5}]),
        ),
        ("not JSON", b"\x00\x01\x02"),
        ("empty", b""),
    ],
}


def _signed(path: str, raw: bytes) -> dict[str, str]:
    if path == "/webhooks/elevenlabs/call":
        return {
            "ElevenLabs-Signature": sign(raw, EMULATOR_ELEVENLABS_SECRET),
            "Content-Type": "application/json",
        }
    if path == "/webhooks/builderbot/whatsapp":
        return {"X-Webhook-Token": EMULATOR_BUILDERBOT_TOKEN, "Content-Type": "application/json"}
    if path == "/webhooks/whatsapp-cloud":
        return {
            "X-Hub-Signature-256": cloud_signature(EMULATOR_WHATSAPP_CLOUD_APP_SECRET, raw),
            "Content-Type": "application/json",
        }
    # As the app reads the form to check the signature (what Twilio signed).
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    url = f"http://testserver{path}"
    return {
        "X-Twilio-Signature": compute_signature(EMULATOR_TWILIO_AUTH_TOKEN, url, form),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def test_every_webhook_has_hostile_bodies() -> None:
    assert sorted(HOSTILE) == WEBHOOKS, "add hostile bodies for the new webhook"


async def _ledger(app: FastAPI) -> list[WebhookDelivery]:
    async with app.state.session_factory() as session:
        return list((await session.scalars(select(WebhookDelivery))).all())


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        pytest.param(path, raw, id=f"{path} {name}")
        for path, cases in HOSTILE.items()
        for name, raw in cases
    ],
)
async def test_a_hostile_webhook_answers_422_and_is_kept_invalid_once(
    app: FastAPI, anonymous: httpx.AsyncClient, client: httpx.AsyncClient, path: str, raw: bytes
) -> None:
    before = await _row_counts(app)
    for _ in range(2):  # the provider retries: still one row
        response = await anonymous.post(path, content=raw, headers=_signed(path, raw))
        assert_envelope(response, 422, "unparseable_payload")
    rows = await _ledger(app)
    assert [row.status for row in rows] == ["INVALID"]
    assert received_body(rows[0]) == raw  # kept exactly as received, for a replay after a fix
    assert rows[0].error
    after = await _row_counts(app)
    assert after["webhook_delivery"] == before["webhook_delivery"] + 1
    assert after["interaction"] == before["interaction"]
    assert after["message"] == before["message"]
    # A replay reads the stored bytes again: still INVALID, never a 500.
    replayed = await client.post(f"/api/webhooks/{rows[0].id}/replay")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "INVALID"


@pytest.mark.parametrize("path", WEBHOOKS)
async def test_a_well_formed_webhook_still_passes(
    app: FastAPI, anonymous: httpx.AsyncClient, path: str
) -> None:
    raw = GOOD[path]
    response = await anonymous.post(path, content=raw, headers=_signed(path, raw))
    assert response.status_code == 200, response.text
    assert response.json()["status"] in {"PROCESSED", "DEFERRED"}


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("ElevenLabs-Signature", b"t=1767350490,v0=\xe9"),
        ("ElevenLabs-Signature", b"t=\xb2,v0=abc"),
        ("ElevenLabs-Signature", b"t=1" + b"9" * 40 + b",v0=abc"),
        ("ElevenLabs-Signature", b"t=,v0="),
    ],
)
async def test_a_non_ascii_elevenlabs_signature_answers_401(
    app: FastAPI, anonymous: httpx.AsyncClient, header: str, value: bytes
) -> None:
    raw = GOOD["/webhooks/elevenlabs/call"]
    response = await anonymous.post(
        "/webhooks/elevenlabs/call",
        content=raw,
        headers=[(header.encode(), value), (b"content-type", b"application/json")],
    )
    assert_envelope(response, 401, "webhook_unauthenticated")
    assert await _ledger(app) == []


@pytest.mark.parametrize(
    ("path", "header"),
    [
        ("/webhooks/twilio/sms/status", b"x-twilio-signature"),
        ("/webhooks/builderbot/whatsapp", b"x-webhook-token"),
        ("/webhooks/whatsapp-cloud", b"x-hub-signature-256"),
    ],
)
async def test_non_ascii_webhook_credentials_answer_401(
    app: FastAPI, anonymous: httpx.AsyncClient, path: str, header: bytes
) -> None:
    raw = GOOD[path]
    response = await anonymous.post(
        path, content=raw, headers=[(header, b"\xe9\xb2\xff"), (b"content-type", b"text/plain")]
    )
    assert_envelope(response, 401, "webhook_unauthenticated")
    assert await _ledger(app) == []


async def test_a_non_ascii_api_token_answers_401(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(
        "/api/interactions", headers=[(b"authorization", b"Bearer cc_pat_\xe9\xb2")]
    )
    assert_envelope(response, 401)


# --- bodies over the limit ----------------------------------------------------------------------


async def _chunks(size: int) -> Any:
    for _ in range(size // 4096 + 1):
        yield b"x" * 4096


@pytest.mark.parametrize(
    ("path", "size"),
    [
        ("/api/sms/send", 70 * 1024),
        ("/api/users", 2 * 1024 * 1024),
        ("/webhooks/builderbot/whatsapp", 2 * 1024 * 1024),
    ],
)
async def test_a_chunked_body_over_the_limit_answers_413(
    app: FastAPI, client: httpx.AsyncClient, path: str, size: int
) -> None:
    headers = {"Content-Type": "application/json", "X-Webhook-Token": EMULATOR_BUILDERBOT_TOKEN}
    response = await client.post(path, content=_chunks(size), headers=headers)
    assert "content-length" not in response.request.headers
    assert_envelope(response, 413, "payload_too_large")
    assert await _ledger(app) == []


# --- kept, then replayed once the parser is fixed --------------------------------------------


async def test_a_parser_that_trips_keeps_the_delivery_and_a_replay_after_the_fix_applies_it(
    app: FastAPI,
    anonymous: httpx.AsyncClient,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = "/webhooks/builderbot/whatsapp"
    raw = GOOD[path]

    def broken(raw_body: bytes) -> Any:
        raise KeyError("a bug in the parser")

    monkeypatch.setattr(builderbot, "parse_webhook", broken)
    response = await anonymous.post(path, content=raw, headers=_signed(path, raw))
    assert_envelope(response, 422, "unparseable_payload")
    [row] = await _ledger(app)
    assert (row.status, row.error) == ("INVALID", "unreadable payload (KeyError)")
    monkeypatch.undo()  # the fix is deployed
    replayed = await client.post(f"/api/webhooks/{row.id}/replay")
    assert replayed.json()["status"] == "PROCESSED", replayed.text
    assert (await _row_counts(app))["message"] == 1


async def test_a_body_with_bytes_no_column_takes_is_replayed_byte_for_byte(
    app: FastAPI,
    anonymous: httpx.AsyncClient,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = "/webhooks/builderbot/whatsapp"
    raw = _builder(body="hola").replace(b"hola", b"ho\x00la \xff")
    response = await anonymous.post(path, content=raw, headers=_signed(path, raw))
    assert_envelope(response, 422, "unparseable_payload")
    [row] = await _ledger(app)
    assert row.raw_body_encoding == "base64"
    # A later version reads such bodies (here: drops what it cannot store).
    strict = builderbot.parse_webhook
    seen: list[bytes] = []

    def lenient(raw_body: bytes) -> Any:
        seen.append(raw_body)
        return strict(raw_body.replace(b"\x00", b"").replace(b" \xff", b""))

    monkeypatch.setattr(builderbot, "parse_webhook", lenient)
    replayed = await client.post(f"/api/webhooks/{row.id}/replay")
    assert seen == [raw]
    assert replayed.json()["status"] == "PROCESSED", replayed.text
