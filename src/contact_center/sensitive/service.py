"""The audited reveal of a vault token, a conversation's proofs and the confirmation of a known
original (docs/redaction.md, "Reveal, proofs and recordings").

Who may do what is decided here, once: a reveal is for supervisors and admins, a confirmation
for admins, and a conversation's proofs for whoever sees the conversation. The keys never leave
this process: a reveal answers one original, a confirmation a yes or a no.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from contact_center.interactions import service as interactions
from contact_center.models.enums import Role
from contact_center.principal import AuditContext, Principal
from contact_center.redaction import repository
from contact_center.redaction.proof import NOT_FINGERPRINTED, ProofKey, confirms
from contact_center.redaction.redact import VAULT_REF
from contact_center.redaction.service import RedactionKeys
from contact_center.redaction.vault import VaultError, bind
from contact_center.sensitive.schemas import ProofList, ProofOut, RevealOut

TOKEN = re.compile(VAULT_REF)
PROOF_LIMIT = 1000


def may_reveal(viewer: Principal) -> bool:
    """Supervisors and admins reveal a token (agents see the placeholder only)."""
    return viewer.allows(Role.SUPERVISOR)


def checked_token(token: str) -> str:
    """`tok_` and 16 characters of base32, lower case; 422 for anything else."""
    if not TOKEN.fullmatch(token):
        raise ValidationFailed(
            "A vault token is 'tok_' followed by 16 letters a-z and digits 2-7.",
            code="invalid_token",
            details=[{"field": "path.token", "message": "not a vault token"}],
        )
    return token


def _keys(keys: RedactionKeys | None) -> RedactionKeys:
    if keys is None:
        raise Conflict(
            "Redaction is turned off (REDACTION_ENABLED=false): the vault's keys are not "
            "loaded, so nothing can be revealed or confirmed.",
            code="redaction_disabled",
        )
    return keys


@dataclass(frozen=True)
class RevealRefused:
    """A vault row that does not open: the attempt is audited, the caller gets a 409."""

    error: AppError


async def reveal(
    session: AsyncSession,
    keys: RedactionKeys | None,
    context: AuditContext,
    token: str,
    reason: str,
) -> RevealOut | RevealRefused:
    """The original behind `token`, with one `redaction.revealed` audit row (its entity type and
    the reason; never the value). A row that does not open writes `redaction.reveal_failed`
    and answers a refusal the caller turns into a 409 (the audit row is kept)."""
    if not may_reveal(context.principal):
        raise Forbidden(
            "Revealing a redacted value needs the supervisor or admin role.", code="forbidden"
        )
    checked_token(token)
    vault = _keys(keys).vault
    row = await repository.sealed(session, token)
    if row is None:
        raise NotFound(f"No redacted value with token {token}.", code="token_not_found")
    try:
        value = vault.open(row.sealed, bind(row.token, row.entity))
    except VaultError as exc:
        await audit.record(
            session,
            context,
            "redaction.reveal_failed",
            entity_type="redaction_token",
            entity_id=token,
            metadata={"entity": row.entity, "reason": reason, "keyId": row.key_id},
        )
        # The vault's messages name key ids and the format, never a key or a value.
        return RevealRefused(
            Conflict(
                f"The value of {token} does not open: {exc}",
                code="sealed_value_unreadable",
            )
        )
    await audit.record(
        session,
        context,
        "redaction.revealed",
        entity_type="redaction_token",
        entity_id=token,
        metadata={"entity": row.entity, "reason": reason},
    )
    return RevealOut(token=token, entity=row.entity, value=value)


async def proofs_for(
    session: AsyncSession, viewer: Principal, interaction_id: uuid.UUID
) -> ProofList:
    """The proofs of a conversation, for whoever sees it (404 like the conversation itself)."""
    await interactions.visible_interaction(session, interaction_id, viewer)
    rows = await repository.proofs_of(session, interaction_id, limit=PROOF_LIMIT)
    # In the order of the texts: by when and where they came from, then by place in the text.
    ordered = sorted(rows, key=lambda p: (p.created_at, p.source, p.field, p.start))
    return ProofList(items=[ProofOut.model_validate(row) for row in ordered])


async def confirm(
    session: AsyncSession,
    keys: RedactionKeys | None,
    context: AuditContext,
    proof_id: uuid.UUID,
    candidate: str,
) -> bool:
    """Whether `candidate` is what the proof's fingerprint was made of, under the proof key the
    proof names (an old proof confirms after a rotation while its key is kept). Admins only;
    one `redaction.confirmed` audit row with the answer, never the candidate."""
    if not context.principal.allows(Role.ADMIN):
        raise Forbidden("Confirming a redacted value needs the admin role.", code="forbidden")
    keyring = _keys(keys).proof_keyring
    found = await repository.proof(session, proof_id)
    if found is None:
        raise NotFound(f"No redaction proof with id {proof_id}.", code="proof_not_found")
    if found.entity in NOT_FINGERPRINTED or not found.fingerprint or not found.key_id:
        raise ValidationFailed(
            "A security code is never fingerprinted (it could be recovered from its "
            "fingerprint): its proof cannot confirm anything.",
            code="never_fingerprinted",
        )
    try:
        key = ProofKey.named(keyring, found.key_id)
    except VaultError:
        raise Conflict(
            f"The proof key {found.key_id!r} that made this fingerprint is no longer in "
            "REDACTION_PROOF_KEYS.",
            code="proof_key_missing",
        ) from None
    confirmed = confirms(candidate, found.entity, found.fingerprint, key)
    await audit.record(
        session,
        context,
        "redaction.confirmed",
        entity_type="redaction_proof",
        entity_id=proof_id,
        metadata={"entity": found.entity, "confirmed": confirmed},
    )
    return confirmed
