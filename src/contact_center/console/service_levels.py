"""The service-levels page (docs/service-levels.md): policies, the default business hours,
each team's own hours, the bank's closed days and the national holidays ahead. Admins change
them (the forms call the API, `data-api`); supervisors read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from contact_center.console.pages import page, speaker_for
from contact_center.dependencies import SessionDep, require
from contact_center.models.enums import Channel, Priority, SlaAction
from contact_center.principal import Principal, Role
from contact_center.service_levels import service
from contact_center.service_levels.calendar import WEEKDAYS
from contact_center.teams import service as teams

router = APIRouter(include_in_schema=False)
SupervisorPage = Annotated[Principal, Depends(require(Role.SUPERVISOR))]


def _intervals(hours: dict[str, list[dict[str, str]]], day: str) -> str:
    """A weekday's hours as the form shows them: `09:00-13:00, 14:00-18:00`."""
    return ", ".join(f"{i['opens']}-{i['closes']}" for i in hours.get(day, []))


@router.get("/admin/service-levels", response_class=HTMLResponse)
async def service_levels_page(
    request: Request, session: SessionDep, principal: SupervisorPage
) -> HTMLResponse:
    settings = request.app.state.settings
    speaker = speaker_for(request)
    calendar = await service.business_calendar(session, settings.app_timezone)
    listed = await teams.list_teams(session)
    today = datetime.now(settings.zone).date()
    language = "es" if speaker.language.startswith("es") else "en_US"
    return page(
        request,
        "service_levels.html",
        speaker=speaker,
        active="service-levels",
        editable=principal.role is Role.ADMIN,
        policies=(await service.list_policies(session)).items,
        calendar=calendar,
        teams=listed.items,
        team_names={t.id: t.name for t in listed.items},
        weekdays=WEEKDAYS,
        intervals=_intervals,
        holidays=await service.upcoming_holidays(
            session, today, settings.app_timezone, language=language
        ),
        channels=[c.value for c in (Channel.WHATSAPP, Channel.SMS)],
        priorities=[p.value for p in Priority],
        actions=[a.value for a in SlaAction],
    )
