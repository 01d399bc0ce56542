"""Erasing conversations' data by class (docs/data-lifecycle.md, "Data classes"): what each
class leaves behind, idempotence, files and the full-text index, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.db.base import utcnow
from contact_center.models import CallDetail, Interaction, InteractionEvent, Message, OtpChallenge
from contact_center.models.enums import Channel, OtpStatus, Provider
from contact_center.models.redaction import RedactionProof, RedactionVault
from contact_center.models.webhook_delivery import WebhookDelivery
from contact_center.retention import classes
from contact_center.retention.erase import StoredFiles, erase_interactions
from contact_center.search import repository as search
from contact_center.settings import Settings
from tests import factories

DIGEST = "ab" * 32


async def a_conversation(
    session: AsyncSession, settings: Settings, *, vault: bool = True
) -> dict[str, uuid.UUID]:
    """A call with a transcript and a stored recording, a chat message with a media file, an
    event left by a ledger row, a challenge, and a redaction's proof and vault row."""
    conversation = f"conv_{uuid.uuid4().hex[:12]}"
    call = factories.interaction(
        channel=Channel.CALL, provider=Provider.ELEVENLABS, provider_conversation_id=conversation
    )
    delivery = WebhookDelivery(
        id=uuid.uuid4(),
        provider="builderbot",
        event_key=uuid.uuid4().hex,
        raw_body='{"from": "5491155551234", "body": "mi DNI es [DNI_1]"}',
        headers={"x-test": "1"},
        status="PROCESSED",
    )
    message = factories.message(
        call,
        body="Quiero pagar con la tarjeta naranja",
        media=[{"sha256": DIGEST, "content_type": "image/png"}],
        template={"name": "otp", "language": "es_AR", "variables": {"1": "Ana"}},
    )
    event = factories.event(
        call,
        idempotency_key=f"webhook:{delivery.id}:message",
        normalized={"direction": "INBOUND", "summary": "Pagó la tarjeta"},
    )
    detail = factories.call_detail(
        call, summary="El cliente habló de su hipoteca", has_audio=True, analysis={"x": "y"}
    )
    challenge = factories.otp(call, status=OtpStatus.PENDING, expires_at=utcnow() + timedelta(1))
    proof = RedactionProof(
        interaction_id=call.id,
        source=f"webhook:{delivery.id}",
        field="raw_body.body",
        entity="DNI",
        detector="dni",
        start=10,
        end=17,
        token="tok-erase-1",
    )
    sealed = RedactionVault(token="tok-erase-1", entity="DNI", sealed="sealed", key_id="v1")
    rows = [call, delivery, message, event, detail, challenge, *([sealed] if vault else []), proof]
    await factories.save(session, *rows)
    recording = Path(settings.recordings_dir) / f"{conversation}.mp3"
    media = Path(settings.media_dir) / DIGEST[:2] / DIGEST
    for path in (recording, media):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"bytes")
    return {"call": call.id, "delivery": delivery.id, "message": message.id, "event": event.id}


async def test_erasing_a_conversation_keeps_its_rows_and_loses_its_data(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    files = StoredFiles.of(settings)
    async with session_factory() as session:
        ids = await a_conversation(session, settings)
        other = await a_conversation(session, settings, vault=False)
        now = utcnow()
        counts = await erase_interactions(session, [ids["call"]], now=now, files=files)
        await session.commit()
    assert counts == dict.fromkeys(classes.ERASABLE, 1)

    async with session_factory() as session:
        message = await session.get_one(Message, ids["message"])
        assert (message.body, message.media, message.purged_at) == (None, [], message.purged_at)
        assert message.purged_at is not None
        assert message.template == {"name": "otp", "language": "es_AR"}
        detail = (
            await session.scalars(select(CallDetail).where(CallDetail.interaction_id == ids["call"]))
        ).one()
        assert (detail.transcript, detail.summary, detail.analysis) == ([], None, None)
        assert (detail.has_audio, detail.duration_secs) == (False, 95)
        assert detail.transcript_purged_at and detail.recording_purged_at
        event = await session.get_one(InteractionEvent, ids["event"])
        assert (event.payload, event.normalized) == (None, {"direction": "INBOUND"})
        delivery = await session.get_one(WebhookDelivery, ids["delivery"])
        assert (delivery.raw_body, delivery.headers, delivery.status) == ("", None, "PROCESSED")
        challenge = (
            await session.scalars(
                select(OtpChallenge).where(OtpChallenge.interaction_id == ids["call"])
            )
        ).one()
        assert challenge.phone == "+54911******34"
        assert (challenge.status, challenge.code_hash) == (OtpStatus.EXPIRED, None)
        assert await session.get(Interaction, ids["call"]) is not None
        # The proofs of a conversation with no text left go; the vault row still named by the
        # other conversation's proof stays.
        proofs = await session.scalars(
            select(RedactionProof.interaction_id).where(RedactionProof.token == "tok-erase-1")
        )
        assert list(proofs) == [other["call"]]
        assert await session.get(RedactionVault, "tok-erase-1") is not None

        # The full-text index forgets the erased text; the other conversation is still found.
        query = await search.text_query(session, "hipoteca")
        hits = await search.call_hits(session, query, None, 10, part="summary")
        assert [hit.interaction_id for hit in hits] == [other["call"]]
        query = await search.text_query(session, "naranja")
        hits = await search.message_hits(session, query, None, 10)
        assert [hit.interaction_id for hit in hits] == [other["call"]]

    # The media file is kept while the other conversation's message names it.
    media = Path(settings.media_dir) / DIGEST[:2] / DIGEST
    assert media.is_file()
    assert len(list(Path(settings.recordings_dir).glob("*.mp3"))) == 1

    # Twice: nothing more to erase.
    async with session_factory() as session:
        again = await erase_interactions(session, [ids["call"]], now=utcnow(), files=files)
        await session.commit()
    assert again == dict.fromkeys(classes.ERASABLE, 0)

    # Erasing the other one too: its media file (named by no message now) and the vault row go.
    async with session_factory() as session:
        await erase_interactions(session, [other["call"]], now=utcnow(), files=files)
        await session.commit()
        assert await session.get(RedactionVault, "tok-erase-1") is None
    assert not media.exists()
    assert not list(Path(settings.recordings_dir).glob("*.mp3"))


async def test_erasing_some_classes_leaves_the_others(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with session_factory() as session:
        ids = await a_conversation(session, settings)
        counts = await erase_interactions(
            session,
            [ids["call"]],
            classes={classes.MESSAGE_BODIES, classes.EVENT_PAYLOADS},
            now=utcnow(),
            files=StoredFiles.of(settings),
        )
        await session.commit()
    assert counts == {classes.MESSAGE_BODIES: 1, classes.EVENT_PAYLOADS: 1}
    async with session_factory() as session:
        detail = (
            await session.scalars(select(CallDetail).where(CallDetail.interaction_id == ids["call"]))
        ).one()
        assert detail.summary == "El cliente habló de su hipoteca"
        assert detail.has_audio
        delivery = await session.get_one(WebhookDelivery, ids["delivery"])
        assert delivery.raw_body.startswith("{")
        # The transcript is still there: the redaction proofs stay.
        assert await session.get(RedactionVault, "tok-erase-1") is not None
