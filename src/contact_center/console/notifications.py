"""A person's notifications in the console (docs/workflow.md): the count in the header and a
simple list; marking them read posts to the API (static/console.js, `data-api` forms)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from contact_center.console.pages import page
from contact_center.dependencies import AuditContextDep, SessionDep
from contact_center.notes import service as notes

router = APIRouter(include_in_schema=False)
LIST_SIZE = 100


@router.get("/notifications", response_class=HTMLResponse)
async def notifications_page(
    request: Request, session: SessionDep, context: AuditContextDep
) -> HTMLResponse:
    """The caller's own notifications, newest first."""
    found = await notes.notifications(
        session, context.principal, unread_only=False, limit=LIST_SIZE
    )
    return page(request, "notifications.html", active="notifications", notifications=found)


@router.get("/console/partials/notifications/badge", response_class=HTMLResponse)
async def notifications_badge(
    request: Request, session: SessionDep, context: AuditContextDep
) -> HTMLResponse:
    """The header's link to the list, with the caller's unread count."""
    return page(
        request,
        "_notifications_badge.html",
        unread=await notes.unread(session, context.principal),
        loaded=True,
    )
