"""Bad input answers 4xx in the error envelope, never 500."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from tests import auth


def assert_envelope(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code


FILTER_ERRORS = [
    "channel=FAX",
    "direction=SIDEWAYS",
    "status=DONE",
    "provider=ACME",
    "outcome=MAYBE",
    "dateFrom=yesterday",
    "dateTo=2026-13-45",
    "dateFrom=2026-11-27&dateTo=2026-11-26",
    "from=abc",
]
PAGING_ERRORS = [
    "limit=-1",
    "limit=0",
    "limit=100000",
    "limit=501",
    "limit=ten",
    "skip=-1",
    "skip=1.5",
    "includePII=perhaps",
]


@pytest.mark.parametrize("query", FILTER_ERRORS + PAGING_ERRORS)
async def test_bad_list_parameters_answer_422(client: httpx.AsyncClient, query: str) -> None:
    assert_envelope(await client.get(f"/api/interactions?{query}"), 422, "validation_error")


@pytest.mark.parametrize("query", FILTER_ERRORS)
async def test_bad_count_filters_answer_422(client: httpx.AsyncClient, query: str) -> None:
    assert_envelope(await client.get(f"/api/interactions/count?{query}"), 422, "validation_error")


async def test_non_uuid_id_answers_422(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.get("/api/interactions/not-a-uuid"), 422, "validation_error")


async def test_unknown_id_answers_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/interactions/{uuid.uuid4()}")
    assert_envelope(response, 404, "interaction_not_found")


async def test_unknown_api_path_answers_404_envelope(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.get("/api/nothing/here"), 404, "not_found")


async def test_wrong_method_answers_405_envelope(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.delete("/api/interactions"), 405, "method_not_allowed")


async def test_console_path_answers_html_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


async def test_malformed_json_answers_400(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        f"/api/interactions/{uuid.uuid4()}",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert_envelope(response, 400, "bad_request")


async def test_oversized_body_answers_413(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        f"/api/interactions/{uuid.uuid4()}",
        content=b'{"queue": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert_envelope(response, 413, "payload_too_large")


async def test_unparseable_profile_phone_answers_422(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.get("/api/interactions/client/hello"), 422, "invalid_phone")
    assert_envelope(await client.get("/api/interactions/client/123"), 422, "invalid_phone")


async def test_unexpected_error_answers_500_in_the_envelope(app: FastAPI) -> None:
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/api/test-only/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = auth.bearer(await auth.token(app.state.session_factory))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
        response = await http.get("/api/test-only/boom")
    assert_envelope(response, 500, "internal_error")
    assert "secret internals" not in response.text  # no internals leak to the caller
