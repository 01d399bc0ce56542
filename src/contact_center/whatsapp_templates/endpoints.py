"""The WhatsApp template registry's routes (docs/api.md, docs/whatsapp-cloud.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from contact_center.dependencies import ADMIN_ONLY, AuditContextDep, SessionDep
from contact_center.errors import DependencyUnavailable
from contact_center.schemas import ERROR_RESPONSES, ErrorEnvelope
from contact_center.web import RuntimeDep
from contact_center.whatsapp_templates import service
from contact_center.whatsapp_templates.repository import TemplateFilters
from contact_center.whatsapp_templates.schemas import SyncQueued, TemplateOut, TemplatePage

router = APIRouter(
    prefix="/api/whatsapp/templates", tags=["whatsapp templates"], responses=ERROR_RESPONSES
)

Filter = Annotated[str | None, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z_]+$")]


@router.get("", response_model=TemplatePage, summary="List the WhatsApp template registry")
async def list_templates(
    session: SessionDep,
    status: Filter = None,
    category: Filter = None,
    language: Annotated[
        str | None, Query(min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}(_[A-Za-z0-9]+)?$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> TemplatePage:
    """By name and language, with templates the account no longer has (`present: false`)."""
    filters = TemplateFilters(
        status=status.upper() if status else None,
        category=category.upper() if category else None,
        language=language,
    )
    rows = await service.listing(session, filters, limit=limit, skip=skip)
    items = []
    for row in rows[:limit]:
        out = TemplateOut.model_validate(row)
        out.button_variables = len(service.url_buttons(row.components))
        out.header_variables = len(service.header_placeholders(row.components))
        items.append(out)
    return TemplatePage(items=items, limit=limit, skip=skip, has_more=len(rows) > limit)


@router.post(
    "/sync",
    status_code=202,
    response_model=SyncQueued,
    summary="Sync the template registry from the account",
    dependencies=ADMIN_ONLY,
    responses={
        409: {"model": ErrorEnvelope, "description": "No template source (templates_unavailable)"},
        503: {"model": ErrorEnvelope, "description": "The job queue is unavailable"},
    },
)
async def sync_templates(runtime: RuntimeDep, context: AuditContextDep) -> SyncQueued:
    """Admins. Queues the sync job (the provider is called by the job, not here)."""
    if runtime.providers.whatsapp_template_source is None:
        raise service.templates_unavailable()
    if not await runtime.jobs.enqueue_template_sync(context.principal.actor_id):
        raise DependencyUnavailable("The job queue is unavailable; try again shortly.")
    return SyncQueued()
