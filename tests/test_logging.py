"""Logs never carry an unmasked phone number, an OTP code, a token or a secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog
from saq import Worker
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.jobs.queue import build_queue
from contact_center.logging import build_formatter, formatter_for
from contact_center.models import WebhookDelivery
from contact_center.settings import load_settings
from tests import factories as f
from tests.conftest import Backend
from tests.deliveries import incoming, post_builderbot

PHONES = ["+5491155551234", "5491155551234", "+54 9 11 5555-1234", "+14155552671"]
UNMASKED = re.compile(r"5551234|5555-1234|4155552671")


class Capture:
    """A handler with the production formatter on the root logger."""

    def __init__(self, formatter: logging.Formatter | None = None) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(formatter or build_formatter())

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


def test_epoch_timestamps_stay_readable_in_log_lines_and_phones_do_not() -> None:
    with Capture() as capture:
        log = structlog.get_logger("test")
        log.info("delivered", ts_ms=1764950400000, queued=1764950400000, phone=5491155551234)
        log.info("delivered at 1764950400123 to 5491155551234, ts_ms=1764950400000")
        logging.getLogger("saq").info("Enqueuing Job<queued: %s>", 1764950400123)
    first, second, third = capture.lines()
    assert first["ts_ms"] == 1764950400000
    assert first["queued"] == 1764950400000
    assert first["phone"] == "54911******34"
    assert second["event"] == "delivered at 1764950400123 to 54911******34, ts_ms=1764950400000"
    assert third["event"] == "Enqueuing Job<queued: 1764950400123>"


def test_the_console_format_is_readable_lines_redacted_like_json() -> None:
    with Capture(build_formatter("console")) as capture:
        log = structlog.get_logger("test")
        log.info("otp issued", code="482913", phone="+5491155551234", ts_ms=1764950400000)
        logging.getLogger("uvicorn.error").info("library line with +5491155551234")
        logging.getLogger("httpx").info("HTTP Request: GET %s", "https://x/?to=%2B5491155551234")
        try:
            raise RuntimeError("boom for +5491155551234, code 482913")
        except RuntimeError:
            log.exception("failed", token="tok_live_abcdefgh12345678")
    output = capture.stream.getvalue()
    for secret in ("482913", "5491155551234", "1155551234", "tok_live"):
        assert secret not in output, secret
    assert "\x1b[" not in output  # colours only on a terminal
    lines = output.splitlines()
    assert not any(line.startswith("{") for line in lines)
    assert "[info     ] otp issued" in lines[0]
    assert "phone=+54911******34" in lines[0]
    assert "ts_ms=1764950400000" in lines[0]
    assert "[uvicorn.error]" in lines[1]
    assert "[httpx]" in lines[2]
    # The traceback follows on its own lines, as Python prints it.
    assert "[error    ] failed" in lines[3]
    assert lines[4] == "Traceback (most recent call last):"
    assert lines[-1] == "RuntimeError: boom for +54911******34, code ******"


@pytest.fixture
def terminal() -> Iterator[io.TextIOWrapper]:
    """A stream that is a terminal (the writing end of a pseudo-terminal)."""
    controller, device = os.openpty()
    stream = open(device, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        yield stream
    finally:
        stream.close()
        os.close(controller)


def _render(formatter: logging.Formatter, message: str, **extra: Any) -> str:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    return formatter.format(record)


def test_auto_is_console_on_a_terminal_and_json_elsewhere(
    terminal: io.TextIOWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    piped = _render(formatter_for(io.StringIO()), "to +5491155551234", phone="+5491155551234")
    assert json.loads(piped)["phone"] == "+54911******34"
    on_terminal = _render(formatter_for(terminal), "to +5491155551234", phone="+5491155551234")
    assert not on_terminal.startswith("{")
    assert "\x1b[" in on_terminal  # coloured
    assert "5491155551234" not in on_terminal
    # An explicit choice wins over the stream's kind; colours still need a terminal.
    assert _render(formatter_for(terminal, "json"), "x").startswith("{")
    forced = _render(formatter_for(io.StringIO(), "console"), "x")
    assert not forced.startswith("{")
    assert "\x1b[" not in forced
    monkeypatch.setenv("NO_COLOR", "1")
    plain = _render(formatter_for(terminal), "x")
    assert not plain.startswith("{")
    assert "\x1b[" not in plain


async def test_the_worker_start_up_line_names_the_queue_not_its_client() -> None:
    secret_url = "redis://worker:s3cr3t-pass@10.1.2.3:6380/4"
    assert repr(build_queue(load_settings(REDIS_URL=secret_url))) == (
        "queue 'contact-center' on Redis 10.1.2.3:6380/4"
    )
    queue = build_queue(load_settings())
    worker: Worker[Any] = Worker(queue, functions=[])
    worker.SIGNALS = []
    with Capture() as capture:
        started = asyncio.create_task(worker.start())
        for _ in range(100):
            if any("Worker starting" in str(line["event"]) for line in capture.lines()):
                break
            await asyncio.sleep(0.02)
        await worker.stop()
        await started
    line = next(line for line in capture.lines() if "Worker starting" in str(line["event"]))
    assert line["event"] == "Worker starting: queue 'contact-center' in process"


async def test_a_webhook_failing_in_our_code_keeps_no_number_in_the_ledger(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception of our own code may quote the payload: the ledger keeps its text masked, as
    the log line is."""
    from contact_center.messaging import service as messaging

    async def refuse(*args: object, **kwargs: object) -> None:
        raise ValueError("cannot route +5491155551234 (code 482913)")

    monkeypatch.setattr(messaging, "apply_whatsapp_fast", refuse)
    response = await post_builderbot(client, incoming("5491155551234", "hola"))
    assert response.json()["status"] == "FAILED"
    async with session_factory() as session:
        delivery = (await session.scalars(select(WebhookDelivery))).one()
    assert delivery.error is not None
    assert delivery.error.startswith("ValueError: cannot route")
    assert "5491155551234" not in delivery.error
    assert "482913" not in delivery.error
