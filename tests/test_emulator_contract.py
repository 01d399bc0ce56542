"""The emulator answers with the shapes documented in shared/reference/providers.md."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from contact_center.emulator.app import create_emulator_app
from contact_center.emulator.state import EmulatorState
from contact_center.providers.registry import (
    EMULATOR_BUILDERBOT_API_KEY,
    EMULATOR_BUILDERBOT_BOT_ID,
    EMULATOR_ELEVENLABS_API_KEY,
    EMULATOR_TWILIO_ACCOUNT_SID,
    EMULATOR_TWILIO_AUTH_TOKEN,
)

MESSAGES = f"/twilio/2010-04-01/Accounts/{EMULATOR_TWILIO_ACCOUNT_SID}/Messages.json"
AUTH = (EMULATOR_TWILIO_ACCOUNT_SID, EMULATOR_TWILIO_AUTH_TOKEN)
EL = {"xi-api-key": EMULATOR_ELEVENLABS_API_KEY}
BB = {"x-api-builderbot": EMULATOR_BUILDERBOT_API_KEY}


@pytest.fixture
async def emulator_state() -> AsyncIterator[EmulatorState]:
    state = EmulatorState(target_url="http://127.0.0.1:9", callback_delays=(0.01, 0.01))
    state.http = httpx.AsyncClient()
    yield state
    await state.close()


@pytest.fixture
async def emulator(emulator_state: EmulatorState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_emulator_app(emulator_state))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        yield client


async def test_twilio_message_resource_shape(emulator: httpx.AsyncClient) -> None:
    response = await emulator.post(
        MESSAGES, data={"To": "+5491155551234", "From": "+15005550006", "Body": "Hola"}, auth=AUTH
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "account_sid",
        "api_version",
        "body",
        "date_created",
        "date_sent",
        "date_updated",
        "direction",
        "error_code",
        "error_message",
        "from",
        "messaging_service_sid",
        "num_media",
        "num_segments",
        "price",
        "price_unit",
        "sid",
        "status",
        "subresource_uris",
        "to",
        "uri",
    }
    assert re.fullmatch(r"SM[0-9a-f]{32}", body["sid"])
    assert body["status"] == "queued"
    assert body["direction"] == "outbound-api"
    assert isinstance(body["num_segments"], str)
    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", body["date_created"])


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"To": "+15005550001", "From": "+15005550006", "Body": "x"}, 21211),
        ({"To": "not-a-number", "From": "+15005550006", "Body": "x"}, 21211),
        ({"From": "+15005550006", "Body": "x"}, 21604),
        ({"To": "+5491155551234", "Body": "x"}, 21603),
        ({"To": "+5491155551234", "From": "+15005550006"}, 21602),
        ({"To": "+15005550004", "From": "+15005550006", "Body": "x"}, 21610),
    ],
)
async def test_twilio_error_shape(
    emulator: httpx.AsyncClient, form: dict[str, str], code: int
) -> None:
    response = await emulator.post(MESSAGES, data=form, auth=AUTH)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "more_info", "status"}
    assert body["code"] == code
    assert body["status"] == 400
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


async def test_twilio_requires_basic_auth(emulator: httpx.AsyncClient) -> None:
    response = await emulator.post(
        MESSAGES, data={"To": "+5491155551234", "From": "+1", "Body": "x"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == 20003


MESSAGE_FIELDS = {
    "account_sid",
    "api_version",
    "body",
    "date_created",
    "date_sent",
    "date_updated",
    "direction",
    "error_code",
    "error_message",
    "from",
    "messaging_service_sid",
    "num_media",
    "num_segments",
    "price",
    "price_unit",
    "sid",
    "status",
    "subresource_uris",
    "to",
    "uri",
}


async def fetch_when(
    emulator: httpx.AsyncClient, sid: str, status: str, *, auth: tuple[str, str] = AUTH
) -> dict[str, Any]:
    for _ in range(200):
        response = await emulator.get(f"{MESSAGES[:-5]}/{sid}.json", auth=auth)
        assert response.status_code == 200, response.text
        if response.json()["status"] == status:
            return dict(response.json())
        await asyncio.sleep(0.01)
    raise AssertionError(f"{sid} never reached {status}")


async def test_twilio_message_fetch_reports_the_last_status(
    emulator: httpx.AsyncClient, emulator_state: EmulatorState
) -> None:
    callback = "http://127.0.0.1:9/webhooks/twilio/sms/status"
    await emulator.post("/twilio/callbacks/loss", json={"statuses": ["delivered", "undelivered"]})
    created = (
        await emulator.post(
            MESSAGES,
            data={"To": "+5491155551234", "From": "+15005550006", "Body": "Hola"},
            auth=AUTH,
        )
    ).json()
    failing = (
        await emulator.post(
            MESSAGES,
            data={
                "To": "+15005550010",
                "From": "+15005550006",
                "Body": "x",
                "StatusCallback": callback,
            },
            auth=AUTH,
        )
    ).json()
    # No StatusCallback: the message moves on all the same.
    delivered = await fetch_when(emulator, created["sid"], "delivered")
    assert set(delivered) == MESSAGE_FIELDS
    assert delivered["sid"] == created["sid"]
    assert (
        delivered["uri"]
        == f"/2010-04-01/Accounts/{EMULATOR_TWILIO_ACCOUNT_SID}/Messages/{created['sid']}.json"
    )
    assert re.fullmatch(
        r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", delivered["date_sent"]
    )
    assert delivered["error_code"] is None
    undelivered = await fetch_when(emulator, failing["sid"], "undelivered")
    assert undelivered["error_code"] == 30003
    assert undelivered["error_message"] == "Unreachable destination handset."
    # The `sent` callback was attempted; the final one was lost on purpose.
    lost = [d for d in emulator_state.deliveries if d.get("lost")]
    assert [d["url"] for d in lost] == [callback]
    outbox = (await emulator.get("/twilio/outbox")).json()["items"]
    assert {item["sid"]: item["status"] for item in outbox} == {
        created["sid"]: "delivered",
        failing["sid"]: "undelivered",
    }
    assert (await emulator.delete("/twilio/callbacks/loss")).status_code == 204
    assert emulator_state.twilio.callback_losses == []


async def test_twilio_message_fetch_errors(emulator: httpx.AsyncClient) -> None:
    created = (
        await emulator.post(
            MESSAGES, data={"To": "+5491155551234", "From": "+1", "Body": "x"}, auth=AUTH
        )
    ).json()
    path = f"{MESSAGES[:-5]}/{created['sid']}.json"
    assert (await emulator.get(path, auth=AUTH)).status_code == 200
    unauthenticated = await emulator.get(path)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == 20003
    wrong = await emulator.get(path, auth=(EMULATOR_TWILIO_ACCOUNT_SID, "wrong"))
    assert wrong.status_code == 401
    missing = await emulator.get(f"{MESSAGES[:-5]}/SM{'0' * 32}.json", auth=AUTH)
    assert missing.status_code == 404
    body = missing.json()
    assert set(body) == {"code", "message", "more_info", "status"}
    assert (body["code"], body["status"]) == (20404, 404)
    await emulator.post("/twilio/faults", json={"status": 503, "count": 1})
    assert (await emulator.get(path, auth=AUTH)).status_code == 503
    assert (await emulator.get(path, auth=AUTH)).status_code == 200


async def test_elevenlabs_list_and_get_shapes(emulator: httpx.AsyncClient) -> None:
    await emulator.post("/elevenlabs/calls", json={"count": 3, "webhook": False})
    page = (
        await emulator.get(
            "/elevenlabs/v1/convai/conversations", headers=EL, params={"page_size": 2}
        )
    ).json()
    assert set(page) == {"conversations", "has_more", "next_cursor"}
    assert page["has_more"] is True
    summary = page["conversations"][0]
    assert {
        "agent_id",
        "conversation_id",
        "start_time_unix_secs",
        "call_duration_secs",
        "message_count",
        "status",
        "call_successful",
    } <= set(summary)
    assert "external_number" not in str(summary)  # the summary carries no phone numbers
    detail = (
        await emulator.get(
            f"/elevenlabs/v1/convai/conversations/{summary['conversation_id']}", headers=EL
        )
    ).json()
    assert {
        "agent_id",
        "conversation_id",
        "status",
        "transcript",
        "metadata",
        "analysis",
        "has_audio",
        "conversation_initiation_client_data",
    } <= set(detail)
    assert {
        "start_time_unix_secs",
        "call_duration_secs",
        "phone_call",
        "termination_reason",
    } <= set(detail["metadata"])
    assert {"type", "direction", "agent_number", "external_number", "call_sid"} <= set(
        detail["metadata"]["phone_call"]
    )
    assert {
        "call_successful",
        "transcript_summary",
        "data_collection_results",
        "evaluation_criteria_results",
    } <= set(detail["analysis"])
    assert {"role", "message", "time_in_call_secs", "tool_calls"} <= set(detail["transcript"][0])
    audio = await emulator.get(
        f"/elevenlabs/v1/convai/conversations/{summary['conversation_id']}/audio", headers=EL
    )
    assert audio.headers["content-type"] == "audio/mpeg"


async def test_elevenlabs_errors(emulator: httpx.AsyncClient) -> None:
    assert (await emulator.get("/elevenlabs/v1/convai/conversations")).status_code == 401
    invalid = await emulator.get(
        "/elevenlabs/v1/convai/conversations", headers=EL, params={"page_size": 0}
    )
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["query", "page_size"]
    missing = await emulator.get("/elevenlabs/v1/convai/conversations/conv_x", headers=EL)
    assert missing.status_code == 404
    assert missing.json()["detail"]["status"] == "conversation_not_found"


async def test_builderbot_shapes(emulator: httpx.AsyncClient) -> None:
    base = f"/builderbot/api/v2/{EMULATOR_BUILDERBOT_BOT_ID}"
    assert (
        await emulator.post("/builderbot/wrote", json={"number": "5491155551234"})
    ).status_code == 204
    sent = await emulator.post(
        f"{base}/messages",
        headers=BB,
        json={"messages": {"content": "hola"}, "number": "5491155551234", "checkIfExists": False},
    )
    assert sent.status_code == 200
    bad = await emulator.post(
        f"{base}/messages", headers=BB, json={"messages": {"content": "x"}, "number": "+54 9"}
    )
    assert bad.status_code == 400
    listed = await emulator.post(
        f"{base}/blacklist", headers=BB, json={"number": "5491155551234", "intent": "add"}
    )
    assert listed.json() == {"status": "ok", "number": "5491155551234", "intent": "add"}
    assert (await emulator.post(f"{base}/messages", json={})).status_code == 401
    outbox = (await emulator.get("/builderbot/outbox", params={"number": "+5491155551234"})).json()
    assert outbox["count"] == 2
