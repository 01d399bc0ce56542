"""The agent inbox (docs/inbox.md, "The console"): views, the list of a view, one conversation.

`/`, `/inbox` and `/inbox/{id}` are full pages; the panes are partials htmx swaps in place
(static/inbox.js refreshes them on the live stream's notices). Everything reads through the
inbox, interactions and search services with the reader's principal, so an agent asking for
another agent's conversation gets the same 404 as the API gives.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from contact_center.console.labels import N_
from contact_center.console.pages import page, runtime_of, speaker_for
from contact_center.db.base import utcnow
from contact_center.dependencies import AuditContextDep, SessionDep
from contact_center.errors import Forbidden
from contact_center.inbox import presence
from contact_center.inbox import service as inbox
from contact_center.inbox.service import InboxCounts, InboxQuery
from contact_center.interactions import service as interactions
from contact_center.interactions import workflow
from contact_center.messaging import bot
from contact_center.models.enums import Channel
from contact_center.principal import Principal, Role
from contact_center.search import service as search
from contact_center.service_levels import service as service_levels
from contact_center.subject_requests import service as subject_requests

router = APIRouter(include_in_schema=False)
# `/` is everyone's first page: the inbox, or a compliance officer's legal holds (the inbox's
# router is for conversation work, which they do not do).
home = APIRouter(include_in_schema=False)

ViewName = Literal["mine", "unassigned", "team", "all", "snoozed", "resolved", "label"]
LIST_SIZE = 50
# A live refresh reloads as many rows as "Load more" showed, up to this many (then one page).
MAX_SHOWN = 200
SEARCH_SIZE = 30
VIEW_TITLES = {
    "mine": N_("Mine"),
    "unassigned": N_("Unassigned"),
    "all": N_("All"),
    "snoozed": N_("Snoozed"),
    "resolved": N_("Resolved conversations"),
}


class ListParams:
    """The list pane's query: a view and its filters (validated as the API validates them)."""

    def __init__(
        self,
        view: Annotated[ViewName | None, Query()] = None,
        team: Annotated[uuid.UUID | None, Query()] = None,
        label: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        channel: Annotated[Channel | None, Query()] = None,
        skip: Annotated[int, Query(ge=0, le=inbox.MAX_SKIP)] = 0,
        shown: Annotated[int, Query(ge=0, le=inbox.MAX_SKIP)] = 0,
    ) -> None:
        self.explicit = view is not None
        self.view: ViewName = view or "mine"
        self.team = team if self.view == "team" else None
        self.label = label if self.view == "label" else None
        self.channel = channel
        # "Load more": the page after the `skip` rows shown. A refresh: `shown` rows again.
        self.skip = skip
        self.shown = shown

    def query(self) -> str:
        values: dict[str, str] = {"view": self.view}
        if self.team:
            values["team"] = str(self.team)
        if self.label:
            values["label"] = self.label
        if self.channel:
            values["channel"] = self.channel.value
        return urlencode(values)


def _labels(counts: InboxCounts, params: ListParams) -> list[tuple[str, int | None]]:
    """The views pane's labels: those of the open conversations the reader sees, most used
    first, and the open label view's own even when none of those carry it any more."""
    labels: list[tuple[str, int | None]] = [(c.label, c.conversations) for c in counts.labels]
    current = " ".join((params.label or "").split()).lower()
    if current and current not in {label for label, _ in labels}:
        labels.append((params.label or current, None))
    return labels


def _me(principal: Principal) -> str:
    return principal.actor_id


def _inbox_query(params: ListParams, skip: int, limit: int) -> InboxQuery:
    return InboxQuery(
        view=inbox.View(params.view),
        team_id=params.team,
        label=params.label,
        channel=params.channel,
        limit=limit,
        skip=skip,
    )


