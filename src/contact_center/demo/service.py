"""The deterministic demo data set: a few realistic days of calls, WhatsApp chats, SMS and OTPs.

Every content choice, every id and every time offset comes from one `random.Random` seeded with
`DEMO_SEED`; times are anchored to the current hour (UTC), so two runs in the same hour write the
same rows and the data always looks like the last `days` days. Nothing lies after the anchor.

This module decides only what happens (who writes what, when, and how it ends). The rows say it
as the live system would: each step goes through the domain's own row builders and state rules,
the ones its services apply to a request, a webhook or a job (a call's status, outcome and
events from its conversation; a message's status and events as it is queued, sent, delivered or
echoed; WhatsApp's 24-hour conversation window; an OTP challenge, its masked SMS and its
attempts; a signed link, its token, its opening). A rule changed in a domain changes the demo.

This is a job: it owns its transactions and commits one batch of interactions at a time.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any, TypeVar, cast

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.auth import credentials
from contact_center.auth import repository as auth_repository
from contact_center.auth import service as auth_service
from contact_center.calls import service as calls
from contact_center.db.base import Base, utcnow
from contact_center.db.session import create_session_factory
from contact_center.demo import content
from contact_center.demo.content import CallScript, ChatScript, HumanAgent, IntentContent
from contact_center.demo.wording import fill, placeholder_values
from contact_center.interactions.service import Event, apply_changes, event_values, touch
from contact_center.keys.service import load_keys
from contact_center.links import service as links
from contact_center.message_templates import Templates
from contact_center.messaging import outbound
from contact_center.messaging import service as messaging
from contact_center.messaging.bot import bot_controlled
from contact_center.models.call_detail import CallDetail
from contact_center.models.enums import (
    Channel,
    Direction,
    InteractionStatus,
    MessageKind,
    MessageStatus,
    OtpPurpose,
    OtpStatus,
    Outcome,
    Role,
)
from contact_center.models.interaction import Interaction
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.message import Message
from contact_center.models.otp_challenge import OtpChallenge
from contact_center.models.signed_link import SignedLink
from contact_center.mp3 import small_silent_mp3
from contact_center.otp import service as otp
from contact_center.phones import normalize_valid
from contact_center.principal import SYSTEM_CONTEXT
from contact_center.providers.base import (
    Attachment,
    CallEvent,
    CallInitiationFailureEvent,
    SmsStatusEvent,
    TranscriptTurn,
    WhatsAppMessageEvent,
)
from contact_center.recordings import RecordingStore, digest
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
# A conversation is left open only when a reply this long after the anchor would still join it
# (WhatsApp's window): it stays open for at least an hour after seeding.
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


class _Timeline:
    """The events of one interaction, recorded as the domain's rules give them."""

    def __init__(self, generator: _Generator, interaction: Interaction, bundle: _Bundle) -> None:
        self._generator = generator
        self._interaction = interaction
        self._bundle = bundle

    def add(self, events: Iterable[Event], now: datetime) -> None:
        """Record `events` at `now`, as `interactions.service.record` would."""
        for event in events:
            values = event_values(self._interaction.id, event, now=now, id=self._generator.new_id())
            self._bundle.events.append(values)
            touch(self._interaction, now)


@dataclass
class _Bundle:
    """The rows of one scheduled interaction (and of the OTP SMS it may have triggered)."""

    generator: _Generator
    objects: list[Base] = field(default_factory=list)
    # The timelines' rows, as `interactions.service.event_values` gives them (written in bulk).
    events: list[dict[str, Any]] = field(default_factory=list)
    interactions: int = 0
    # (conversation id, MP3) of each call that has a recording: it goes to the store.
    recordings: list[tuple[str, bytes]] = field(default_factory=list)
    timelines: dict[uuid.UUID, _Timeline] = field(default_factory=dict)

    def new_interaction(self, interaction: Interaction) -> _Timeline:
        self.objects.append(interaction)
        self.interactions += 1
        timeline = _Timeline(self.generator, interaction, self)
        self.timelines[interaction.id] = timeline
        return timeline

    def extend(self, other: _Bundle) -> None:
        self.objects += other.objects
        self.events += other.events
        self.interactions += other.interactions
        self.recordings += other.recordings

    def record(self, events: otp.Timeline | None, now: datetime) -> None:
        """Events that go to interactions by id (an OTP's)."""
        for interaction_id, event in events or ():
            self.timelines[interaction_id].add([event], now)


