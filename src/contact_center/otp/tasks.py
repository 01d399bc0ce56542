from __future__ import annotations

from typing import Any

from contact_center.db.base import utcnow
from contact_center.otp.service import expire_due
from contact_center.runtime import Runtime


async def expire_challenges(ctx: dict[str, Any]) -> int:
    runtime: Runtime = ctx["runtime"]
    async with runtime.sessions() as session:
        expired = await expire_due(session, utcnow())
        await session.commit()
    return expired
