"""Logs never carry an unmasked phone number, an OTP code, a token or a secret."""

from __future__ import annotations

import io
import json
import logging
import re

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.logging import build_formatter
from tests import factories as f

PHONES = ["+5491155551234", "5491155551234", "+54 9 11 5555-1234", "+14155552671"]
UNMASKED = re.compile(r"5551234|5555-1234|4155552671")


class Capture:
    """A handler with the production formatter on the root logger."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(build_formatter())

    def __enter__(self) -> Capture:
        logging.getLogger().addHandler(self.handler)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self.handler)

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]


async def test_request_logs_with_phone_numbers_are_masked(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    row = f.interaction()
    async with session_factory() as session:
        await f.save(session, row)
    with Capture() as capture:
        for phone in PHONES:
            await client.get(f"/api/interactions/client/{phone}")
            await client.get("/api/interactions", params={"from": phone, "to": phone})
        await client.patch(f"/api/interactions/{row.id}", json={"queue": "+5491155551234"})
        structlog.get_logger("test").info(
            "customer wrote", body="llamame al +54 9 11 5555-1234", phone=PHONES[0]
        )
    output = capture.stream.getvalue()
    lines = capture.lines()
    assert any(str(line.get("path", "")).startswith("/api/interactions/client/") for line in lines)
    assert all("request_id" in line for line in lines if line.get("event") == "request")
    assert not UNMASKED.search(output), output


def test_codes_tokens_and_secrets_are_redacted() -> None:
    with Capture() as capture:
        log = structlog.get_logger("test")
        log.info(
            "otp issued", code="482913", token="tok_live_abcdefgh12345678", password="hunter22"
        )
        log.info("sms text", body="Tu código de verificación es 482913. No lo compartas.")
        log.info(
            "outgoing",
            headers={"Authorization": "Bearer abcdefghijklmnop", "X-Webhook-Token": "s3cr3t-value"},
        )
        log.info("error envelope", code="validation_error")
        logging.getLogger("uvicorn.error").info("library line with +5491155551234")
    output = capture.stream.getvalue()
    for secret in (
        "482913",
        "tok_live",
        "hunter22",
        "abcdefghijklmnop",
        "s3cr3t-value",
        "5491155551234",
    ):
        assert secret not in output, secret
    assert "validation_error" in output
    assert all(line["ts"] for line in capture.lines())


def test_exceptions_keep_their_stack_trace() -> None:
    with Capture() as capture:
        try:
            raise RuntimeError("boom for +5491155551234")
        except RuntimeError:
            structlog.get_logger("test").exception("failed")
    line = capture.lines()[0]
    assert "Traceback" in str(line["exception"])
    assert "5491155551234" not in str(line["exception"])
