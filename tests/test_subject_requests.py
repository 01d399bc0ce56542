"""Data-subject requests (docs/data-lifecycle.md): numbers and due dates, each kind's
lifecycle, the refusal under a legal hold, the access export, who may act, and races."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.business_time import BusinessCalendar
from contact_center.db.base import utcnow
from contact_center.models.audit_log import AuditLog
from contact_center.models.complaint import Complaint
from contact_center.models.csat import CsatSurvey
from contact_center.models.enums import (
    Channel,
    ComplaintSource,
    ComplaintStatus,
    DsrKind,
    Handler,
    HoldScope,
    Role,
)
from contact_center.models.interaction import Interaction
from contact_center.models.lifecycle import LegalHold
from contact_center.models.message import Message
from contact_center.models.note import InteractionNote
from contact_center.outcomes import service as outcomes
from contact_center.settings import Settings
from contact_center.subject_requests import service
from tests import auth
from tests import factories as f

Sessions = async_sessionmaker[AsyncSession]
BA = ZoneInfo("America/Argentina/Buenos_Aires")
URL = "/api/data-subject-requests"
PHONE = "+5491155551234"
OTHER = "+5491166667777"
# Friday 13 November 2026 in Buenos Aires: five business days end on Friday 20.
FRIDAY = datetime(2026, 11, 13, 17, 0, tzinfo=BA)
# Friday 20 November 2026; Monday 23 is a national holiday (Día de la Soberanía Nacional).
HOLIDAY_FRIDAY = datetime(2026, 11, 20, 17, 0, tzinfo=BA)


@pytest.fixture
async def clara(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A compliance officer."""
    http = await auth.token_client(app, "clara", Role.COMPLIANCE)
    yield http
    await http.aclose()


def _sessions(app: FastAPI) -> Sessions:
    sessions: Sessions = app.state.session_factory
    return sessions


async def _customer(app: FastAPI, phone: str, body: str, **overrides: Any) -> Interaction:
    """A WhatsApp conversation of `phone` with one message, one event and a call of theirs."""
    async with _sessions(app)() as session:
        chat = f.interaction(customer_phone=phone, from_number=phone, **overrides)
        call = f.interaction(
            customer_phone=phone, from_number=phone, channel="CALL", provider="ELEVENLABS"
        )
        await f.save(
            session,
            chat,
            call,
            f.message(chat, body=body),
            f.event(chat),
            f.call_detail(call, summary=f"Resumen de {body}"),
        )
        return chat


