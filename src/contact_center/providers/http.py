"""The shared HTTP client and the mapping of transport and status errors to ProviderError."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache

import httpx

from contact_center.providers.base import (
    PermanentProviderError,
    ProviderAuthError,
    ProviderError,
    ProviderName,
    ProviderNotFound,
    RetryableProviderError,
)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)


@cache
def _tls_context() -> ssl.SSLContext:
    """httpx's own default context, built once: reading the CA bundle costs tens of milliseconds
    each time, and every app start, CLI command and worker builds a client or two."""
    return httpx.create_ssl_context()


def create_http_client() -> httpx.AsyncClient:
    """One client for every provider call of a process: pooled connections, bounded waits."""
    return httpx.AsyncClient(
        verify=_tls_context(),
        timeout=DEFAULT_TIMEOUT,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        headers={"User-Agent": "contact-center/1"},
        follow_redirects=False,
    )


MAX_RETRY_AFTER_SECONDS = 86_400.0


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    # Seconds (ASCII digits: "²".isdigit() is true too) or an HTTP date, within a day.
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value[:9]), MAX_RETRY_AFTER_SECONDS)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC by RFC 5322
        moment = moment.replace(tzinfo=UTC)
    seconds = (moment - datetime.now(UTC)).total_seconds()
    return min(max(0.0, seconds), MAX_RETRY_AFTER_SECONDS)


def error_for_status(
    provider: ProviderName,
    response: httpx.Response,
    *,
    code: str | None = None,
    message: str | None = None,
    retryable_codes: frozenset[str] = frozenset(),
) -> ProviderError:
    """Classify an unsuccessful answer: 429/5xx and listed codes retry; other 4xx are permanent."""
    status = response.status_code
    text = message or f"HTTP {status}"
    retry_after = retry_after_seconds(response)
    if (
        status == 429
        or status >= 500
        or status == 408
        or (code is not None and code in retryable_codes)
    ):
        return RetryableProviderError(
            provider, text, code=code, status=status, retry_after=retry_after
        )
    if status == 404:
        return ProviderNotFound(provider, text, code=code, status=status)
    if status in (401, 403):
        return ProviderAuthError(provider, text, code=code, status=status)
    return PermanentProviderError(provider, text, code=code, status=status)


async def send(
    provider: ProviderName,
    call: Callable[[], Awaitable[httpx.Response]],
) -> httpx.Response:
    """Run one request; transport failures (timeouts, refused connections) are retryable."""
    try:
        return await call()
    except httpx.TimeoutException as exc:
        raise RetryableProviderError(provider, f"timeout: {type(exc).__name__}") from exc
    except httpx.TransportError as exc:
        raise RetryableProviderError(provider, f"transport error: {type(exc).__name__}") from exc
