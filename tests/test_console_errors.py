"""Console error pages: a browser on a console route gets a page in the reader's language with
a way back (an htmx request a short notice), never the API's JSON envelope; `/api` keeps JSON."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from contact_center.models.enums import Role
from tests import auth

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def _signed_in(app: FastAPI, username: str, role: Role) -> httpx.AsyncClient:
    return await auth.session_client(app, username, role, headers=BROWSER)


@pytest.fixture
async def supervisor(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    http = await _signed_in(app, "sofia", Role.SUPERVISOR)
    yield http
    await http.aclose()


def _is_page(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert '"error":' not in response.text  # no JSON envelope in a browser
    assert f'data-status="{status}"' in response.text
    assert 'href="/"' in response.text  # a way back


async def test_unknown_pages_and_interactions_are_pages_in_spanish(
    supervisor: httpx.AsyncClient,
) -> None:
    missing = await supervisor.get("/no-such-page")
    _is_page(missing, 404)
    assert "No encontrado" in missing.text
    assert "Ir al inicio" in missing.text
    unknown = await supervisor.get(
        f"/interactions/{uuid.uuid4()}", headers={"Referer": "http://testserver/calls?skip=25"}
    )
    _is_page(unknown, 404)
    assert 'href="/calls?skip=25"' in unknown.text  # back where the reader came from
    assert "Esa interacción no existe o no es tuya." in unknown.text
    # A referer of another site is no way back.
    elsewhere = await supervisor.get(
        f"/interactions/{uuid.uuid4()}", headers={"Referer": "https://evil.example/phish"}
    )
    assert "evil.example" not in elsewhere.text


async def test_refusals_and_invalid_values_are_pages(
    app: FastAPI, supervisor: httpx.AsyncClient
) -> None:
    forbidden = await supervisor.get("/admin/users")
    _is_page(forbidden, 403)
    assert "Tu rol no permite esto." in forbidden.text
    invalid = await supervisor.get("/calls", params={"status": "BOGUS"})
    _is_page(invalid, 422)
    # A change made with the cookie but without the page's token: refused with a page.
    no_token = await supervisor.post("/account/language", data={"language": "en"})
    _is_page(no_token, 403)
    assert "La página venció" in no_token.text
    # NUL in a console URL, refused before routing: a page too.
    nul = await supervisor.get("/calls", params={"to": "11\x0022"})
    _is_page(nul, 422)


async def test_failures_and_outages_are_pages_without_details(
    app: FastAPI, supervisor: httpx.AsyncClient
) -> None:
    async def boom() -> None:
        raise RuntimeError("secret detail +5491155551234")

    async def unreachable() -> None:
        raise ConnectionRefusedError("database at 10.0.0.7 refused")

    app.add_api_route("/console/test-boom", boom, include_in_schema=False)
    app.add_api_route("/console/test-down", unreachable, include_in_schema=False)
    failed = await supervisor.get("/console/test-boom")
    _is_page(failed, 500)
    assert "Algo salió mal de nuestro lado" in failed.text
    assert "secret detail" not in failed.text
    down = await supervisor.get("/console/test-down")
    _is_page(down, 503)
    assert down.headers["Retry-After"] == "1"
    assert "10.0.0.7" not in down.text


async def test_an_english_reader_gets_english_pages(app: FastAPI) -> None:
    http = await _signed_in(app, "emma", Role.SUPERVISOR)
    try:
        page = await http.get("/account/password")
        token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        chosen = await http.post(
            "/account/language",
            data={"language": "en"},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert chosen.status_code == 204
        assert chosen.headers["HX-Redirect"] == "/account/password"
        missing = await http.get("/no-such-page")
        _is_page(missing, 404)
        assert '<html lang="en">' in missing.text
        assert "Go to the start page" in missing.text
    finally:
        await http.aclose()


async def test_htmx_gets_a_notice_and_the_api_keeps_json(
    app: FastAPI, supervisor: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    partial = await supervisor.get(
        f"/console/partials/interactions/{uuid.uuid4()}", headers={"HX-Request": "true"}
    )
    assert partial.status_code == 404
    assert partial.text.startswith('<p class="notice error" role="alert">')
    assert "<html" not in partial.text
    signed_out = await anonymous.get(
        "/console/partials/calls", headers={"HX-Request": "true", **BROWSER}
    )
    assert signed_out.status_code == 401
    assert signed_out.headers["HX-Redirect"] == "/login"
    assert '"error":' not in signed_out.text
    api = await supervisor.get(f"/api/interactions/{uuid.uuid4()}")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/json")
    assert api.json()["error"]["code"] == "interaction_not_found"
