"""Everything a process needs at run time, built once (the API's lifespan or the worker).

The runtime holds infrastructure only (connections, clients, keys, stores); it imports no
domain. What a domain adds on top (the webhook handlers, the jobs' dependencies) is composed
above the domains: `contact_center.handlers` and `contact_center.worker`.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import structlog
from redis.asyncio import Redis
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.db.session import create_session_factory
from contact_center.jobs.queue import Jobs, build_queue
from contact_center.keys.service import Keys, load_keys
from contact_center.live.bus import BUS, EventBus
from contact_center.live.presence import PresenceStore
from contact_center.message_templates import Templates
from contact_center.providers.http import create_http_client
from contact_center.providers.registry import Providers, build_providers, twilio_credentials
from contact_center.ratelimits import RateLimits
from contact_center.recordings import RecordingStore
from contact_center.settings import Settings

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    providers: Providers
    recordings: RecordingStore
    ratelimits: RateLimits
    queue: Queue
    jobs: Jobs
    keys: Keys
    templates: Templates
    events: EventBus
    presence: PresenceStore

    @property
    def status_callback_url(self) -> str:
        """Where Twilio posts delivery statuses: our public URL (or this process locally)."""
        base = self.settings.public_base_url or f"http://127.0.0.1:{self.settings.app_port}"
        url = f"{base}/webhooks/twilio/sms/status"
        token = twilio_credentials(self.settings).webhook_token
        return f"{url}?token={token}" if token else url

    async def close(self) -> None:
        try:
            await self.queue.disconnect()
        except Exception as exc:  # Redis may be down at shutdown; nothing to save
            log.warning("queue_disconnect_failed", error=type(exc).__name__)
        await self.events.stop()
        await self.presence.close()
        await self.http.aclose()


async def start_runtime(settings: Settings, engine: AsyncEngine) -> Runtime:
    sessions = create_session_factory(engine)
    http = create_http_client()
    recordings = RecordingStore(settings.recordings_dir)
    queue = build_queue(settings)
    await queue.connect()
    events = EventBus(
        Redis.from_url(settings.redis_dsn, socket_connect_timeout=3, health_check_interval=10)
        if settings.redis_dsn
        else None
    )
    presence = PresenceStore(
        Redis.from_url(settings.redis_dsn, socket_connect_timeout=3, health_check_interval=10)
        if settings.redis_dsn
        else None
    )
    sessions.configure(info={BUS: events})
    keys = await load_keys(engine, settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        http=http,
        providers=build_providers(settings, http),
        recordings=recordings,
        ratelimits=RateLimits(settings, keys.pseudonym_key),
        queue=queue,
        jobs=Jobs(queue),
        keys=keys,
        templates=Templates(settings),
        events=events,
        presence=presence,
    )
