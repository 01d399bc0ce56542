"""A complaint's evidence bundle (docs/complaints.md, "Evidence bundle"): one zip whose manifest
lists every file with its size and SHA-256, masked, holding every conversation of the case, for
whoever sees the complaint only."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from contact_center.audit import service as audit
from contact_center.db.base import utcnow
from contact_center.models.audit_log import AuditLog
from contact_center.models.complaint import Complaint, ComplaintEvent, ComplaintInteraction
from contact_center.models.enums import (
    Channel,
    ComplaintSource,
    ComplaintStatus,
    Direction,
    EventType,
    Provider,
    Role,
)
from contact_center.models.team import Team, TeamMember
from contact_center.principal import SYSTEM_CONTEXT
from tests import auth
from tests import factories as f

PHONE = "+5491155557788"


@dataclass
class Case:
    complaint: uuid.UUID
    whatsapp: uuid.UUID
    call: uuid.UUID
    team_a: uuid.UUID
    team_b: uuid.UUID


async def seed_case(app: FastAPI, *, number: str = "R-2026-000123") -> Case:
    """A complaint of team A about a WhatsApp conversation and a call (with a kept recording),
    with its timeline and audit rows; Ana is in team A, Bruno in team B."""
    sessions = app.state.session_factory
    ana = await auth.user(sessions, "ana", Role.AGENT)
    bruno = await auth.user(sessions, "bruno", Role.AGENT)
    now = utcnow()
    team_a, team_b = Team(name="Reclamos A"), Team(name="Reclamos B")
    whatsapp = f.interaction(
        customer_phone=PHONE, from_number=PHONE, assigned_agent="ana", started_at=now
    )
    call = f.interaction(
        channel=Channel.CALL,
        provider=Provider.ELEVENLABS,
        customer_phone=PHONE,
        from_number=PHONE,
        started_at=now + timedelta(minutes=5),
    )
    complaint = Complaint(
        number=number,
        status=ComplaintStatus.OPEN,
        source=ComplaintSource.CONSOLE,
        customer_phone=PHONE,
        type="COBRO_INDEBIDO",
        product="TARJETA",
        description=f"Cobro no reconocido; llamar al {PHONE}",
        created_by="ana",
        opened_at=now,
        due_at=now + timedelta(days=14),
        warn_at=now + timedelta(days=10),
    )
    async with sessions() as session:
        session.add_all([team_a, team_b])
        await session.flush()
        complaint.team_id = team_a.id
        await f.save(
            session,
            TeamMember(team_id=team_a.id, user_id=ana.id),
            TeamMember(team_id=team_b.id, user_id=bruno.id),
            whatsapp,
            call,
            f.message(whatsapp, body=f"Me cobraron dos veces, mi número es {PHONE}"),
            f.message(
                whatsapp,
                direction=Direction.OUTBOUND,
                body="Lo revisamos",
                created_at=now + timedelta(minutes=1),
                media=[{"url": "https://provider.example/m/1?token=secret", "filename": "a.jpg"}],
            ),
            f.call_detail(
                call,
                transcript=[
                    {"role": "user", "message": "Quiero hacer un reclamo", "time_in_call_secs": 1},
                    {"role": "agent", "message": "Tomo el reclamo", "time_in_call_secs": 4},
                ],
                has_audio=True,
                recording_url="/api/elevenlabs/audio/conv_secret",
                duration_secs=95,
            ),
            f.event(
                call,
                type=EventType.CALL_AUDIO.value,
                normalized={"bytes": 4096, "sha256": "ab" * 32},
                payload=None,
                idempotency_key=f"audio:{call.id}",
            ),
            complaint,
        )
        await f.save(
            session,
            ComplaintInteraction(
                complaint_id=complaint.id, interaction_id=whatsapp.id, linked_by="ana"
            ),
            ComplaintInteraction(
                complaint_id=complaint.id, interaction_id=call.id, linked_by="ana"
            ),
            ComplaintEvent(complaint_id=complaint.id, type="opened", actor="ana"),
        )
        await audit.record(
            session,
            SYSTEM_CONTEXT,
            "complaint.opened",
            entity_type="complaint",
            entity_id=complaint.id,
            metadata={"number": number},
        )
        await audit.record(
            session,
            SYSTEM_CONTEXT,
            "interaction.assigned",
            entity_type="interaction",
            entity_id=whatsapp.id,
        )
        await session.commit()
    return Case(complaint.id, whatsapp.id, call.id, team_a.id, team_b.id)


def _opened(response: httpx.Response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(response.content))


@pytest.fixture
async def people(app: FastAPI) -> dict[str, httpx.AsyncClient]:
    return {
        name: await auth.token_client(app, name, role)
        for name, role in (
            ("ana", Role.AGENT),
            ("bruno", Role.AGENT),
            ("sup", Role.SUPERVISOR),
            ("oficial", Role.COMPLIANCE),
        )
    }


async def test_the_manifest_lists_every_file_with_its_size_and_sha256(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    case = await seed_case(app)
    response = await people["ana"].get(f"/api/complaints/{case.complaint}/evidence")
    bundle = _opened(response)
    names = set(bundle.namelist())
    manifest_bytes = bundle.read("manifest.json")
    manifest = json.loads(manifest_bytes)
    listed = {item["name"]: item for item in manifest["files"]}
    # Every file but the manifest and its digest is listed, and nothing listed is missing.
    assert set(listed) == names - {"manifest.json", "manifest.sha256"}
    for name, item in listed.items():
        data = bundle.read(name)
        assert item["size"] == len(data), name
        assert item["sha256"] == hashlib.sha256(data).hexdigest(), name
    own = hashlib.sha256(manifest_bytes).hexdigest()
    assert bundle.read("manifest.sha256").decode() == f"{own}  manifest.json\n"
    assert response.headers["x-manifest-sha256"] == own
    assert manifest["complaintNumber"] == "R-2026-000123"
    assert manifest["generatedBy"] == "ana"
    assert {"complaint.json", "recordings.json", "timeline.json", "audit.json", "README.html"} <= (
        names
    )
    # The export is audited with the manifest's digest.
    async with app.state.session_factory() as session:
        row = (
            await session.scalars(
                select(AuditLog).where(AuditLog.action == "complaint.evidence_exported")
            )
        ).one()
    assert row.entity_id == str(case.complaint)
    assert row.actor_id == "ana"
    assert row.metadata_ is not None
    assert row.metadata_["manifestSha256"] == own


async def test_a_complaint_with_two_conversations_holds_both_masked_and_without_audio_urls(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    case = await seed_case(app)
    bundle = _opened(await people["sup"].get(f"/api/complaints/{case.complaint}/evidence"))
    for conversation in (case.whatsapp, case.call):
        for name in (
            f"conversations/{conversation}.json",
            f"transcripts/{conversation}.json",
            f"transcripts/{conversation}.txt",
        ):
            assert name in bundle.namelist()
    complaint = json.loads(bundle.read("complaint.json"))
    assert set(complaint["conversations"]) == {str(case.whatsapp), str(case.call)}
    assert complaint["status"] == "OPEN"
    call = json.loads(bundle.read(f"conversations/{case.call}.json"))
    assert "recordingUrl" not in call["callDetail"]
    turns = json.loads(bundle.read(f"transcripts/{case.call}.json"))
    assert [t["text"] for t in turns] == ["Quiero hacer un reclamo", "Tomo el reclamo"]
    chat = bundle.read(f"transcripts/{case.whatsapp}.txt").decode()
    assert "Me cobraron dos veces" in chat
    recordings = json.loads(bundle.read("recordings.json"))
    assert recordings == [
        {
            "interactionId": str(case.call),
            "durationSecs": 95,
            "hasAudio": True,
            "sensitiveAudio": False,
            "audioBytes": 4096,
            "audioSha256": "ab" * 32,
            "fetchedAt": None,
        }
    ]
    timeline = json.loads(bundle.read("timeline.json"))
    assert [e["type"] for e in timeline] == ["opened"]
    actions = [row["action"] for row in json.loads(bundle.read("audit.json"))]
    assert actions == ["complaint.opened", "interaction.assigned"]
    # Masked everywhere; no provider URL or secret anywhere.
    for name in bundle.namelist():
        text = bundle.read(name).decode()
        assert PHONE[1:] not in text, name
        assert "token=secret" not in text, name
        assert "conv_secret" not in text, name


async def test_an_agent_of_another_team_is_refused_and_compliance_is_not(
    app: FastAPI, people: dict[str, httpx.AsyncClient]
) -> None:
    case = await seed_case(app)
    refused = await people["bruno"].get(f"/api/complaints/{case.complaint}/evidence")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "complaint_not_found"
    unknown = await people["bruno"].get(f"/api/complaints/{uuid.uuid4()}/evidence")
    assert unknown.json() == refused.json() | {
        "error": refused.json()["error"] | {"message": unknown.json()["error"]["message"]}
    }
    _opened(await people["oficial"].get(f"/api/complaints/{case.complaint}/evidence"))
    # Bruno owning it is enough, whatever its team.
    async with app.state.session_factory() as session:
        found = await session.get(Complaint, case.complaint)
        assert found is not None
        found.owner = "bruno"
        await session.commit()
    _opened(await people["bruno"].get(f"/api/complaints/{case.complaint}/evidence"))
    async with app.state.session_factory() as session:
        exported = await session.scalars(
            select(AuditLog.actor_id).where(AuditLog.action == "complaint.evidence_exported")
        )
        assert sorted(exported.all()) == ["bruno", "oficial"]


@pytest.mark.parametrize(
    "complaint_id",
    ["not-a-uuid", "1' OR '1'='1", "%00", "a" * 300, "..%2F..%2Fetc%2Fpasswd"],
)
async def test_hostile_ids_answer_4xx_with_the_envelope(
    app: FastAPI, people: dict[str, httpx.AsyncClient], complaint_id: str
) -> None:
    response = await people["sup"].get(f"/api/complaints/{complaint_id}/evidence")
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()
