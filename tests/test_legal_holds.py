"""Legal holds (docs/data-lifecycle.md, "Legal hold"): placed, listed, read and released by
compliance officers and admins, each step audited with the phone masked; validation of hostile
input; two racing releases write one audit row; a lapsed hold keeps nothing; no cap."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.holds import repository as holds
from contact_center.models import AuditLog
from contact_center.models.enums import Channel, HoldScope, Role
from contact_center.models.interaction import Interaction
from contact_center.models.lifecycle import LegalHold
from tests import auth
from tests import factories as f
from tests.test_errors import assert_envelope

PHONE = "+5491155551234"
MASKED = "+54911******34"
REASON = "Causa 1234/2026, Juzgado Comercial 5: conservar todo"
RELEASE = "Sentencia firme: la causa terminó"


@pytest.fixture
async def officer(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A compliance officer with an API token."""
    http = await auth.token_client(app, "cumplimiento", Role.COMPLIANCE)
    yield http
    await http.aclose()


def _future(days: int = 30) -> str:
    return (utcnow() + timedelta(days=days)).isoformat().replace("+00:00", "Z")


async def _audit(app: FastAPI, action: str) -> list[AuditLog]:
    async with app.state.session_factory() as session:
        rows = await session.scalars(select(AuditLog).where(AuditLog.action == action))
        return list(rows)


