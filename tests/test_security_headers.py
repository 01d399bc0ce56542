"""Security headers on every response (API, console, errors, webhooks, the live stream, static
files, an unexpected 500), a Content Security Policy that runs no inline script, HSTS in
production and over HTTPS, and templates with no inline script to refuse."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from contact_center.settings import Settings
from tests.conftest import PRODUCTION_SETTINGS
from tests.deliveries import incoming, post_builderbot
from tests.live import live_app

TEMPLATES = Path(__file__).resolve().parent.parent / "src/contact_center/console/templates"


def directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_secured(response: httpx.Response, *, hsts: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path} {response.status_code}"
    csp = directives(response)
    assert csp["script-src"] == ["'self'"], where  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == ["'self'"], where
    assert csp["object-src"] == ["'none'"], where
    assert csp["base-uri"] == ["'self'"], where
    assert csp["frame-ancestors"] == ["'none'"], where
    assert csp["form-action"] == ["'self'"], where
    assert csp["default-src"] == ["'self'"], where
    assert response.headers["x-content-type-options"] == "nosniff", where
    assert response.headers["x-frame-options"] == "DENY", where
    assert response.headers["referrer-policy"] == "no-referrer", where
    if hsts:
        assert response.headers["strict-transport-security"].startswith("max-age=63072000"), where
    else:
        assert "strict-transport-security" not in response.headers, where


async def test_every_kind_of_answer_carries_the_security_headers(
    app: FastAPI, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    answers = [
        await client.get("/api/interactions"),  # API
        await client.get("/calls"),  # console page
        await client.get("/console/partials/dashboard"),  # htmx partial
        await client.get("/api/nothing-here"),  # 404 in the API
        await client.get("/no/such/page"),  # 404 elsewhere
        await anonymous.get("/api/interactions"),  # 401
        await anonymous.get("/login"),  # the sign-in page
        await anonymous.get("/calls"),  # redirect to the sign-in page
        await client.post("/api/sms/send", json={"to": "x"}),  # 422
        await anonymous.get("/api/health"),
        await anonymous.get("/static/console.js"),  # static file
        await anonymous.get("/api/docs"),
        await anonymous.get("/api/openapi.json"),
        await post_builderbot(anonymous, incoming("5491155550100", "hola")),  # webhook answer
        await anonymous.post("/webhooks/builderbot/whatsapp", content=b"{}"),  # refused webhook
    ]
    statuses = {r.status_code for r in answers}
    assert {200, 303, 401, 404, 422} <= statuses
    for response in answers:
        assert_secured(response)
    # Headers the app sets itself are kept beside them.
    assert "x-request-id" in answers[0].headers
    assert answers[10].headers["content-type"].startswith("text/javascript")


async def test_an_unexpected_500_carries_them_too(app: FastAPI) -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/api/health/broken", broken)  # public: no token needed
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/api/health/broken")
    assert response.status_code == 500
    assert_secured(response)


async def test_the_live_stream_carries_them(settings_factory: Callable[..., Settings]) -> None:
    async with (
        live_app(settings_factory, with_worker=False) as live,
        live.http.stream("GET", "/console/stream") as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert_secured(stream)


async def test_production_and_https_answers_ask_for_https_only(
    client_for: Callable[..., Awaitable[httpx.AsyncClient]],
) -> None:
    production = await client_for(**PRODUCTION_SETTINGS)
    assert_secured(await production.get("/api/health"), hsts=True)
    assert_secured(await production.get("/nothing"), hsts=True)
    # Outside production: over HTTPS only, as a trusted proxy says it (X-Forwarded-Proto).
    development = await client_for(TRUSTED_PROXIES="127.0.0.1")
    forwarded = await development.get("/api/health", headers={"X-Forwarded-Proto": "https"})
    assert_secured(forwarded, hsts=True)
    assert_secured(await development.get("/api/health"), hsts=False)
    untrusted = await client_for()
    ignored = await untrusted.get("/api/health", headers={"X-Forwarded-Proto": "https"})
    assert_secured(ignored, hsts=False)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_have_no_inline_script_or_style(template: str) -> None:
    text = (TEMPLATES / template).read_text()
    assert not INLINE_SCRIPT.search(text)
    assert not INLINE_HANDLER.search(text)
    assert "javascript:" not in text.lower()
    assert not re.search(r"\sstyle\s*=", text)
    assert "<style" not in text
    # htmx trigger filters ("every 5s [cond()]") are evaluated code: the policy refuses them.
    assert not re.search(r'hx-trigger="[^"]*\[', text)


async def test_the_api_docs_page_starts_swagger_from_a_file(anonymous: httpx.AsyncClient) -> None:
    page = await anonymous.get("/api/docs")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assert not INLINE_SCRIPT.search(page.text)
    assert '<script src="/static/api-docs.js"></script>' in page.text
    starter = await anonymous.get("/static/api-docs.js")
    assert starter.status_code == 200
    assert "SwaggerUIBundle(" in starter.text
    assert '"/api/openapi.json"' in starter.text
