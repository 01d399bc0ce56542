"""Words for every value a person sees in the console: statuses, channels, directions, outcomes,
message kinds, event types, roles, audit actions, hangup reasons, intents and queues.

The message ids here are English; `N_` only marks them for the catalogs (they are translated when
shown, in the reader's language). A test fails when a value of one of the model's vocabularies
has no label here.
"""

from __future__ import annotations

from enum import Enum

from contact_center.models.enums import (
    ActorType,
    Availability,
    Channel,
    ComplaintSource,
    ComplaintStatus,
    Direction,
    DsrKind,
    DsrStatus,
    EventType,
    Handler,
    HoldScope,
    InteractionStatus,
    MessageKind,
    MessageStatus,
    OtpChannel,
    OtpPurpose,
    OtpStatus,
    Outcome,
    Priority,
    Provider,
    PurgeStatus,
    Role,
    RoutingMode,
    SlaAction,
    SlaState,
    SlaTarget,
    TemplateStatus,
    WebhookStatus,
)


def N_(message: str) -> str:  # noqa: N802 - the conventional name of gettext_noop
    """Mark a message for the catalogs without translating it here."""
    return message


ENUM_LABELS: dict[type[Enum], dict[str, str]] = {
    Availability: {
        "ONLINE": N_("Online"),
        "BUSY": N_("Busy"),
        "AWAY": N_("Away"),
        "OFFLINE": N_("Offline"),
    },
    RoutingMode: {"ROUND_ROBIN": N_("Round robin"), "LEAST_BUSY": N_("Least busy")},
    Channel: {"CALL": N_("Call"), "WHATSAPP": N_("WhatsApp"), "SMS": N_("SMS")},
    Direction: {"INBOUND": N_("Inbound"), "OUTBOUND": N_("Outbound")},
    InteractionStatus: {
        "NEW": N_("New"),
        "IN_PROGRESS": N_("In progress"),
        "COMPLETED": N_("Completed"),
        "ABANDONED": N_("Abandoned"),
        "FAILED": N_("Failed"),
    },
    Provider: {
        "ELEVENLABS": N_("ElevenLabs (voice)"),
        "BUILDERBOT": N_("BuilderBot (WhatsApp)"),
        "WHATSAPP_CLOUD": N_("WhatsApp Cloud API"),
        "TWILIO": N_("Twilio (SMS)"),
        "GENERIC": N_("Other provider"),
    },
    Outcome: {
        "RESOLVED": N_("Resolved"),
        "ESCALATED": N_("Escalated"),
        "TICKETED": N_("Ticket opened"),
        "TRANSFERRED": N_("Transferred"),
        "UNKNOWN": N_("Unknown"),
    },
    MessageStatus: {
        "QUEUED": N_("Queued"),
        "SENDING": N_("Sending"),
        "SENT": N_("Sent"),
        "DELIVERED": N_("Delivered"),
        "READ": N_("Read"),
        "FAILED": N_("Failed"),
        "RECEIVED": N_("Received"),
        "UNDELIVERED": N_("Undelivered"),
    },
    MessageKind: {
        "TEXT": N_("Text"),
        "OTP": N_("One-time code"),
        "VERIFICATION_LINK": N_("Verification link"),
        "ONBOARDING_LINK": N_("Onboarding link"),
        "CARD_ACTIVATION": N_("Card activation"),
        "CSAT": N_("Satisfaction survey"),
        "COMPLAINT": N_("Complaint"),
    },
    OtpPurpose: {
        "PASSWORD_RESET": N_("Password reset"),
        "TX_CONFIRMATION": N_("Transaction confirmation"),
        "IDENTITY_VERIFICATION": N_("Identity verification"),
        "LOGIN_2FA": N_("Sign-in"),
    },
    OtpChannel: {"SMS": N_("SMS"), "WHATSAPP": N_("WhatsApp")},
    OtpStatus: {
        "PENDING": N_("Pending"),
        "SENT": N_("Sent"),
        "VERIFIED": N_("Verified"),
        "EXPIRED": N_("Expired"),
        "LOCKED": N_("Locked"),
        "FAILED": N_("Failed"),
        "CANCELED": N_("Canceled"),
    },
    ActorType: {"USER": N_("Person"), "SYSTEM": N_("System"), "AGENT": N_("AI agent")},
    EventType: {
        "interaction.created": N_("Interaction started"),
        "interaction.updated": N_("Details changed"),
        "status.changed": N_("Status changed"),
        "message.queued": N_("Message queued"),
        "message.received": N_("Message received"),
        "message.sent": N_("Message sent"),
        "message.status": N_("Delivery status"),
        "message.failed": N_("Message failed"),
        "agent.assigned": N_("Agent assigned"),
        "interaction.completed": N_("Interaction completed"),
        "call.transcript": N_("Transcript received"),
        "call.audio": N_("Recording received"),
        "otp.created": N_("Code requested"),
        "otp.sent": N_("Code sent"),
        "otp.verified": N_("Code verified"),
        "otp.failed": N_("Wrong code"),
        "otp.locked": N_("Code locked"),
        "otp.expired": N_("Code expired"),
        "otp.canceled": N_("Code canceled"),
        "otp.fallback": N_("Code sent by SMS instead of WhatsApp"),
        "link.opened": N_("Link opened"),
        "bot.paused": N_("Agent took over from the bot"),
        "bot.resumed": N_("Handed back to the bot"),
        "agent.unassigned": N_("Agent unassigned"),
        "conversation.queued": N_("Waiting in the queue"),
        "conversation.transferred": N_("Conversation transferred"),
        "conversation.resolved": N_("Conversation resolved"),
        "conversation.reopened": N_("Conversation reopened"),
        "conversation.snoozed": N_("Conversation snoozed"),
        "conversation.woke": N_("Conversation woke up"),
        "priority.changed": N_("Priority changed"),
        "labels.changed": N_("Labels changed"),
        "note.added": N_("Private note"),
        "sla.warning": N_("Service level about to be breached"),
        "sla.breached": N_("Service level breached"),
        "csat.sent": N_("Satisfaction survey sent"),
        "csat.answered": N_("Satisfaction survey answered"),
        "conversation.repeat_contact": N_("Customer came back: not resolved first time"),
    },
    Handler: {
        "AI": N_("AI agent"),
        "PERSON": N_("A person"),
    },
    SlaState: {
        "RUNNING": N_("Running"),
        "WARNING": N_("About to be breached"),
        "BREACHED": N_("Breached"),
        "MET": N_("Met"),
    },
    SlaTarget: {
        "FIRST_RESPONSE": N_("First response"),
        "NEXT_RESPONSE": N_("Next response"),
        "RESOLUTION": N_("Resolution"),
    },
    SlaAction: {
        "NOTIFY": N_("Notify the supervisors"),
        "RAISE_PRIORITY": N_("Raise the priority"),
        "REQUEUE": N_("Back to the queue"),
    },
    Priority: {
        "LOW": N_("Low"),
        "NORMAL": N_("Normal"),
        "HIGH": N_("High"),
        "URGENT": N_("Urgent"),
    },
    Role: {
        "agent": N_("Agent"),
        "supervisor": N_("Supervisor"),
        "admin": N_("Administrator"),
        "compliance": N_("Compliance"),
    },
    # Legal holds (docs/data-lifecycle.md).
    HoldScope: {
        "CUSTOMER": N_("Customer"),
        "INTERACTION": N_("Interaction"),
        "DATE_RANGE": N_("Date range"),
    },
    ComplaintStatus: {
        "DRAFT": N_("Draft"),
        "OPEN": N_("Open"),
        "IN_PROGRESS": N_("In progress"),
        "ANSWERED": N_("Answered"),
        "ESCALATED": N_("Escalated"),
        "REPORTED": N_("Reported to the BCRA"),
        "CLOSED": N_("Closed"),
        "DISCARDED": N_("Discarded"),
    },
    ComplaintSource: {
        "CALL_OUTCOME": N_("Call outcome"),
        "CONSOLE": N_("Console"),
        "API": N_("API"),
    },
    WebhookStatus: {
        "RECEIVED": N_("Received"),
        "PROCESSED": N_("Processed"),
        "IGNORED": N_("Ignored"),
        "FAILED": N_("Failed"),
        "INVALID": N_("Invalid"),
        "DEFERRED": N_("Waiting for its message"),
    },
}

