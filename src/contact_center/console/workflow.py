"""The conversation workflow on the detail page (docs/workflow.md): who holds it, its team,
priority, labels and snooze, the lifecycle actions, and its private notes.

The actions post JSON to the API itself (static/console.js, `data-api` forms); these routes
only render what the forms need: the people and teams to pick from, the state, the notes.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from contact_center.auth.reveal import RevealAsk
from contact_center.console.pages import page
from contact_center.dependencies import AuditContextDep, SessionDep, SettingsDep
from contact_center.interactions import service as interactions
from contact_center.interactions import workflow
from contact_center.models.enums import Priority
from contact_center.notes import service as notes
from contact_center.outcomes import service as outcomes

router = APIRouter(include_in_schema=False)

# Resolution codes offered (any other code of letters, digits, '_' and '-' is accepted).
RESOLUTION_CODES = ("answered", "solved_by_bot", "no_response", "duplicate", "referred", "spam")


@router.get("/console/partials/interactions/{interaction_id}/workflow", response_class=HTMLResponse)
async def workflow_panel(
    interaction_id: uuid.UUID, request: Request, session: SessionDep, context: AuditContextDep
) -> HTMLResponse:
    """The conversation's workflow state and the actions its state allows (masked as the
    detail is; an agent gets the same 404 for another agent's conversation)."""
    detail = await interactions.get_interaction(
        session,
        interaction_id,
        all_messages=False,
        all_events=False,
        reveal=False,
        viewer=context.principal,
    )
    offered = await workflow.choices(session)
    found = outcomes.csat_out(
        await outcomes.outcomes_for(session, interaction_id, context.principal)
    )
    scope = context.principal.agent_scope
    people = [p for p in offered.people if scope is None or p[0] == scope]
    return page(
        request,
        "_workflow_panel.html",
        item=detail,
        people=people,
        teams=offered.teams,
        team_name=offered.team_name(detail.team_id),
        is_open=detail.status in workflow.OPEN,
        reopenable=detail.status in workflow.REOPENABLE,
        is_agent=scope is not None,
        priorities=list(Priority),
        resolution_codes=RESOLUTION_CODES,
        survey=found.survey,
        repeat=found.repeat_contact,
    )


@router.get("/console/partials/interactions/{interaction_id}/notes", response_class=HTMLResponse)
async def notes_list(
    interaction_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
) -> HTMLResponse:
    """The conversation's private notes, oldest first, masked."""
    found = await notes.list_notes(session, settings, context, interaction_id, RevealAsk())
    return page(request, "_notes_list.html", notes=found)
