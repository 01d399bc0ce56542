"""The deterministic demo data set: a few realistic days of calls, WhatsApp chats, SMS and OTPs.

Every content choice, every id and every time offset comes from one `random.Random` seeded with
`DEMO_SEED`; times are anchored to the current hour (UTC), so two runs in the same hour write the
same rows and the data always looks like the last `days` days. Nothing lies after the anchor.

The rows follow the rules the live system applies (docs/api.md): the events an interaction
would have had, WhatsApp's 24-hour conversation window (one conversation per customer at a time),
call outcomes derivable from the analysis, OTP bodies with the code masked and no code hash.

This is a job: it owns its transactions and commits one batch of interactions at a time.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.auth import credentials
from contact_center.auth import repository as auth_repository
from contact_center.auth import service as auth_service
from contact_center.calls.service import audio_url
from contact_center.db.base import Base, utcnow
from contact_center.db.session import create_session_factory
from contact_center.demo import content
from contact_center.demo.content import CallScript, ChatScript, HumanAgent, IntentContent
from contact_center.demo.wording import decimal_ar, fill, placeholder_values
from contact_center.keys.service import load_keys
from contact_center.links.service import PATHS as LINK_PATHS
from contact_center.links.service import make_token
from contact_center.models.call_detail import CallDetail
from contact_center.models.enums import (
    Channel,
    Direction,
    EventType,
    InteractionStatus,
    MessageKind,
    MessageStatus,
    OtpPurpose,
    OtpStatus,
    Outcome,
    Provider,
    Role,
)
from contact_center.models.interaction import Interaction
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.message import Message
from contact_center.models.otp_challenge import OtpChallenge
from contact_center.models.signed_link import SignedLink
from contact_center.mp3 import small_silent_mp3
from contact_center.phones import normalize_valid
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.recordings import RecordingStore
from contact_center.settings import Settings

T = TypeVar("T")

BATCH_INTERACTIONS = 200
# About 400 interactions a day for 300 customers; volume scales with the customer count.
DAILY_INTERACTIONS_PER_300_CUSTOMERS = 400
# Share of each channel among the scheduled interactions. Calls about a password change add
# OTP SMS of their own (about 3 % more), which brings the mix to about 45/40/15.
CHANNEL_WEIGHTS = ((Channel.CALL, 0.46), (Channel.WHATSAPP, 0.42), (Channel.SMS, 0.12))
# Relative traffic per local hour (APP_TIMEZONE): quiet nights, busy 9:00-20:00.
HOURLY_WEIGHTS = (
    0.15, 0.10, 0.08, 0.07, 0.08, 0.15, 0.35, 0.70, 1.30, 2.00, 2.40, 2.50,
    2.30, 2.00, 2.10, 2.30, 2.30, 2.20, 2.00, 1.70, 1.20, 0.80, 0.50, 0.30,
)  # fmt: skip
WEEKEND_FACTOR = 0.6
WHATSAPP_WINDOW = timedelta(hours=24)
# A conversation is left open only when its last message is this much newer than 24 h before the
# anchor: it stays within the 24-hour window (a reply joins it) for at least an hour after seeding.
OPEN_MARGIN = timedelta(hours=2)
SPEECH_CHARS_PER_SECOND = 15.0
MAX_CALL_SECONDS = 600
MIN_CALL_SECONDS = 30
# A seeded call's recording is silence of its length, at most this long (as the emulator's): about
# a kilobyte a second in the recordings store.
RECORDING_SECONDS = 30.0

COMPLETED_CALL_OUTCOMES = (
    (Outcome.RESOLVED, 0.66),
    (Outcome.TRANSFERRED, 0.10),
    (Outcome.TICKETED, 0.10),
    (Outcome.ESCALATED, 0.07),
    (Outcome.UNKNOWN, 0.07),
)
SMS_KINDS = (
    (MessageKind.OTP, 0.40),
    (MessageKind.TEXT, 0.20),
    (MessageKind.CARD_ACTIVATION, 0.18),
    (MessageKind.VERIFICATION_LINK, 0.12),
    (MessageKind.ONBOARDING_LINK, 0.10),
)
OTP_PURPOSES = (
    (OtpPurpose.LOGIN_2FA, 0.45),
    (OtpPurpose.TX_CONFIRMATION, 0.25),
    (OtpPurpose.PASSWORD_RESET, 0.15),
    (OtpPurpose.IDENTITY_VERIFICATION, 0.15),
)
SMS_ERROR_WEIGHTS = (0.35, 0.20, 0.15, 0.10, 0.20)  # aligned with content.SMS_ERRORS


@dataclass(frozen=True)
class Customer:
    ref: str
    phone: str
    first_name: str
    last_name: str
    female: bool

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class _Bundle:
    """The rows of one scheduled interaction (and of the OTP SMS it may have triggered)."""

    objects: list[Base] = field(default_factory=list)
    interactions: int = 0
    # (conversation id, seconds) of each call that has a recording: its MP3 goes to the store.
    recordings: list[tuple[str, float]] = field(default_factory=list)


class _Timeline:
    """Events of one interaction, numbered for their idempotency keys, in the order they happen."""

    def __init__(self, generator: _Generator, interaction: Interaction, bundle: _Bundle) -> None:
        self._generator = generator
        self._interaction = interaction
        self._bundle = bundle
        self._count = 0

    def add(
        self,
        event_type: EventType,
        at: datetime,
        normalized: dict[str, Any],
        payload: dict[str, Any] | None = None,
        provider_event_id: str | None = None,
    ) -> None:
        self._count += 1
        self._bundle.objects.append(
            InteractionEvent(
                id=self._generator.new_id(),
                interaction_id=self._interaction.id,
                type=event_type.value,
                occurred_at=at,
                payload=payload,
                normalized=normalized,
                provider_event_id=provider_event_id,
                idempotency_key=f"demo:{self._interaction.id}:{self._count}",
            )
        )
        self._interaction.updated_at = max(self._interaction.updated_at, at)


@dataclass
class _SmsPlan:
    """What happens to one SMS, in seconds after it was queued; decided before any row exists."""

    kind: MessageKind
    template: str
    status: MessageStatus
    error: tuple[str, str] | None
    sent_after: float | None
    final_after: float | None
    purpose: OtpPurpose | None = None
    otp_status: OtpStatus | None = None
    otp_attempts: int = 0
    otp_closed_after: float | None = None
    tx_context: dict[str, str] | None = None

    @property
    def span(self) -> float:
        offsets = [self.sent_after, self.final_after, self.otp_closed_after]
        return max([o for o in offsets if o is not None], default=0.0)


class _Generator:
    def __init__(
        self,
        rng: random.Random,
        settings: Settings,
        anchor: datetime,
        customers: Sequence[Customer],
        voice_agent_id: str,
        bot_project_id: str,
        link_key: bytes,
    ) -> None:
        self.rng = rng
        self.settings = settings
        self.anchor = anchor
        self.zone = settings.zone
        self.customers = customers
        self.voice_agent_id = voice_agent_id
        self.bot_project_id = bot_project_id
        self.link_key = link_key
        self.sms_sender = settings.twilio_from_number or content.SMS_SENDER_FALLBACK
        self.sms_account = settings.twilio_account_sid or "AC" + "0" * 32
        self.site = settings.frontend_url or content.BANK_SITE
        # A few customers write and call much more than the rest.
        self._customer_cum = list(accumulate(rng.paretovariate(2.0) for _ in customers))
        self._whatsapp_windows: dict[str, list[tuple[datetime, datetime]]] = {}
        self._load: Counter[tuple[Channel, str]] = Counter()
        self._call_intents = [(i, i.call_weight) for i in content.INTENTS]
        self._whatsapp_intents = [(i, i.whatsapp_weight) for i in content.INTENTS]

    # --- primitives -------------------------------------------------------------------------

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _hex(self, chars: int) -> str:
        return f"{self.rng.getrandbits(chars * 4):0{chars}x}"

    def _pick(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]

    def _weighted(self, pairs: Sequence[tuple[T, float]]) -> T:
        items = [item for item, _ in pairs]
        return self.rng.choices(items, weights=[w for _, w in pairs], k=1)[0]

    def _customer(self) -> Customer:
        return self.rng.choices(self.customers, cum_weights=self._customer_cum, k=1)[0]

    def _agent_for(self, queue: str | None, channel: Channel) -> HumanAgent:
        """Who takes a conversation: the least busy agent on this channel, the queue's own agents
        first, then the generalists (Atención al Cliente), then anyone a conversation less busy
        (overflow), so that every agent has calls and chats. Without a queue, any agent."""

        def distance(agent: HumanAgent) -> float:
            if queue is None or agent.queue == queue:
                return 0.0
            return 0.5 if agent.queue == "general" else 1.0

        agent = min(
            content.HUMAN_AGENTS,
            key=lambda a: (self._load[channel, a.username] + distance(a), self.rng.random()),
        )
        self._load[channel, agent.username] += 1
        return agent

    def _values(
        self,
        customer: Customer,
        at: datetime,
        queue: str | None = None,
        agent: HumanAgent | None = None,
    ) -> dict[str, str]:
        """Placeholder values of one interaction (one ticket for its transcript and summary)."""
        return placeholder_values(
            self.rng,
            first_name=customer.first_name,
            female=customer.female,
            at=at,
            zone=self.zone,
            queue=queue,
            agent_first_name=agent.first_name if agent else None,
        )

    def _fits(self, start: datetime, span: float) -> datetime:
        """Move a start back so that everything that follows it happened before the anchor."""
        latest = self.anchor - timedelta(seconds=span + 1)
        return min(start, latest)

    # --- schedule ---------------------------------------------------------------------------

    def schedule(self, days: int, customer_count: int) -> list[datetime]:
        """Start times of the interactions: hourly shape in local time, sorted."""
        total = max(1, round(DAILY_INTERACTIONS_PER_300_CUSTOMERS * customer_count / 300 * days))
        first = self.anchor - timedelta(days=days)
        hours = [first + timedelta(hours=h) for h in range(days * 24)]
        weights = []
        for hour in hours:
            local = hour.astimezone(self.zone)
            weight = HOURLY_WEIGHTS[local.hour]
            weights.append(weight * WEEKEND_FACTOR if local.weekday() >= 5 else weight)
        picks = self.rng.choices(hours, weights=weights, k=total)
        return sorted(h + timedelta(seconds=self.rng.uniform(0, 3600)) for h in picks)

    def interaction(self, start: datetime) -> _Bundle:
        channel = self._weighted(CHANNEL_WEIGHTS)
        if channel is Channel.WHATSAPP:
            bundle = self.whatsapp(start)
            if bundle is not None:
                return bundle
            channel = Channel.CALL  # every customer already has a conversation open
        if channel is Channel.CALL:
            return self.call(start)
        return self.sms(start)

    # --- calls ------------------------------------------------------------------------------

    def call(self, start: datetime) -> _Bundle:
        rng = self.rng
        intent = self._weighted(self._call_intents)
        outbound_scripts = [s for s in intent.calls if s.outbound_openings]
        outbound = bool(outbound_scripts) and rng.random() < 0.35
        script = self._pick(
            outbound_scripts if outbound else [s for s in intent.calls if not s.outbound_openings]
        )
        roll = rng.random()
        if outbound:
            status = InteractionStatus.FAILED if roll < 0.15 else InteractionStatus.COMPLETED
        elif roll < 0.085:
            status = InteractionStatus.ABANDONED
        elif roll < 0.11:
            status = InteractionStatus.FAILED
        else:
            status = InteractionStatus.COMPLETED
        outcome = (
            self._weighted(COMPLETED_CALL_OUTCOMES)
            if status is InteractionStatus.COMPLETED
            else Outcome.UNKNOWN
        )

        # Turns as templates, then their times: all offsets are known before any row exists.
        turns: list[tuple[str, str]] = []
        identity_checked = False
        if status is InteractionStatus.ABANDONED:
            turns = [("agent", self._pick(content.CALL_GREETINGS))]
        elif status is InteractionStatus.COMPLETED:
            turns, identity_checked = self._call_turns(script, outcome)
        times: list[int] = []
        clock = 0.0
        pace = rng.uniform(1.3, 2.6)
        for index in range(len(turns)):
            if index:
                previous_role, previous = turns[index - 1]
                clock += len(previous) / SPEECH_CHARS_PER_SECOND + rng.uniform(0.8, 3.0) * pace
                if previous_role == "agent" and "guarde" in previous:
                    clock += rng.uniform(20, 75)  # the agent looks something up
            times.append(round(clock))
        if status is InteractionStatus.COMPLETED:
            last = turns[-1][1]
            duration = times[-1] + len(last) / SPEECH_CHARS_PER_SECOND + rng.uniform(2, 8)
            if outcome is Outcome.TRANSFERRED:
                duration += rng.uniform(60, 360)  # the conversation with the human agent
            if duration > MAX_CALL_SECONDS:
                scale = (MAX_CALL_SECONDS - 10) / duration
                times = [round(t * scale) for t in times]
                duration = MAX_CALL_SECONDS - rng.uniform(0, 10)
            call_secs = max(MIN_CALL_SECONDS + rng.randint(0, 15), round(duration))
        elif status is InteractionStatus.ABANDONED:
            call_secs = rng.randint(3, 25)
        else:
            call_secs = 0
        ring_secs = rng.randint(15, 40) if outbound and status is InteractionStatus.FAILED else 2
        end_offset = float(call_secs or ring_secs)
        webhook_after = end_offset + rng.uniform(3, 40)
        has_audio = (status is InteractionStatus.COMPLETED and rng.random() < 0.72) or (
            status is InteractionStatus.ABANDONED and rng.random() < 0.5
        )
        audio_after = webhook_after + rng.uniform(2, 20)

        # A password change by phone sends an OTP by SMS while the customer is on the line.
        otp_plan: _SmsPlan | None = None
        otp_after = 0.0
        sms_turn = next(
            (
                i
                for i, (role, text) in enumerate(turns)
                if role == "agent" and "código por SMS" in text
            ),
            None,
        )
        if intent.key == "cambio_clave" and sms_turn is not None and rng.random() < 0.75:
            otp_after = times[sms_turn] + rng.uniform(1, 4)
            otp_plan = self._plan_sms(
                MessageKind.OTP, OtpPurpose.PASSWORD_RESET, verified=outcome is Outcome.RESOLVED
            )
        span = audio_after if has_audio else webhook_after
        if otp_plan is not None:
            span = max(span, otp_after + otp_plan.span)
        start = self._fits(start, span)

        # Rows.
        customer = self._customer()
        queue = intent.queue if (status is InteractionStatus.COMPLETED or outbound) else None
        human = (
            self._agent_for(intent.queue, Channel.CALL) if outcome is Outcome.TRANSFERRED else None
        )
        values = self._values(customer, start, intent.queue, human)
        conversation_id = f"conv_{self._hex(20)}"
        bundle = _Bundle()
        ended = start + timedelta(seconds=end_offset)
        interaction = Interaction(
            id=self.new_id(),
            channel=Channel.CALL,
            direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
            status=status,
            started_at=start,
            ended_at=ended,
            created_at=start,
            updated_at=start,
            from_number=content.BANK_VOICE_LINE if outbound else customer.phone,
            to_number=customer.phone if outbound else content.BANK_VOICE_LINE,
            customer_phone=customer.phone,
            customer_name=None,
            provider=Provider.ELEVENLABS,
            provider_conversation_id=conversation_id,
            assigned_agent=human.username if human else content.VIRTUAL_AGENT_NAME,
            customer_ref=customer.ref if outbound or rng.random() < 0.85 else None,
            queue=queue,
            intent=intent.key if queue else None,
            outcome=outcome,
            ai_handled=outcome is not Outcome.TRANSFERRED,
        )
        bundle.objects.append(interaction)
        bundle.interactions += 1

        transcript = [
            {"role": role, "message": fill(text, values), "time_in_call_secs": at}
            for (role, text), at in zip(turns, times, strict=True)
        ]
        summary, call_successful = self._call_summary(script, status, outcome, customer, values)
        hangup = self._call_hangup(status, outcome, outbound)
        recording = audio_url(conversation_id) if has_audio else None
        if has_audio:
            bundle.recordings.append((conversation_id, float(call_secs)))
        webhook_at = start + timedelta(seconds=webhook_after)
        detail = CallDetail(
            id=self.new_id(),
            interaction_id=interaction.id,
            transcript=transcript,
            summary=summary,
            recording_url=recording,
            duration_secs=call_secs,
            hangup_reason=hangup,
            call_successful=call_successful,
            analysis=self._call_analysis(
                intent if interaction.intent else None,
                outcome,
                call_successful,
                summary,
                identity_checked,
                values,
            ),
            has_audio=has_audio,
            fetched_at=webhook_at,
        )
        bundle.objects.append(detail)

        timeline = _Timeline(self, interaction, bundle)
        timeline.add(
            EventType.INTERACTION_CREATED,
            start,
            {
                "channel": Channel.CALL.value,
                "direction": interaction.direction.value,
                "provider": Provider.ELEVENLABS.value,
                "conversationId": conversation_id,
            },
        )
        if otp_plan is not None:
            self._sms_rows(
                bundle,
                otp_plan,
                start + timedelta(seconds=otp_after),
                customer,
                customer_ref=interaction.customer_ref,
                requested_from=(interaction, timeline),
            )
        envelope_data = {
            "agent_id": self.voice_agent_id,
            "conversation_id": conversation_id,
        }
        phone_call = {
            "type": "twilio",
            "direction": interaction.direction.value.lower(),
            "agent_number": content.BANK_VOICE_LINE,
            "external_number": customer.phone,
        }
        if status is InteractionStatus.FAILED and outbound:
            timeline.add(
                EventType.STATUS_CHANGED,
                webhook_at,
                {
                    "field": "status",
                    "from": InteractionStatus.IN_PROGRESS.value,
                    "to": status.value,
                },
                payload={
                    "type": "call_initiation_failure",
                    "event_timestamp": int(webhook_at.timestamp()),
                    "data": {**envelope_data, "failure_reason": hangup.rsplit(": ", 1)[-1]},
                },
                provider_event_id=f"{conversation_id}:call_initiation_failure",
            )
            return bundle
        timeline.add(
            EventType.CALL_TRANSCRIPT,
            webhook_at,
            {
                "turns": len(transcript),
                "durationSecs": call_secs,
                "callSuccessful": call_successful,
                "intent": interaction.intent,
                "outcome": outcome.value,
            },
            payload={
                "type": "post_call_transcription",
                "event_timestamp": int(webhook_at.timestamp()),
                "data": {
                    **envelope_data,
                    "status": "failed" if status is InteractionStatus.FAILED else "done",
                    "metadata": {
                        "start_time_unix_secs": int(start.timestamp()),
                        "call_duration_secs": call_secs,
                        "termination_reason": hangup,
                        "phone_call": phone_call,
                    },
                },
            },
            provider_event_id=f"{conversation_id}:post_call_transcription",
        )
        if human is not None:
            timeline.add(
                EventType.AGENT_ASSIGNED,
                webhook_at,
                {
                    "field": "assignedAgent",
                    "from": content.VIRTUAL_AGENT_NAME,
                    "to": human.username,
                },
            )
        if status is InteractionStatus.COMPLETED:
            timeline.add(
                EventType.INTERACTION_COMPLETED,
                webhook_at,
                {"status": status.value, "outcome": outcome.value},
            )
        else:
            timeline.add(
                EventType.STATUS_CHANGED,
                webhook_at,
                {
                    "field": "status",
                    "from": InteractionStatus.IN_PROGRESS.value,
                    "to": status.value,
                },
            )
        if has_audio:
            audio_at = start + timedelta(seconds=audio_after)
            timeline.add(
                EventType.CALL_AUDIO,
                audio_at,
                {"hasAudio": True, "recordingUrl": recording},
                payload={
                    "type": "post_call_audio",
                    "event_timestamp": int(audio_at.timestamp()),
                    "data": envelope_data,
                },
                provider_event_id=f"{conversation_id}:post_call_audio",
            )
        return bundle

    def _call_turns(
        self, script: CallScript, outcome: Outcome
    ) -> tuple[list[tuple[str, str]], bool]:
        """Greeting, opening, (agent, customer) steps and an ending that matches the outcome."""
        rng = self.rng
        outbound = bool(script.outbound_openings)
        if outbound:
            agent_line, customer_line = self._pick(script.outbound_openings)
            head = [("agent", agent_line), ("user", customer_line)]
        else:
            head = [
                ("agent", self._pick(content.CALL_GREETINGS)),
                ("user", self._pick(script.openings)),
            ]
        farewell = [
            ("user", self._pick(content.CALL_THANKS)),
            ("agent", self._pick(content.CALL_FAREWELLS)),
        ]
        ending: list[tuple[str, str]]
        if outcome is Outcome.RESOLVED:
            ending = [("agent", self._pick(script.resolutions)), *farewell]
        elif outcome is Outcome.ESCALATED:
            ending = [("agent", self._pick(content.CALL_ESCALATE_LINES)), *farewell]
        elif outcome is Outcome.TICKETED:
            ending = [("agent", self._pick(content.CALL_TICKET_LINES)), *farewell]
        elif outcome is Outcome.TRANSFERRED:
            ending = [("agent", self._pick(content.CALL_TRANSFER_LINES))]
        else:
            ending = []
        # At most 12 turns: an identity check first when there is room for it and the script.
        room = (12 - len(head) - len(ending)) // 2
        identity = not outbound and len(script.steps) < room and rng.random() < 0.75
        steps = list(script.steps[:room])
        if identity:
            steps.insert(0, self._pick(content.CALL_IDENTITY_STEPS))
        if outcome in (Outcome.TRANSFERRED, Outcome.UNKNOWN):
            # The call stops part-way: the customer's last answer becomes the transfer request or
            # the abrupt goodbye.
            steps = steps[: rng.randint(1, len(steps))]
        middle: list[tuple[str, str]] = []
        for agent_line, customer_line in steps:
            middle += [("agent", agent_line), ("user", customer_line)]
        if outcome is Outcome.TRANSFERRED:
            middle[-1] = ("user", self._pick(content.CALL_TRANSFER_REQUESTS))
        elif outcome is Outcome.UNKNOWN:
            middle[-1] = ("user", self._pick(content.CALL_UNKNOWN_ENDINGS))
        return head + middle + ending, identity

    def _call_summary(
        self,
        script: CallScript,
        status: InteractionStatus,
        outcome: Outcome,
        customer: Customer,
        values: dict[str, str],
    ) -> tuple[str, str]:
        """The provider's summary and `call_successful`, consistent with the outcome rules."""
        rng = self.rng
        if status is InteractionStatus.ABANDONED:
            return self._pick(content.ABANDONED_SUMMARIES), "unknown"
        if status is InteractionStatus.FAILED:
            return self._pick(content.FAILED_SUMMARIES), "failure"
        who = "La clienta" if customer.female else "El cliente"
        topic = script.topic
        if outcome is Outcome.RESOLVED:
            result = script.resolved
        else:
            result = self._pick(content.OUTCOME_SUMMARIES[outcome.value])
        summary = fill(f"{who} {topic}. {result}", values)
        successful = {
            Outcome.RESOLVED: "success",
            Outcome.TICKETED: "success",
            Outcome.TRANSFERRED: self._pick(("unknown", "success")),
            Outcome.ESCALATED: self._pick(("failure", "unknown")),
            Outcome.UNKNOWN: "unknown" if rng.random() < 0.7 else "failure",
        }[outcome]
        return summary, successful

    def _call_hangup(self, status: InteractionStatus, outcome: Outcome, outbound: bool) -> str:
        if status is InteractionStatus.ABANDONED:
            key = "ABANDONED"
        elif status is InteractionStatus.FAILED:
            key = "FAILED_OUTBOUND" if outbound else "FAILED_INBOUND"
        else:
            key = outcome.value
        return self._pick(content.HANGUP_REASONS[key])

    @staticmethod
    def _call_analysis(
        intent: IntentContent | None,
        outcome: Outcome,
        call_successful: str,
        summary: str,
        identity_checked: bool,
        values: dict[str, str],
    ) -> dict[str, Any]:
        """The provider's analysis, from which the outcome rules (docs/api.md) give `outcome`."""

        def item(key: str, value: Any, rationale: str) -> dict[str, Any]:
            return {"data_collection_id": key, "value": value, "rationale": rationale}

        def criterion(key: str, result: str, rationale: str) -> dict[str, Any]:
            return {"criteria_id": key, "result": result, "rationale": rationale}

        data = {
            "intent": item(
                "intent",
                intent.key if intent else None,
                f"El cliente planteó: {intent.label.lower()}." if intent else "Sin consulta.",
            ),
            "transferred": item(
                "transferred",
                outcome is Outcome.TRANSFERRED,
                "Se transfirió a un asesor."
                if outcome is Outcome.TRANSFERRED
                else "Sin transferencia.",
            ),
            "escalated": item(
                "escalated",
                outcome is Outcome.ESCALATED,
                "Requiere un especialista."
                if outcome is Outcome.ESCALATED
                else "No requiere derivación.",
            ),
            "ticket_id": item(
                "ticket_id",
                values["ticket"] if outcome is Outcome.TICKETED else None,
                "Se registró un caso." if outcome is Outcome.TICKETED else "No se generó caso.",
            ),
        }
        criteria = {}
        if intent is not None:
            criteria = {
                "identidad_validada": criterion(
                    "identidad_validada",
                    "success" if identity_checked else "unknown",
                    "Se validaron datos del DNI."
                    if identity_checked
                    else "No se pidió validación.",
                ),
                "consulta_resuelta": criterion(
                    "consulta_resuelta",
                    call_successful,
                    "La consulta quedó resuelta."
                    if call_successful == "success"
                    else "La consulta no quedó resuelta en la llamada.",
                ),
            }
        return {
            "call_successful": call_successful,
            "transcript_summary": summary,
            "call_summary_title": intent.label if intent else "Llamada sin consulta",
            "evaluation_criteria_results": criteria,
            "data_collection_results": data,
        }

    # --- WhatsApp ---------------------------------------------------------------------------

    def whatsapp(self, start: datetime) -> _Bundle | None:
        rng = self.rng
        intent = self._weighted(self._whatsapp_intents)
        chat: ChatScript = self._pick(intent.chats)
        local_hour = start.astimezone(self.zone).hour
        roll = rng.random()
        if roll < 0.05:
            scenario = "abandoned"
        elif roll < 0.27 and 8 <= local_hour < 21:
            scenario = "human"  # agents work 8:00-21:00
        else:
            scenario = "bot"

        # (sender, template, media filename) with sender customer | bot | agent.
        script: list[tuple[str, str, str | None]] = []
        closed_by_bot = False
        finished = False
        resolution = ""
        if scenario == "abandoned":
            script = [("customer", text, None) for text in self._pick(content.WHATSAPP_ABANDONED)]
        else:
            script = [
                ("customer", self._pick(chat.openings), None),
                ("bot", self._pick(chat.first_replies), None),
            ]
            steps = chat.steps
            if scenario == "bot":
                closed_by_bot = rng.random() < 0.75
                # A conversation the bot closes went through at least one step.
                fewest = 1 if closed_by_bot and steps else 0
                taken = rng.randint(fewest, len(steps))
                # Done when the bot said goodbye or the script ran to its end.
                finished = closed_by_bot or taken == len(steps)
                for step in steps[:taken]:
                    script += [("customer", step.customer, step.media), ("bot", step.bot, None)]
                if closed_by_bot:
                    script += [
                        ("customer", self._pick(content.WHATSAPP_THANKS), None),
                        ("bot", self._pick(content.WHATSAPP_BOT_FAREWELLS), None),
                    ]
            else:
                for step in steps[: rng.randint(0, 1)]:
                    script += [("customer", step.customer, step.media), ("bot", step.bot, None)]
                resolution = self._pick(chat.agent_resolutions)
                intro, answers = self._pick(content.WHATSAPP_AGENT_INTROS)
                script += [
                    ("customer", self._pick(content.WHATSAPP_HANDOFF_REQUESTS), None),
                    ("bot", self._pick(content.WHATSAPP_HANDOFF_REPLIES), None),
                    ("agent", intro, None),
                    ("customer", self._pick(answers), None),
                    ("agent", resolution, None),
                ]
                if rng.random() < 0.6:
                    script += [
                        ("customer", self._pick(content.WHATSAPP_THANKS), None),
                        ("agent", self._pick(content.WHATSAPP_AGENT_FAREWELLS), None),
                    ]
                script = script[:10]

        offsets: list[float] = []
        clock = 0.0
        for index, (sender, _text, _media) in enumerate(script):
            if index:
                previous = script[index - 1][0]
                if sender == "bot":
                    clock += rng.uniform(2, 6)
                elif sender == "agent" and previous == "bot":
                    clock += rng.uniform(60, 900)  # waiting in the agents' queue
                elif sender == "agent":
                    clock += rng.uniform(30, 240)
                elif scenario == "abandoned":
                    clock += rng.uniform(30, 900)
                else:
                    long_pause = rng.random() < 0.15
                    clock += rng.uniform(600, 3600) if long_pause else rng.uniform(15, 240)
            offsets.append(clock)
        close_after = offsets[-1] + rng.uniform(60, 600) if scenario == "human" else None
        inactivity = rng.uniform(60, 900)
        start = self._fits(start, close_after or offsets[-1])
        last_at = start + timedelta(seconds=offsets[-1])
        idle_close_at: datetime | None = None
        if scenario != "human" and last_at <= self.anchor - WHATSAPP_WINDOW + OPEN_MARGIN:
            # Too old to be open: the idle job closed it 24 h after its last message, and that
            # run lies before the anchor (a conversation near the edge moves back a little).
            idle_close_at = last_at + WHATSAPP_WINDOW + timedelta(seconds=inactivity)
            late = idle_close_at - self.anchor
            if late > timedelta(0):
                start -= late
                last_at -= late
                idle_close_at -= late

        customer = self._whatsapp_customer(start, last_at)
        if customer is None:
            return None
        queue = intent.queue if scenario != "abandoned" else None
        agent = self._agent_for(intent.queue, Channel.WHATSAPP) if scenario == "human" else None
        values = self._values(customer, start, queue, agent)
        push_name = customer.name if rng.random() < 0.8 else customer.first_name

        # `ended` is the interaction's end; `closed_at` when it was closed (the events' time).
        if scenario == "human":
            assert close_after is not None
            status = InteractionStatus.COMPLETED
            ended: datetime | None = start + timedelta(seconds=close_after)
            closed_at = ended
            outcome: Outcome | None = (
                Outcome.TICKETED if "{ticket}" in resolution else Outcome.RESOLVED
            )
        else:
            closed_at = idle_close_at
            if idle_close_at is not None:
                status = (
                    InteractionStatus.ABANDONED
                    if scenario == "abandoned"
                    else InteractionStatus.COMPLETED
                )
                # As the idle job does: the conversation ended with its last message.
                ended = last_at
            else:
                status = (
                    InteractionStatus.NEW
                    if scenario == "abandoned"
                    else InteractionStatus.IN_PROGRESS
                )
                ended = None
            outcome = None
            if status is InteractionStatus.COMPLETED:
                outcome = Outcome.RESOLVED if finished else Outcome.UNKNOWN

        bundle = _Bundle()
        interaction = Interaction(
            id=self.new_id(),
            channel=Channel.WHATSAPP,
            direction=Direction.INBOUND,
            status=status,
            started_at=start,
            ended_at=ended,
            created_at=start,
            updated_at=start,
            from_number=customer.phone,
            to_number=content.BANK_WHATSAPP_NUMBER,
            customer_phone=customer.phone,
            customer_name=push_name,
            provider=Provider.BUILDERBOT,
            provider_conversation_id=None,
            assigned_agent=agent.username if agent else None,
            customer_ref=customer.ref if rng.random() < 0.7 else None,
            queue=queue,
            intent=intent.key if queue else None,
            outcome=outcome,
            ai_handled=agent is None,
        )
        bundle.objects.append(interaction)
        bundle.interactions += 1
        timeline = _Timeline(self, interaction, bundle)
        timeline.add(
            EventType.INTERACTION_CREATED,
            start,
            {
                "channel": Channel.WHATSAPP.value,
                "direction": Direction.INBOUND.value,
                "provider": Provider.BUILDERBOT.value,
            },
        )
        digits = customer.phone.removeprefix("+")
        answered = False
        for (sender, template, media_name), offset in zip(script, offsets, strict=True):
            at = start + timedelta(seconds=offset)
            body = fill(template, values)
            media: list[dict[str, Any]] = []
            if media_name:
                media = [
                    {
                        "url": f"{content.MEDIA_BASE_URL}/whatsapp/{self._hex(32)}.jpg",
                        "contentType": content.MEDIA_CONTENT_TYPES[media_name],
                        "filename": media_name,
                    }
                ]
            inbound = sender == "customer"
            message = Message(
                id=self.new_id(),
                interaction_id=interaction.id,
                direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                body=body,
                media=media,
                status=MessageStatus.RECEIVED if inbound else MessageStatus.SENT,
                provider_message_id=None,
                error_code=None,
                error_message=None,
                kind=MessageKind.TEXT.value,
                created_at=at - timedelta(seconds=rng.uniform(0.5, 2)) if sender == "agent" else at,
                updated_at=at,
                sent_at=None if inbound else at,
                delivered_at=None,
                attempts=1 if sender == "agent" else 0,
            )
            bundle.objects.append(message)
            # What the 24-hour rule reads: a reply within 24 h joins this conversation.
            last = interaction.last_message_at
            interaction.last_message_at = max(last or message.created_at, message.created_at)
            if inbound:
                timeline.add(
                    EventType.MESSAGE_RECEIVED,
                    at,
                    {"messageId": str(message.id), "direction": "INBOUND", "hasMedia": bool(media)},
                    payload={
                        "eventName": "message.incoming",
                        "data": {
                            "body": body,
                            "name": push_name,
                            "from": digits,
                            "attachment": [
                                {"url": m["url"], "mimetype": m["contentType"]} for m in media
                            ],
                            "projectId": self.bot_project_id,
                        },
                    },
                )
                continue
            timeline.add(
                EventType.MESSAGE_SENT,
                at,
                {
                    "messageId": str(message.id),
                    "direction": "OUTBOUND",
                    "status": MessageStatus.SENT.value,
                    "sender": sender,
                },
                payload={
                    "eventName": "message.outgoing",
                    "data": {"answer": body, "from": digits, "projectId": self.bot_project_id},
                },
            )
            if not answered:
                answered = True
                timeline.add(
                    EventType.STATUS_CHANGED,
                    at,
                    {
                        "field": "status",
                        "from": InteractionStatus.NEW.value,
                        "to": InteractionStatus.IN_PROGRESS.value,
                    },
                )
            if (
                agent is not None
                and sender == "bot"
                and template in content.WHATSAPP_HANDOFF_REPLIES
            ):
                handoff_at = at + timedelta(seconds=1)
                timeline.add(EventType.BOT_PAUSED, handoff_at, {"reason": "agent_takeover"})
                timeline.add(
                    EventType.AGENT_ASSIGNED,
                    handoff_at,
                    {"field": "assignedAgent", "from": None, "to": agent.username},
                )
        if closed_at is not None:
            before = (
                InteractionStatus.NEW if scenario == "abandoned" else InteractionStatus.IN_PROGRESS
            )
            by = agent.username if agent else "idle-24h"
            timeline.add(
                EventType.STATUS_CHANGED,
                closed_at,
                {"field": "status", "from": before.value, "to": status.value, "by": by},
            )
            if status is InteractionStatus.COMPLETED:
                timeline.add(
                    EventType.INTERACTION_COMPLETED,
                    closed_at,
                    {
                        "status": status.value,
                        "by": by,
                        "outcome": outcome.value if outcome else None,
                    },
                )
        self._whatsapp_windows.setdefault(customer.phone, []).append((start, last_at))
        return bundle

    def _whatsapp_customer(self, start: datetime, last_at: datetime) -> Customer | None:
        """A customer with no other conversation within 24 h of this one (one per customer)."""

        def free(customer: Customer) -> bool:
            return all(
                start > end + WHATSAPP_WINDOW or last_at + WHATSAPP_WINDOW < begin
                for begin, end in self._whatsapp_windows.get(customer.phone, ())
            )

        for _ in range(20):
            customer = self._customer()
            if free(customer):
                return customer
        offset = self.rng.randrange(len(self.customers))
        for index in range(len(self.customers)):
            customer = self.customers[(offset + index) % len(self.customers)]
            if free(customer):
                return customer
        return None

    # --- SMS --------------------------------------------------------------------------------

    def sms(self, start: datetime) -> _Bundle:
        kind = self._weighted(SMS_KINDS)
        purpose = self._weighted(OTP_PURPOSES) if kind is MessageKind.OTP else None
        plan = self._plan_sms(kind, purpose, verified=None)
        start = self._fits(start, plan.span)
        customer = self._customer()
        bundle = _Bundle()
        onboarding = kind is MessageKind.ONBOARDING_LINK
        known = self.rng.random() < (0.3 if onboarding else 0.95)
        self._sms_rows(bundle, plan, start, customer, customer_ref=customer.ref if known else None)
        return bundle

    def _plan_sms(
        self, kind: MessageKind, purpose: OtpPurpose | None, *, verified: bool | None
    ) -> _SmsPlan:
        """Delivery and (for an OTP) verification of one SMS. `verified` forces the OTP's fate."""
        rng = self.rng
        if kind is MessageKind.TEXT:
            template = self._pick(content.SMS_TEXTS)
        elif kind is MessageKind.VERIFICATION_LINK:
            template = self._pick(content.SMS_VERIFICATION_LINK)
        elif kind is MessageKind.ONBOARDING_LINK:
            template = self._pick(content.SMS_ONBOARDING_LINK)
        elif kind is MessageKind.CARD_ACTIVATION:
            template = self._pick(content.SMS_CARD_ACTIVATION)
        else:
            assert purpose is not None
            template = self._pick(content.OTP_TEMPLATES[purpose.value])

        roll = 0.0 if verified else rng.random()
        error: tuple[str, str] | None = None
        sent_after: float | None = rng.uniform(0.4, 3.0)
        final_after: float | None = None
        if roll < 0.86:
            status = MessageStatus.DELIVERED
            assert sent_after is not None
            final_after = sent_after + rng.uniform(2, 25)
        elif roll < 0.91:
            status = MessageStatus.SENT
        else:
            errors = rng.choices(content.SMS_ERRORS, weights=SMS_ERROR_WEIGHTS, k=1)
            code, message, final = errors[0]
            status = MessageStatus(final)
            error = (code, message)
            if code.startswith("2"):  # refused by the provider's API: never sent
                sent_after = None
                final_after = rng.uniform(0.3, 2.0)
            else:
                assert sent_after is not None
                final_after = sent_after + rng.uniform(5, 60)
        plan = _SmsPlan(
            kind=kind,
            template=template,
            status=status,
            error=error,
            sent_after=sent_after,
            final_after=final_after,
            purpose=purpose,
        )
        if kind is not MessageKind.OTP:
            return plan

        ttl = float(self.settings.otp_ttl_seconds)
        if purpose is OtpPurpose.TX_CONFIRMATION:
            plan.tx_context = {
                "amount": self._pick(content.TX_AMOUNTS),
                "currency": "ARS",
                "payee": self._pick(content.PAYEES),
            }
        if error is not None:
            plan.otp_status = OtpStatus.FAILED
            plan.otp_closed_after = final_after
            return plan
        assert sent_after is not None
        arrived = final_after if final_after is not None else sent_after + rng.uniform(2, 10)
        fate = 0.0 if verified else rng.random()
        if fate < 0.76:
            plan.otp_status = OtpStatus.VERIFIED
            plan.otp_attempts = 2 if rng.random() < 0.12 else 1
            plan.otp_closed_after = min(arrived + rng.uniform(8, 150), ttl - 5)
        elif fate < 0.92:
            plan.otp_status = OtpStatus.EXPIRED
            plan.otp_attempts = 1 if rng.random() < 0.3 else 0
            plan.otp_closed_after = ttl + rng.uniform(0, 60)  # the expiry job's next run
        else:
            plan.otp_status = OtpStatus.LOCKED
            plan.otp_attempts = self.settings.otp_max_attempts
            plan.otp_closed_after = min(arrived + rng.uniform(40, 240), ttl - 5)
        return plan

    def _sms_body(self, plan: _SmsPlan, values: dict[str, str], link_url: str | None) -> str:
        if plan.kind is MessageKind.OTP:
            context = plan.tx_context or {}
            otp_values: dict[str, object] = {
                **values,
                "codigo": content.OTP_MASK,
                "minutos": max(1, self.settings.otp_ttl_seconds // 60),
            }
            if context:
                otp_values |= {
                    "moneda": context["currency"],
                    "importe": decimal_ar(context["amount"]),
                    "destinatario": context["payee"],
                }
            return fill(plan.template, otp_values)
        return fill(plan.template, {**values, "url": link_url} if link_url else values)

    def _signed_link(
        self, kind: MessageKind, start: datetime
    ) -> tuple[SignedLink, str] | tuple[None, None]:
        """For a link SMS, the link as the service signs it: it opens on the demo's landing page
        (or the bank's site) and shows whether it is valid, expired or used."""
        if kind.value not in LINK_PATHS:
            return None, None
        link = SignedLink(
            id=self.new_id(),
            kind=kind.value,
            created_at=start,
            expires_at=start + timedelta(seconds=self.settings.link_ttl_seconds),
        )
        token = make_token(self.link_key, link.id, link.expires_at)
        return link, f"{self.site}/{LINK_PATHS[kind.value]}/{token}"

    def _sms_rows(
        self,
        bundle: _Bundle,
        plan: _SmsPlan,
        start: datetime,
        customer: Customer,
        *,
        customer_ref: str | None,
        requested_from: tuple[Interaction, _Timeline] | None = None,
    ) -> None:
        """The SMS interaction, its message, events and (for an OTP) its challenge."""
        rng = self.rng

        def after(seconds: float | None) -> datetime | None:
            return None if seconds is None else start + timedelta(seconds=seconds)

        sent_at = after(plan.sent_after)
        final_at = after(plan.final_after)
        agent = (
            self._agent_for(None, Channel.SMS)
            if plan.kind is MessageKind.TEXT and rng.random() < 0.5
            else None
        )
        values = self._values(customer, start)
        link, link_url = self._signed_link(plan.kind, start)
        body = self._sms_body(plan, values, link_url)
        sid = f"SM{self._hex(32)}" if sent_at is not None else None
        if plan.status is MessageStatus.DELIVERED:
            status = InteractionStatus.COMPLETED
        elif plan.status is MessageStatus.SENT:
            status = InteractionStatus.IN_PROGRESS
        else:
            status = InteractionStatus.FAILED
        interaction = Interaction(
            id=self.new_id(),
            channel=Channel.SMS,
            direction=Direction.OUTBOUND,
            status=status,
            started_at=start,
            ended_at=final_at,
            created_at=start,
            updated_at=start,
            from_number=self.sms_sender,
            to_number=customer.phone,
            customer_phone=customer.phone,
            customer_name=None,
            provider=Provider.TWILIO,
            provider_conversation_id=None,
            assigned_agent=agent.username if agent else None,
            customer_ref=customer_ref,
            queue=agent.queue if agent else None,
            intent=None,
            outcome=None,
            ai_handled=False,
        )
        bundle.objects.append(interaction)
        bundle.interactions += 1
        message = Message(
            id=self.new_id(),
            interaction_id=interaction.id,
            direction=Direction.OUTBOUND,
            body=body,
            media=[],
            status=plan.status,
            provider_message_id=sid,
            error_code=plan.error[0] if plan.error else None,
            error_message=plan.error[1] if plan.error else None,
            kind=plan.kind.value,
            created_at=start,
            updated_at=final_at or sent_at or start,
            sent_at=sent_at,
            delivered_at=final_at if plan.status is MessageStatus.DELIVERED else None,
            attempts=1,
        )
        bundle.objects.append(message)
        interaction.last_message_at = message.created_at
        if link is not None:
            link.interaction_id = interaction.id
            link.message_id = message.id
            bundle.objects.append(link)

        challenge: OtpChallenge | None = None
        if plan.kind is MessageKind.OTP:
            assert plan.purpose is not None
            assert plan.otp_status is not None
            closed_at = after(plan.otp_closed_after)
            challenge = OtpChallenge(
                id=self.new_id(),
                correlation_id=f"corr-{self._hex(24)}",
                phone=customer.phone,
                purpose=plan.purpose,
                code_hash=None,  # the demo never had a code
                status=plan.otp_status,
                attempts=plan.otp_attempts,
                max_attempts=self.settings.otp_max_attempts,
                expires_at=start + timedelta(seconds=self.settings.otp_ttl_seconds),
                verified_at=closed_at if plan.otp_status is OtpStatus.VERIFIED else None,
                interaction_id=interaction.id,
                requested_from_interaction_id=requested_from[0].id if requested_from else None,
                customer_ref=customer_ref,
                context=plan.tx_context,
                created_at=start,
                updated_at=closed_at or start,
            )
            bundle.objects.append(challenge)

        timeline = _Timeline(self, interaction, bundle)
        timeline.add(
            EventType.INTERACTION_CREATED,
            start,
            {
                "channel": Channel.SMS.value,
                "direction": Direction.OUTBOUND.value,
                "provider": Provider.TWILIO.value,
                "kind": plan.kind.value,
            },
        )
        if challenge is not None:
            otp_created = {
                "challengeId": str(challenge.id),
                "correlationId": challenge.correlation_id,
                "purpose": challenge.purpose.value,
                "expiresAt": challenge.expires_at.isoformat(),
            }
            if requested_from is not None:
                otp_created["requestedFromInteractionId"] = str(requested_from[0].id)
                requested_from[1].add(
                    EventType.OTP_CREATED,
                    start,
                    {**otp_created, "smsInteractionId": str(interaction.id)},
                )
            timeline.add(EventType.OTP_CREATED, start, otp_created)
        callback = {
            "MessageSid": sid,
            "AccountSid": self.sms_account,
            "From": self.sms_sender,
            "To": customer.phone,
            "ApiVersion": "2010-04-01",
        }
        if sent_at is not None:
            timeline.add(
                EventType.MESSAGE_SENT,
                sent_at,
                {
                    "messageId": str(message.id),
                    "providerMessageId": sid,
                    "status": MessageStatus.SENT.value,
                },
                payload={"sid": sid, "status": "queued", "to": customer.phone, "num_segments": "1"},
            )
            if challenge is not None:
                timeline.add(EventType.OTP_SENT, sent_at, {"challengeId": str(challenge.id)})
        if final_at is not None and plan.error is None:
            timeline.add(
                EventType.MESSAGE_STATUS,
                final_at,
                {"messageId": str(message.id), "status": MessageStatus.DELIVERED.value},
                payload={**callback, "MessageStatus": "delivered", "SmsStatus": "delivered"},
                provider_event_id=f"{sid}:delivered",
            )
            timeline.add(
                EventType.INTERACTION_COMPLETED,
                final_at,
                {"status": InteractionStatus.COMPLETED.value},
            )
        elif final_at is not None and plan.error is not None:
            code, text = plan.error
            failure = {
                "messageId": str(message.id),
                "status": plan.status.value,
                "errorCode": code,
                "errorMessage": text,
            }
            if sid is None:
                timeline.add(EventType.MESSAGE_FAILED, final_at, failure)
            else:
                wire = plan.status.value.lower()
                timeline.add(
                    EventType.MESSAGE_STATUS,
                    final_at,
                    failure,
                    payload={
                        **callback,
                        "MessageStatus": wire,
                        "SmsStatus": wire,
                        "ErrorCode": code,
                    },
                    provider_event_id=f"{sid}:{wire}",
                )
            timeline.add(
                EventType.STATUS_CHANGED,
                final_at,
                {
                    "field": "status",
                    "from": InteractionStatus.IN_PROGRESS.value,
                    "to": InteractionStatus.FAILED.value,
                },
            )
        if challenge is not None:
            closed_at = after(plan.otp_closed_after)
            assert closed_at is not None
            event_type = {
                OtpStatus.VERIFIED: EventType.OTP_VERIFIED,
                OtpStatus.EXPIRED: EventType.OTP_EXPIRED,
                OtpStatus.LOCKED: EventType.OTP_LOCKED,
                OtpStatus.FAILED: EventType.OTP_FAILED,
            }[challenge.status]
            timeline.add(
                event_type,
                closed_at,
                {
                    "challengeId": str(challenge.id),
                    "status": challenge.status.value,
                    "attempts": challenge.attempts,
                },
            )
        if link is not None and final_at is not None and plan.status is MessageStatus.DELIVERED:
            self._link_opened(link, final_at, timeline)

    def _link_opened(self, link: SignedLink, delivered_at: datetime, timeline: _Timeline) -> None:
        """Most customers open a delivered link, and most of those complete what it was for;
        nothing happens after the anchor."""
        rng = self.rng
        if rng.random() >= 0.7:
            return
        opened = delivered_at + timedelta(seconds=rng.uniform(20, 3 * 3600))
        if opened > self.anchor:
            return
        status = "valid" if opened < link.expires_at else "expired"
        link.opened_at = opened
        timeline.add(EventType.LINK_OPENED, opened, {"kind": link.kind, "status": status})
        used = opened + timedelta(seconds=rng.uniform(60, 900))
        if status == "valid" and rng.random() < 0.75 and used <= min(self.anchor, link.expires_at):
            link.used_at = used


# --- customers -----------------------------------------------------------------------------------


def _phone(rng: random.Random, taken: set[str]) -> str:
    """A valid, unused Argentine mobile number in E.164."""
    areas = content.PHONE_AREAS
    while True:
        prefix, length, first_digits, _ = rng.choices(areas, weights=[a[3] for a in areas], k=1)[0]
        digits = rng.choice(first_digits) + "".join(
            str(rng.randrange(10)) for _ in range(length - 1)
        )
        number = prefix + digits
        if number not in taken and normalize_valid(number, "AR") == number:
            taken.add(number)
            return number


def make_customers(rng: random.Random, count: int) -> list[Customer]:
    """`count` fictional customers with Spanish names and Argentine mobile numbers."""
    taken: set[str] = set()
    customers = []
    for index in range(1, count + 1):
        female = rng.random() < 0.52
        first = rng.choice(content.FEMALE_FIRST_NAMES if female else content.MALE_FIRST_NAMES)
        last = rng.choice(content.LAST_NAMES)
        customers.append(
            Customer(
                ref=f"CUS-{index:06d}",
                phone=_phone(rng, taken),
                first_name=first,
                last_name=last,
                female=female,
            )
        )
    return customers


# --- the job -------------------------------------------------------------------------------------


async def _count_interactions(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as session:
        result = await session.execute(select(func.count()).select_from(Interaction))
        return int(result.scalar_one())


async def _write_batch(
    factory: async_sessionmaker[AsyncSession],
    store: RecordingStore,
    objects: list[Base],
    recordings: list[tuple[str, float]],
) -> None:
    """One transaction per batch; interactions first, since the other rows refer to them by id.

    The recordings go to the store first: a call that claims one can always play it."""
    for conversation_id, seconds in recordings:
        await store.save(conversation_id, small_silent_mp3(min(seconds, RECORDING_SECONDS)))
    async with factory() as session:
        session.add_all([o for o in objects if isinstance(o, Interaction)])
        await session.flush()
        session.add_all([o for o in objects if not isinstance(o, Interaction)])
        await session.commit()


@dataclass(frozen=True)
class DemoAgent:
    """A demo agent's console account, with the password to print once (never logged)."""

    username: str
    name: str
    queue: str
    password: str


@dataclass(frozen=True)
class DemoResult:
    interactions: int
    agents: list[DemoAgent] = field(default_factory=list)


async def _create_agents(
    factory: async_sessionmaker[AsyncSession], bank_name: str
) -> list[DemoAgent]:
    """The demo's agents as console users (role agent) with a generated password each; an agent
    who already has an account keeps it."""
    created = []
    async with factory() as session:
        for agent in content.HUMAN_AGENTS:
            if await auth_repository.user_by_username(session, agent.username) is not None:
                continue
            password = credentials.new_password()
            await auth_service.create_user(
                session,
                SYSTEM_CONTEXT,
                username=agent.username,
                role=Role.AGENT,
                password=password,
                bank_name=bank_name,
                display_name=agent.name,
            )
            created.append(
                DemoAgent(agent.username, agent.name, content.QUEUE_LABELS[agent.queue], password)
            )
        await session.commit()
    return created


async def write_demo_data(
    engine: AsyncEngine,
    settings: Settings,
    *,
    days: int,
    customers: int,
    force: bool,
    progress: bool,
) -> DemoResult:
    """Write `days` days of traffic for `customers` customers, and the agents' console accounts;
    return what was written.

    Writes nothing when the database already has interactions, unless `force`.
    """
    factory = create_session_factory(engine)
    existing = await _count_interactions(factory)
    if existing and not force:
        return DemoResult(interactions=0)
    keys = await load_keys(engine, settings)
    store = RecordingStore(settings.recordings_dir)
    rng = random.Random(settings.demo_seed)  # noqa: S311 - demo data, not security
    people = make_customers(rng, customers)
    voice_agent_id = f"agent_{rng.getrandbits(104):026x}"
    bot_project_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if existing:
        # Same customers, new traffic: a second forced run must not reuse the first run's ids.
        rng = random.Random(f"{settings.demo_seed}:{existing}")  # noqa: S311
    anchor = utcnow().replace(minute=0, second=0, microsecond=0)
    generator = _Generator(
        rng, settings, anchor, people, voice_agent_id, bot_project_id, keys.link_signing_key
    )
    starts = generator.schedule(days, customers)
    agents = await _create_agents(factory, settings.bank_name)

    written = 0
    pending: list[Base] = []
    recordings: list[tuple[str, float]] = []
    pending_interactions = 0
    done = 0
    with Progress(
        TextColumn("demo data"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not progress,
    ) as bar:
        task = bar.add_task("demo data", total=len(starts))
        for start in starts:
            bundle = generator.interaction(start)
            pending += bundle.objects
            recordings += bundle.recordings
            pending_interactions += bundle.interactions
            done += 1
            if pending_interactions >= BATCH_INTERACTIONS:
                await _write_batch(factory, store, pending, recordings)
                written += pending_interactions
                bar.update(task, completed=done)
                pending, recordings, pending_interactions = [], [], 0
        if pending:
            await _write_batch(factory, store, pending, recordings)
            written += pending_interactions
        bar.update(task, completed=done)
    return DemoResult(interactions=written, agents=agents)


async def seed_if_empty(engine: AsyncEngine, settings: Settings) -> DemoResult:
    """Fill an empty database with the default demo data set (`serve --demo`)."""
    return await write_demo_data(
        engine, settings, days=2, customers=300, force=False, progress=False
    )