# Every action the audit log records (a test checks each `audit.record` call has one here).
AUDIT_ACTIONS: dict[str, str] = {
    # Complaints (docs/complaints.md).
    "complaint.opened": N_("Complaint opened"),
    "complaint.drafted": N_("Complaint drafted from a call"),
    "complaint.confirmed": N_("Complaint confirmed"),
    "complaint.discarded": N_("Complaint discarded"),
    "complaint.linked": N_("Conversation linked to a complaint"),
    "complaint.started": N_("Complaint in progress"),
    "complaint.answered": N_("Complaint answered"),
    "complaint.escalated": N_("Complaint escalated"),
    "complaint.warned": N_("Complaint deadline approaching"),
    "complaint.overdue": N_("Complaint overdue"),
    "complaint.reported": N_("Complaint reported to the BCRA"),
    "complaint.closed": N_("Complaint closed"),
    "complaint.notice_queued": N_("Claim number sent to the customer"),
    "complaint.answer_queued": N_("Complaint answer sent to the customer"),
    "complaint.notice_skipped": N_("Complaint message not sent (no phone)"),
    # The router (docs/workflow.md, "Routing").
    "interaction.routed": N_("Conversation assigned by routing"),
    "interaction.woke": N_("Snoozed conversation woke"),
    "interaction.unassigned": N_("Conversation unassigned"),
    # Teams and people (docs/workflow.md).
    "team.create": N_("Team created"),
    "team.update": N_("Team changed"),
    "team.delete": N_("Team deleted"),
    "team.members": N_("Team members changed"),
    "routing_rule.create": N_("Routing rule added"),
    "routing_rule.delete": N_("Routing rule deleted"),
    "user.availability": N_("Availability changed"),
    "user.capacity": N_("Capacity changed"),
    "legal_hold.placed": N_("Legal hold placed"),
    "retention.purged": N_("Expired data purged"),
    "legal_hold.released": N_("Legal hold released"),
    "auth.login": N_("Signed in"),
    "auth.login_failed": N_("Failed sign-in"),
    "auth.login_locked": N_("Sign-in refused: account locked"),
    "auth.logout": N_("Signed out"),
    "call.recording.accessed": N_("Recording played"),
    "elevenlabs.refresh": N_("Call fetched again from the provider"),
    "elevenlabs.sync": N_("Calls synchronized"),
    "interaction.update.assignedAgent": N_("Agent assigned"),
    "interaction.update.queue": N_("Queue changed"),
    "interaction.update.status": N_("Status changed"),
    "interaction.update.outcome": N_("Outcome changed"),
    "interaction.update.intent": N_("Intent changed"),
    "interaction.assign": N_("Agent assigned"),
    "interaction.unassign": N_("Agent unassigned"),
    "interaction.transfer": N_("Conversation transferred"),
    "interaction.resolve": N_("Conversation resolved"),
    "interaction.reopen": N_("Conversation reopened"),
    "interaction.snooze": N_("Conversation snoozed"),
    "interaction.unsnooze": N_("Conversation woke up"),
    "interaction.priority": N_("Priority changed"),
    "interaction.labels": N_("Labels changed"),
    "interaction.note.added": N_("Private note added"),
    "otp.cancel": N_("Code canceled"),
    "otp.create": N_("Code requested"),
    "otp.expire": N_("Code expired"),
    "otp.fail": N_("Code could not be sent"),
    "otp.fallback": N_("Code sent by SMS instead of WhatsApp"),
    "otp.lock": N_("Code locked"),
    "otp.send": N_("Code sent"),
    "otp.verify": N_("Code checked"),
    "pii.reveal": N_("Personal data revealed"),
    "redaction.revealed": N_("Redacted value revealed"),
    "redaction.reveal_failed": N_("Redacted value did not open"),
    "redaction.confirmed": N_("Redacted value checked against its proof"),
    "complaint.evidence_exported": N_("Complaint evidence downloaded"),
    "sms.send": N_("SMS sent"),
    "canned_reply.create": N_("Canned reply created"),
    "canned_reply.update": N_("Canned reply changed"),
    "canned_reply.delete": N_("Canned reply deleted"),
    "sms.status_reconciled": N_("SMS status read from the provider"),
    "token.create": N_("API token created"),
    "token.revoke": N_("API token revoked"),
    "user.create": N_("User created"),
    "user.password_change": N_("Password changed"),
    "user.password_reset": N_("Password reset"),
    "user.unlock": N_("Account unlocked"),
    "user.update": N_("User changed"),
    "webhook.received": N_("Provider notification received"),
    "webhook.replay": N_("Provider notification replayed"),
    "whatsapp.bot.paused": N_("Agent took over from the bot"),
    "whatsapp.bot.resumed": N_("Handed back to the bot"),
    "whatsapp.media.accessed": N_("WhatsApp media opened"),
    "whatsapp.send": N_("WhatsApp message sent"),
    "whatsapp.send_template": N_("WhatsApp template sent"),
    "whatsapp.templates.sync": N_("WhatsApp templates synced"),
    # Service levels (docs/service-levels.md).
    "sla.warning": N_("Service level about to be breached"),
    "sla.breached": N_("Service level breached"),
    "sla_policy.create": N_("Service-level policy created"),
    "sla_policy.update": N_("Service-level policy changed"),
    "sla_policy.delete": N_("Service-level policy deleted"),
    "business_hours.update": N_("Business hours changed"),
    "business_hours.delete": N_("Team back to the default business hours"),
    "closed_day.create": N_("Closed day added"),
    "closed_day.delete": N_("Closed day removed"),
    # Data-subject requests (docs/data-lifecycle.md).
    "subject_request.created": N_("Data-subject request received"),
    "subject_request.reviewed": N_("Data-subject request under review"),
    "subject_request.completed": N_("Data-subject request completed"),
    "subject_request.refused": N_("Data-subject request refused"),
    "subject_request.exported": N_("Access export downloaded"),
}

