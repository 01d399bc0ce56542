"""Search (docs/inbox.md, "Search"): words in messages, transcripts and summaries, customers by
reference or digits; scoped like every read; the reader's words never query syntax."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contact_center.models.enums import ActorType, Channel, Direction, Provider, Role
from contact_center.principal import Principal
from contact_center.search import repository, service
from tests import factories
from tests.conftest import Backend


def _at(minutes: int) -> Any:
    return factories.BASE_TIME + timedelta(minutes=minutes)


@pytest.fixture
async def world(app: FastAPI) -> dict[str, Any]:
    """ana's conversation (a lost card), bruno's (a credit question), a call of no one's
    (transcript and summary), and an unassigned chat with a customer reference."""
    anas = factories.interaction(
        assigned_agent="ana", started_at=_at(1), customer_name="Juan Pérez"
    )
    brunos = factories.interaction(
        assigned_agent="bruno", started_at=_at(2), customer_phone="+5491166667777"
    )
    call = factories.interaction(
        channel=Channel.CALL,
        provider=Provider.ELEVENLABS,
        started_at=_at(3),
        customer_phone="+5491144448888",
        from_number="+5491144448888",
    )
    pool = factories.interaction(started_at=_at(4), customer_ref="CLI-00042")
    messages = [
        factories.message(
            anas,
            body="Hola, perdí mis TARJETAS ayer. Mi número es +54 9 11 5555-1234, llámenme.",
            created_at=_at(10),
        ),
        factories.message(
            anas,
            direction=Direction.OUTBOUND,
            body="Ya bloqueamos la tarjeta.",
            status="SENT",
            created_at=_at(11),
        ),
        factories.message(
            brunos,
            body="Consulta sobre mi línea de crédito y la tarjeta dorada",
            created_at=_at(12),
        ),
    ]
    detail = factories.call_detail(
        call,
        transcript=[
            {
                "role": "agent",
                "message": "Buenas tardes, ¿en qué lo ayudo?",
                "time_in_call_secs": 0,
            },
            {
                "role": "user",
                "message": "Quiero denunciar un préstamo fraudulento",
                "time_in_call_secs": 4,
            },
        ],
        summary="El cliente pidió la baja del seguro de vida.",
    )
    async with app.state.session_factory() as session:
        await factories.save(session, anas, brunos, call, pool, *messages, detail)
    return {
        "anas": str(anas.id),
        "brunos": str(brunos.id),
        "call": str(call.id),
        "pool": str(pool.id),
        "lost": str(messages[0].id),
        "blocked": str(messages[1].id),
        "credit": str(messages[2].id),
    }


async def _search(http: httpx.AsyncClient, q: str, **params: Any) -> dict[str, Any]:
    response = await http.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _hits(page: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(item["source"], item["messageId"]) for item in page["items"]]


async def test_words_find_messages_newest_first_with_a_masked_snippet(
    people: dict[str, httpx.AsyncClient], world: dict[str, Any]
) -> None:
    page = await _search(people["sup"], "tarjeta")
    assert _hits(page) == [
        ("message", world["credit"]),
        ("message", world["blocked"]),
        ("message", world["lost"]),
    ]
    assert page["hasMore"] is False
    lost = page["items"][2]
    assert lost["interactionId"] == world["anas"]
    assert lost["channel"] == "WHATSAPP"
    assert "TARJETAS" in lost["snippet"]
    assert "5555-1234" not in lost["snippet"]
    assert "55551234" not in lost["snippet"]
    assert lost["customerName"] == "J*** P****"
    assert lost["customerPhone"] == "+54911******34"
    assert lost["at"] == "2026-11-20T15:10:00.000000Z"


async def test_plurals_and_accents(
    people: dict[str, httpx.AsyncClient], world: dict[str, Any], backend: Backend
) -> None:
    # "tarjetas" finds the singular (a stem on PostgreSQL, the plural's `s` cut on SQLite);
    # "credito" finds "crédito" on both.
    assert {m for _, m in _hits(await _search(people["sup"], "tarjetas"))} == {
        world["lost"],
        world["blocked"],
        world["credit"],
    }
    assert _hits(await _search(people["sup"], "credito")) == [("message", world["credit"])]
    assert _hits(await _search(people["sup"], "CRÉDITO dorada")) == [("message", world["credit"])]
    assert _hits(await _search(people["sup"], "perdi")) == [("message", world["lost"])]
    if backend.name == "postgresql":
        # Stemming: another form of the same word.
        assert _hits(await _search(people["sup"], "bloquear")) == [("message", world["blocked"])]


async def test_transcripts_and_summaries(
    people: dict[str, httpx.AsyncClient], world: dict[str, Any]
) -> None:
    page = await _search(people["sup"], "prestamo fraudulento")
    assert _hits(page) == [("transcript", None)]
    item = page["items"][0]
    assert item["interactionId"] == world["call"]
    assert item["channel"] == "CALL"
    assert "préstamo fraudulento" in item["snippet"]
    summary = await _search(people["sup"], "seguro de vida")
    assert _hits(summary) == [("summary", None)]
    assert summary["items"][0]["snippet"] == "El cliente pidió la baja del seguro de vida."
    # A turn's role is not its text.
    assert (await _search(people["sup"], "agent"))["items"] == []


async def test_customer_reference_and_digits(
    people: dict[str, httpx.AsyncClient], world: dict[str, Any]
) -> None:
    page = await _search(people["sup"], "CLI-00042")
    assert [(i["source"], i["interactionId"]) for i in page["items"]] == [
        ("customer", world["pool"])
    ]
    digits = await _search(people["sup"], "4444 8888")
    assert [(i["source"], i["interactionId"]) for i in digits["items"]] == [
        ("customer", world["call"])
    ]
    assert "44448888" not in digits["items"][0]["snippet"]
    assert digits["items"][0]["customerPhone"] == "+54911******88"
    # Two digits are not enough; letters are words, not digits.
    assert (await _search(people["sup"], "88"))["items"] == []


async def test_an_agent_finds_only_what_they_may_see(
    people: dict[str, httpx.AsyncClient], world: dict[str, Any]
) -> None:
    ana = people["ana"]
    assert {m for _, m in _hits(await _search(ana, "tarjeta"))} == {world["lost"], world["blocked"]}
    assert (await _search(ana, "dorada"))["items"] == []
    assert (await _search(ana, "6666 7777"))["items"] == []
    bruno = people["bruno"]
    assert _hits(await _search(bruno, "tarjeta")) == [("message", world["credit"])]
    assert (await _search(bruno, "perdi"))["items"] == []
    # The call and the customer reference are in the shared pool (no one's, no team).
    assert _hits(await _search(bruno, "fraudulento")) == [("transcript", None)]
    assert [i["interactionId"] for i in (await _search(bruno, "CLI-00042"))["items"]] == [
        world["pool"]
    ]


async def test_common_words_are_found_along_the_newest_rows(
    people: dict[str, httpx.AsyncClient], world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL, words matching more than FEW rows are found walking the newest rows rather
    # than sorted from the index's matches: the same answers, scope included.
    monkeypatch.setattr(repository, "FEW", {"message": 0, "call_detail": 0})
    assert _hits(await _search(people["sup"], "tarjeta")) == [
        ("message", world["credit"]),
        ("message", world["blocked"]),
        ("message", world["lost"]),
    ]
    assert {m for _, m in _hits(await _search(people["bruno"], "tarjeta"))} == {world["credit"]}
    assert _hits(await _search(people["bruno"], "fraudulento")) == [("transcript", None)]
    assert _hits(await _search(people["ana"], "seguro vida")) == [("summary", None)]
    assert (await _search(people["ana"], "dorada"))["items"] == []


async def test_pages(people: dict[str, httpx.AsyncClient], world: dict[str, Any]) -> None:
    first = await _search(people["sup"], "tarjeta", limit=2)
    assert _hits(first) == [("message", world["credit"]), ("message", world["blocked"])]
    assert first["hasMore"] is True
    second = await _search(people["sup"], "tarjeta", limit=2, skip=2)
    assert _hits(second) == [("message", world["lost"])]
    assert second["hasMore"] is False


HOSTILE = [
    '"',
    '"tarjeta',
    "tarjeta*",
    "*",
    "NEAR(tarjeta credito)",
    "tarjeta OR credito",
    "tarjeta NOT credito",
    "-tarjeta",
    "body:tarjeta",
    "{body} : tarjeta",
    "tarjeta & credito | !x ( )",
    "tarjeta:*",
    "'; DROP TABLE message; --",
    "\\",
    "/ruta/o'x\\y.txt",
    "http://banco.example/o'b\\c?d=e",
    "o'brien \\' \\\\'' ''",
    "juan@example.com 'tarjeta'",
    "^tarjeta",
    "%_%",
    "100% 12:30 http://a.example/x%20y:z",
    "🙂 tarjeta",
    "a" * 200,
]


@pytest.mark.parametrize("q", HOSTILE)
async def test_operators_and_quotes_are_words(
    people: dict[str, httpx.AsyncClient], world: dict[str, Any], q: str
) -> None:
    page = await _search(people["sup"], q)
    assert isinstance(page["items"], list)
    for item in page["items"]:
        assert item["source"] in {"message", "transcript", "summary", "customer"}


async def test_operators_never_widen_or_negate(
    people: dict[str, httpx.AsyncClient], world: dict[str, Any]
) -> None:
    # `OR` is a word every message lacks (not "either"); `-`/`NOT` negate nothing.
    assert (await _search(people["sup"], "perdi OR dorada"))["items"] == []
    # "-dorada" is the word "dorada", required like the others, not excluded.
    assert _hits(await _search(people["sup"], "tarjeta -dorada")) == [("message", world["credit"])]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": ""}, 422),
        ({"q": "a" * 201}, 422),
        ({"q": "a" * 10_000}, 422),
        ({"q": "tarjeta", "limit": 0}, 422),
        ({"q": "tarjeta", "limit": 101}, 422),
        ({"q": "tarjeta", "skip": -1}, 422),
        ({"q": "tarjeta", "skip": 1001}, 422),
        ({"q": "tarjeta", "limit": "x"}, 422),
        ({}, 422),
    ],
)
async def test_invalid_queries_are_refused(
    people: dict[str, httpx.AsyncClient], params: dict[str, Any], status: int
) -> None:
    response = await people["ana"].get("/api/search", params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"]


async def test_nul_is_refused_and_invalid_utf8_finds_nothing(
    people: dict[str, httpx.AsyncClient], world: dict[str, Any]
) -> None:
    for raw in ("q=tarjeta%00", "q=%00"):
        response = await people["ana"].get(f"/api/search?{raw}")
        assert response.status_code == 422, (raw, response.status_code)
    # Bytes that are not UTF-8 arrive as replacement characters: no word, nothing found.
    response = await people["ana"].get("/api/search?q=%FF%FE")
    assert response.status_code == 200
    assert response.json() == {"items": [], "hasMore": False}


async def test_signed_out_is_refused(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/api/search", params={"q": "tarjeta"})).status_code == 401


async def test_the_service_for_the_console(app: FastAPI, world: dict[str, Any]) -> None:
    ana = Principal(actor_type=ActorType.USER, actor_id="ana", role=Role.AGENT)
    async with app.state.session_factory() as session:
        page = await service.search(session, ana, "dorada tarjeta", 20, 0)
        assert page.items == []
        page = await service.search(session, ana, "perdí", 20, 0)
    assert [str(i.message_id) for i in page.items] == [world["lost"]]


def test_snippets_cut_around_the_hit_at_word_boundaries() -> None:
    text = ("palabra " * 60) + "la TARJETA robada " + ("otra " * 60)
    cut = service.snippet(text, ["tarjeta"])
    assert "TARJETA robada" in cut
    assert cut.startswith("…")
    assert cut.endswith("…")
    assert len(cut) <= service.SNIPPET + 2
    assert "  " not in cut
    # A number is masked before the cut: no part of it is left readable.
    number = "x " * 100 + "llamame al 5491155551234 por la tarjeta"
    assert "55551234" not in service.snippet(number, ["tarjeta"])
    assert service.snippet("corto", ["nada"]) == "corto"
