"""The WhatsApp 24-hour window (docs/workflow.md): WhatsApp lets a business send free text only
within 24 hours of the customer's last message. Templates the bank had approved (one-time
codes, links, card activation) are not free text and are sent at any time."""

from __future__ import annotations

from datetime import datetime, timedelta

from contact_center.errors import Conflict
from contact_center.models.enums import MessageKind

WHATSAPP_WINDOW = timedelta(hours=24)


def closes_at(last_inbound: datetime | None) -> datetime | None:
    """When the window closes: 24 h after the customer's last message (None: never opened)."""
    return None if last_inbound is None else last_inbound + WHATSAPP_WINDOW


def is_free_text(kind: MessageKind) -> bool:
    """Free text is what a person writes; the system's messages go as approved templates."""
    return kind is MessageKind.TEXT


def require_open(last_inbound: datetime | None, now: datetime) -> None:
    """409 `whatsapp_window_closed` when free text may not be sent now."""
    closing = closes_at(last_inbound)
    if closing is None or closing <= now:
        raise Conflict(
            "The customer has not written on WhatsApp in the last 24 hours, so WhatsApp does "
            "not allow free text now; continue the conversation by SMS.",
            code="whatsapp_window_closed",
        )
