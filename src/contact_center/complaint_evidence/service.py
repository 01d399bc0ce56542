"""A complaint's evidence bundle as a file (docs/complaints.md, "Evidence bundle"): for whoever
sees the complaint (`complaints.service.visible`: an agent the complaints of their teams and
those they own; supervisors, admins and compliance officers every one), else the same 404 as an
unknown id."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import service as audit
from contact_center.complaints import evidence
from contact_center.complaints import service as complaints
from contact_center.db.base import utcnow
from contact_center.principal import AuditContext

# A bundle is built in memory up to this size, then in a temporary file (a case with many long
# conversations).
IN_MEMORY_BYTES = 8 * 1024 * 1024


@dataclass
class EvidenceFile:
    """The zip, rewound, to be streamed; the caller closes it."""

    file: IO[bytes]
    filename: str
    manifest_sha256: str


async def evidence_bundle(
    session: AsyncSession, context: AuditContext, complaint_id: uuid.UUID
) -> EvidenceFile:
    """The complaint's evidence bundle, with one `complaint.evidence_exported` audit row naming
    the manifest's SHA-256 (so a bundle shown later can be matched with this export)."""
    complaint = await complaints.visible(session, context.principal, complaint_id)
    files = await evidence.gather(session, complaint)
    out = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115 - streamed, then closed
    try:
        bundle = evidence.write(
            out,
            files,
            complaint=complaint,
            generated_at=utcnow(),
            generated_by=context.principal.actor_id,
        )
    except BaseException:
        out.close()
        raise
    await audit.record(
        session,
        context,
        "complaint.evidence_exported",
        entity_type="complaint",
        entity_id=complaint.id,
        metadata={
            "number": complaint.number,
            "manifestSha256": bundle.manifest_sha256,
            "files": len(bundle.manifest.files),
        },
    )
    out.seek(0)
    name = (complaint.number or f"borrador-{complaint.id}").replace("/", "-")
    return EvidenceFile(out, f"reclamo-{name}-evidencia.zip", bundle.manifest_sha256)
