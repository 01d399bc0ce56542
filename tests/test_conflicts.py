"""Requests that race into a unique constraint: the database decides, the losers get 409 with
the error envelope, never a 500, and nothing of theirs is kept.

The requests run at once (asyncio.gather on one app): on PostgreSQL each holds its own
connection and transaction, so they pass the "is it taken?" check together and meet at the
INSERT; on SQLite writers queue, and the check answers.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from contact_center.models import OtpChallenge
from contact_center.models.message import Message
from contact_center.models.user_account import UserAccount
from tests import auth
from tests.test_errors import assert_envelope

PARALLEL = 6


async def _count(app: FastAPI, column: Any, *where: Any) -> int:
    async with app.state.session_factory() as session:
        stmt = select(func.count(column)).where(*where)
        return int((await session.execute(stmt)).scalar_one())


async def test_parallel_otps_sharing_a_correlation_id_make_one_and_409_the_rest(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    correlation = f"corr-{uuid.uuid4().hex[:8]}"
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/otp",
                json={
                    "phone": f"+54911555510{i:02d}",
                    "purpose": "LOGIN_2FA",
                    "correlationId": correlation,
                },
            )
            for i in range(PARALLEL)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (PARALLEL - 1), [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_envelope(response, 409, "correlation_id_taken")
    assert await _count(app, OtpChallenge.id, OtpChallenge.correlation_id == correlation) == 1
    # The losers' SMS (queued in the same transaction) went with them.
    assert await _count(app, Message.id) == 1


async def test_parallel_users_with_one_name_make_one_and_409_the_rest(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    responses = await asyncio.gather(
        *(client.post("/api/users", json={"username": "gemela", "role": "agent"}) for _ in range(4))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409], [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_envelope(response, 409, "username_taken")
    assert await _count(app, UserAccount.id, UserAccount.username == "gemela") == 1


async def test_an_integrity_error_that_escapes_a_request_answers_409(app: FastAPI) -> None:
    async def duplicate() -> None:
        async with app.state.session_factory() as session:
            for _ in range(2):
                session.add(
                    UserAccount(
                        username="doble",
                        role="agent",
                        password_hash="x",
                        active=True,
                        must_change_password=False,
                        failed_logins=0,
                    )
                )
                await session.flush()

    app.add_api_route("/api/test-only/duplicate", duplicate, methods=["POST"])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = auth.bearer(await auth.token(app.state.session_factory))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
        response = await http.post("/api/test-only/duplicate")
    assert_envelope(response, 409, "username_taken")
    assert "doble" not in response.text  # nothing of the statement leaks
