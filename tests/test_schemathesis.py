"""Property-based tests of the HTTP API from its own OpenAPI document (schemathesis): generated
requests, valid and invalid, never get a 500, and every response matches the schema.

The API runs as a real `contact-center serve` process on its own SQLite file, with the worker and
the provider emulator inside it, so sends and syncs do their real work.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.live import free_port

pytestmark = pytest.mark.slow  # a real `serve` process, hundreds of generated requests

BIN = Path(sys.executable).parent
# No 500s, responses as documented (status, content type, body schema), invalid input rejected.
# (Schema-valid input may still be refused where validity is semantic: a phone number that is
# not a number, a date that is not a date; those answer 422 with the error envelope.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = int(os.environ.get("CC_SCHEMATHESIS_EXAMPLES", "30"))


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    directory = tmp_path_factory.mktemp("schemathesis")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("APP_", "PORT", "REDIS"))},
        "DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'cc.db'}",
        "APP_PORT": str(port),
        "APP_ENV": "test",
        "RECORDINGS_DIR": str(directory / "recordings"),
        "FRONTEND_URL": "https://www.banco.example",
        "LOG_LEVEL": "WARNING",
        "OUTBOUND_RATE_LIMIT_MAX": "100000",
    }
    log = (directory / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "contact-center"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, (directory / "serve.log").read_text()
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.2)
        # The first start made `admin`; the operator's way to a token is the CLI.
        made = subprocess.run(
            [str(BIN / "contact-center"), "tokens", "create", "admin", "--name", "schemathesis"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        yield base, made.stdout.strip()
    finally:
        server.terminate()
        server.wait(timeout=30)
        text = (directory / "serve.log").read_text(errors="replace")
        assert '"level": "error"' not in text or "Traceback" not in text, text[-4000:]


def test_the_api_never_fails_and_answers_as_documented(api_schema: tuple[str, str]) -> None:
    base, token = api_schema
    headers = {"Authorization": f"Bearer {token}"}
    loaded = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in loaded.get_all_operations():
        assert not isinstance(result, Err), result
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Case[Any]) -> None:
            case.call_and_validate(base_url=base, timeout=60, checks=CHECKS, headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # one report for every operation
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations >= 25
    assert failures == [], "\n\n".join(failures)
