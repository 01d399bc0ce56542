"""Logs never carry an unmasked phone number, an OTP code, a token or a secret."""

from __future__ import annotations

import io
import json
import logging
import re

import httpx
import pytest
import structlog
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.logging import build_formatter
from contact_center.models import WebhookDelivery
from tests import factories as f
from tests.conftest import Backend
from tests.deliveries import incoming, post_builderbot

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


def test_numbers_in_every_form_and_type_are_masked() -> None:
    with Capture() as capture:
        log = structlog.get_logger("test")
        log.info(
            "customer",
            phone=5491155551234,
            amount=5491166661234.0,
            payload={"from": 5491122223333, 5491177771234: "key", "to": [5491188881234]},
            pair=(5491199991234, "x"),
            body="Tel5491155550001, cel:1155550002, 11.5555.0003 o +54.9.11.5555.0004",
            duration_ms=12345678,
        )
        logging.getLogger("uvicorn.error").info("library line %s", "Tel5491155550005")
    output = capture.stream.getvalue()
    for digits in ("1155551234", "1166661234", "1122223333", "1177771234", "1188881234"):
        assert digits not in output, digits
    for tail in ("1199991234", "55550001", "55550002", "5555.0003", "5555.0004", "55550005"):
        assert tail not in output, tail
    assert capture.lines()[0]["duration_ms"] == 12345678  # a duration stays a number


def test_a_library_exception_with_a_number_is_masked_in_its_traceback() -> None:
    with Capture() as capture:
        try:
            raise ValueError("no such customer Tel5491155551234 (11.5555.1234)")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("failed")
    line = capture.lines()[0]
    assert "Traceback" in str(line["exception"])
    assert "1155551234" not in str(line["exception"])
    assert "5555.1234" not in str(line["exception"])


async def test_a_failing_statement_shows_no_parameters(engine: AsyncEngine) -> None:
    """Neither the error's text (which the webhook ledger stores) nor the logged traceback (where
    PostgreSQL's DETAIL repeats the row's key) holds the statement's values."""
    values = {"phone": "+5491155551234", "name": "Juan Pérez"}
    async with engine.connect() as connection:
        await connection.execute(
            text("CREATE TEMPORARY TABLE person (phone VARCHAR(20), name VARCHAR(40))")
        )
        await connection.execute(text("CREATE UNIQUE INDEX person_key ON person (name, phone)"))
        insert = text("INSERT INTO person (phone, name) VALUES (:phone, :name)")
        await connection.execute(insert, values)
        with pytest.raises(IntegrityError) as raised:
            await connection.execute(insert, values)
        await connection.rollback()
    assert "5491155551234" not in str(raised.value)
    assert "Juan" not in str(raised.value)
    with Capture() as capture:
        structlog.get_logger("test").error("statement_failed", exc_info=raised.value)
    output = capture.stream.getvalue()
    assert "IntegrityError" in output
    assert "5491155551234" not in output
    assert "Juan" not in output


_REFUSE_MESSAGES = {
    "sqlite": [
        "CREATE TRIGGER refuse_message BEFORE INSERT ON message "
        "BEGIN SELECT RAISE(ABORT, 'message store refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_message() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'message store refused'; END $$",
        "CREATE TRIGGER refuse_message BEFORE INSERT ON message "
        "FOR EACH ROW EXECUTE FUNCTION refuse_message()",
    ],
}
_ALLOW_MESSAGES = {
    "sqlite": ["DROP TRIGGER IF EXISTS refuse_message"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS refuse_message ON message",
        "DROP FUNCTION IF EXISTS refuse_message()",
    ],
}


async def test_a_webhook_failing_in_the_database_keeps_no_number_or_name(
    backend: Backend,
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with engine.begin() as connection:
        for statement in _REFUSE_MESSAGES[backend.name]:
            await connection.exec_driver_sql(statement)
    try:
        with Capture() as capture:
            response = await post_builderbot(
                client, incoming("5491155551234", "soy Juan Pérez, mi otro es 1166661234")
            )
    finally:
        async with engine.begin() as connection:
            for statement in _ALLOW_MESSAGES[backend.name]:
                await connection.exec_driver_sql(statement)
    assert response.json()["status"] == "FAILED"
    async with session_factory() as session:
        delivery = (await session.scalars(select(WebhookDelivery))).one()
    assert delivery.error is not None
    assert "message store refused" in delivery.error
    output = capture.stream.getvalue()
    assert "webhook_processing_failed" in output
    for stored in (delivery.error, output):
        for secret in ("5491155551234", "1155551234", "1166661234", "Juan"):
            assert secret not in stored, secret
