"""A complaint's evidence bundle (docs/complaints.md, "Evidence bundle"): one zip with the case,
its conversations, their transcripts, the recordings' metadata, the timeline and the audit rows
about them, with a manifest of every file's size and SHA-256, for the regulator's second
instance.

Personal data is masked as the API masks it (phones and names; the conversations through the
same presentation as `GET /api/interactions/{id}`): a bundle travels outside the bank. The audio
itself and any URL it is fetched from are never in it, only its size, its SHA-256 and its flags.
"""

from __future__ import annotations

import hashlib
import html
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit.schemas import AuditEntryOut
from contact_center.complaints import evidence_repository as repository
from contact_center.complaints import repository as complaints
from contact_center.complaints import service
from contact_center.complaints.schemas import ComplaintOut
from contact_center.interactions import service as interactions
from contact_center.interactions.schemas import InteractionDetailOut
from contact_center.models.complaint import Complaint
from contact_center.pii import mask_json
from contact_center.principal import SYSTEM
from contact_center.schemas import ApiModel, Timestamp, format_timestamp

FORMAT = "complaint-evidence/1"
MANIFEST = "manifest.json"
MANIFEST_DIGEST = "manifest.sha256"


class ComplaintRecord(ComplaintOut):
    """complaint.json: the case as the API shows it masked when the bundle is made, with its
    notice's delivery status and its conversations (the overdue flag is a reading of the moment,
    not part of the record: its dates are)."""

    overdue: bool = Field(default=False, exclude=True)
    notice_status: str | None = None
    conversations: list[uuid.UUID]


class TimelineEntry(ApiModel):
    id: uuid.UUID
    type: str
    actor: str
    occurred_at: Timestamp
    data: Any | None


class RecordingEntry(ApiModel):
    """recordings.json: what is known of a call's recording, never the audio or its URL."""

    interaction_id: uuid.UUID
    duration_secs: int | None
    has_audio: bool
    sensitive_audio: bool
    audio_bytes: int | None
    audio_sha256: str | None
    fetched_at: Timestamp | None


class ManifestFile(ApiModel):
    name: str
    size: int
    sha256: str


class Manifest(ApiModel):
    format: str = FORMAT
    complaint_id: uuid.UUID
    complaint_number: str | None
    generated_at: Timestamp
    generated_by: str
    masked: bool = True
    files: list[ManifestFile]


@dataclass(frozen=True)
class Bundle:
    """What was written: the manifest, and the SHA-256 of its bytes (also in `manifest.sha256`
    and the response's header)."""

    manifest: Manifest
    manifest_sha256: str


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _dump(model: ApiModel | list[Any]) -> Any:
    if isinstance(model, list):
        return [_dump(item) for item in model]
    return model.model_dump(mode="json", by_alias=True)


def _conversation(detail: InteractionDetailOut) -> dict[str, Any]:
    """A conversation as the API shows it masked, without any address a file is fetched from
    (a provider's media URL may carry a credential; the recording is described apart)."""
    data: dict[str, Any] = _dump(detail)
    for message in data.get("messages", []):
        for item in message.get("media") or []:
            item.pop("url", None)
    if data.get("callDetail"):
        data["callDetail"].pop("recordingUrl", None)
    return data


def _transcript(detail: InteractionDetailOut) -> list[dict[str, Any]]:
    """What was said, in order: a call's turns, or a chat's messages."""
    if detail.call_detail is not None and detail.call_detail.transcript:
        return [
            {"role": t.role, "timeInCallSecs": t.time_in_call_secs, "text": t.message or ""}
            for t in detail.call_detail.transcript
        ]
    return [
        {
            "role": "customer" if m.direction.value == "INBOUND" else "bank",
            "at": format_timestamp(m.created_at),
            "text": m.body or "",
        }
        for m in sorted(detail.messages, key=lambda m: (m.created_at, str(m.id)))
    ]


def _transcript_text(detail: InteractionDetailOut, turns: list[dict[str, Any]]) -> bytes:
    lines = [
        f"{detail.channel.value} {detail.id}",
        f"{format_timestamp(detail.started_at)}",
        "",
    ]
    for turn in turns:
        when = turn.get("at") or (
            f"{turn['timeInCallSecs']:.0f}s" if turn.get("timeInCallSecs") is not None else ""
        )
        lines.append(f"[{when}] {turn['role']}: {turn['text']}")
    return ("\n".join(lines) + "\n").encode()


