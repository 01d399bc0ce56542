"""The wallboard page (docs/service-levels.md, "The wallboard"): each team's queue, people and
service levels for a large screen, for supervisors and admins. The page and its refresh (a
partial, re-read on the live stream's notices at most once a second and every 10 s, by
static/wallboard.js) read the same service as `GET /api/metrics/wallboard`."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from contact_center.console.pages import page, speaker_for
from contact_center.dependencies import SessionDep, SettingsDep, require
from contact_center.models.enums import Availability
from contact_center.principal import Principal, Role
from contact_center.wallboard import service as wallboard

router = APIRouter(include_in_schema=False)
AVAILABILITY_ORDER = [
    Availability.ONLINE,
    Availability.BUSY,
    Availability.AWAY,
    Availability.OFFLINE,
]
SupervisorPage = Annotated[Principal, Depends(require(Role.SUPERVISOR))]


def clock(seconds: int | None) -> str:
    """A wait as a wall clock reads it: 4:05, 1:02:09 (— when nobody waits)."""
    if seconds is None:
        return "—"
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


async def _context(
    request: Request, session: SessionDep, settings: SettingsDep, principal: Principal
) -> dict[str, Any]:
    board = await wallboard.wallboard(session, settings, principal)
    speaker = speaker_for(request)
    # Short: a large screen's team column and chart labels have room for a word or two.
    pool = speaker.gettext("Shared pool")
    chart = {
        "teams": [t.name or pool for t in board.teams],
        "waiting": [t.waiting for t in board.teams],
        "assigned": [t.open_assigned for t in board.teams],
        "labels": {
            "waiting": speaker.gettext("Waiting"),
            "assigned": speaker.gettext("With a person"),
        },
    }
    # Who can take work first (online, then busy, away, offline), the busiest first.
    agents = sorted(
        board.agents,
        key=lambda a: (AVAILABILITY_ORDER.index(a.availability), -a.load, a.username),
    )
    return {
        "board": board,
        "agents": agents,
        "clock": clock,
        "pool": pool,
        "chart": json.dumps(chart),
    }


def _rendered(request: Request, name: str, board: dict[str, Any]) -> HTMLResponse:
    response = page(request, name, active="wallboard", **board)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/wallboard", response_class=HTMLResponse)
async def wallboard_page(
    request: Request, session: SessionDep, settings: SettingsDep, principal: SupervisorPage
) -> HTMLResponse:
    return _rendered(
        request, "wallboard.html", await _context(request, session, settings, principal)
    )


@router.get("/console/wallboard/board", response_class=HTMLResponse)
async def wallboard_partial(
    request: Request, session: SessionDep, settings: SettingsDep, principal: SupervisorPage
) -> HTMLResponse:
    return _rendered(
        request, "_wallboard.html", await _context(request, session, settings, principal)
    )
