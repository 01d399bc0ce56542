"""The provider's side: POST webhooks to the app, signed exactly as the real provider signs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import structlog

from contact_center.emulator.state import EmulatorState, now_iso

log = structlog.get_logger(__name__)
MAX_DELIVERY_RECORDS = 5000


async def deliver(
    state: EmulatorState,
    url: str,
    *,
    content: bytes | None = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    attempts: int = 3,
    delay: float = 0.0,
) -> int | None:
    """POST one webhook; retry on 5xx/429/transport errors like the real providers do."""
    if delay:
        await asyncio.sleep(delay)
    assert state.http is not None, "the emulator's HTTP client starts with the app"
    status: int | None = None
    for attempt in range(1, attempts + 1):
        try:
            async with state.delivery_slots:
                response = await state.http.post(
                    url, content=content, data=form, headers=headers, timeout=30
                )
            status = response.status_code
        except httpx.HTTPError as exc:
            log.warning(
                "emulator_webhook_failed", url=url, error=type(exc).__name__, attempt=attempt
            )
            status = None
        if status is not None and status < 500 and status != 429:
            break
        await asyncio.sleep(min(2.0, 0.2 * 2**attempt))
    record: dict[str, Any] = {"url": url, "status": status, "at": now_iso()}
    state.deliveries.append(record)
    del state.deliveries[:-MAX_DELIVERY_RECORDS]
    return status
