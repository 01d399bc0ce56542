"""PII masking on every response by default, reveals audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.models import AuditLog, Interaction
from contact_center.pii import mask_json, mask_name, mask_phone, mask_text
from contact_center.settings import Settings
from tests import factories as f
from tests.live import live_app
from tests.test_elevenlabs_sync import emulator_conversations, make_calls

PHONE = "+5491155551234"
MASKED = "+54911******34"


def test_mask_phone_keeps_first_six_and_last_two() -> None:
    assert mask_phone("+5491155551234") == "+54911******34"
    assert mask_phone("+14155552671") == "+14155****71"
    assert mask_phone("12345") == "*****"
    assert mask_phone(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mi número es +54 9 11 5555-1234, gracias", "Mi número es +54 9 11 ****-**34, gracias"),
        ("llamame al 5491155551234", "llamame al 54911******34"),
        ("monto 150000 ARS", "monto 150000 ARS"),
        ("conversación conv_123456789012", "conversación conv_123456789012"),
        ("SM0123456789abcdef0123456789abcdef", "SM0123456789abcdef0123456789abcdef"),
        ("fecha 2026-11-26 y hora 10:30", "fecha 2026-11-26 y hora 10:30"),
        ("id 123e4567-e89b-12d3-a456-426614174000", "id 123e4567-e89b-12d3-a456-426614174000"),
        # Dots as separators, and numbers glued to the letters before them.
        ("llamame al 11.5555.1234.", "llamame al 11.****.**34."),
        ("+54.9.11.5555.1234", "+54.9.11.****.**34"),
        ("Tel5491155559999", "Tel54911******99"),
        ("cel:1155551234", "cel:11******34"),
        ("Teléfono+5491155551234", "Teléfono+54911******34"),
        # A national number keeps fewer leading digits: at least 6 are always hidden.
        ("1155551234", "11******34"),
        # What stays readable.
        ("2026-11-26 10:30:00 y 2026-11-26T10:30:00.123456Z", None),
        ("vence el 26.11.2026", None),
        ("desde 192.168.100.200", None),
        ("monto 1.234.567,89 y 12.345.678,90", None),
        ("pi 3.14159265", None),
        ("id 12345678-1234-1234-1234-123456789012.", None),
        ("MZ0123456789abcdef0123456789abcdef y SMabcdef0123456789abcdef0123456789", None),
    ],
)
def test_mask_text_masks_phone_like_runs_only(text: str, expected: str | None) -> None:
    assert mask_text(text) == (text if expected is None else expected)


def test_mask_json_masks_nested_numbers_and_names() -> None:
    payload = {
        "data": {
            "from": PHONE,
            "name": "Juan Pérez",
            "body": "hola",
            "items": [{"to": "5491155551234"}],
        }
    }
    assert mask_json(payload) == {
        "data": {
            "from": MASKED,
            "name": "J*** P****",
            "body": "hola",
            "items": [{"to": "54911******34"}],
        }
    }
    assert mask_name("Ana") == "A**"


def test_mask_json_masks_numbers_sent_as_json_numbers_and_keys() -> None:
    payload = {
        "from": 5491122223333,
        "to": 5491155551234.0,
        "contacts": [1155551234, 42],
        "5491166667777": {"name": "Ana"},
        "start_time_unix_secs": 1764162000,
        "createdAt": 1764162000123,
        "call_duration_secs": 95,
        "price": -0.0075,
        "ok": True,
    }
    assert mask_json(payload) == {
        "from": "54911******33",
        "to": "54911******34",
        "contacts": ["11******34", 42],
        "54911******77": {"name": "A**"},
        "start_time_unix_secs": 1764162000,
        "createdAt": 1764162000123,
        "call_duration_secs": 95,
        "price": -0.0075,
        "ok": True,
    }
    # Two numbers that mask alike stay two entries.
    assert len(mask_json({"+5491155551234": 1, "+5491166661234": 2})) == 2


@pytest.mark.parametrize(
    "text",
    [
        "ts_ms=1764950400000",
        "delivered at 1764950400123",
        "Enqueuing Job<queued: 1796500000039>",
        '{"timestamp": 1764950400}',
        "GET /v1/convai/conversations?call_start_after_unix=1764950400",
        "ts=1764950400 created_at=1764950400000",
    ],
)
def test_epoch_timestamps_stay_readable(text: str) -> None:
    assert mask_text(text) == text


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("5491155551234", "1155551234"),  # an Argentine mobile in E.164 without "+": 13 digits
        ("wrote from 5491155551234 at 1764950400123", "1155551234"),
        ("ts_ms=5491155551234", "1155551234"),  # outside 2001–2100 whatever the key says
        ("2348031234567", "8031234"),  # a Nigerian mobile in the millisecond window
        ("4915112345678", "1512345"),  # a German mobile
        ("2547123456789", "7123456"),  # a Kenyan number in the millisecond window
        ("+1764950400000", "4950400"),  # written with "+": a phone
        ("Tel1764950400000", "4950400"),  # glued to a word: a phone
        ("1764950400", "64950400"),  # ten bare digits are national numbers too
        ("llamame al 1555551234", "55551234"),  # a porteño mobile, 15 + 8 digits
        ("at 1155551234", "55551234"),
    ],
)
def test_phones_shaped_like_epochs_stay_masked(text: str, leak: str) -> None:
    assert leak not in mask_text(text)


def test_epoch_milliseconds_stay_numbers_in_json() -> None:
    masked = mask_json({"queued": 1764950400000, "phone": 5491155551234, "id": 1764950400})
    assert masked == {"queued": 1764950400000, "phone": "54911******34", "id": "17******00"}


async def test_numbers_in_event_payloads_are_masked_in_responses(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    row = f.interaction()
    async with session_factory() as session:
        await f.save(
            session,
            row,
            f.message(row, body="Tel5491155559999 o 11.5555.1234"),
            f.event(row, payload={"from": 5491122223333, "wa": {"id": "Tel5491155559999"}}),
        )
    for path in (f"/api/interactions/{row.id}", "/api/interactions"):
        text = (await client.get(path)).text
        for leak in ("5491122223333", "2223333", "5491155559999", "5555.1234"):
            assert leak not in text, (path, leak)
        assert "54911******33" in text, path


async def _seed(session_factory: async_sessionmaker[AsyncSession]) -> str:
    row = f.interaction(customer_name="Juan Pérez")
    async with session_factory() as session:
        await f.save(
            session,
            row,
            f.message(row, body=f"Soy Juan, mi otro número es {PHONE}"),
            f.event(
                row,
                payload={"data": {"from": PHONE, "name": "Juan Pérez"}},
                normalized={"phone": PHONE},
            ),
        )
    return str(row.id)


async def _reveal_rows(session_factory: async_sessionmaker[AsyncSession]) -> list[AuditLog]:
    async with session_factory() as session:
        return list(
            (await session.scalars(select(AuditLog).where(AuditLog.action == "pii.reveal"))).all()
        )


async def test_every_response_is_masked_by_default(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    interaction_id = await _seed(session_factory)
    for path in (
        "/api/interactions",
        f"/api/interactions/{interaction_id}",
        f"/api/interactions/client/{PHONE}",
    ):
        text = (await client.get(path)).text
        assert "5551234" not in text, path
        assert "Juan Pérez" not in text, path
        assert MASKED in text, path
    assert await _reveal_rows(session_factory) == []


@pytest.mark.parametrize(
    ("query", "headers"),
    [("?includePII=true", {}), ("", {"X-Role": "admin"})],
)
async def test_reveal_shows_numbers_and_is_audited(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    query: str,
    headers: dict[str, str],
) -> None:
    interaction_id = await _seed(session_factory)
    response = await client.get(
        f"/api/interactions/{interaction_id}{query}",
        headers={**headers, "X-Reveal-Reason": "reclamo 123"},
    )
    body = response.json()
    assert body["from"] == PHONE
    assert body["customerName"] == "Juan Pérez"
    assert body["events"][0]["payload"]["data"]["from"] == PHONE
    rows = await _reveal_rows(session_factory)
    assert len(rows) == 1
    assert rows[0].entity_id == interaction_id
    assert rows[0].metadata_ is not None
    assert rows[0].metadata_["reason"] == "reclamo 123"
    assert rows[0].metadata_["resource"] == "interactions.detail"


async def test_other_roles_do_not_unmask(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _seed(session_factory)
    text = (await client.get("/api/interactions", headers={"X-Role": "supervisor"})).text
    assert PHONE not in text


async def test_masking_disabled_by_setting(
    client_for: Callable[..., Awaitable[httpx.AsyncClient]],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(session_factory)
    http = await client_for(PII_MASKING_ENABLED="false")
    assert (await http.get("/api/interactions")).json()["items"][0]["from"] == PHONE
    rows = await _reveal_rows(session_factory)
    assert len(rows) == 1
    assert rows[0].metadata_ is not None
    assert rows[0].metadata_["maskingEnabled"] is False


async def test_audit_log_is_append_only(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    interaction_id = await _seed(session_factory)
    await client.get(
        f"/api/interactions/{interaction_id}?includePII=true", headers={"X-Reveal-Reason": "QA"}
    )
    async with session_factory() as session:
        row = (await session.scalars(select(AuditLog))).one()
        row.action = "tampered"
        with pytest.raises(Exception, match="append-only"):
            await session.commit()


# --- a reveal needs its reason --------------------------------------------------------------


async def _audit_ids(session_factory: async_sessionmaker[AsyncSession]) -> set[object]:
    async with session_factory() as session:
        return set((await session.scalars(select(AuditLog.id))).all())


async def test_every_reveal_route_needs_a_reason_and_audits_it(
    settings_factory: Callable[..., Settings], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    row = f.interaction(queue="general")
    async with session_factory() as session:
        await f.save(session, row, f.message(row, body=f"mi número es {PHONE}"))
    async with live_app(settings_factory, with_worker=False) as live:
        (call,) = await make_calls(live, 1, hours=1)
        caller = (await emulator_conversations(live))[0]["metadata"]["phone_call"]
        shown = (PHONE, caller["external_number"])
        asks = {"includePII": "true"}
        admin_view = {"X-Role": "admin"}
        detail = f"/api/interactions/{row.id}"
        conversation = f"/api/elevenlabs/conversations/{call}"
        diagnose = {"interactionId": str(row.id)}
        # (method, path, query, headers, body, the audit row's resource)
        routes: list[tuple[str, str, dict[str, str], dict[str, str], Any, str]] = [
            ("GET", "/api/interactions", asks, {}, None, "interactions.list"),
            ("GET", detail, asks, {}, None, "interactions.detail"),
            ("GET", detail, {}, admin_view, None, "interactions.detail"),
            ("PATCH", detail, asks, {}, {"queue": "reclamos"}, "interactions.detail"),
            ("GET", f"/api/interactions/client/{PHONE}", asks, {}, None, "interactions.client"),
            ("GET", conversation, asks, {}, None, "elevenlabs.conversation"),
            ("POST", f"{conversation}/refresh", asks, {}, None, "interactions.detail"),
            ("POST", "/api/whatsapp/diagnostic", {}, admin_view, diagnose, "whatsapp.diagnostic"),
        ]
        before = await _audit_ids(session_factory)
        for method, path, query, headers, body, _ in routes:
            for reason in (None, ""):
                sent = headers if reason is None else {**headers, "X-Reveal-Reason": reason}
                response = await live.http.request(
                    method, path, params=query, headers=sent, json=body
                )
                assert response.status_code == 422, (path, reason, response.text)
                error = response.json()["error"]
                assert error["code"] == "reveal_reason_required", path
                assert error["details"][0]["field"] == "header.X-Reveal-Reason"
        # Nothing was written: no reveal, no change (PATCH), no refresh.
        assert await _audit_ids(session_factory) == before
        async with session_factory() as session:
            stored = await session.get(Interaction, row.id)
            assert stored is not None
            assert stored.queue == "general"
            assert (await session.scalars(select(Interaction.id))).all() == [row.id]
        for number, (method, path, query, headers, body, resource) in enumerate(routes):
            reason = f"reclamo {number}"
            response = await live.http.request(
                method,
                path,
                params=query,
                headers={**headers, "X-Reveal-Reason": reason},
                json=body,
            )
            assert response.status_code == 200, (path, response.text)
            assert any(phone in response.text for phone in shown), path
            reveals = [r for r in await _reveal_rows(session_factory) if r.id not in before]
            assert len(reveals) == 1, path
            assert reveals[0].metadata_ is not None
            assert reveals[0].metadata_["reason"] == reason
            assert reveals[0].metadata_["resource"] == resource
            before |= {r.id for r in reveals}
