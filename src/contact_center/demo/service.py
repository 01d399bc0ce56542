from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.settings import Settings


async def write_demo_data(
    engine: AsyncEngine,
    settings: Settings,
    *,
    days: int,
    customers: int,
    force: bool,
    progress: bool,
) -> int:
    return 0


async def seed_if_empty(engine: AsyncEngine, settings: Settings) -> int:
    return 0
