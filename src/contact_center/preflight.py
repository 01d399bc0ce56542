"""Configuration checks for production (`contact-center check-config`, and `serve`/`worker` at
start with APP_ENV=production): every finding names the variable to fix.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from contact_center.db.migrate import current_revision, head_revision
from contact_center.db.session import create_engine
from contact_center.health.service import check_database
from contact_center.providers.base import ProviderName
from contact_center.providers.registry import emulated_providers, secret_value
from contact_center.settings import PLACEHOLDER_SECRETS, DatabaseKind, Settings

Level = Literal["error", "warning", "ok"]
MIN_SECRET_LENGTH = 32
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Finding:
    level: Level
    variable: str
    message: str


def _placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return (
        lowered in PLACEHOLDER_SECRETS
        or lowered.startswith(("changeme", "change-me", "your-", "<"))
        or len(set(lowered)) <= 2
    )


def static_findings(settings: Settings) -> list[Finding]:
    """Everything that can be told without connecting anywhere."""
    production = settings.is_production
    severe: Level = "error" if production else "warning"
    found: list[Finding] = []

    if not production:
        found.append(
            Finding("warning", "APP_ENV", f"is {settings.app_env.value}; checking as production")
        )
    if settings.auth_disabled:
        found.append(
            Finding(severe, "AUTH_DISABLED", "must be false in production (anyone could read PII)")
        )
    if settings.database_kind is DatabaseKind.SQLITE:
        found.append(
            Finding(
                severe,
                "DATABASE_URL",
                "is SQLite; production runs several processes on PostgreSQL",
            )
        )
    if not settings.redis_enabled:
        found.append(
            Finding(
                severe,
                "REDIS_URL",
                "is not set; the job queue would live inside one process (set REDIS_URL or "
                "REDIS_HOST)",
            )
        )
    if not settings.public_base_url:
        found.append(
            Finding(
                severe,
                "PUBLIC_BASE_URL",
                "is not set; Twilio signatures and delivery callbacks need this service's "
                "public URL",
            )
        )
    elif urlsplit(settings.public_base_url).scheme != "https":
        found.append(Finding("warning", "PUBLIC_BASE_URL", "is not https"))
    if not settings.frontend_url:
        found.append(
            Finding("warning", "FRONTEND_URL", "is not set; verification links cannot be sent")
        )

    for name, secret in (
        ("OTP_PEPPER", settings.otp_pepper),
        ("LINK_SIGNING_KEY", settings.link_signing_key),
    ):
        value = secret_value(secret)
        if not value:
            found.append(Finding(severe, name, "is missing (generate 32+ random bytes)"))
        elif _placeholder(value):
            found.append(Finding("error", name, "is a placeholder, not a secret"))
        elif len(value) < MIN_SECRET_LENGTH:
            found.append(Finding(severe, name, f"is shorter than {MIN_SECRET_LENGTH} characters"))

    credentials = {
        ProviderName.TWILIO: ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"),
        ProviderName.ELEVENLABS: ("ELEVENLABS_API_KEY",),
        ProviderName.BUILDERBOT: ("BUILDERBOT_API_KEY", "BUILDERBOT_BOT_ID"),
    }
    emulated = emulated_providers(settings)
    for provider, names in credentials.items():
        if provider in emulated:
            found.append(
                Finding(
                    severe,
                    " / ".join(names),
                    f"missing: {provider.value.lower()} would be emulated, which production "
                    "refuses",
                )
            )
    if ProviderName.TWILIO not in emulated and not settings.twilio_from_number:
        found.append(Finding(severe, "TWILIO_FROM_NUMBER", "is missing"))
    if not (settings.elevenlabs_webhook_secret or settings.elevenlabs_webhook_token):
        found.append(
            Finding(
                severe,
                "ELEVENLABS_WEBHOOK_SECRET",
                "is missing (or ELEVENLABS_WEBHOOK_TOKEN): call webhooks would be refused",
            )
        )
    if not settings.builderbot_webhook_token:
        found.append(
            Finding(
                severe,
                "BUILDERBOT_WEBHOOK_TOKEN",
                "is missing: WhatsApp webhooks would be refused",
            )
        )
    for name, secret in (
        ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
        ("ELEVENLABS_API_KEY", settings.elevenlabs_api_key),
        ("ELEVENLABS_WEBHOOK_SECRET", settings.elevenlabs_webhook_secret),
        ("ELEVENLABS_WEBHOOK_TOKEN", settings.elevenlabs_webhook_token),
        ("BUILDERBOT_API_KEY", settings.builderbot_api_key),
        ("BUILDERBOT_WEBHOOK_TOKEN", settings.builderbot_webhook_token),
        ("TWILIO_WEBHOOK_TOKEN", settings.twilio_webhook_token),
    ):
        value = secret_value(secret)
        if value and _placeholder(value):
            found.append(Finding("error", name, "is a placeholder, not the real value"))
    if settings.emulator_url and production:
        found.append(Finding("error", "EMULATOR_URL", "must not be set in production"))
    return found


async def connection_findings(settings: Settings) -> list[Finding]:
    """The database (reachable, migrations current) and Redis (reachable)."""
    found: list[Finding] = []
    engine = create_engine(settings)
    try:
        state = await asyncio.wait_for(check_database(engine), CONNECT_TIMEOUT * 2)
        if state != "ok":
            found.append(Finding("error", "DATABASE_URL", "the database is unreachable"))
        else:
            current = await current_revision(engine)
            head = head_revision()
            if current != head:
                found.append(
                    Finding(
                        "error",
                        "DATABASE_URL",
                        f"migrations are not current (at {current or 'none'}, code needs {head}); "
                        "run `contact-center migrate`",
                    )
                )
            else:
                found.append(Finding("ok", "DATABASE_URL", f"reachable, migrations at {head}"))
    except (TimeoutError, SQLAlchemyError, OSError) as exc:
        found.append(
            Finding("error", "DATABASE_URL", f"the database is unreachable ({type(exc).__name__})")
        )
    finally:
        await engine.dispose()
    if settings.redis_dsn:
        client = Redis.from_url(settings.redis_dsn, socket_connect_timeout=CONNECT_TIMEOUT)
        try:
            await asyncio.wait_for(_ping(client), CONNECT_TIMEOUT)
            value = await _eviction_policy(client)
            if value not in (None, "noeviction"):
                found.append(
                    Finding(
                        "warning",
                        "REDIS_URL",
                        "maxmemory-policy should be noeviction: evicted jobs are lost until the "
                        "reconciler finds them",
                    )
                )
            found.append(Finding("ok", "REDIS_URL", "reachable"))
        except Exception as exc:  # any failure to reach Redis is the finding itself
            found.append(
                Finding("error", "REDIS_URL", f"Redis is unreachable ({type(exc).__name__})")
            )
        finally:
            await client.aclose()
    return found


async def _ping(client: Redis) -> None:
    await client.ping()  # type: ignore[misc]  # redis-py types ping as sync-or-async


async def _eviction_policy(client: Redis) -> str | None:
    """Managed Redis services often refuse CONFIG; then the policy is unknown, not wrong."""
    try:
        policy = await client.config_get("maxmemory-policy")
    except RedisError:
        return None
    for key, value in policy.items():
        if (key.decode() if isinstance(key, bytes) else key) == "maxmemory-policy":
            return value.decode() if isinstance(value, bytes) else str(value)
    return None


async def run_checks(settings: Settings) -> list[Finding]:
    return static_findings(settings) + await connection_findings(settings)


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "error"]


def describe(findings: list[Finding]) -> str:
    marks = {"error": "✗", "warning": "!", "ok": "✓"}
    return "\n".join(f"{marks[f.level]} {f.variable}: {f.message}" for f in findings)
