"""Console routes of WhatsApp templates (docs/console.md): the reply box's template composer,
offered once WhatsApp's 24-hour window has closed when the Cloud API sends, its send (the same
rules and service as `POST /api/whatsapp/send`), and the administrators' page of the registry."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import escape

from contact_center.console.i18n import Speaker
from contact_center.console.labels import N_
from contact_center.console.pages import page, reply_recipient, runtime_of, speaker_for
from contact_center.dependencies import AuditContextDep, SessionDep, require
from contact_center.errors import AppError
from contact_center.interactions import service as interactions
from contact_center.messaging import outbound
from contact_center.models.enums import Channel
from contact_center.models.whatsapp_template import WhatsAppTemplate
from contact_center.principal import Principal, Role
from contact_center.whatsapp_templates import service as registry
from contact_center.whatsapp_templates.repository import TemplateFilters
from contact_center.whatsapp_templates.schemas import MAX_VARIABLES

router = APIRouter(include_in_schema=False)
AdminPage = Annotated[Principal, Depends(require(Role.ADMIN))]

# What the registry's rules say about a variable (whatsapp_templates.service), for the catalogs.
PROBLEMS = (
    N_("must not be empty"),
    N_("must be at most 1024 characters"),
    N_("must not contain a newline or a tab"),
    N_("must not contain more than 4 spaces in a row"),
)
REFUSALS = {
    "template_not_found": N_("This template is no longer in the account's registry."),
    "template_not_sendable": N_("One-time codes are sent only by the bank's systems."),
    "template_not_approved": N_(
        "This template is not approved: choose another one, or sync the templates."
    ),
    "templates_unavailable": N_("WhatsApp templates are not available with this provider."),
}


def _labels(template: WhatsAppTemplate, speaker: Speaker) -> list[str]:
    """One label per value the template takes: its text header's, its body's, then its link
    buttons'."""
    labels = [
        speaker.gettext("Header {{%(name)s}}") % {"name": name}
        for name in registry.header_placeholders(template.components)
    ]
    labels += [
        speaker.gettext("Variable {{%(name)s}}") % {"name": name}
        for name in registry.placeholders(template.body_text)
    ]
    buttons = (
        next(
            (c for c in template.components if str(c.get("type", "")).upper() == "BUTTONS"),
            {},
        ).get("buttons")
        or []
    )
    for index in registry.url_buttons(template.components):
        text = str(buttons[index].get("text") or index + 1)
        labels.append(speaker.gettext("End of the link of the button “%(text)s”") % {"text": text})
    return labels


async def _composer(
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    interaction_id: uuid.UUID,
    chosen_id: uuid.UUID | None,
    **extra: Any,
) -> HTMLResponse:
    found = await interactions.visible_interaction(session, interaction_id, context.principal)
    runtime = runtime_of(request)
    if (
        found.channel is not Channel.WHATSAPP
        or not found.customer_phone
        or runtime.providers.whatsapp_templates is None
    ):
        return HTMLResponse("")  # the reply box stays as it is (an SMS after the window)
    offered = await registry.offered(session)
    chosen = next((t for t in offered if t.id == chosen_id), offered[0] if offered else None)
    speaker = speaker_for(request)
    return page(
        request,
        "_wa_templates.html",
        speaker=speaker,
        item_id=interaction_id,
        offered=offered,
        chosen=chosen,
        labels=_labels(chosen, speaker) if chosen else [],
        **extra,
    )


@router.get(
    "/console/partials/interactions/{interaction_id}/whatsapp-templates",
    response_class=HTMLResponse,
)
async def template_composer(
    interaction_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    template: Annotated[uuid.UUID | None, Query()] = None,
) -> HTMLResponse:
    """The approved templates to send into a WhatsApp conversation (its window closed), the
    chosen one's text and one field per variable; nothing when templates are not available."""
    return await _composer(request, session, context, interaction_id, template)