@dataclass
class _SmsPlan:
    """What happens to one SMS, in seconds after it was queued; decided before any row exists."""

    kind: MessageKind
    template: str | None  # None: an OTP, whose text is the OTP domain's
    status: MessageStatus
    error: tuple[str, str] | None
    sent_after: float | None
    final_after: float | None
    purpose: OtpPurpose | None = None
    # How the challenge ends (VERIFIED, LOCKED: by the customer's last attempt; EXPIRED: by the
    # expiry job; FAILED: by the send job) and when; the customer's wrong codes before that.
    otp_status: OtpStatus | None = None
    otp_closed_after: float | None = None
    otp_wrong_codes: list[float] = field(default_factory=list)
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
        self.templates = Templates(settings)
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
        # What the call is meant to be: its transcript, summary and analysis are written for it,
        # and the calls domain derives the interaction's status and outcome from them.
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

        # What the provider says of the call; the calls domain makes the rows of it.
        customer = self._customer()
        queue = intent.queue if (status is InteractionStatus.COMPLETED or outbound) else None
        human = (
            self._agent_for(intent.queue, Channel.CALL) if outcome is Outcome.TRANSFERRED else None
        )
        values = self._values(customer, start, intent.queue, human)
        conversation_id = f"conv_{self._hex(20)}"
        customer_ref = customer.ref if outbound or rng.random() < 0.85 else None
        bundle = _Bundle(self)
        direction = "outbound" if outbound else "inbound"
        envelope_data = {"agent_id": self.voice_agent_id, "conversation_id": conversation_id}
        webhook_at = start + timedelta(seconds=webhook_after)
        if status is InteractionStatus.FAILED and outbound:
            # The call never connected: the provider says so once the ringing stops.
            failed_at = start + timedelta(seconds=end_offset)
            reason = self._call_hangup(status, outcome, outbound).rsplit(": ", 1)[-1]
            failure = CallInitiationFailureEvent(
                conversation_id=conversation_id,
                agent_id=self.voice_agent_id,
                failure_reason=reason,
                customer_number=customer.phone,
                agent_number=content.BANK_VOICE_LINE,
                event_timestamp=failed_at,
            )
            fields = calls.initiation_failure_fields(failure, self.settings, now=webhook_at)
            interaction = Interaction(
                **calls.call_row(conversation_id, fields, now=webhook_at, id=self.new_id())
            )
            timeline = bundle.new_interaction(interaction)
            payload = {
                "type": "call_initiation_failure",
                "event_timestamp": int(failed_at.timestamp()),
                "data": {**envelope_data, "failure_reason": reason},
            }
            events = calls.initiation_failed(
                interaction, failure, fields, created=True, payload=payload
            )
            timeline.add(events, webhook_at)
            return bundle

        summary, call_successful = self._call_summary(script, status, outcome, customer, values)
        hangup = self._call_hangup(status, outcome, outbound)
        analysis = self._call_analysis(
            intent if queue else None,
            outcome,
            call_successful,
            summary,
            identity_checked,
            values,
            human,
        )
        dynamic = {"customer_ref": customer_ref, "queue": queue}
        provider_status = "failed" if status is InteractionStatus.FAILED else "done"
        payload = {
            "type": "post_call_transcription",
            "event_timestamp": int(webhook_at.timestamp()),
            "data": {
                **envelope_data,
                "status": provider_status,
                "metadata": {
                    "start_time_unix_secs": int(start.timestamp()),
                    "call_duration_secs": call_secs,
                    "termination_reason": hangup,
                    "phone_call": {
                        "type": "twilio",
                        "direction": direction,
                        "agent_number": content.BANK_VOICE_LINE,
                        "external_number": customer.phone,
                    },
                },
            },
        }
        conversation = CallEvent(
            conversation_id=conversation_id,
            agent_id=self.voice_agent_id,
            agent_name=content.VIRTUAL_AGENT_NAME,
            status=provider_status,
            started_at=start,
            duration_secs=call_secs,
            direction=direction,
            customer_number=customer.phone,
            agent_number=content.BANK_VOICE_LINE,
            transcript=[
                TranscriptTurn(role, fill(text, values), at)
                for (role, text), at in zip(turns, times, strict=True)
            ],
            summary=summary,
            call_successful=call_successful,
            termination_reason=hangup,
            data_collection={k: v["value"] for k, v in analysis["data_collection_results"].items()},
            evaluation={k: v["result"] for k, v in analysis["evaluation_criteria_results"].items()},
            dynamic_variables={k: v for k, v in dynamic.items() if v is not None},
            has_audio=has_audio,
            event_timestamp=webhook_at,
            analysis=analysis,
        )
        # The post-call webhook, applied as `calls.service.apply_call` applies it.
        fields = calls.call_fields(
            conversation, self.settings, transcript_known=True, now=webhook_at
        )
        interaction = Interaction(
            **calls.call_row(conversation_id, fields, now=webhook_at, id=self.new_id())
        )
        timeline = bundle.new_interaction(interaction)
        detail = CallDetail(**calls.call_detail_row(interaction.id, id=self.new_id()))
        calls.fill_detail(detail, conversation, metadata_only=False, now=webhook_at)
        bundle.objects.append(detail)
        events = calls.call_events(
            conversation, interaction, created=True, before={}, payload=payload, source="webhook"
        )
        timeline.add(events, webhook_at)
        if otp_plan is not None:
            # Requested while the customer was on the line, onto the call's timeline.
            self._sms_rows(
                bundle,
                otp_plan,
                start + timedelta(seconds=otp_after),
                customer,
                customer_ref=interaction.customer_ref,
                requested_from=interaction,
            )
        if has_audio:
            # The recording's webhook (`calls.service.apply_audio`): silence of the call's length.
            audio_at = start + timedelta(seconds=audio_after)
            audio = small_silent_mp3(min(float(call_secs), RECORDING_SECONDS))
            bundle.recordings.append((conversation_id, audio))
            kept = calls.audio_kept(detail, conversation_id, size=len(audio), digest=digest(audio))
            timeline.add([kept], audio_at)
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
        human: HumanAgent | None,
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
        if human is not None:
            data["transferred_to"] = item(
                "transferred_to", human.username, f"Lo atendió {human.first_name}."
            )
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
        if scenario != "human" and not messaging.in_window(last_at, self.anchor + OPEN_MARGIN):
            # Too old to be open: the idle job closed it 24 h after its last message, and that
            # run lies before the anchor (a conversation near the edge moves back a little).
            idle_close_at = last_at + messaging.WHATSAPP_WINDOW + timedelta(seconds=inactivity)
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
        customer_ref = customer.ref if rng.random() < 0.7 else None

        # Each message as the messaging domain takes it: the customer's and the bot's from the
        # provider's webhooks, an agent's through the send path (queued, sent, echoed).
        bundle = _Bundle(self)
        digits = customer.phone.removeprefix("+")
        interaction, created = messaging.new_whatsapp(
            customer.phone,
            digits,
            direction=Direction.INBOUND,
            now=start,
            customer_name=push_name,
            id=self.new_id(),
        )
        timeline = bundle.new_interaction(interaction)
        timeline.add([created], start)
        written: set[Direction] = set()
        for index, ((sender, template, media_name), offset) in enumerate(
            zip(script, offsets, strict=True)
        ):
            at = start + timedelta(seconds=offset)
            body = fill(template, values)
            key = f"demo:{interaction.id}:{index}"  # the provider's delivery
            if sender == "agent":
                assert agent is not None
                self._agent_message(
                    bundle,
                    timeline,
                    interaction,
                    agent,
                    body,
                    at,
                    key=key,
                    customer_ref=customer_ref,
                    answered=Direction.INBOUND in written,
                )
                written.add(Direction.OUTBOUND)
                continue
            inbound = sender == "customer"
            direction = Direction.INBOUND if inbound else Direction.OUTBOUND
            attachments = []
            if media_name:
                url = f"{content.MEDIA_BASE_URL}/whatsapp/{self._hex(32)}.jpg"
                attachments = [Attachment(url, content.MEDIA_CONTENT_TYPES[media_name], media_name)]
            event = WhatsAppMessageEvent(
                direction=direction.value,
                customer_number=digits,
                customer_name=push_name if inbound else None,
                body=body,
                attachments=attachments,
                project_id=self.bot_project_id,
            )
            message, stored = messaging.whatsapp_message(
                interaction,
                event,
                customer.phone,
                at=at,
                payload=self._whatsapp_payload(event),
                key=key,
                id=self.new_id(),
            )
            bundle.objects.append(message)
            timeline.add([stored], at)
            answered = messaging.other_direction(direction) in written
            messaging.keep_waiting(interaction, at, inbound=inbound)
            timeline.add(
                messaging.status_after_message(interaction, at, key, answered=answered), at
            )
            written.add(direction)
            if (
                agent is not None
                and sender == "bot"
                and template in content.WHATSAPP_HANDOFF_REPLIES
            ):
                # The agent takes the conversation from the bot in the console.
                handoff_at = at + timedelta(seconds=1)
                paused = bot_controlled(interaction, "pause", agent.username, handoff_at)
                timeline.add([paused], handoff_at)

        if agent is not None:
            # The agent closes the conversation, with its queue, topic and outcome (a PATCH).
            assert close_after is not None
            closed_at = start + timedelta(seconds=close_after)
            outcome = Outcome.TICKETED if "{ticket}" in resolution else Outcome.RESOLVED
            change = {
                "queue": queue,
                "status": InteractionStatus.COMPLETED,
                "outcome": outcome,
                "intent": intent.key,
            }
            self._patch(timeline, interaction, change, agent.username, closed_at)
        elif queue is not None:
            # The bot's integration files the conversation once the bot has answered, as
            # resolved when the bot saw it through.
            change = {"queue": queue, "intent": intent.key}
            if finished:
                change["outcome"] = Outcome.RESOLVED
            actor = SYSTEM_CONTEXT.principal.actor_id
            self._patch(timeline, interaction, change, actor, last_at + timedelta(seconds=0.5))
        if idle_close_at is not None:
            last = Direction.INBOUND if script[-1][0] == "customer" else Direction.OUTBOUND
            closed = messaging.closed_idle(interaction, last_direction=last, now=idle_close_at)
            timeline.add(closed, idle_close_at)
        self._whatsapp_windows.setdefault(customer.phone, []).append((start, last_at))
        return bundle

    def _agent_message(
        self,
        bundle: _Bundle,
        timeline: _Timeline,
        interaction: Interaction,
        agent: HumanAgent,
        body: str,
        at: datetime,
        *,
        key: str,
        customer_ref: str | None,
        answered: bool,
    ) -> None:
        """An agent's reply from the console: queued, sent by the job, echoed by the provider."""
        rng = self.rng
        message, events = outbound.whatsapp_send(
            interaction,
            body=body,
            media_url=None,
            assigned_agent=agent.username,
            customer_ref=customer_ref,
            actor=agent.username,
            now=at,
            id=self.new_id(),
        )
        bundle.objects.append(message)
        at = message.created_at
        timeline.add(events, at)
        messaging.keep_waiting(interaction, at, inbound=False)
        after = messaging.status_after_message(
            interaction, at, f"message:{message.id}", answered=answered
        )
        timeline.add(after, at)
        timeline.add([outbound.queued_event(message)], at)
        outbound.claimed(message, at + timedelta(seconds=0.2))
        sent_at = at + timedelta(seconds=rng.uniform(0.5, 2))
        timeline.add([outbound.sent(message, None, sent_at)], sent_at)
        echo_at = sent_at + timedelta(seconds=rng.uniform(0.1, 1))
        echo = WhatsAppMessageEvent(
            direction=Direction.OUTBOUND.value,
            customer_number=interaction.from_number,
            customer_name=None,
            body=body,
            attachments=[],
            project_id=self.bot_project_id,
        )
        confirmed = messaging.echo_confirmed(
            message,
            echo,
            interaction.customer_phone,
            now=echo_at,
            payload=self._whatsapp_payload(echo),
            key=f"{key}:echo",
        )
        timeline.add([confirmed], echo_at)

    @staticmethod
    def _whatsapp_payload(event: WhatsAppMessageEvent) -> dict[str, Any]:
        """The provider's webhook body of a message (what the timeline keeps)."""
        if event.direction == Direction.INBOUND.value:
            data: dict[str, Any] = {
                "body": event.body,
                "name": event.customer_name,
                "from": event.customer_number,
                "attachment": [
                    {"url": a.url, "mimetype": a.content_type} for a in event.attachments
                ],
            }
            return {
                "eventName": "message.incoming",
                "data": {**data, "projectId": event.project_id},
            }
        data = {"answer": event.body, "from": event.customer_number}
        return {"eventName": "message.outgoing", "data": {**data, "projectId": event.project_id}}

    def _patch(
        self,
        timeline: _Timeline,
        interaction: Interaction,
        change: dict[str, Any],
        actor: str,
        at: datetime,
    ) -> None:
        """A change as `PATCH /api/interactions/{id}` makes it (`interactions.service`)."""
        changes = apply_changes(interaction, change, actor=actor, change_id=self._hex(32), now=at)
        timeline.add([event for c in changes for event in c.events], at)

    def _whatsapp_customer(self, start: datetime, last_at: datetime) -> Customer | None:
        """A customer with no other conversation within 24 h of this one (one per customer)."""

        def free(customer: Customer) -> bool:
            # Neither conversation's first message may join the other (the 24-hour rule).
            return all(
                not messaging.in_window(end, start) or not messaging.in_window(last_at, begin)
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
        bundle = _Bundle(self)
        onboarding = kind is MessageKind.ONBOARDING_LINK
        known = self.rng.random() < (0.3 if onboarding else 0.95)
        self._sms_rows(bundle, plan, start, customer, customer_ref=customer.ref if known else None)
        return bundle

    def _plan_sms(
        self, kind: MessageKind, purpose: OtpPurpose | None, *, verified: bool | None
    ) -> _SmsPlan:
        """Delivery and (for an OTP) verification of one SMS. `verified` forces the OTP's fate."""
        rng = self.rng
        template: str | None = None
        if kind is MessageKind.TEXT:
            template = self._pick(content.SMS_TEXTS)
        elif kind is MessageKind.VERIFICATION_LINK:
            template = self._pick(content.SMS_VERIFICATION_LINK)
        elif kind is MessageKind.ONBOARDING_LINK:
            template = self._pick(content.SMS_ONBOARDING_LINK)
        elif kind is MessageKind.CARD_ACTIVATION:
            template = self._pick(content.SMS_CARD_ACTIVATION)

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
        if error is not None and sent_after is None:
            # Refused by the provider: the send job gives the challenge up.
            plan.otp_status = OtpStatus.FAILED
            plan.otp_closed_after = final_after
            return plan
        if error is not None:
            # Sent but never delivered: no code reaches the customer, and the challenge expires.
            plan.otp_status = OtpStatus.EXPIRED
            plan.otp_closed_after = ttl + rng.uniform(0, 60)  # the expiry job's next run
            return plan
        assert sent_after is not None
        arrived = final_after if final_after is not None else sent_after + rng.uniform(2, 10)
        # The customer's last chance to type a code: before the challenge expires.
        last_try = ttl - 5
        fate = 0.0 if verified else rng.random()
        if fate < 0.76:
            plan.otp_status = OtpStatus.VERIFIED
            plan.otp_closed_after = min(arrived + rng.uniform(8, 150), last_try)
            wrong = 1 if rng.random() < 0.12 else 0
            end = plan.otp_closed_after
        elif fate < 0.92:
            plan.otp_status = OtpStatus.EXPIRED
            plan.otp_closed_after = ttl + rng.uniform(0, 60)  # the expiry job's next run
            wrong = 1 if rng.random() < 0.3 else 0
            end = min(arrived + rng.uniform(8, 150), last_try)
        else:
            plan.otp_status = OtpStatus.LOCKED
            plan.otp_closed_after = min(arrived + rng.uniform(40, 240), last_try)
            # The last wrong code locks it.
            wrong = self.settings.otp_max_attempts - 1
            end = plan.otp_closed_after
        plan.otp_wrong_codes = sorted(rng.uniform(arrived, end) for _ in range(wrong))
        if plan.otp_status is OtpStatus.LOCKED:
            plan.otp_wrong_codes.append(end)
        return plan

    def _sms_rows(
        self,
        bundle: _Bundle,
        plan: _SmsPlan,
        start: datetime,
        customer: Customer,
        *,
        customer_ref: str | None,
        requested_from: Interaction | None = None,
    ) -> None:
        """One SMS as the live system writes it: queued by the API (with its OTP challenge or its
        signed link), sent or refused by the send job, moved by the provider's status callback;
        then what the customer does with the code or the link."""
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
        context = otp.context_json(plan.purpose, plan.tx_context) if plan.purpose else None
        if plan.template is None:
            body = otp.masked_sms_text(self.templates, self.settings, context)
        elif plan.kind.value in links.PATHS:
            body = ""  # written once the link exists
        else:
            body = fill(plan.template, values)
        interaction, message, events = outbound.new_sms(
            to=customer.phone,
            body=body,
            kind=plan.kind,
            from_number=self.sms_sender,
            customer_ref=customer_ref,
            assigned_agent=agent.username if agent else None,
            now=start,
            new_id=self.new_id,
        )
        timeline = bundle.new_interaction(interaction)
        bundle.objects.append(message)
        timeline.add(events, start)
        link: SignedLink | None = None
        if plan.template is not None and plan.kind.value in links.PATHS:
            # A link the service signs: it opens on the demo's landing page (or the bank's site)
            # and shows whether it is valid, expired or used.
            link, url = links.new_link(
                plan.kind,
                interaction.id,
                ttl_seconds=self.settings.link_ttl_seconds,
                key=self.link_key,
                frontend_url=self.site,
                now=start,
                id=self.new_id(),
            )
            message.body = fill(plan.template, {**values, "url": url})
            bundle.objects.append(link)
        challenge: OtpChallenge | None = None
        if plan.purpose is not None:
            challenge, created = otp.new_challenge(
                self.settings,
                phone=customer.phone,
                purpose=plan.purpose,
                context=context,
                correlation_id=f"corr-{self._hex(24)}",
                interaction_id=interaction.id,
                requested_from=requested_from.id if requested_from else None,
                customer_ref=customer_ref,
                now=start,
                id=self.new_id(),
            )
            bundle.objects.append(challenge)
            bundle.record(created, start)

        # The send job takes it at once; the provider accepts it or refuses it.
        first = plan.sent_after if plan.sent_after is not None else plan.final_after
        assert first is not None
        outbound.claimed(message, start + timedelta(seconds=first / 2))
        if sent_at is None:
            assert final_at is not None
            assert plan.error is not None
            code, text = plan.error
            failed = outbound.send_failed(
                interaction,
                message,
                error_code=code,
                error_message=text,
                permanent=True,
                now=final_at,
            )
            timeline.add(failed, final_at)
            if challenge is not None:
                bundle.record(otp.challenge_failed(challenge, code, final_at), final_at)
        else:
            sid = f"SM{self._hex(32)}"
            timeline.add([outbound.sent(message, sid, sent_at)], sent_at)
            if challenge is not None:
                bundle.record(otp.challenge_sent(challenge, sent_at), sent_at)
            if final_at is not None:
                self._status_callback(timeline, interaction, message, plan, sid, final_at)
        if challenge is not None:
            self._otp_attempts(bundle, challenge, plan, start)
        if link is not None and final_at is not None and message.status is MessageStatus.DELIVERED:
            self._link_opened(link, final_at, timeline)

    def _status_callback(
        self,
        timeline: _Timeline,
        interaction: Interaction,
        message: Message,
        plan: _SmsPlan,
        sid: str,
        at: datetime,
    ) -> None:
        """The provider's final status callback, applied as `messaging.service` applies it."""
        wire = plan.status.value.lower()
        code, text = plan.error or (None, None)
        report = SmsStatusEvent(
            message_sid=sid,
            status=wire,
            error_code=code,
            error_message=text,
            to=interaction.to_number,
            from_=interaction.from_number,
        )
        payload = {
            "MessageSid": sid,
            "AccountSid": self.sms_account,
            "From": interaction.from_number,
            "To": interaction.to_number,
            "ApiVersion": "2010-04-01",
            "MessageStatus": wire,
            "SmsStatus": wire,
        }
        if code is not None:
            payload |= {"ErrorCode": code, "ErrorMessage": text}
        new = messaging.applicable_status(message, report, source="callback")
        if new is not None:
            events = messaging.status_reported(
                interaction,
                message,
                report,
                new,
                payload=payload,
                key=f"{sid}:{wire}",
                source="callback",
                now=at,
            )
            timeline.add(events, at)

    @staticmethod
    def _otp_attempts(
        bundle: _Bundle, challenge: OtpChallenge, plan: _SmsPlan, start: datetime
    ) -> None:
        """The customer's codes (wrong ones first) or the expiry job, as the OTP domain takes
        them; a closed challenge takes nothing more."""
        for offset in plan.otp_wrong_codes:
            if challenge.status in otp.CLOSED:
                return
            at = start + timedelta(seconds=offset)
            checked = otp.code_checked(challenge, code_matched=False, context_matched=True, now=at)
            bundle.record(checked.events, at)
        if challenge.status in otp.CLOSED or plan.otp_closed_after is None:
            return
        closed_at = start + timedelta(seconds=plan.otp_closed_after)
        if plan.otp_status is OtpStatus.VERIFIED:
            checked = otp.code_checked(
                challenge, code_matched=True, context_matched=True, now=closed_at
            )
            bundle.record(checked.events, closed_at)
        elif plan.otp_status is OtpStatus.EXPIRED:
            bundle.record(otp.challenge_expired(challenge, closed_at), closed_at)

    def _link_opened(self, link: SignedLink, delivered_at: datetime, timeline: _Timeline) -> None:
        """Most customers open a delivered link, and most of those complete what it was for;
        nothing happens after the anchor."""
        rng = self.rng
        if rng.random() >= 0.7:
            return
        opened_at = delivered_at + timedelta(seconds=rng.uniform(20, 3 * 3600))
        if opened_at > self.anchor:
            return
        status, opened = links.link_opened(link, opened_at)
        if opened is not None:
            timeline.add([opened], opened_at)
        used_at = opened_at + timedelta(seconds=rng.uniform(60, 900))
        if status == "valid" and rng.random() < 0.75 and used_at <= self.anchor:
            links.link_used(link, used_at)


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
    factory: async_sessionmaker[AsyncSession], store: RecordingStore, batch: _Bundle
) -> None:
    """One transaction per batch; interactions first, since the other rows refer to them by id.

    The recordings go to the store first: a call that claims one can always play it."""
    for conversation_id, audio in batch.recordings:
        await store.save(conversation_id, audio)
    async with factory() as session:
        session.add_all([o for o in batch.objects if isinstance(o, Interaction)])
        await session.flush()
        session.add_all([o for o in batch.objects if not isinstance(o, Interaction)])
        await session.flush()
        if batch.events:
            # Core's executemany: one statement for the batch (an ORM bulk insert splits it by
            # which values are None).
            events = cast(Table, InteractionEvent.__table__)
            await session.execute(insert(events), batch.events)
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
    pending = _Bundle(generator)
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
            pending.extend(generator.interaction(start))
            done += 1
            if pending.interactions >= BATCH_INTERACTIONS:
                await _write_batch(factory, store, pending)
                written += pending.interactions
                bar.update(task, completed=done)
                pending = _Bundle(generator)
        if pending.objects:
            await _write_batch(factory, store, pending)
            written += pending.interactions
        bar.update(task, completed=done)
    return DemoResult(interactions=written, agents=agents)


async def seed_if_empty(engine: AsyncEngine, settings: Settings) -> DemoResult:
    """Fill an empty database with the default demo data set (`serve --demo`)."""
    return await write_demo_data(
        engine, settings, days=2, customers=300, force=False, progress=False
    )
