"""Message status precedence: statuses only move forward."""

from __future__ import annotations

from contact_center.models.enums import MessageStatus

RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.UNDELIVERED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.READ: 4,
    MessageStatus.RECEIVED: 2,
}
TERMINAL = {MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED}

# Twilio's callback statuses as ours; statuses of inbound messages are not ours to track.
FROM_TWILIO = {
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "queued": MessageStatus.QUEUED,
    "sending": MessageStatus.SENDING,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
    "read": MessageStatus.READ,
    "partially_delivered": MessageStatus.DELIVERED,
}


def moves_forward(current: MessageStatus, new: MessageStatus) -> bool:
    """True when `new` may replace `current`: higher rank; among terminal ones the first wins."""
    if current in TERMINAL and new in TERMINAL:
        return False
    return RANK[new] > RANK[current]


# WhatsApp's statuses as ours (docs/whatsapp-cloud.md): `played` is a voice note's first play,
# as good as read. Any other value is kept on the timeline and moves nothing.
FROM_WHATSAPP = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "played": MessageStatus.READ,
    "failed": MessageStatus.FAILED,
}
WHATSAPP_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.READ: 4,
}


def whatsapp_moves_forward(current: MessageStatus, new: MessageStatus) -> bool:
    """WhatsApp's order: sent < delivered < read; FAILED is final (nothing moves it, READ
    neither) and a message read did not fail. (Unlike SMS's rule, where READ may follow a
    terminal status: Twilio reports read receipts only after delivery.)"""
    if current not in WHATSAPP_RANK:  # FAILED, UNDELIVERED, RECEIVED: final or not ours
        return False
    if new is MessageStatus.FAILED:
        return current is not MessageStatus.READ
    return new in WHATSAPP_RANK and WHATSAPP_RANK[new] > WHATSAPP_RANK[current]