def _refusal(speaker: Speaker, error: AppError, labels: list[str]) -> HTMLResponse:
    """The registry's refusal in the reader's words, each variable's problem by its label."""
    lines: list[str] = []
    for detail in error.details or []:
        field = str(detail.get("field", ""))
        if "[" in field:
            index = int(field.rsplit("[", 1)[1].rstrip("]"))
            label = labels[index] if index < len(labels) else str(index + 1)
            problem = speaker.gettext(str(detail.get("message", "")))
            lines.append(f"<li>{escape(label)}: {escape(problem)}</li>")
    if error.code in REFUSALS:
        title = speaker.gettext(REFUSALS[error.code])
    elif lines:
        title = speaker.gettext("Check the template's values:")
    else:
        title = speaker.gettext("This template takes %(count)s values.") % {"count": len(labels)}
    items = f"<ul>{''.join(lines)}</ul>" if lines else ""
    return HTMLResponse(
        f'<div class="notice error" role="alert"><p>{escape(title)}</p>{items}</div>',
        status_code=error.status_code,
    )


@router.post(
    "/console/interactions/{interaction_id}/whatsapp-template", response_class=HTMLResponse
)
async def send_template(
    interaction_id: uuid.UUID,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    context: AuditContextDep,
    template: Annotated[uuid.UUID, Form()],
    variables: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    """An approved template to the conversation's customer (the server holds their number),
    through the same rules as the API; a refusal comes back in words beside the form."""
    runtime = runtime_of(request)
    speaker = speaker_for(request)
    await interactions.visible_interaction(session, interaction_id, context.principal)
    if runtime.providers.whatsapp_templates is None:
        raise registry.templates_unavailable()
    row = await registry.by_id(session, template)
    values = [v.strip() for v in (variables or [])][:MAX_VARIABLES]
    labels = _labels(row, speaker) if row is not None else []
    try:
        filled = registry.validate_and_fill(row, values, field_prefix="template")
    except AppError as error:  # nothing was written: the form says what to change
        return _refusal(speaker, error, labels)
    assert row is not None  # validate_and_fill refuses a missing one
    customer = await reply_recipient(
        session,
        context,
        interaction_id,
        runtime,
        "Templates go to WhatsApp conversations with a customer number.",
    )
    queued = await outbound.queue_whatsapp_template(
        session,
        context,
        to=customer,
        template_row=row,
        filled=filled,
        assigned_agent=None,
        customer_ref=None,
    )
    background.add_task(runtime.jobs.enqueue_send, str(queued.message_id), queued.attempt)
    if queued.bot is not None:
        background.add_task(
            runtime.jobs.enqueue_bot_control, str(queued.interaction_id), queued.bot
        )
    if queued.interaction_id != interaction_id:
        text = escape(speaker.gettext("The template opened a new conversation:"))
        link = escape(speaker.gettext("open it"))
        return HTMLResponse(
            f'<p class="notice ok" role="status">{text} '
            f'<a href="/inbox/{queued.interaction_id}">{link}</a>.</p>'
        )
    text = escape(
        speaker.gettext("Template queued: it shows in the messages above, with its delivery mark.")
    )
    return HTMLResponse(f'<p class="notice ok" role="status">{text}</p>')


@router.get("/admin/whatsapp-templates", response_class=HTMLResponse)
async def templates_page(
    request: Request,
    session: SessionDep,
    principal: AdminPage,
    status: Annotated[str | None, Query(max_length=32, pattern=r"^[A-Za-z_]*$")] = None,
) -> HTMLResponse:
    """The template registry with its statuses, and the button that asks for a sync."""
    filters = TemplateFilters(status=status.upper() if status else None)
    rows = await registry.listing(session, filters, limit=500, skip=0)
    runtime = runtime_of(request)
    return page(
        request,
        "whatsapp_templates.html",
        active="whatsapp-templates",
        rows=rows[:500],
        status=(status or "").upper(),
        sync_available=runtime.providers.whatsapp_template_source is not None,
        button_variables={row.id: len(registry.url_buttons(row.components)) for row in rows},
    )
