"""The complaints pages (docs/complaints.md, "Console"): the cases by due date with the clock's
colour, one case's page, the dashboard's counts, and an agent sees only their teams' cases."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from contact_center.db.base import utcnow
from contact_center.models.complaint import Complaint
from contact_center.models.enums import ComplaintSource, ComplaintStatus, Role
from tests import auth
from tests import factories as f
from tests.test_complaint_evidence import Case, seed_case


async def seed_clocks(app: FastAPI, case: Case) -> dict[str, uuid.UUID]:
    """Beside the seeded case (on time, team A): one overdue and one near its due date in team
    A, one answered in team A, one overdue in team B, and a draft owned by Ana in no team."""
    now = utcnow()

    def complaint(
        number: str | None, status: ComplaintStatus, team: uuid.UUID | None, **more: object
    ) -> Complaint:
        return Complaint(
            number=number,
            status=status,
            source=ComplaintSource.CONSOLE,
            customer_phone="+5491155550000",
            type="COBRO_INDEBIDO",
            product="CUENTA",
            description="Reclamo de prueba",
            created_by="sup",
            team_id=team,
            **more,
        )

    rows = {
        "overdue": complaint(
            "R-2026-000001",
            ComplaintStatus.IN_PROGRESS,
            case.team_a,
            opened_at=now - timedelta(days=20),
            due_at=now - timedelta(days=3),
            warn_at=now - timedelta(days=6),
        ),
        "warning": complaint(
            "R-2026-000002",
            ComplaintStatus.OPEN,
            case.team_a,
            opened_at=now - timedelta(days=10),
            due_at=now + timedelta(days=1),
            warn_at=now - timedelta(days=1),
        ),
        "answered": complaint(
            "R-2026-000003",
            ComplaintStatus.ANSWERED,
            case.team_a,
            opened_at=now - timedelta(days=10),
            due_at=now + timedelta(days=5),
            answered_at=now - timedelta(days=1),
        ),
        "other_team": complaint(
            "R-2026-000004",
            ComplaintStatus.OPEN,
            case.team_b,
            opened_at=now - timedelta(days=20),
            due_at=now - timedelta(days=1),
        ),
        "draft": complaint(None, ComplaintStatus.DRAFT, None, owner="ana"),
    }
    async with app.state.session_factory() as session:
        await f.save(session, *rows.values())
    return {name: row.id for name, row in rows.items()}


@pytest.fixture
async def people(app: FastAPI) -> dict[str, httpx.AsyncClient]:
    return {
        name: await auth.session_client(app, name, role)
        for name, role in (("ana", Role.AGENT), ("bruno", Role.AGENT), ("sup", Role.SUPERVISOR))
    }


async def test_the_cases_page_lists_by_due_date_with_the_clocks_colour(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    case = await seed_case(app)
    ids = await seed_clocks(app, case)
    page = await people["sup"].get("/complaints")
    assert page.status_code == 200, page.text
    html = page.text
    order = [
        str(ids["overdue"]),
        str(ids["other_team"]),
        str(ids["warning"]),
        str(ids["answered"]),
        str(case.complaint),
        str(ids["draft"]),
    ]
    positions = [html.index(f'data-complaint="{i}"') for i in order]
    assert positions == sorted(positions)
    for state in ("overdue", "warning", "on_time", "stopped", "draft"):
        assert f'data-clock="{state}"' in html, state
    # Spanish by default; the customer masked.
    assert "Vencido" in html
    assert "+5491155550000" not in html
    # Filters: overdue only, and a product.
    overdue = (await people["sup"].get("/complaints", params={"overdue": "1"})).text
    assert str(ids["overdue"]) in overdue
    assert str(case.complaint) not in overdue
    card = (await people["sup"].get("/complaints", params={"product": "TARJETA"})).text
    assert str(case.complaint) in card
    assert str(ids["overdue"]) not in card


async def test_an_agent_sees_only_their_teams_and_own_cases(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    case = await seed_case(app)
    ids = await seed_clocks(app, case)
    anas = (await people["ana"].get("/complaints")).text
    for mine in (case.complaint, ids["overdue"], ids["draft"]):
        assert str(mine) in anas
    assert str(ids["other_team"]) not in anas
    brunos = (await people["bruno"].get("/complaints")).text
    assert str(ids["other_team"]) in brunos
    assert str(case.complaint) not in brunos
    assert (await people["bruno"].get(f"/complaints/{case.complaint}")).status_code == 404
    # The dashboard counts what each one sees.
    ana_home = (await people["ana"].get("/dashboard")).text
    assert 'data-complaints="overdue"' in ana_home
    sup_home = (await people["sup"].get("/dashboard")).text
    assert 'data-complaints="open"' in sup_home


async def test_the_case_page_shows_the_clock_conversations_timeline_and_steps(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    case = await seed_case(app)
    page = await people["ana"].get(f"/complaints/{case.complaint}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "R-2026-000123" in html
    assert 'data-clock="on_time"' in html
    assert f'href="/inbox/{case.whatsapp}"' in html
    assert f'href="/inbox/{case.call}"' in html
    assert f'href="/api/complaints/{case.complaint}/evidence"' in html
    assert f'data-api="/api/complaints/{case.complaint}/start"' in html
    assert f'data-api="/api/complaints/{case.complaint}/answer"' in html
    assert f'data-api="/api/complaints/{case.complaint}/confirm"' not in html
    assert "+5491155557788" not in html
    # The evidence link works with the console's session.
    bundle = await people["ana"].get(f"/api/complaints/{case.complaint}/evidence")
    assert bundle.status_code == 200


async def test_the_conversation_page_offers_to_open_a_complaint(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    case = await seed_case(app)
    html = (await people["ana"].get(f"/interactions/{case.whatsapp}")).text
    assert "data-open-complaint" in html
    assert 'data-api="/api/complaints"' in html
    assert f'value="{case.whatsapp}"' in html
