from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.base import utcnow
from contact_center.db.statements import insert_ignore
from contact_center.models.app_secret import AppSecret


async def get_or_create(session: AsyncSession, name: str, candidate: str) -> tuple[str, bool]:
    """The stored secret `name`, storing `candidate` if there is none (first writer wins)."""
    created = await insert_ignore(
        session, AppSecret, {"name": name, "value": candidate, "created_at": utcnow()}, ["name"]
    )
    value = (await session.scalars(select(AppSecret.value).where(AppSecret.name == name))).one()
    return value, created
