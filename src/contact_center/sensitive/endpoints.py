"""HTTP routes of the reveal, the proofs and the confirmation (docs/api.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path
from fastapi.responses import JSONResponse

from contact_center.dependencies import ADMIN_ONLY, SUPERVISOR_ONLY, AuditContextDep, SessionDep
from contact_center.errors import error_response
from contact_center.schemas import ERROR_RESPONSES
from contact_center.sensitive import service
from contact_center.sensitive.schemas import ConfirmIn, ConfirmOut, ProofList, RevealIn, RevealOut
from contact_center.web import RuntimeDep

router = APIRouter(tags=["redactions"], responses=ERROR_RESPONSES)

NO_STORE = {"Cache-Control": "no-store"}
Token = Annotated[
    str,
    Path(max_length=64, description="A vault token: `tok_` and 16 characters (a-z, 2-7)."),
]


@router.post(
    "/api/redactions/{token}/reveal",
    response_model=RevealOut,
    dependencies=SUPERVISOR_ONLY,
    summary="Reveal the original behind a vault token (audited, with a reason)",
)
async def reveal(
    token: Token,
    payload: Annotated[RevealIn, Body()],
    runtime: RuntimeDep,
    session: SessionDep,
    context: AuditContextDep,
) -> JSONResponse:
    """Supervisors and admins. One `redaction.revealed` audit row (entity type and reason);
    409 `sealed_value_unreadable` when the sealed row does not open (altered, or its key is no
    longer configured), with a `redaction.reveal_failed` audit row. Never cached."""
    result = await service.reveal(session, runtime.keys.redaction, context, token, payload.reason)
    if isinstance(result, service.RevealRefused):
        error = result.error
        return error_response(error.status_code, error.code, error.message, headers=NO_STORE)
    return JSONResponse(result.model_dump(mode="json", by_alias=True), headers=NO_STORE)


@router.get(
    "/api/interactions/{interaction_id}/redactions",
    response_model=ProofList,
    summary="The proofs of a conversation's redactions",
)
async def list_proofs(
    interaction_id: uuid.UUID, session: SessionDep, context: AuditContextDep
) -> ProofList:
    """Entity type, place, detector and fingerprint of each redaction; whoever sees the
    conversation sees them (404 otherwise, like the conversation)."""
    return await service.proofs_for(session, context.principal, interaction_id)


@router.post(
    "/api/redactions/confirm",
    response_model=ConfirmOut,
    dependencies=ADMIN_ONLY,
    summary="Confirm a known original against a proof's fingerprint (audited)",
)
async def confirm(
    payload: Annotated[ConfirmIn, Body()],
    runtime: RuntimeDep,
    session: SessionDep,
    context: AuditContextDep,
) -> ConfirmOut:
    """Admins. The key stays in the service; the answer is yes or no, audited
    (`redaction.confirmed`, never the candidate). 422 `never_fingerprinted` for a security
    code's proof."""
    confirmed = await service.confirm(
        session, runtime.keys.redaction, context, payload.proof_id, payload.candidate
    )
    return ConfirmOut(confirmed=confirmed)
