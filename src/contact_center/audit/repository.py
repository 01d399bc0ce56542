from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.models.audit_log import AuditLog


async def add(session: AsyncSession, entry: AuditLog) -> None:
    session.add(entry)
    await session.flush()
