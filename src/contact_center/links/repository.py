from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.models.signed_link import SignedLink


async def add(session: AsyncSession, link: SignedLink) -> None:
    session.add(link)
    await session.flush()


async def get(session: AsyncSession, link_id: uuid.UUID) -> SignedLink | None:
    stmt = select(SignedLink).where(SignedLink.id == link_id).with_for_update()
    return (await session.scalars(stmt)).one_or_none()