async def _place(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await http.post("/api/legal-holds", json={"reason": REASON, **body})
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def test_place_list_read_and_release_a_customer_hold(
    app: FastAPI, officer: httpx.AsyncClient
) -> None:
    sessions: async_sessionmaker[AsyncSession] = app.state.session_factory
    async with sessions() as session:
        await f.save(
            session,
            f.interaction(customer_phone=PHONE),
            f.interaction(customer_phone=PHONE, channel=Channel.SMS),
            f.interaction(customer_phone="+5491155559999"),
        )
    made = await _place(
        officer, scope="CUSTOMER", customerPhone="011 15 5555-1234", endsAt=_future()
    )
    assert made["customerPhone"] == MASKED
    assert made["state"] == "ACTIVE"
    assert made["createdBy"] == "cumplimiento"
    assert made["coveredInteractions"] == 2
    async with sessions() as session:
        stored = await session.get(LegalHold, uuid.UUID(made["id"]))
        assert stored is not None
        assert stored.customer_phone == PHONE  # normalized to E.164, kept whole
    one = await officer.get(f"/api/legal-holds/{made['id']}")
    assert one.status_code == 200
    assert one.json()["coveredInteractions"] == 2
    assert PHONE not in one.text
    listed = await officer.get("/api/legal-holds")
    assert listed.status_code == 200
    page = listed.json()
    assert [h["id"] for h in page["items"]] == [made["id"]]
    assert page["hasMore"] is False
    assert PHONE not in listed.text
    placed = await _audit(app, "legal_hold.placed")
    assert len(placed) == 1
    assert placed[0].entity_type == "legal_hold"
    assert placed[0].entity_id == made["id"]
    assert placed[0].actor_id == "cumplimiento"
    assert PHONE not in str(placed[0].metadata_)
    assert "55551234" not in str(placed[0].metadata_)

    released = await officer.post(
        f"/api/legal-holds/{made['id']}/release", json={"reason": RELEASE}
    )
    assert released.status_code == 200, released.text
    body = released.json()
    assert body["state"] == "RELEASED"
    assert body["releasedBy"] == "cumplimiento"
    assert body["releaseReason"] == RELEASE
    assert body["coveredInteractions"] == 0
    again = await officer.post(f"/api/legal-holds/{made['id']}/release", json={"reason": RELEASE})
    assert_envelope(again, 409, "already_released")
    rows = await _audit(app, "legal_hold.released")
    assert len(rows) == 1
    assert rows[0].metadata_ is not None
    assert rows[0].metadata_["reason"] == RELEASE
    assert PHONE not in str(rows[0].metadata_)
    # Nothing is held any more.
    async with sessions() as session:
        assert await holds.holds_for_subject(session, PHONE, None, utcnow()) == []


async def test_interaction_and_date_range_holds_and_the_filters(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """An admin handles compliance too; the list shows active holds first."""
    sessions: async_sessionmaker[AsyncSession] = app.state.session_factory
    start = datetime(2026, 3, 1, tzinfo=UTC)
    inside = f.interaction(started_at=start + timedelta(days=1), customer_phone="+5491155550001")
    outside = f.interaction(started_at=start - timedelta(days=1), customer_phone="+5491155550002")
    async with sessions() as session:
        await f.save(session, inside, outside)
    one = await _place(client, scope="INTERACTION", interactionId=str(outside.id))
    assert one["coveredInteractions"] == 1
    ranged = await _place(
        client,
        scope="DATE_RANGE",
        rangeStart="2026-03-01T00:00:00Z",
        rangeEnd="2026-04-01T00:00:00-03:00",
    )
    assert ranged["coveredInteractions"] == 1
    assert ranged["rangeEnd"] == "2026-04-01T03:00:00.000000Z"
    opened = await _place(client, scope="DATE_RANGE", rangeStart="2026-03-01T00:00:00Z")
    assert opened["rangeEnd"] is None
    await client.post(f"/api/legal-holds/{ranged['id']}/release", json={"reason": RELEASE})
    everything = (await client.get("/api/legal-holds")).json()["items"]
    assert [h["state"] for h in everything] == ["ACTIVE", "ACTIVE", "RELEASED"]
    active = (await client.get("/api/legal-holds", params={"state": "ACTIVE"})).json()["items"]
    assert {h["id"] for h in active} == {one["id"], opened["id"]}
    gone = (await client.get("/api/legal-holds", params={"state": "RELEASED"})).json()["items"]
    assert [h["id"] for h in gone] == [ranged["id"]]
    by_scope = await client.get("/api/legal-holds", params={"scope": "INTERACTION"})
    assert [h["id"] for h in by_scope.json()["items"]] == [one["id"]]
    paged = (await client.get("/api/legal-holds", params={"limit": 2})).json()
    assert len(paged["items"]) == 2
    assert paged["hasMore"] is True
    rest = (await client.get("/api/legal-holds", params={"limit": 2, "skip": 2})).json()
    assert [h["id"] for h in rest["items"]] == [ranged["id"]]
    assert rest["hasMore"] is False
    async with sessions() as session:
        held = await holds.held_ids(session, [inside.id, outside.id], utcnow())
    assert held == {inside.id, outside.id}
    # The holds on one interaction: the active ones that keep it.
    on_outside = await client.get(f"/api/interactions/{outside.id}/holds")
    assert on_outside.status_code == 200, on_outside.text
    assert [h["id"] for h in on_outside.json()["items"]] == [one["id"]]
    on_inside = (await client.get(f"/api/interactions/{inside.id}/holds")).json()["items"]
    assert [h["id"] for h in on_inside] == [opened["id"]]  # the released range no longer
    unknown = await client.get(f"/api/interactions/{uuid.uuid4()}/holds")
    assert_envelope(unknown, 404, "interaction_not_found")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"scope": "CUSTOMER"}, 422, "hold_needs_customer"),
        ({"scope": "CUSTOMER", "customerPhone": "12"}, 422, "invalid_phone"),
        ({"scope": "CUSTOMER", "customerPhone": "abc" * 30}, 422, "validation_error"),
        (
            {"scope": "CUSTOMER", "customerRef": "c-1", "rangeStart": "2026-01-01T00:00:00Z"},
            422,
            "hold_field_not_used",
        ),
        ({"scope": "INTERACTION"}, 422, "validation_error"),
        ({"scope": "INTERACTION", "interactionId": str(uuid.uuid4())}, 422, "unknown_interaction"),
        ({"scope": "INTERACTION", "interactionId": "not-a-uuid"}, 422, "validation_error"),
        ({"scope": "DATE_RANGE"}, 422, "validation_error"),
        (
            {
                "scope": "DATE_RANGE",
                "rangeStart": "2026-02-01T00:00:00Z",
                "rangeEnd": "2026-01-01T00:00:00Z",
            },
            422,
            "hold_range_order",
        ),
        ({"scope": "DATE_RANGE", "rangeStart": "2026-02-01T00:00:00"}, 422, "validation_error"),
        (
            {"scope": "DATE_RANGE", "rangeStart": "0001-01-01T00:00:00+05:00"},
            422,
            "validation_error",
        ),
        (
            {"scope": "CUSTOMER", "customerRef": "c-1", "endsAt": "2020-01-01T00:00:00Z"},
            422,
            "hold_end_in_past",
        ),
        ({"scope": "CUSTOMER", "customerRef": "c-1", "reason": "corto"}, 422, "validation_error"),
        (
            {"scope": "CUSTOMER", "customerRef": "c-1", "reason": "x" * 1001},
            422,
            "validation_error",
        ),
        ({"scope": "CUSTOMER", "customerRef": "c-1", "reason": "x" * 1_000_000}, None, None),
        ({"scope": "CUSTOMER", "customerRef": "c\x00-1"}, 422, "validation_error"),
        (
            {"scope": "CUSTOMER", "customerRef": "c-1", "reason": REASON + "\x00"},
            422,
            "validation_error",
        ),
        ({"scope": "EVERYTHING", "customerRef": "c-1"}, 422, "validation_error"),
        ({"scope": "CUSTOMER", "customerRef": 12}, 422, "validation_error"),
        (
            {"scope": "CUSTOMER", "customerRef": "c-1", "reason": ["a"] * 20},
            422,
            "validation_error",
        ),
        ({"scope": "CUSTOMER", "customerRef": "c-1", "extra": 1}, 422, "validation_error"),
    ],
)
async def test_hostile_and_wrong_bodies_are_refused_and_write_nothing(
    app: FastAPI,
    officer: httpx.AsyncClient,
    body: dict[str, Any],
    status: int | None,
    code: str | None,
) -> None:
    sent = {"reason": REASON, **body}
    response = await officer.post("/api/legal-holds", json=sent)
    if status is None:  # larger than the service takes: 413 or 422, never a 500
        assert response.status_code in (413, 422), response.text
    else:
        assert_envelope(response, status, code)
    async with app.state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(LegalHold)) == 0
    assert await _audit(app, "legal_hold.placed") == []