# How calls end (the voice provider's words and ours), shown on a call.
HANGUP_REASONS: dict[str, str] = {
    "end_call tool": N_("The assistant ended the call"),
    "end_call tool was called.": N_("The assistant ended the call"),
    "customer hung up": N_("The customer hung up"),
    "call ended by remote party": N_("The customer hung up"),
    "client disconnected": N_("The customer hung up"),
    "transfer": N_("Transferred to a person"),
    "silence timeout": N_("Silence: the call timed out"),
    "connection error": N_("Connection error"),
    "sip error 503": N_("Telephony error"),
    "max duration reached": N_("Maximum duration reached"),
    "call initiation failure: no-answer": N_("Not answered"),
    "call initiation failure: busy": N_("Line busy"),
    "call initiation failure: failed": N_("The call could not be placed"),
}

# Intents and queues the bank's assistants report, as words (others are shown humanized).
INTENTS: dict[str, str] = {
    "consulta_saldo": N_("Balance inquiry"),
    "bloqueo_tarjeta": N_("Card block"),
    "reclamo_cargo": N_("Charge dispute"),
    "prestamo_personal": N_("Personal loan"),
    "cambio_clave": N_("Password change"),
    "activacion_tarjeta": N_("Card activation"),
    "consulta_inversiones": N_("Investments inquiry"),
    "denuncia_fraude": N_("Fraud report"),
    "consulta_transferencia": N_("Transfer inquiry"),
}
QUEUES: dict[str, str] = {
    "cuentas": N_("Accounts"),
    "tarjetas": N_("Cards"),
    "prestamos": N_("Loans"),
    "general": N_("General"),
    "fraude": N_("Fraud"),
}

