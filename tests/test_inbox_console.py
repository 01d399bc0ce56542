"""The inbox's console pages and partials (docs/inbox.md, "The console"), without a browser:
who sees what, opening marks read, presence between two people, search results, and hostile
query strings answered with a 4xx."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.models import Message
from contact_center.models.enums import Channel, Direction
from contact_center.models.interaction import Interaction, InteractionLabel
from tests import factories as f

Sessions = async_sessionmaker[AsyncSession]
PHONE = "+5491155550911"


async def _conversation(
    sessions: Sessions, agent: str | None, body: str = "Hola, perdí mi tarjeta"
) -> uuid.UUID:
    now = utcnow()
    chat = f.interaction(
        assigned_agent=agent,
        customer_phone=PHONE,
        from_number=PHONE,
        started_at=now,
        last_message_at=now,
    )
    async with sessions() as session:
        await f.save(session, chat, f.message(chat, body=body, direction=Direction.INBOUND))
        await session.commit()
    return chat.id


async def test_the_home_page_is_the_inbox_and_the_dashboard_moved(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    mine = await _conversation(session_factory, "ana")
    ana = people["ana"]
    for path in ("/", "/inbox"):
        home = await ana.get(path)
        assert home.status_code == 200
        assert 'id="inbox"' in home.text
        assert f'id="row-{mine}"' in home.text  # Mine, by default
        assert "Bandeja" in home.text  # es-AR first
    dashboard = await ana.get("/dashboard")
    assert dashboard.status_code == 200
    assert "Mi trabajo" in dashboard.text
    assert 'href="/dashboard"' in dashboard.text


async def test_opening_a_conversation_marks_it_read(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    mine = await _conversation(session_factory, "ana")
    ana = people["ana"]
    listed = (await ana.get("/api/inbox", params={"view": "mine"})).json()["items"]
    assert [i["unread"] for i in listed if i["id"] == str(mine)] == [1]
    page = await ana.get(f"/inbox/{mine}")
    assert page.status_code == 200
    assert f'data-conversation="{mine}"' in page.text
    assert "Hola, perdí mi tarjeta" in page.text
    listed = (await ana.get("/api/inbox", params={"view": "mine"})).json()["items"]
    assert [i["unread"] for i in listed if i["id"] == str(mine)] == [0]
    counts = (await ana.get("/api/inbox/counts")).json()
    assert counts["mine"]["unread"] == 0
    # The pane alone (as htmx asks for it) and its thread.
    pane = await ana.get(f"/console/partials/inbox/conversation/{mine}", params={"hit": "x"})
    assert pane.status_code == 200
    assert 'data-hit="x"' in pane.text
    thread = await ana.get(f"/console/partials/inbox/conversation/{mine}/thread")
    assert "Hola, perdí mi tarjeta" in thread.text
    customer = await ana.get(f"/console/partials/inbox/conversation/{mine}/customer")
    assert customer.status_code == 200
    assert f'href="/inbox/{mine}"' in customer.text
    assert PHONE not in customer.text  # masked


async def test_another_agent_is_refused_and_a_supervisor_sees_all(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    anas = await _conversation(session_factory, "ana")
    bruno, sup = people["bruno"], people["sup"]
    for path in (
        f"/inbox/{anas}",
        f"/console/partials/inbox/conversation/{anas}",
        f"/console/partials/inbox/conversation/{anas}/thread",
        f"/console/partials/inbox/conversation/{anas}/customer",
        f"/console/partials/inbox/conversation/{anas}/presence",
    ):
        refused = await bruno.get(path)
        assert refused.status_code == 404, path
        assert "perdí mi tarjeta" not in refused.text
    assert str(anas) not in (await bruno.get("/inbox", params={"view": "unassigned"})).text
    assert (await bruno.get("/inbox", params={"view": "all"})).status_code == 403
    everything = await sup.get("/inbox", params={"view": "all"})
    assert everything.status_code == 200
    assert f'id="row-{anas}"' in everything.text
    assert (await sup.get(f"/inbox/{anas}")).status_code == 200


async def test_the_presence_marker_names_the_others_only(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    anas = await _conversation(session_factory, "ana")
    ana, sup = people["ana"], people["sup"]
    marker = f"/console/partials/inbox/conversation/{anas}/presence"
    assert (await sup.get(marker)).text.strip() == ""
    beat = await ana.put(f"/api/interactions/{anas}/presence", json={"typing": False})
    assert beat.status_code == 204
    assert "ana está viendo" in (await sup.get(marker)).text
    assert (await ana.get(marker)).text.strip() == ""  # never herself
    await ana.put(f"/api/interactions/{anas}/presence", json={"typing": True})
    assert "ana está escribiendo…" in (await sup.get(marker)).text
    assert (await ana.delete(f"/api/interactions/{anas}/presence")).status_code == 204
    assert (await sup.get(marker)).text.strip() == ""


async def test_search_results_open_the_conversation_at_the_hit(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    anas = await _conversation(session_factory, "ana", body="Quiero denunciar una tarjeta robada")
    found = await people["ana"].get("/console/partials/inbox/search", params={"q": "robada"})
    assert found.status_code == 200
    assert f'href="/inbox/{anas}?hit=' in found.text
    assert "robada" in found.text
    nothing = await people["bruno"].get("/console/partials/inbox/search", params={"q": "robada"})
    assert str(anas) not in nothing.text
    empty = await people["ana"].get("/console/partials/inbox/search", params={"q": "  "})
    assert empty.status_code == 200


def _rows(html: str) -> list[str]:
    return re.findall(r'<li role="option" id="row-([0-9a-f-]+)"', html)


async def test_load_more_appends_the_next_page_and_a_refresh_keeps_what_is_shown(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    now = utcnow()
    chats = [
        f.interaction(
            assigned_agent="ana",
            customer_phone=PHONE,
            started_at=now - timedelta(hours=2),
            last_message_at=now - timedelta(minutes=120 - i),
        )
        for i in range(60)
    ]
    async with session_factory() as session:
        await f.save(session, *chats)
        await session.commit()
    ana = people["ana"]
    first = await ana.get("/inbox")
    shown = _rows(first.text)
    assert len(shown) == 50
    assert "Cargar más" in first.text
    assert "view=mine&amp;skip=50" in first.text
    more = await ana.get("/console/partials/inbox/list", params={"view": "mine", "skip": 50})
    assert more.status_code == 200
    rest = _rows(more.text)
    assert len(rest) == 10
    assert set(rest).isdisjoint(shown)
    assert set(shown + rest) == {str(c.id) for c in chats}
    assert 'data-page-start="50"' in more.text
    # The button goes (out of band): nothing more to load.
    assert 'id="inbox-more" hx-swap-oob="true"' in more.text
    assert "data-load-more" not in more.text
    # A live refresh asks for as many as are shown and keeps them, in order.
    again = await ana.get("/console/partials/inbox/list", params={"view": "mine", "shown": 60})
    assert _rows(again.text) == shown + rest
    # Beyond what a refresh reloads, the first page again.
    reset = await ana.get("/console/partials/inbox/list", params={"view": "mine", "shown": 5000})
    assert _rows(reset.text) == shown
    # Another agent's pages hold none of these.
    other = await people["bruno"].get(
        "/console/partials/inbox/list", params={"view": "mine", "skip": 50}
    )
    assert _rows(other.text) == []
    for hostile in ({"skip": -1}, {"skip": "x"}, {"shown": 10**9}, {"skip": "1\x00"}):
        refused = await ana.get("/console/partials/inbox/list", params=hostile)
        assert refused.status_code == 422, hostile


async def test_the_views_pane_lists_the_labels_of_every_open_conversation_seen(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    anas = await _conversation(session_factory, "ana")
    pool = await _conversation(session_factory, None)
    brunos = await _conversation(session_factory, "bruno")
    async with session_factory() as session:
        await f.save(
            session,
            InteractionLabel(interaction_id=anas, label="tarjeta"),
            InteractionLabel(interaction_id=pool, label="reclamo"),
            InteractionLabel(interaction_id=brunos, label="secreto"),
        )
        await session.commit()
    ana = people["ana"]
    # Mine lists Ana's conversation only, yet the pane holds the pool's label too.
    page = await ana.get("/inbox", params={"view": "mine"})
    assert f'id="row-{pool}"' not in page.text
    for text in (page.text, (await ana.get("/console/partials/inbox/views")).text):
        assert "#tarjeta" in text
        assert "#reclamo" in text
        assert "/inbox?view=label&amp;label=reclamo" in text
        assert "secreto" not in text
    assert "#secreto" in (await people["sup"].get("/console/partials/inbox/views")).text


async def test_an_sms_conversation_replies_by_sms_and_a_call_has_notes_only(
    people: dict[str, httpx.AsyncClient], session_factory: Sessions
) -> None:
    now = utcnow()
    sms = f.interaction(
        channel=Channel.SMS,
        assigned_agent="ana",
        customer_phone=PHONE,
        from_number=PHONE,
        started_at=now,
        last_message_at=now,
    )
    call = f.interaction(channel=Channel.CALL, assigned_agent="ana", customer_phone=PHONE)
    async with session_factory() as session:
        await f.save(session, sms, call, f.message(sms, body="Necesito mi resumen"))
        await session.commit()
    ana = people["ana"]
    pane = await ana.get(f"/console/partials/inbox/conversation/{sms.id}")
    assert f'hx-post="/console/interactions/{sms.id}/sms"' in pane.text
    assert 'id="tab-reply" data-tab="reply" aria-controls="pane-reply" aria-selected="true"' in (
        pane.text
    )
    assert "data-window" not in pane.text  # no WhatsApp window on an SMS
    sent = await ana.post(f"/console/interactions/{sms.id}/sms", data={"body": "Te lo envío hoy"})
    assert sent.status_code == 200, sent.text
    assert "SMS en cola" in sent.text
    async with session_factory() as session:
        bodies = (
            await session.scalars(
                select(Message.body)
                .join(Interaction, Interaction.id == Message.interaction_id)
                .where(
                    Interaction.channel == Channel.SMS,
                    Interaction.customer_phone == PHONE,
                    Message.direction == Direction.OUTBOUND,
                )
            )
        ).all()
    assert list(bodies) == ["Te lo envío hoy"]
    # Another agent may not write to Ana's customer; a call has no reply box.
    refused = await people["bruno"].post(f"/console/interactions/{sms.id}/sms", data={"body": "x"})
    assert refused.status_code == 404
    call_pane = await ana.get(f"/console/partials/inbox/conversation/{call.id}")
    assert '/sms"' not in call_pane.text
    assert 'id="tab-note" data-tab="note" aria-controls="pane-note" aria-selected="true"' in (
        call_pane.text
    )
    no_reply = await ana.post(f"/console/interactions/{call.id}/sms", data={"body": "hola"})
    assert no_reply.status_code == 422


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/inbox", {"view": "everything"}),
        ("/inbox", {"view": "team", "team": "not-a-uuid"}),
        ("/inbox", {"view": "label", "label": "x" * 500}),
        ("/inbox", {"channel": "FAX"}),
        ("/console/partials/inbox/list", {"view": "label", "label": "a\x00b"}),
        ("/console/partials/inbox/views", {"view": "\x00"}),
        ("/console/partials/inbox/search", {"q": "x" * 5000}),
        ("/console/partials/inbox/search", {"q": "tarjeta\x00"}),
        ("/inbox/not-a-uuid", {}),
        ("/inbox/00000000-0000-4000-8000-000000000001", {}),
        ("/inbox/00000000-0000-4000-8000-000000000001", {"hit": "h" * 500}),
    ],
)
async def test_hostile_query_strings_get_a_clear_4xx(
    people: dict[str, httpx.AsyncClient], path: str, params: dict[str, str], app: FastAPI
) -> None:
    response = await people["sup"].get(path, params=params)
    assert 400 <= response.status_code < 500, (path, params, response.status_code)
