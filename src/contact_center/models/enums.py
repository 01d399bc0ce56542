"""Closed vocabularies of the data model. Stored as strings with CHECK constraints."""

from enum import StrEnum


class Channel(StrEnum):
    CALL = "CALL"
    WHATSAPP = "WHATSAPP"
    SMS = "SMS"


class Direction(StrEnum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class InteractionStatus(StrEnum):
    NEW = "NEW"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    ABANDONED = "ABANDONED"
    FAILED = "FAILED"


class Provider(StrEnum):
    ELEVENLABS = "ELEVENLABS"
    BUILDERBOT = "BUILDERBOT"
    TWILIO = "TWILIO"
    GENERIC = "GENERIC"
    WHATSAPP_CLOUD = "WHATSAPP_CLOUD"


class Outcome(StrEnum):
    RESOLVED = "RESOLVED"
    ESCALATED = "ESCALATED"
    TICKETED = "TICKETED"
    TRANSFERRED = "TRANSFERRED"
    UNKNOWN = "UNKNOWN"


class MessageStatus(StrEnum):
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"
    RECEIVED = "RECEIVED"
    UNDELIVERED = "UNDELIVERED"


class MessageKind(StrEnum):
    TEXT = "TEXT"
    OTP = "OTP"
    VERIFICATION_LINK = "VERIFICATION_LINK"
    ONBOARDING_LINK = "ONBOARDING_LINK"
    CARD_ACTIVATION = "CARD_ACTIVATION"
    # The satisfaction survey sent after a resolution (docs/service-levels.md): automated, so
    # never a person's reply.
    CSAT = "CSAT"
    # A complaint's claim number, or its answer, sent to the customer (docs/complaints.md).
    COMPLAINT = "COMPLAINT"


class OtpChannel(StrEnum):
    """How a one-time code reaches the customer (`POST /api/otp` `channel`)."""

    SMS = "SMS"
    WHATSAPP = "WHATSAPP"


class TemplateStatus(StrEnum):
    """A WhatsApp template's review status, as the provider reports it (only APPROVED is sent);
    stored as a plain string (the provider may add values)."""

    APPROVED = "APPROVED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"


class OtpPurpose(StrEnum):
    PASSWORD_RESET = "PASSWORD_RESET"  # noqa: S105 - a purpose, not a password
    TX_CONFIRMATION = "TX_CONFIRMATION"
    IDENTITY_VERIFICATION = "IDENTITY_VERIFICATION"
    LOGIN_2FA = "LOGIN_2FA"


class OtpStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    VERIFIED = "VERIFIED"
    EXPIRED = "EXPIRED"
    LOCKED = "LOCKED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class ActorType(StrEnum):
    USER = "USER"
    SYSTEM = "SYSTEM"
    AGENT = "AGENT"


class EventType(StrEnum):
    """Interaction event types, plus `interaction.updated` for queue/outcome/intent."""

    INTERACTION_CREATED = "interaction.created"
    INTERACTION_UPDATED = "interaction.updated"
    STATUS_CHANGED = "status.changed"
    MESSAGE_QUEUED = "message.queued"
    MESSAGE_RECEIVED = "message.received"
    MESSAGE_SENT = "message.sent"
    MESSAGE_STATUS = "message.status"
    MESSAGE_FAILED = "message.failed"
    AGENT_ASSIGNED = "agent.assigned"
    INTERACTION_COMPLETED = "interaction.completed"
    CALL_TRANSCRIPT = "call.transcript"
    CALL_AUDIO = "call.audio"
    OTP_CREATED = "otp.created"
    OTP_SENT = "otp.sent"
    OTP_VERIFIED = "otp.verified"
    OTP_FAILED = "otp.failed"
    OTP_LOCKED = "otp.locked"
    OTP_EXPIRED = "otp.expired"
    OTP_CANCELED = "otp.canceled"
    OTP_FALLBACK = "otp.fallback"
    LINK_OPENED = "link.opened"
    BOT_PAUSED = "bot.paused"
    BOT_RESUMED = "bot.resumed"
    # The conversation workflow (docs/workflow.md)
    AGENT_UNASSIGNED = "agent.unassigned"
    CONVERSATION_QUEUED = "conversation.queued"
    CONVERSATION_TRANSFERRED = "conversation.transferred"
    CONVERSATION_RESOLVED = "conversation.resolved"
    CONVERSATION_REOPENED = "conversation.reopened"
    CONVERSATION_SNOOZED = "conversation.snoozed"
    CONVERSATION_WOKE = "conversation.woke"
    PRIORITY_CHANGED = "priority.changed"
    LABELS_CHANGED = "labels.changed"
    NOTE_ADDED = "note.added"
    # Service levels, CSAT and outcomes (docs/service-levels.md)
    SLA_WARNING = "sla.warning"
    SLA_BREACHED = "sla.breached"
    CSAT_SENT = "csat.sent"
    CSAT_ANSWERED = "csat.answered"
    REPEAT_CONTACT = "conversation.repeat_contact"


class Role(StrEnum):
    """What a console user or token may do (lower case: the original's `X-Role` values)."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # Manages legal holds and data-subject requests and reads the audit trail; does not work
    # conversations (docs/data-lifecycle.md).
    COMPLIANCE = "compliance"


class WebhookStatus(StrEnum):
    """Where a ledger delivery stands: RECEIVED → PROCESSED | IGNORED | FAILED | INVALID |
    DEFERRED (waiting for the message it reports on). Stored as a plain string column."""

    RECEIVED = "RECEIVED"
    PROCESSED = "PROCESSED"
    IGNORED = "IGNORED"
    FAILED = "FAILED"
    INVALID = "INVALID"
    DEFERRED = "DEFERRED"


class Availability(StrEnum):
    """Whether a person takes new work: only ONLINE members are routed conversations."""

    ONLINE = "ONLINE"
    BUSY = "BUSY"
    AWAY = "AWAY"
    OFFLINE = "OFFLINE"


class RoutingMode(StrEnum):
    """How a team picks the member for its next waiting conversation."""

    ROUND_ROBIN = "ROUND_ROBIN"  # the member assigned least recently
    LEAST_BUSY = "LEAST_BUSY"  # the member with the fewest open conversations


class Priority(StrEnum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    URGENT = "URGENT"


class SlaTarget(StrEnum):
    """What a service-level policy times (docs/service-levels.md)."""

    FIRST_RESPONSE = "FIRST_RESPONSE"  # the customer's first message → a person's first reply
    NEXT_RESPONSE = "NEXT_RESPONSE"  # each later customer message → the next reply
    RESOLUTION = "RESOLUTION"  # the conversation's start → resolved


class SlaState(StrEnum):
    """Where one target's clock stands."""

    RUNNING = "RUNNING"  # due in the future, under 80 % used
    WARNING = "WARNING"  # 80 % of the target used, not yet met
    BREACHED = "BREACHED"  # due time passed before it was met (stays so once met late)
    MET = "MET"  # met before its due time


class SlaAction(StrEnum):
    """What a policy does when a target is breached (besides the event, audit row and notice)."""

    NOTIFY = "NOTIFY"  # notify the team's supervisors (and every supervisor without a team)
    RAISE_PRIORITY = "RAISE_PRIORITY"  # one step up, URGENT at most
    REQUEUE = "REQUEUE"  # unassigned, back to its team's queue


class Handler(StrEnum):
    """Who resolved a conversation, for CSAT, containment and first-contact resolution."""

    AI = "AI"
    PERSON = "PERSON"


class HoldScope(StrEnum):
    """What a legal hold keeps (docs/data-lifecycle.md)."""

    CUSTOMER = "CUSTOMER"  # every interaction of a phone number or a customer reference
    INTERACTION = "INTERACTION"  # one interaction
    DATE_RANGE = "DATE_RANGE"  # every interaction started in [range_start, range_end)


class DsrKind(StrEnum):
    """A data-subject request under Ley 25.326 (access art. 14, rectification/deletion art. 16)."""

    ACCESS = "ACCESS"
    RECTIFICATION = "RECTIFICATION"
    DELETION = "DELETION"


class DsrStatus(StrEnum):
    RECEIVED = "RECEIVED"
    UNDER_REVIEW = "UNDER_REVIEW"
    COMPLETED = "COMPLETED"
    REFUSED = "REFUSED"


class PurgeStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class ComplaintStatus(StrEnum):
    """A complaint's (reclamo's) lifecycle (docs/complaints.md)."""

    DRAFT = "DRAFT"  # opened automatically (a TICKETED call): a person confirms it
    OPEN = "OPEN"  # confirmed: the claim number is issued and the clock runs
    IN_PROGRESS = "IN_PROGRESS"
    ANSWERED = "ANSWERED"  # the answer was sent to the customer
    ESCALATED = "ESCALATED"  # to the bank's responsable de atención al usuario
    REPORTED = "REPORTED"  # reported to the BCRA, with its reference
    CLOSED = "CLOSED"
    DISCARDED = "DISCARDED"  # a draft a person decided was not a complaint


class ComplaintSource(StrEnum):
    CALL_OUTCOME = "CALL_OUTCOME"  # a TICKETED call (a draft)
    CONSOLE = "CONSOLE"
    API = "API"