# A WhatsApp template's review status and category, as the provider reports them.
TEMPLATE_STATUSES: dict[str, str] = {
    "APPROVED": N_("Approved"),
    "PENDING": N_("Pending review"),
    "REJECTED": N_("Rejected"),
    "PAUSED": N_("Paused"),
    "DISABLED": N_("Disabled"),
}
ENUM_LABELS[TemplateStatus] = TEMPLATE_STATUSES
# The data lifecycle (docs/data-lifecycle.md).
ENUM_LABELS[DsrKind] = {
    "ACCESS": N_("Access"),
    "RECTIFICATION": N_("Rectification"),
    "DELETION": N_("Deletion"),
}
ENUM_LABELS[DsrStatus] = {
    "RECEIVED": N_("Received"),
    "UNDER_REVIEW": N_("Under review"),
    "COMPLETED": N_("Completed"),
    "REFUSED": N_("Refused"),
}
ENUM_LABELS[PurgeStatus] = {
    "RUNNING": N_("Running"),
    "COMPLETED": N_("Completed"),
    "FAILED": N_("Failed"),
}
TEMPLATE_CATEGORIES: dict[str, str] = {
    "UTILITY": N_("Utility"),
    "MARKETING": N_("Marketing"),
    "AUTHENTICATION": N_("Authentication"),
}

