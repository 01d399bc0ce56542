"""HTTP route of a complaint's evidence bundle (docs/complaints.md, "Evidence bundle")."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from contact_center.complaint_evidence import service
from contact_center.complaint_evidence.service import EvidenceFile
from contact_center.dependencies import AuditContextDep, SessionDep
from contact_center.schemas import ERROR_RESPONSES

router = APIRouter(tags=["complaints"], responses=ERROR_RESPONSES)

CHUNK = 64 * 1024


def _chunks(bundle: EvidenceFile) -> Iterator[bytes]:
    try:
        while chunk := bundle.file.read(CHUNK):
            yield chunk
    finally:
        bundle.file.close()


@router.get(
    "/api/complaints/{complaint_id}/evidence",
    summary="A complaint's evidence bundle (zip with a manifest of SHA-256 digests)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
async def evidence(
    complaint_id: uuid.UUID, session: SessionDep, context: AuditContextDep
) -> StreamingResponse:
    """The case, its conversations, transcripts, recordings' metadata, timeline and audit rows,
    masked, each file's size and SHA-256 in `manifest.json`, the manifest's own in
    `manifest.sha256` and the `X-Manifest-SHA256` header. Whoever sees the complaint (404
    otherwise); one `complaint.evidence_exported` audit row. Never cached."""
    bundle = await service.evidence_bundle(session, context, complaint_id)
    return StreamingResponse(
        _chunks(bundle),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{bundle.filename}"',
            "Cache-Control": "no-store",
            "X-Manifest-SHA256": bundle.manifest_sha256,
        },
    )
