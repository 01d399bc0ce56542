"""Composition root of inbound events: each domain registers its webhook handlers here.

A new domain that applies provider events adds one line; the webhook module imports no domain.
"""

from __future__ import annotations

from contact_center.calls import inbound as calls
from contact_center.messaging import inbound as messaging
from contact_center.recordings import RecordingStore
from contact_center.runtime import Runtime
from contact_center.webhooks.handlers import WebhookHandlers
from contact_center.webhooks.ingest import WebhookDeps


def webhook_handlers(recordings: RecordingStore) -> WebhookHandlers:
    handlers = WebhookHandlers()
    calls.register(handlers, recordings)
    messaging.register(handlers)
    return handlers


def webhook_deps(runtime: Runtime) -> WebhookDeps:
    """What storing and applying a delivery needs, for the API and the worker alike."""
    return WebhookDeps(
        settings=runtime.settings,
        sessions=runtime.sessions,
        handlers=webhook_handlers(runtime.recordings),
        redaction=runtime.keys.redaction,
    )
