"""Console page of legal holds (docs/data-lifecycle.md, "Legal hold"): compliance officers and
admins. The forms call the API (`data-api`); this route only reads, through the holds service."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from contact_center.console.pages import page
from contact_center.dependencies import ComplianceDep, SessionDep
from contact_center.holds import service as holds
from contact_center.holds.schemas import MAX_REASON, MIN_REASON, HoldState
from contact_center.models.enums import HoldScope

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/compliance/holds", response_class=HTMLResponse)
async def holds_page(
    request: Request,
    session: SessionDep,
    principal: ComplianceDep,
    state: Annotated[HoldState | None, Query()] = None,
    scope: Annotated[HoldScope | None, Query()] = None,
    skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    """Active holds first; a form to place one (by scope) and, on each active hold, one to
    release it with a reason."""
    listed = await holds.listing(
        session, principal, state=state, scope=scope, limit=PAGE_SIZE, skip=skip
    )
    query = {k: v for k, v in request.query_params.items() if k != "skip" and v}
    return page(
        request,
        "holds.html",
        active="holds",
        holds=listed.items,
        has_more=listed.has_more,
        skip=skip,
        query=query,
        filtered=bool(state or scope),
        states=[s.value for s in HoldState],
        scopes=[s.value for s in HoldScope],
        min_reason=MIN_REASON,
        max_reason=MAX_REASON,
        prev_url=f"?{urlencode({**query, 'skip': max(0, skip - PAGE_SIZE)})}",
        next_url=f"?{urlencode({**query, 'skip': skip + PAGE_SIZE})}",
    )