async def test_release_needs_a_reason_and_an_existing_hold(officer: httpx.AsyncClient) -> None:
    missing = await officer.post(
        f"/api/legal-holds/{uuid.uuid4()}/release", json={"reason": RELEASE}
    )
    assert_envelope(missing, 404, "legal_hold_not_found")
    assert_envelope(await officer.get(f"/api/legal-holds/{uuid.uuid4()}"), 404)
    assert_envelope(await officer.get("/api/legal-holds/nope"), 422)
    made = await _place(officer, scope="CUSTOMER", customerRef="c-1")
    for body in ({}, {"reason": ""}, {"reason": "breve"}, {"reason": "x\x00" * 10}):
        response = await officer.post(f"/api/legal-holds/{made['id']}/release", json=body)
        assert_envelope(response, 422)
    assert (await officer.get(f"/api/legal-holds/{made['id']}")).json()["state"] == "ACTIVE"


async def test_two_racing_releases_release_once_and_audit_once(
    app: FastAPI, officer: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    made = await _place(officer, scope="CUSTOMER", customerRef="c-race")
    url = f"/api/legal-holds/{made['id']}/release"
    first, second = await asyncio.gather(
        officer.post(url, json={"reason": RELEASE}),
        client.post(url, json={"reason": RELEASE + " (admin)"}),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409], (
        first.text,
        second.text,
    )
    assert len(await _audit(app, "legal_hold.released")) == 1


async def test_a_hold_whose_end_passed_keeps_nothing(app: FastAPI) -> None:
    sessions: async_sessionmaker[AsyncSession] = app.state.session_factory
    mine = f.interaction(customer_phone=PHONE)
    now = utcnow()
    async with sessions() as session:
        await f.save(session, mine)
        session.add_all(
            [
                LegalHold(
                    scope=HoldScope.CUSTOMER,
                    customer_phone=PHONE,
                    reason=REASON,
                    ends_at=now - timedelta(minutes=1),
                    created_by="cumplimiento",
                ),
                LegalHold(
                    scope=HoldScope.INTERACTION,
                    interaction_id=mine.id,
                    reason=REASON,
                    created_by="cumplimiento",
                    released_at=now - timedelta(days=1),
                    released_by="cumplimiento",
                    release_reason=RELEASE,
                ),
            ]
        )
        await session.commit()
    async with sessions() as session:
        covered = await session.scalar(
            select(func.count()).select_from(Interaction).where(holds.covers(now))
        )
        assert covered == 0
        assert await holds.held_ids(session, [mine.id], now) == set()
        # Before its end it did keep it.
        assert await holds.held_ids(session, [mine.id], now - timedelta(minutes=2)) == {mine.id}


async def test_lapsed_holds_list_as_lapsed_and_cannot_be_listed_as_active(
    app: FastAPI, officer: httpx.AsyncClient
) -> None:
    async with app.state.session_factory() as session:
        session.add(
            LegalHold(
                scope=HoldScope.CUSTOMER,
                customer_ref="c-old",
                reason=REASON,
                ends_at=utcnow() - timedelta(days=1),
                created_by="cumplimiento",
            )
        )
        await session.commit()
    listed = (await officer.get("/api/legal-holds")).json()["items"]
    assert [h["state"] for h in listed] == ["LAPSED"]
    assert (await officer.get("/api/legal-holds", params={"state": "ACTIVE"})).json()["items"] == []
    lapsed = (await officer.get("/api/legal-holds", params={"state": "LAPSED"})).json()["items"]
    assert len(lapsed) == 1
    assert lapsed[0]["coveredInteractions"] == 0


async def test_no_cap_on_how_many_holds(app: FastAPI, officer: httpx.AsyncClient) -> None:
    """Genesys caps legal holds at 1,000 conversations; here 1,500 holds list and hold."""
    sessions: async_sessionmaker[AsyncSession] = app.state.session_factory
    items = [f.interaction(customer_phone=f"+54911555{n:05d}") for n in range(1500)]
    now = utcnow()
    async with sessions() as session:
        await session.execute(
            insert(Interaction),
            [
                {
                    column.key: getattr(item, column.key)
                    for column in Interaction.__table__.columns
                    if getattr(item, column.key, None) is not None
                }
                for item in items
            ],
        )
        await session.execute(
            insert(LegalHold),
            [
                {
                    "id": uuid.uuid4(),
                    "scope": HoldScope.INTERACTION,
                    "interaction_id": item.id,
                    "reason": REASON,
                    "created_by": "cumplimiento",
                    "created_at": now,
                }
                for item in items
            ],
        )
        await session.commit()
    async with sessions() as session:
        covered = await session.scalar(
            select(func.count()).select_from(Interaction).where(holds.covers(utcnow()))
        )
        assert covered == 1500
        held = await holds.held_ids(session, [i.id for i in items], utcnow())
        assert len(held) == 1500
    seen = 0
    skip = 0
    while True:
        page = (await officer.get("/api/legal-holds", params={"limit": 500, "skip": skip})).json()
        seen += len(page["items"])
        assert all(h["coveredInteractions"] == 1 for h in page["items"])
        if not page["hasMore"]:
            break
        skip += 500
    assert seen == 1500
    # And one more can still be placed.
    await _place(officer, scope="CUSTOMER", customerRef="c-1501")


HOLD_ROUTES = [
    ("GET", "/api/legal-holds", None),
    ("POST", "/api/legal-holds", {"scope": "CUSTOMER", "customerRef": "c-1", "reason": REASON}),
    ("GET", "/api/legal-holds/{id}", None),
    ("POST", "/api/legal-holds/{id}/release", {"reason": RELEASE}),
    ("GET", "/compliance/holds", None),
    ("GET", "/api/interactions/{interaction}/holds", None),
]


async def test_agents_and_supervisors_are_refused_on_every_holds_route(
    app: FastAPI, officer: httpx.AsyncClient, people: dict[str, httpx.AsyncClient]
) -> None:
    mine = f.interaction(assigned_agent="ana", customer_ref="c-1")
    async with app.state.session_factory() as session:
        await f.save(session, mine)
    made = await _place(officer, scope="CUSTOMER", customerRef="c-1")
    for who in ("ana", "sup"):
        for method, path, body in HOLD_ROUTES:
            url = path.replace("{id}", made["id"]).replace("{interaction}", str(mine.id))
            response = await people[who].request(method, url, json=body)
            assert response.status_code == 403, (who, method, url, response.text)
            assert made["id"] not in response.text
    # The console page too, signed in as a person would be.
    for username, role in (("agente", Role.AGENT), ("super", Role.SUPERVISOR)):
        http = await auth.session_client(app, username, role)
        page = await http.get("/compliance/holds", headers={"Accept": "text/html"})
        assert page.status_code == 403
        assert "text/html" in page.headers["content-type"]
        assert "No podés hacer esto" in page.text
        await http.aclose()
    async with app.state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(LegalHold)) == 1
    assert (await officer.get(f"/api/legal-holds/{made['id']}")).json()["state"] == "ACTIVE"


