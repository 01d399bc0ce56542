"""HTTP route of search (docs/inbox.md, "Search")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from contact_center.dependencies import AuditContextDep, SessionDep
from contact_center.schemas import ERROR_RESPONSES
from contact_center.search import service
from contact_center.search.schemas import SearchPage

router = APIRouter(prefix="/api/search", tags=["search"], responses=ERROR_RESPONSES)


@router.get("", response_model=SearchPage, summary="Search conversations")
async def search(
    session: SessionDep,
    context: AuditContextDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="Words to find (every one of them; operators and quotes are words, "
            "never query syntax), an exact customer reference, or 3 or more digits of the "
            "customer's number.",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    skip: Annotated[int, Query(ge=0, le=service.MAX_SKIP)] = 0,
) -> SearchPage:
    """Message texts, call transcripts and call summaries, and customers, newest first, among
    the conversations the caller may see. Snippets are masked."""
    return await service.search(session, context.principal, q, limit, skip)