async def _rows(
    session: SessionDep, principal: Principal, params: ListParams
) -> tuple[list[Any], bool]:
    """The rows the list shows: one page after `skip`, or (a refresh) as many as were shown,
    whole pages up to MAX_SHOWN (beyond that, the first page again)."""
    if params.skip:
        found = await inbox.list_inbox(
            session, principal, _inbox_query(params, params.skip, LIST_SIZE)
        )
        return list(found.items), found.has_more
    pages = -(-params.shown // LIST_SIZE) if params.shown <= MAX_SHOWN else 1
    wanted = max(1, pages) * LIST_SIZE
    items: list[Any] = []
    has_more = False
    while len(items) < wanted:
        limit = min(inbox.MAX_LIMIT, wanted - len(items))
        found = await inbox.list_inbox(session, principal, _inbox_query(params, len(items), limit))
        items += found.items
        has_more = found.has_more
        if not has_more:
            break
    return items, has_more


async def _list_context(
    request: Request,
    session: SessionDep,
    principal: Principal,
    params: ListParams,
    *,
    with_views: bool = True,
) -> dict[str, Any]:
    """The list pane's rows and title; `with_views`, also the views pane's sizes and labels (a
    whole page: the list partial alone does not show them, the views partial reads its own)."""
    items, has_more = await _rows(session, principal, params)
    counts = await inbox.counts(session, principal) if with_views else None
    speaker = speaker_for(request)
    if params.view == "team":
        title = (await inbox.team_name(session, params.team) or "") if params.team else ""
    elif params.view == "label":
        title = f"#{params.label}"
    else:
        title = speaker.gettext(VIEW_TITLES[params.view])
    views: dict[str, Any] = (
        {"counts": counts, "labels": _labels(counts, params)} if counts is not None else {}
    )
    return {
        "items": items,
        "has_more": has_more,
        "skip": 0,
        **views,
        "view": params.view,
        "current_team": str(params.team or ""),
        "current_label": params.label or "",
        "view_title": title,
        "list_query": params.query(),
    }


async def _conversation_context(
    session: SessionDep, context: AuditContextDep, interaction_id: uuid.UUID
) -> dict[str, Any]:
    """One conversation, masked, for the reader (404 outside their scope), marked read."""
    principal = context.principal
    detail = await interactions.get_interaction(
        session,
        interaction_id,
        all_messages=True,
        all_events=True,
        reveal=False,
        viewer=principal,
    )
    if principal.user_id is not None:  # read marks are a signed-in person's
        newest = detail.messages[-1] if detail.messages else None
        await inbox.mark_shown(
            session, principal, interaction_id, (newest.id, newest.created_at) if newest else None
        )
    paused = detail.channel is Channel.WHATSAPP and bot.bot_paused(e.type for e in detail.events)
    return {
        "item": detail,
        "sla": await service_levels.pending(session, interaction_id),
        "bot_paused": paused,
        "is_open": detail.status in workflow.OPEN,
        "me": _me(principal),
        "blocked_by": await subject_requests.blocking_conversation(session, interaction_id),
    }


def _view_holding(item: Any, principal: Principal) -> ViewName:
    """The view to list beside a conversation opened by its address: the one that holds it."""
    if item.status not in workflow.OPEN:
        return "resolved"
    if item.snoozed_until is not None and item.snoozed_until > utcnow():
        return "snoozed"
    if item.assigned_agent == _me(principal):
        return "mine"
    if item.assigned_agent is None:
        return "unassigned"
    return "mine" if principal.agent_scope is not None else "all"


@router.get("/inbox", response_class=HTMLResponse)
async def inbox_page(
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    params: Annotated[ListParams, Depends()],
) -> HTMLResponse:
    """The inbox: views, the list of one view (Mine by default), no conversation open."""
    data = await _list_context(request, session, context.principal, params)
    return page(request, "inbox.html", active="inbox", item=None, open_id=None, **data)


@home.get("/", response_class=HTMLResponse)
async def home_page(
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    params: Annotated[ListParams, Depends()],
) -> Response:
    if not context.principal.allows(Role.AGENT) and context.principal.handles_compliance:
        return RedirectResponse("/compliance/holds", status_code=303)
    if not context.principal.allows(Role.AGENT):
        raise Forbidden("This needs the agent role.", code="forbidden")
    return await inbox_page(request, session, context, params)


@router.get("/inbox/{interaction_id}", response_class=HTMLResponse)
async def inbox_conversation_page(
    interaction_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    params: Annotated[ListParams, Depends()],
    hit: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """The inbox with one conversation open (`hit`: the message a search found, or
    `transcript` / `summary`)."""
    conversation = await _conversation_context(session, context, interaction_id)
    if not params.explicit:
        params.view = _view_holding(conversation["item"], context.principal)
    data = await _list_context(request, session, context.principal, params)
    return page(
        request,
        "inbox.html",
        active="inbox",
        open_id=interaction_id,
        hit=hit,
        q=q,
        **conversation,
        **data,
    )


@router.get("/console/partials/inbox/list", response_class=HTMLResponse)
async def inbox_list(
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    params: Annotated[ListParams, Depends()],
    open_id: Annotated[uuid.UUID | None, Query(alias="open")] = None,
) -> HTMLResponse:
    """The list pane of one view; with `skip`, the next page's rows alone (appended to the
    list), with "Load more" out of band."""
    if params.skip:
        items, has_more = await _rows(session, context.principal, params)
        return page(
            request,
            "_inbox_page.html",
            open_id=open_id,
            items=items,
            has_more=has_more,
            skip=params.skip,
            list_query=params.query(),
            oob=True,
        )
    data = await _list_context(request, session, context.principal, params, with_views=False)
    return page(request, "_inbox_list.html", open_id=open_id, **data)


@router.get("/console/partials/inbox/views", response_class=HTMLResponse)
async def inbox_views(
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    params: Annotated[ListParams, Depends()],
) -> HTMLResponse:
    """The views pane with the views' sizes and Mine's unread count."""
    counts: InboxCounts = await inbox.counts(session, context.principal)
    return page(
        request,
        "_inbox_views.html",
        counts=counts,
        labels=_labels(counts, params),
        view=params.view,
        current_team=str(params.team or ""),
        current_label=params.label or "",
        list_query=params.query(),
    )


@router.get("/console/partials/inbox/conversation/{interaction_id}", response_class=HTMLResponse)
async def inbox_conversation(
    interaction_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    hit: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """The conversation pane (opening it marks it read; `hit` and `q`: what a search found)."""
    data = await _conversation_context(session, context, interaction_id)
    response = page(request, "_inbox_conversation.html", hit=hit, q=q, **data)
    response.headers["HX-Trigger"] = "cc:opened"
    return response


@router.get(
    "/console/partials/inbox/conversation/{interaction_id}/thread", response_class=HTMLResponse
)
async def inbox_thread(
    interaction_id: uuid.UUID, request: Request, session: SessionDep, context: AuditContextDep
) -> HTMLResponse:
    """The open conversation's thread, refreshed live (what is shown is read)."""
    data = await _conversation_context(session, context, interaction_id)
    return page(request, "_inbox_thread.html", oob=True, **data)


@router.get(
    "/console/partials/inbox/conversation/{interaction_id}/customer", response_class=HTMLResponse
)
async def inbox_customer(
    interaction_id: uuid.UUID, request: Request, session: SessionDep, context: AuditContextDep
) -> HTMLResponse:
    """The customer's panel: their interactions across channels that the reader may see."""
    found = await interactions.visible_interaction(session, interaction_id, context.principal)
    profile = None
    if found.customer_phone:
        profile = await interactions.customer_profile(
            session,
            found.customer_phone,
            all_messages=False,
            all_events=False,
            reveal=False,
            viewer=context.principal,
        )
    return page(request, "_inbox_customer.html", profile=profile, current=interaction_id)


@router.get(
    "/console/partials/inbox/conversation/{interaction_id}/presence", response_class=HTMLResponse
)
async def inbox_presence(
    interaction_id: uuid.UUID, request: Request, session: SessionDep, context: AuditContextDep
) -> HTMLResponse:
    """Who else is viewing or typing in this conversation now."""
    found = await presence.viewers(
        session, runtime_of(request).presence, context.principal, interaction_id
    )
    others = [v for v in found if v.username != _me(context.principal)]
    return page(request, "_inbox_presence.html", viewers=others)


@router.get("/console/partials/inbox/search", response_class=HTMLResponse)
async def inbox_search(
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """Search results in the list pane (an empty box: the list again, by the script)."""
    words = q.strip()
    results: list[Any] = []
    if words:
        found = await search.search(session, context.principal, words, SEARCH_SIZE, 0)
        results = list(found.items)
    return page(request, "_inbox_search.html", q=words, results=results)