async def test_the_console_page_lists_places_and_releases_in_spanish(app: FastAPI) -> None:
    http = await auth.session_client(app, "oficial", Role.COMPLIANCE)
    empty = await http.get("/compliance/holds")
    assert empty.status_code == 200
    assert "Retenciones legales" in empty.text
    assert "Todavía no hay retenciones legales" in empty.text
    csrf = empty.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    placed = await http.post(
        "/api/legal-holds",
        json={"scope": "CUSTOMER", "customerPhone": PHONE, "reason": REASON},
        headers={"X-CSRF-Token": csrf},
    )
    assert placed.status_code == 201, placed.text
    listed = await http.get("/compliance/holds")
    assert MASKED in listed.text
    assert PHONE not in listed.text
    assert REASON in listed.text
    assert "Activa" in listed.text
    assert 'data-api="/api/legal-holds/' in listed.text  # the release form
    released = await http.post(
        f"/api/legal-holds/{placed.json()['id']}/release",
        json={"reason": RELEASE},
        headers={"X-CSRF-Token": csrf},
    )
    assert released.status_code == 200
    after = await http.get("/compliance/holds", params={"state": "RELEASED"})
    assert "Liberada" in after.text
    assert RELEASE in after.text
    nothing = await http.get("/compliance/holds", params={"state": "ACTIVE"})
    assert "Ninguna retención coincide" in nothing.text
    bad = await http.get("/compliance/holds", params={"state": "NOPE"})
    assert bad.status_code == 422
    await http.aclose()