async def gather(session: AsyncSession, complaint: Complaint) -> list[tuple[str, bytes]]:
    """Every file of the bundle but the manifest and the README, masked, in a fixed order."""
    links = await repository.links(session, complaint.id)
    ids = [link.interaction_id for link in links]
    notice = await complaints.message(session, complaint.notice_message_id)
    record = ComplaintRecord.model_validate(
        {
            **service.present(complaint, unmasked=False).model_dump(),
            "notice_status": notice.status.value if notice is not None else None,
            "conversations": ids,
        }
    )
    files: list[tuple[str, bytes]] = [("complaint.json", _json(_dump(record)))]
    for interaction_id in ids:
        # Through the system's view: the case decides who sees its evidence, and every
        # conversation it concerns belongs to it.
        detail = await interactions.get_interaction(
            session,
            interaction_id,
            all_messages=True,
            all_events=True,
            reveal=False,
            viewer=SYSTEM,
        )
        turns = _transcript(detail)
        files.append((f"conversations/{interaction_id}.json", _json(_conversation(detail))))
        files.append((f"transcripts/{interaction_id}.json", _json(turns)))
        files.append((f"transcripts/{interaction_id}.txt", _transcript_text(detail, turns)))
    audio = await repository.kept_audio(session, ids)
    recordings = [
        RecordingEntry(
            interaction_id=d.interaction_id,
            duration_secs=d.duration_secs,
            has_audio=d.has_audio,
            sensitive_audio=d.sensitive_audio,
            audio_bytes=_int(audio.get(d.interaction_id, {}).get("bytes")),
            audio_sha256=_str(audio.get(d.interaction_id, {}).get("sha256")),
            fetched_at=d.fetched_at,
        )
        for d in sorted(
            await repository.call_details(session, ids), key=lambda d: ids.index(d.interaction_id)
        )
    ]
    files.append(("recordings.json", _json(_dump(recordings))))
    timeline = [
        TimelineEntry(
            id=e.id, type=e.type, actor=e.actor, occurred_at=e.occurred_at, data=mask_json(e.data)
        )
        for e in await complaints.events(session, complaint.id)
    ]
    files.append(("timeline.json", _json(_dump(timeline))))
    audit = [
        AuditEntryOut.model_validate(row)
        for row in await repository.audit_rows(session, complaint.id, ids)
    ]
    files.append(("audit.json", _json(_dump(audit))))
    return files


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


README = """<!doctype html>
<html lang="es-AR">
<head><meta charset="utf-8"><title>Evidencia del reclamo {number}</title></head>
<body>
<h1>Evidencia del reclamo {number}</h1>
<p>Generada el {generated_at} (UTC) por {generated_by}. Este archivo reúne el reclamo, las
conversaciones que lo originaron, sus transcripciones, los datos de las grabaciones, la línea de
tiempo del caso y los registros de auditoría sobre el caso y sus conversaciones, tal como
constaban al momento de generarla.</p>
<h2>Cómo verificarla</h2>
<p><code>manifest.json</code> lista cada archivo con su tamaño en bytes y su huella SHA-256;
<code>manifest.sha256</code> tiene la huella SHA-256 de <code>manifest.json</code>, que también
quedó registrada en la auditoría del sistema (acción <code>complaint.evidence_exported</code>).
Para verificar: <code>sha256sum -c manifest.sha256</code> y luego comparar la huella de cada
archivo con la del manifiesto.</p>
<h2>Datos personales</h2>
<p>Los números de teléfono y los nombres aparecen enmascarados, igual que en la consola. El
audio de las llamadas no se incluye: sólo su duración, si existe, si contiene datos sensibles, su
tamaño y su huella SHA-256, que permiten verificar la grabación que conserva el banco.</p>
<h2>Contenido</h2>
<table>
<thead><tr><th>Archivo</th><th>Qué contiene</th><th>Bytes</th><th>SHA-256</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""

WHAT = {
    "complaint.json": "El reclamo: número, estado, cliente (enmascarado), plazos y respuesta.",
    "recordings.json": "Datos de las grabaciones (sin el audio).",
    "timeline.json": "La línea de tiempo del reclamo.",
    "audit.json": "Los registros de auditoría sobre el reclamo y sus conversaciones.",
}


def _what(name: str) -> str:
    if name in WHAT:
        return WHAT[name]
    if name.startswith("conversations/"):
        return "Una conversación: mensajes y eventos."
    if name.endswith(".txt"):
        return "Transcripción legible de una conversación."
    return "Transcripción de una conversación (JSON)."


def readme(manifest: Manifest, files: list[ManifestFile]) -> bytes:
    rows = "\n".join(
        f"<tr><td><code>{html.escape(f.name)}</code></td><td>{html.escape(_what(f.name))}</td>"
        f"<td>{f.size}</td><td><code>{f.sha256}</code></td></tr>"
        for f in files
    )
    return README.format(
        number=html.escape(manifest.complaint_number or "(borrador)"),
        generated_at=format_timestamp(manifest.generated_at),
        generated_by=html.escape(manifest.generated_by),
        rows=rows,
    ).encode()


def write(
    out: IO[bytes],
    files: list[tuple[str, bytes]],
    *,
    complaint: Complaint,
    generated_at: datetime,
    generated_by: str,
) -> Bundle:
    """Write the zip to `out`: `files`, README.html, manifest.json (every other file's name,
    size and SHA-256) and manifest.sha256 (the manifest's own SHA-256, as `sha256sum` prints
    it)."""
    listed = [ManifestFile(name=name, size=len(data), sha256=digest(data)) for name, data in files]
    manifest = Manifest(
        complaint_id=complaint.id,
        complaint_number=complaint.number,
        generated_at=generated_at,
        generated_by=generated_by,
        files=listed,
    )
    guide = readme(manifest, listed)
    manifest.files.append(ManifestFile(name="README.html", size=len(guide), sha256=digest(guide)))
    manifest_bytes = _json(_dump(manifest))
    manifest_sha256 = digest(manifest_bytes)
    stamp = generated_at.utctimetuple()[:6]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [
            *files,
            ("README.html", guide),
            (MANIFEST, manifest_bytes),
            (MANIFEST_DIGEST, f"{manifest_sha256}  {MANIFEST}\n".encode()),
        ]:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, zipfile.ZIP_DEFLATED)
    return Bundle(manifest, manifest_sha256)