async def _create(http: httpx.AsyncClient, kind: str, **fields: Any) -> dict[str, Any]:
    response = await http.post(URL, json={"kind": kind, **fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _audit(app: FastAPI, request_id: str) -> list[AuditLog]:
    async with _sessions(app)() as session:
        rows = await session.scalars(
            select(AuditLog)
            .where(AuditLog.entity_id == request_id)
            .order_by(AuditLog.occurred_at, AuditLog.id)
        )
        return list(rows)


async def _count(app: FastAPI, model: Any) -> int:
    async with _sessions(app)() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


# --- due dates --------------------------------------------------------------------------------


def test_due_dates_count_calendar_days_for_access_and_business_days_otherwise() -> None:
    calendar = BusinessCalendar.weekdays()
    settings = Settings(_env_file=None)
    # Across a weekend: Mon 16 … Fri 20 are the five business days.
    assert service.due_at(DsrKind.DELETION, FRIDAY, calendar, settings) == datetime(
        2026, 11, 20, 23, 59, 59, tzinfo=BA
    )
    # Across a weekend and Monday 23's holiday: Tue 24 … Mon 30.
    for kind in (DsrKind.DELETION, DsrKind.RECTIFICATION):
        assert service.due_at(kind, HOLIDAY_FRIDAY, calendar, settings) == datetime(
            2026, 11, 30, 23, 59, 59, tzinfo=BA
        )
    # Access: ten calendar days, holidays or not.
    assert service.due_at(DsrKind.ACCESS, HOLIDAY_FRIDAY, calendar, settings) == datetime(
        2026, 11, 30, 23, 59, 59, tzinfo=BA
    )
    assert service.due_at(DsrKind.ACCESS, FRIDAY, calendar, settings) == datetime(
        2026, 11, 23, 23, 59, 59, tzinfo=BA
    )
    # The terms are settings, today's law by default.
    longer = settings.model_copy(update={"dsr_deletion_business_days": 6})
    assert service.due_at(DsrKind.DELETION, HOLIDAY_FRIDAY, calendar, longer) == datetime(
        2026, 12, 1, 23, 59, 59, tzinfo=BA
    )


async def test_a_request_received_before_a_holiday_weekend_is_due_on_the_business_calendar(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "utcnow", lambda: HOLIDAY_FRIDAY.astimezone(UTC))
    deletion = await _create(client, "DELETION", phone=PHONE)
    assert deletion["dueAt"] == "2026-12-01T02:59:59.000000Z"  # Mon 30 Nov, 23:59:59 local
    assert deletion["number"] == "SDP-2026-000001"
    access = await _create(client, "ACCESS", customerRef="CLI-1")
    assert access["dueAt"] == "2026-12-01T02:59:59.000000Z"
    assert access["number"] == "SDP-2026-000002"


# --- each kind --------------------------------------------------------------------------------


async def test_an_access_request_is_reviewed_completed_and_exported(
    app: FastAPI, clara: httpx.AsyncClient
) -> None:
    mine = await _customer(app, PHONE, "Hola, quiero consultar mi saldo")
    await _customer(app, OTHER, "Mensaje de otra persona")
    created = await _create(clara, "ACCESS", phone="+54 9 11 5555-1234", details="todo")
    assert created["status"] == "RECEIVED"
    assert created["subjectPhone"] == "+54911******34"
    assert created["clock"] == "on_time"
    assert PHONE not in (await clara.get(URL)).text
    rid = created["id"]
    reviewed = (await clara.post(f"{URL}/{rid}/review")).json()
    assert reviewed["status"] == "UNDER_REVIEW"
    assert reviewed["blocked"] is False
    # No export before it is completed.
    assert (await clara.get(f"{URL}/{rid}/export")).status_code == 409
    done = await clara.post(f"{URL}/{rid}/complete")
    assert done.status_code == 200, done.text
    result = done.json()["result"]
    assert result["counts"]["interactions"] == 2
    assert result["counts"]["messages"] == 1
    exported = await clara.get(f"{URL}/{rid}/export")
    assert exported.status_code == 200, exported.text
    assert exported.headers["cache-control"] == "no-store"
    assert exported.headers["x-content-sha256"] == result["sha256"]
    document = exported.json()
    assert document["subject"]["phone"] == PHONE  # theirs, in their own document
    assert document["request"]["number"] == created["number"]
    assert "Hola, quiero consultar mi saldo" in exported.text
    assert "Resumen de Hola" in exported.text
    assert "otra persona" not in exported.text
    assert OTHER not in exported.text
    chat = next(i for i in document["interactions"] if i["id"] == str(mine.id))
    assert chat["events"][0]["data"] == {"direction": "INBOUND"}
    assert "code_hash" not in exported.text
    assert "codeHash" not in exported.text
    page = await clara.get(f"{URL}/{rid}/export", params={"format": "html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "Informe de acceso a sus datos personales" in page.text
    assert "Hola, quiero consultar mi saldo" in page.text
    assert "otra persona" not in page.text
    actions = [row.action for row in await _audit(app, rid)]
    assert actions == [
        "subject_request.created",
        "subject_request.reviewed",
        "subject_request.completed",
        "subject_request.exported",
        "subject_request.exported",
    ]
    for row in await _audit(app, rid):
        assert PHONE not in str(row.metadata_)
    # Decided: no second decision.
    again = await clara.post(f"{URL}/{rid}/refuse", json={"reason": "x"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "subject_request_decided"


async def test_the_export_finds_the_customer_by_reference_too(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await _customer(app, OTHER, "Por referencia", customer_ref="CLI-777")
    export = await service_export(app, None, "CLI-777")
    assert export["counts"]["interactions"] == 1
    assert export["interactions"][0]["messages"][0]["body"] == "Por referencia"
    assert (await service_export(app, None, "CLI-nobody"))["counts"]["interactions"] == 0


async def service_export(app: FastAPI, phone: str | None, ref: str | None) -> dict[str, Any]:
    async with _sessions(app)() as session:
        return await service.build_access_export(session, phone, ref)


async def test_a_rectification_blocks_while_reviewed_and_corrects_the_master_data(
    app: FastAPI, clara: httpx.AsyncClient
) -> None:
    mine = await _customer(app, PHONE, "hola", customer_name="Jaun Peres", customer_ref="CLI-9")
    other = await _customer(app, OTHER, "hola", customer_name="Otra Persona")
    created = await _create(clara, "RECTIFICATION", phone=PHONE, details="Mi nombre es Juan Pérez")
    rid = created["id"]
    reviewed = (await clara.post(f"{URL}/{rid}/review")).json()
    assert reviewed["blocked"] is True
    async with _sessions(app)() as session:
        assert await service.blocking_numbers(session, PHONE, None) == [created["number"]]
        assert await service.blocking_numbers(session, OTHER, None) == []
    missing = await clara.post(f"{URL}/{rid}/complete", json={})
    assert missing.status_code == 422
    done = await clara.post(f"{URL}/{rid}/complete", json={"customerName": "Juan Pérez"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "COMPLETED"
    assert body["blocked"] is False
    assert body["result"]["changed"] == 2
    # The call has no name; the chat's name and reference, masked.
    assert body["result"]["before"] == [
        {"customerName": None, "customerRef": None},
        {"customerName": "J*** P****", "customerRef": "CL*-9"},
    ]
    assert body["result"]["after"]["customerName"] == "J*** P****"
    assert "Juan Pérez" not in str(body["result"])
    assert "Jaun" not in str(body["result"])
    async with _sessions(app)() as session:
        assert (await session.get(Interaction, mine.id)).customer_name == "Juan Pérez"  # type: ignore[union-attr]
        assert (await session.get(Interaction, other.id)).customer_name == "Otra Persona"  # type: ignore[union-attr]
        assert await service.blocking_numbers(session, PHONE, None) == []
    completed = [r for r in await _audit(app, rid) if r.action == "subject_request.completed"]
    assert "Juan Pérez" not in str(completed[0].metadata_)
    # Corrected values belong to a rectification only.
    access = await _create(clara, "ACCESS", phone=PHONE)
    wrong = await clara.post(f"{URL}/{access['id']}/complete", json={"customerName": "X"})
    assert wrong.status_code == 422


async def test_a_request_is_refused_with_its_reason(app: FastAPI, clara: httpx.AsyncClient) -> None:
    created = await _create(clara, "RECTIFICATION", customerRef="CLI-5")
    rid = created["id"]
    blank = await clara.post(f"{URL}/{rid}/refuse", json={"reason": "   "})
    assert blank.status_code == 422
    refused = await clara.post(f"{URL}/{rid}/refuse", json={"reason": "No acreditó identidad"})
    assert refused.status_code == 200
    assert refused.json()["status"] == "REFUSED"
    assert refused.json()["refusalReason"] == "No acreditó identidad"
    assert (await clara.post(f"{URL}/{rid}/review")).status_code == 409
    assert [r.action for r in await _audit(app, rid)][-1] == "subject_request.refused"


# --- deletion under a legal hold ---------------------------------------------------------------


async def _hold(app: FastAPI, **values: Any) -> LegalHold:
    async with _sessions(app)() as session:
        hold = LegalHold(
            id=uuid.uuid4(),
            scope=HoldScope.CUSTOMER,
            reason="Oficio judicial 123/2026 del Juzgado Comercial N.º 4",
            created_by="clara",
            created_at=datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
            **values,
        )
        await f.save(session, hold)
        return hold


async def test_a_deletion_under_a_legal_hold_is_refused_naming_the_hold_and_deletes_nothing(
    app: FastAPI, clara: httpx.AsyncClient
) -> None:
    await _customer(app, PHONE, "guardame esto")
    hold = await _hold(app, customer_phone=PHONE)
    messages = await _count(app, Message)
    created = await _create(clara, "DELETION", phone=PHONE, details="Borren todo")
    reviewed = await clara.post(f"{URL}/{created['id']}/review")
    assert reviewed.status_code == 200, reviewed.text
    body = reviewed.json()
    assert body["status"] == "REFUSED"
    assert body["blocked"] is False
    reason = body["refusalReason"]
    assert str(hold.id) in reason
    assert "02/11/2026" in reason
    assert "Oficio judicial 123/2026" in reason
    assert "retención legal" in reason
    assert await _count(app, Message) == messages
    refused = [r for r in await _audit(app, created["id"]) if r.action.endswith("refused")]
    assert refused[0].metadata_ is not None
    assert refused[0].metadata_["automatic"] is True
    assert refused[0].metadata_["holds"] == [str(hold.id)]
    assert (await clara.get(f"{URL}/{created['id']}/certificate")).status_code == 409


async def test_a_hold_placed_during_the_review_refuses_the_completion(
    app: FastAPI, clara: httpx.AsyncClient
) -> None:
    chat = await _customer(app, PHONE, "guardame esto")
    created = await _create(clara, "DELETION", phone=PHONE)
    assert (await clara.post(f"{URL}/{created['id']}/review")).json()["blocked"] is True
    hold = await _interaction_hold(app, chat)
    messages = await _count(app, Message)
    done = await clara.post(f"{URL}/{created['id']}/complete")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "REFUSED"
    assert str(hold.id) in done.json()["refusalReason"]
    assert await _count(app, Message) == messages


async def _interaction_hold(app: FastAPI, chat: Interaction) -> LegalHold:
    async with _sessions(app)() as session:
        hold = LegalHold(
            id=uuid.uuid4(),
            scope=HoldScope.INTERACTION,
            interaction_id=chat.id,
            reason="Reclamo ante el BCRA en trámite",
            created_by="clara",
        )
        await f.save(session, hold)
        return hold


# --- who may act ------------------------------------------------------------------------------


async def test_agents_and_supervisors_are_refused_on_every_route(
    app: FastAPI, client: httpx.AsyncClient, people: dict[str, httpx.AsyncClient]
) -> None:
    created = await _create(client, "ACCESS", phone=PHONE)
    rid = created["id"]
    routes: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", URL, {"json": {"kind": "ACCESS", "phone": PHONE}}),
        ("GET", URL, {}),
        ("GET", f"{URL}/{rid}", {}),
        ("POST", f"{URL}/{rid}/review", {}),
        ("POST", f"{URL}/{rid}/complete", {}),
        ("POST", f"{URL}/{rid}/refuse", {"json": {"reason": "x"}}),
        ("GET", f"{URL}/{rid}/export", {}),
        ("GET", f"{URL}/{rid}/certificate", {}),
        # A malformed body is refused for the role first.
        ("POST", URL, {"json": {"kind": 7}}),
    ]
    for who in ("ana", "sup"):
        for method, url, options in routes:
            response = await people[who].request(method, url, **options)
            assert response.status_code == 403, (who, method, url, response.text)
            assert response.json()["error"]["code"] == "forbidden"
            assert PHONE not in response.text
    # Nothing changed.
    assert (await client.get(f"{URL}/{rid}")).json()["status"] == "RECEIVED"
    assert len(await _audit(app, rid)) == 1


async def test_an_unknown_request_and_bad_input_answer_4xx(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{URL}/{uuid.uuid4()}")).status_code == 404
    assert (await client.post(f"{URL}/{uuid.uuid4()}/review")).status_code == 404
    nobody = await client.post(URL, json={"kind": "ACCESS"})
    assert nobody.status_code == 422
    bad_phone = await client.post(URL, json={"kind": "ACCESS", "phone": "12"})
    assert bad_phone.json()["error"]["code"] == "invalid_phone"
    assert (await client.post(URL, json={"kind": "ERASE", "phone": PHONE})).status_code == 422
    assert (await client.get(URL, params={"status": "LOST"})).status_code == 422
    fmt = await client.get(f"{URL}/{uuid.uuid4()}/export", params={"format": "pdf"})
    assert fmt.status_code == 422


async def test_the_list_filters_and_sorts_by_due_date(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    past = datetime.now(UTC) - timedelta(days=40)
    monkeypatch.setattr(service, "utcnow", lambda: past)
    late = await _create(client, "ACCESS", phone=PHONE)
    monkeypatch.undo()
    deletion = await _create(client, "DELETION", phone=OTHER)
    access = await _create(client, "ACCESS", customerRef="CLI-3")
    listed = (await client.get(URL)).json()["items"]
    assert next(i["id"] for i in listed) == late["id"]
    assert [i["dueAt"] for i in listed] == sorted(i["dueAt"] for i in listed)
    assert listed[0]["clock"] == "overdue"
    overdue = (await client.get(URL, params={"overdue": "true"})).json()["items"]
    assert [i["id"] for i in overdue] == [late["id"]]
    kinds = (await client.get(URL, params={"kind": "DELETION"})).json()["items"]
    assert [i["id"] for i in kinds] == [deletion["id"]]
    assert access["id"] in {i["id"] for i in listed}
    received = (await client.get(URL, params={"status": "RECEIVED"})).json()["items"]
    assert len(received) == 3


# --- races ------------------------------------------------------------------------------------


async def test_racing_creates_get_distinct_numbers(app: FastAPI, client: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(
        *(client.post(URL, json={"kind": "ACCESS", "phone": PHONE}) for _ in range(6))
    )
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    numbers = sorted(a.json()["number"] for a in answers)
    assert len(set(numbers)) == 6
    year = numbers[0].split("-")[1]
    assert numbers == [f"SDP-{year}-{n:06d}" for n in range(1, 7)]


async def test_racing_completions_have_one_effect(
    app: FastAPI, client: httpx.AsyncClient, clara: httpx.AsyncClient
) -> None:
    await _customer(app, PHONE, "hola", customer_name="Jaun")
    created = await _create(client, "RECTIFICATION", phone=PHONE)
    rid = created["id"]
    answers = await asyncio.gather(
        client.post(f"{URL}/{rid}/complete", json={"customerName": "Juan"}),
        clara.post(f"{URL}/{rid}/complete", json={"customerName": "Juana"}),
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()
    completed = [r for r in await _audit(app, rid) if r.action == "subject_request.completed"]
    assert len(completed) == 1
    async with _sessions(app)() as session:
        names = set(
            await session.scalars(
                select(Interaction.customer_name).where(Interaction.customer_phone == PHONE)
            )
        )
    assert len(names) == 1
    assert winner["result"]["after"]["customerName"] in ("J***", "J****")


# --- deletion ---------------------------------------------------------------------------------


async def test_a_deletion_erases_pseudonymizes_and_certifies_what_went_and_what_stayed(
    app: FastAPI, clara: httpx.AsyncClient
) -> None:
    chat = await _customer(app, PHONE, "borrame esto", customer_name="Juan", customer_ref="C-1")
    other = await _customer(app, OTHER, "esto queda")
    async with _sessions(app)() as session:
        # An internal note about them and their survey comment go too (the score stays).
        session.add_all(
            [
                InteractionNote(interaction_id=chat.id, author="ana", body="Juan llama seguido"),
                InteractionNote(interaction_id=other.id, author="ana", body="Otra persona"),
                CsatSurvey(
                    interaction_id=chat.id,
                    channel=Channel.WHATSAPP,
                    handler=Handler.PERSON,
                    expires_at=utcnow() + timedelta(days=7),
                    score=2,
                    comment="Juan Pérez, muy mala atención",
                ),
                # A complaint of theirs is kept: the regulator's rules ask for its record.
                Complaint(
                    status=ComplaintStatus.CLOSED,
                    source=ComplaintSource.CONSOLE,
                    customer_phone=PHONE,
                    type="cobro indebido",
                    product="cuenta",
                    description="Cobro no reconocido",
                    created_by="ana",
                ),
            ]
        )
        await session.commit()
    created = await _create(clara, "DELETION", phone=PHONE, details="Quiero que me borren")
    rid = created["id"]
    assert (await clara.post(f"{URL}/{rid}/review")).json()["blocked"] is True
    assert (await clara.get(f"{URL}/{rid}/certificate")).status_code == 409
    done = await clara.post(f"{URL}/{rid}/complete")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "COMPLETED"
    assert PHONE not in done.text
    certificate = await clara.get(f"{URL}/{rid}/certificate")
    assert certificate.status_code == 200
    assert certificate.headers["cache-control"] == "no-store"
    document = certificate.json()
    assert document["number"] == created["number"]
    assert document["subject"]["phone"] == "+54911******34"
    assert document["interactions"] == 2
    assert document["deleted"]["message_bodies"] == 1
    assert document["deleted"]["transcripts"] == 1
    assert document["deleted"]["interaction_notes"] == 1
    assert document["deleted"]["satisfaction_comments"] == 1
    assert document["pseudonymized"]["interactions"] == 2
    assert document["completedBy"] == "clara"
    kept = {k["dataClass"]: k for k in document["kept"]}
    assert "PCI DSS 10.5.1" in kept["audit_log"]["reason"]
    assert kept["complaint"]["count"] == 1
    assert "BCRA" in kept["complaint"]["reason"]
    digest = document.pop("sha256")
    assert digest == service.document_sha256(document)
    assert PHONE not in certificate.text
    page = await clara.get(f"{URL}/{rid}/certificate", params={"format": "html"})
    assert "Certificado de supresión" in page.text
    assert digest in page.text
    async with _sessions(app)() as session:
        erased = await session.get(Interaction, chat.id)
        assert erased is not None
        assert erased.customer_phone is not None
        assert erased.customer_phone.startswith("anon-")
        assert erased.customer_name is None
        assert erased.customer_ref is None
        assert erased.from_number == erased.customer_phone
        bodies = set(await session.scalars(select(Message.body)))
        assert bodies == {None, "esto queda"}
        notes = set(await session.scalars(select(InteractionNote.body)))
        assert notes == {"Otra persona"}
        survey = (await session.scalars(select(CsatSurvey))).one()
        assert (survey.score, survey.comment) == (2, None)
        kept_other = await session.get(Interaction, other.id)
        assert kept_other is not None
        assert kept_other.customer_phone == OTHER
    # Nothing is left to export about the number.
    assert (await service_export(app, PHONE, None))["counts"]["interactions"] == 0
    for row in await _audit(app, rid):
        assert PHONE not in str(row.metadata_)


# --- the console --------------------------------------------------------------------------------


async def test_the_console_pages_serve_compliance_and_refuse_agents_and_supervisors(
    app: FastAPI, clara: httpx.AsyncClient
) -> None:
    chat = await _customer(app, PHONE, "hola")
    created = await _create(clara, "DELETION", phone=PHONE)
    await clara.post(f"{URL}/{created['id']}/review")
    officer = await auth.session_client(app, "clara", Role.COMPLIANCE)
    try:
        listing = await officer.get("/compliance/requests")
        assert listing.status_code == 200, listing.text
        assert created["number"] in listing.text
        assert "Solicitudes de titulares de datos" in listing.text
        assert 'data-clock="on_time"' in listing.text
        assert PHONE not in listing.text
        one = await officer.get(f"/compliance/requests/{created['id']}")
        assert one.status_code == 200
        assert "Iniciar la revisión" not in one.text  # reviewed already
        assert 'id="refuse"' in one.text
        assert 'id="complete"' in one.text
    finally:
        await officer.aclose()
    # The customer's conversation says their data is blocked, to whoever opens it.
    admin = await auth.session_client(app, "root", Role.ADMIN)
    try:
        detail = await admin.get(f"/interactions/{chat.id}")
        notice = f"Datos bloqueados: solicitud {created['number']} en revisión"
        assert notice in detail.text
        pane = await admin.get(f"/console/partials/inbox/conversation/{chat.id}")
        assert notice in pane.text
    finally:
        await admin.aclose()
    for name, role in (("ana", Role.AGENT), ("sup", Role.SUPERVISOR)):
        other = await auth.session_client(app, name, role)
        try:
            for url in ("/compliance/requests", f"/compliance/requests/{created['id']}"):
                refused = await other.get(url)
                assert refused.status_code == 403, (name, url)
                assert created["number"] not in refused.text
        finally:
            await other.aclose()


async def test_a_blocked_customer_gets_no_satisfaction_survey_until_the_request_is_decided(
    app: FastAPI, clara: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    chat = await _customer(
        app,
        PHONE,
        "gracias",
        status="COMPLETED",
        outcome="RESOLVED",
        ended_at=now - timedelta(minutes=5),
    )

    async def due() -> list[uuid.UUID]:
        async with _sessions(app)() as session:
            return await outcomes.due_surveys(session, datetime.now(UTC))

    assert chat.id in await due()
    created = await _create(clara, "RECTIFICATION", phone=PHONE)
    await clara.post(f"{URL}/{created['id']}/review")
    assert chat.id not in await due()
    await clara.post(f"{URL}/{created['id']}/refuse", json={"reason": "No acreditó identidad"})
    assert chat.id in await due()


def test_the_certificate_says_how_long_audit_rows_stay() -> None:
    # RETENTION_AUDIT_ROWS_DAYS=0 keeps them always; a term is said in days.
    always = Settings(_env_file=None, RETENTION_AUDIT_ROWS_DAYS=0)
    assert "lo conserva siempre" in service.audit_kept_reason(always)
    termed = Settings(_env_file=None, RETENTION_AUDIT_ROWS_DAYS=400)
    assert "durante 400 días" in service.audit_kept_reason(termed)
