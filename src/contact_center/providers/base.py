"""Capability interfaces, neutral types and the error classification shared by every vendor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol


class ProviderName(StrEnum):
    ELEVENLABS = "ELEVENLABS"
    BUILDERBOT = "BUILDERBOT"
    TWILIO = "TWILIO"
    WHATSAPP_CLOUD = "WHATSAPP_CLOUD"


# --- errors ---------------------------------------------------------------------------------


class ProviderError(Exception):
    """A provider call that did not succeed. `retryable` says whether trying again can help."""

    retryable = False

    def __init__(
        self,
        provider: ProviderName,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{provider.value}: {message}")
        self.provider = provider
        self.message = message
        self.code = code
        self.status = status
        self.retry_after = retry_after


class RetryableProviderError(ProviderError):
    """Timeouts, 429, 5xx and the provider codes documented as transient."""

    retryable = True


class PermanentProviderError(ProviderError):
    """Bad input or configuration: trying again sends the same failure."""


class ProviderNotFound(PermanentProviderError):
    """The provider does not know the requested resource (HTTP 404)."""


class ProviderAuthError(PermanentProviderError):
    """Our credentials were refused (HTTP 401/403)."""


# --- neutral results ------------------------------------------------------------------------


@dataclass(frozen=True)
class SendReceipt:
    """What a provider said when it accepted a message."""

    provider_message_id: str | None
    status: str
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConversationSummary:
    conversation_id: str
    agent_id: str | None
    agent_name: str | None
    started_at: datetime | None
    duration_secs: int | None
    status: str | None
    call_successful: str | None
    direction: str | None
    raw: dict[str, Any]
    # The item as a call event without transcript or phone numbers (a metadata-only sync).
    event: CallEvent | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ConversationPage:
    items: list[ConversationSummary]
    next_cursor: str | None
    has_more: bool


# --- capabilities ---------------------------------------------------------------------------


class SmsSender(Protocol):
    async def send_sms(
        self, to: str, body: str, *, status_callback: str | None = None
    ) -> SendReceipt:
        """Hand one SMS to the provider. Raises ProviderError."""
        ...


class SmsStatusSource(Protocol):
    async def fetch_sms_status(self, message_sid: str) -> SmsStatusEvent:
        """The provider's current status of one message we sent, as a status callback would
        carry it. Raises ProviderNotFound when the provider does not know the message."""
        ...


class WhatsAppSender(Protocol):
    async def send_whatsapp(
        self, to: str, body: str, *, media_url: str | None = None
    ) -> SendReceipt:
        """Hand one WhatsApp message to the provider. Raises ProviderError."""
        ...


@dataclass(frozen=True)
class TemplateButtonParameter:
    """A value for one of a template's buttons: a URL button's suffix, a quick reply's payload,
    or (an authentication template's copy-code button) the code again."""

    index: int
    sub_type: str  # "url" | "quick_reply"
    value: str


@dataclass(frozen=True)
class TemplateMessage:
    """An approved template to send, with its variables filled (positional, in order)."""

    name: str
    language: str
    body: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    buttons: list[TemplateButtonParameter] = field(default_factory=list)


@dataclass(frozen=True)
class TemplateInfo:
    """One template of the account's registry, as the provider lists it."""

    name: str
    language: str
    status: str  # APPROVED, PENDING, REJECTED, PAUSED, DISABLED, …
    category: str  # MARKETING, UTILITY, AUTHENTICATION
    components: list[dict[str, Any]]
    provider_template_id: str | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class MediaFile:
    content: bytes
    content_type: str | None
    sha256: str | None  # as the provider gave it (opaque), if it did


class WhatsAppTemplateSender(Protocol):
    async def send_template(self, to: str, template: TemplateMessage) -> SendReceipt:
        """Hand one template message to the provider (allowed outside the 24-hour window).
        Raises ProviderError."""
        ...


class WhatsAppTemplateSource(Protocol):
    async def list_templates(self) -> list[TemplateInfo]:
        """Every template of the account (all pages). Raises ProviderError."""
        ...


class WhatsAppMediaSource(Protocol):
    async def fetch_media(self, media_id: str) -> MediaFile:
        """The bytes of a media item a webhook named. Raises ProviderNotFound when it expired."""
        ...


class WhatsAppBotControl(Protocol):
    async def pause_bot(self, number: str) -> None:
        """Stop the bot answering this number (a person takes over)."""
        ...

    async def resume_bot(self, number: str) -> None:
        """Let the bot answer this number again."""
        ...


class ConversationSource(Protocol):
    async def list_conversations(
        self,
        *,
        cursor: str | None = None,
        page_size: int = 100,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
    ) -> ConversationPage:
        """One page of the provider's conversations, newest first."""
        ...

    async def get_conversation(self, conversation_id: str) -> CallEvent:
        """One conversation in full, as a call event (its `raw` is the provider's JSON).

        Raises ProviderNotFound, or PermanentProviderError for a conversation it cannot read."""
        ...

    def webhook_keys(self, conversation_id: str) -> tuple[str, ...]:
        """The ledger keys its post-call webhooks are stored under (any one means it came)."""
        ...


class AudioSource(Protocol):
    def stream_audio(self, conversation_id: str) -> AsyncIterator[bytes]:
        """The recording as MP3 chunks. Raises ProviderNotFound."""
        ...


# --- neutral inbound events -----------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptTurn:
    role: str
    message: str | None
    time_in_call_secs: float | None
    transferred: bool = False


@dataclass(frozen=True)
class CallEvent:
    """A finished (or updated) call: `post_call_transcription` or a synced conversation."""

    conversation_id: str
    agent_id: str | None
    agent_name: str | None
    status: str | None
    started_at: datetime | None
    duration_secs: int | None
    direction: str | None
    customer_number: str | None
    agent_number: str | None
    transcript: list[TranscriptTurn]
    summary: str | None
    call_successful: str | None
    termination_reason: str | None
    data_collection: dict[str, Any]
    evaluation: dict[str, Any]
    dynamic_variables: dict[str, Any]
    has_audio: bool
    event_timestamp: datetime | None
    analysis: dict[str, Any] | None
    # The provider's conversation as it sent it (what the timeline keeps and the detail view
    # shows); not part of the event's identity.
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class CallAudioEvent:
    conversation_id: str
    agent_id: str | None
    audio: bytes
    event_timestamp: datetime | None


@dataclass(frozen=True)
class CallInitiationFailureEvent:
    conversation_id: str
    agent_id: str | None
    failure_reason: str | None
    customer_number: str | None
    agent_number: str | None
    event_timestamp: datetime | None


@dataclass(frozen=True)
class Attachment:
    url: str
    content_type: str | None
    filename: str | None


@dataclass(frozen=True)
class MediaRef:
    """A media item a Cloud API message names by id: fetched later by a job, with the token."""

    media_id: str
    content_type: str | None
    filename: str | None
    sha256: str | None
    voice: bool = False


@dataclass(frozen=True)
class WhatsAppMessageEvent:
    """A WhatsApp message: from the customer (INBOUND) or, on BuilderBot, the bot's or an
    agent's (`outgoing`, OUTBOUND). The fields after `project_id` are the Cloud API's."""

    direction: str  # "INBOUND" | "OUTBOUND"
    customer_number: str | None
    customer_name: str | None
    body: str | None
    attachments: list[Attachment]
    project_id: str | None
    provider: ProviderName = ProviderName.BUILDERBOT
    # The provider's id of the message (the Cloud API's `wamid.…`).
    provider_message_id: str | None = None
    # The message it replies to (`context.id`: our wamid when the customer quotes our message).
    reply_to: str | None = None
    # When the customer sent it (the webhook's `timestamp`).
    sent_at: datetime | None = None
    # Media named by id, to fetch (the Cloud API); BuilderBot's come as `attachments` URLs.
    media: list[MediaRef] = field(default_factory=list)
    # The message's type as the provider names it (text, image, button, interactive, …).
    message_type: str = "text"
    # The customer's business-scoped user id, when the provider gives one (BSUID).
    user_id: str | None = None


@dataclass(frozen=True)
class WhatsAppStatusEvent:
    """A status of a WhatsApp message we sent: sent, delivered, read, played or failed."""

    provider: ProviderName
    provider_message_id: str
    status: str
    occurred_at: datetime | None
    recipient: str | None
    error_code: str | None = None
    error_title: str | None = None
    error_details: str | None = None


@dataclass(frozen=True)
class SmsStatusEvent:
    message_sid: str
    status: str
    error_code: str | None
    error_message: str | None
    to: str | None
    from_: str | None


@dataclass(frozen=True)
class IgnoredEvent:
    """A well-formed delivery of a type we do not act on (kept in the ledger, answered 200)."""

    kind: str


class UnparseablePayload(ValueError):
    """The body is not a payload of this provider; the message says why."""


InboundEvent = (
    CallEvent
    | CallAudioEvent
    | CallInitiationFailureEvent
    | WhatsAppMessageEvent
    | WhatsAppStatusEvent
    | SmsStatusEvent
    | IgnoredEvent
)


# --- inbound webhooks -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InboundRequest:
    """One HTTP delivery as received: what an adapter needs to authenticate it."""

    raw: bytes
    headers: Mapping[str, str]  # names in lower case
    query: Mapping[str, str]
    url: str


class InboundAuthFailed(Exception):
    """The delivery did not prove it comes from the provider; the message says why."""


@dataclass(frozen=True, kw_only=True)
class InboundRoute:
    """Where a provider delivers its webhooks, and how the API documents that route."""

    path: str
    name: str  # the route's (and its OpenAPI operation's) name
    summary: str
    description: str
    content_type: str  # of the request body
    # The provider proves the URL with a GET before it delivers (`verify_subscription`).
    handshake: bool = False


class InboundAdapter(Protocol):
    """One provider's webhooks: prove a delivery is theirs, read it, name it.

    The webhook module stores and dispatches what an adapter reads; it knows no vendor.
    """

    @property
    def provider(self) -> ProviderName: ...

    @property
    def repeat_window(self) -> timedelta | None:
        """None: `event_key` identifies a delivery. Else the provider sends no id: the key is the
        body's, and the same body within this window is a repeat (later, a new event)."""
        ...

    def authenticate(self, request: InboundRequest) -> None:
        """Signature and/or token, as configured. Raises InboundAuthFailed."""
        ...

    def parse(self, raw: bytes) -> InboundEvent:
        """The body as a neutral event. Raises UnparseablePayload."""
        ...

    def event_key(self, event: InboundEvent, raw: bytes) -> str:
        """The provider's identity of a delivery: a repeat has the same key."""
        ...

    def event_type(self, event: InboundEvent) -> str:
        """A short name of what the delivery was, for the ledger and the logs."""
        ...

    def payload(self, raw: bytes) -> Any:
        """The body as the timeline keeps it (parsed JSON or form). Raises UnparseablePayload."""
        ...

    def applied_body(self, raw: bytes, event: InboundEvent) -> bytes | None:
        """The body to keep in the ledger once the event is applied, when it should shrink (a
        recording held elsewhere); None keeps it as received."""
        ...

    def updates(self, raw: bytes) -> list[bytes]:
        """An authenticated body that carries several updates (the Cloud API batches messages
        and statuses) as one body per update, each stored and applied on its own under its own
        key; `[raw]` for a body that is one update (or that cannot be read: it is kept as
        INVALID whole)."""
        ...

    def verify_subscription(self, query: Mapping[str, str]) -> str:
        """The answer to the provider's subscription handshake (a GET with a challenge), when
        the route has one. Raises InboundAuthFailed."""
        ...