# Whether a legal hold is in force (holds.schemas.HoldState).
HOLD_STATES: dict[str, str] = {
    "ACTIVE": N_("Active"),
    "RELEASED": N_("Released"),
    "LAPSED": N_("Lapsed"),
}

# What an audit row is about.
ENTITY_TYPES: dict[str, str] = {
    "complaint": N_("Complaint"),
    "interaction": N_("Interaction"),
    "message": N_("Message"),
    "canned_reply": N_("Canned reply"),
    "otp_challenge": N_("One-time code"),
    "user": N_("User"),
    "api_token": N_("API token"),
    "conversation": N_("Call"),
    "redaction_token": N_("Redacted value"),
    "redaction_proof": N_("Redaction proof"),
    "customer": N_("Customer"),
    "webhook_delivery": N_("Provider notification"),
    "sync": N_("Synchronization"),
    "team": N_("Team"),
    "routing_rule": N_("Routing rule"),
    "sla_policy": N_("Service-level policy"),
    "business_hours": N_("Business hours"),
    "closed_day": N_("Closed day"),
    "legal_hold": N_("Legal hold"),
    "purge_run": N_("Retention purge"),
    "data_subject_request": N_("Data-subject request"),
}

# The voice assistant's own verdict on a call.
VERDICTS: dict[str, str] = {
    "success": N_("successful"),
    "failure": N_("unsuccessful"),
    "unknown": N_("undetermined"),
}

# What a transcript turn's role is.
SPEAKERS: dict[str, str] = {"agent": N_("Assistant"), "user": N_("Customer")}

# Where a search found its words (docs/inbox.md#search).
SEARCH_SOURCES: dict[str, str] = {
    "message": N_("message"),
    "transcript": N_("transcript"),
    "summary": N_("call summary"),
    "customer": N_("customer"),
}


def humanize(code: str) -> str:
    """`cambio_clave` → `Cambio clave`: a code with no label still reads as words."""
    words = code.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else code


def label_id(value: object, kind: str | None = None) -> str | None:
    """The message id that names `value` (an enum member, or a code of `kind`), or None."""
    if isinstance(value, Enum):
        return ENUM_LABELS.get(type(value), {}).get(str(value.value))
    if not isinstance(value, str):
        return None
    table = {
        "event": ENUM_LABELS[EventType],
        "audit": AUDIT_ACTIONS,
        "hangup": HANGUP_REASONS,
        "intent": INTENTS,
        "queue": QUEUES,
        "speaker": SPEAKERS,
        "search_source": SEARCH_SOURCES,
        "verdict": VERDICTS,
        "entity": ENTITY_TYPES,
        "role": ENUM_LABELS[Role],
        "kind": ENUM_LABELS[MessageKind],
        "channel": ENUM_LABELS[Channel],
        "status": ENUM_LABELS[InteractionStatus],
        "direction": ENUM_LABELS[Direction],
        "outcome": ENUM_LABELS[Outcome],
        "message_status": ENUM_LABELS[MessageStatus],
        "otp_status": ENUM_LABELS[OtpStatus],
        "purpose": ENUM_LABELS[OtpPurpose],
        "actor": ENUM_LABELS[ActorType],
        "provider": ENUM_LABELS[Provider],
        "priority": ENUM_LABELS[Priority],
        "sla_action": ENUM_LABELS[SlaAction],
        "sla_state": ENUM_LABELS[SlaState],
        "template_status": TEMPLATE_STATUSES,
        "template_category": TEMPLATE_CATEGORIES,
        "hold_state": HOLD_STATES,
        "hold_scope": ENUM_LABELS[HoldScope],
    }.get(kind or "")
    if table is None:
        return None
    return table.get(value) or (table.get(value.lower()) if kind == "hangup" else None)
