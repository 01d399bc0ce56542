"""All SQL of the WhatsApp template registry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.db.statements import lock_key
from contact_center.models.whatsapp_template import WhatsAppTemplate


@dataclass(frozen=True)
class TemplateFilters:
    status: str | None = None
    category: str | None = None
    language: str | None = None


async def all_templates(session: AsyncSession, *, for_sync: bool = False) -> list[WhatsAppTemplate]:
    """Every row of the registry (a sync compares the account's list with them). `for_sync`:
    syncs run one at a time (two at once would insert the same new template)."""
    if for_sync:
        await lock_key(session, "whatsapp_template_sync")
    stmt = select(WhatsAppTemplate).order_by(WhatsAppTemplate.name, WhatsAppTemplate.language)
    return list((await session.scalars(stmt)).all())


async def add(session: AsyncSession, template: WhatsAppTemplate) -> None:
    session.add(template)
    await session.flush()


async def by_name(session: AsyncSession, name: str, language: str) -> WhatsAppTemplate | None:
    stmt = select(WhatsAppTemplate).where(
        WhatsAppTemplate.name == name, WhatsAppTemplate.language == language
    )
    return (await session.scalars(stmt)).first()


async def by_id(session: AsyncSession, template_id: uuid.UUID) -> WhatsAppTemplate | None:
    return await session.get(WhatsAppTemplate, template_id)


async def listing(
    session: AsyncSession, filters: TemplateFilters, *, limit: int, skip: int
) -> Sequence[WhatsAppTemplate]:
    """By name and language; one row more than `limit` tells whether more exist."""
    stmt = select(WhatsAppTemplate)
    if filters.status:
        stmt = stmt.where(WhatsAppTemplate.status == filters.status)
    if filters.category:
        stmt = stmt.where(WhatsAppTemplate.category == filters.category)
    if filters.language:
        stmt = stmt.where(WhatsAppTemplate.language == filters.language)
    stmt = (
        stmt.order_by(WhatsAppTemplate.name, WhatsAppTemplate.language, WhatsAppTemplate.id)
        .offset(skip)
        .limit(limit + 1)
    )
    return (await session.scalars(stmt)).all()


async def offered(session: AsyncSession, categories: Sequence[str]) -> list[WhatsAppTemplate]:
    """The templates a person may send: APPROVED, still in the account, of these categories."""
    stmt = (
        select(WhatsAppTemplate)
        .where(
            WhatsAppTemplate.status == "APPROVED",
            WhatsAppTemplate.present.is_(True),
            WhatsAppTemplate.category.in_(list(categories)),
        )
        .order_by(WhatsAppTemplate.name, WhatsAppTemplate.language)
    )
    return list((await session.scalars(stmt)).all())
