"""The names of the data classes (docs/data-lifecycle.md, "Data classes"): the keys of every
count a purge or an erasure reports."""

from __future__ import annotations

RECORDINGS = "recordings"
TRANSCRIPTS = "transcripts"
MESSAGE_BODIES = "message_bodies"
EVENT_PAYLOADS = "event_payloads"
WEBHOOK_BODIES = "webhook_bodies"
OTP_CHALLENGES = "otp_challenges"
CONSOLE_SESSIONS = "console_sessions"
AUDIT_ROWS = "audit_rows"

# What erasing a conversation's data covers (a deletion request, the purge per class).
ERASABLE: tuple[str, ...] = (
    RECORDINGS,
    TRANSCRIPTS,
    MESSAGE_BODIES,
    EVENT_PAYLOADS,
    WEBHOOK_BODIES,
    OTP_CHALLENGES,
)
