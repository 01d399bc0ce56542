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
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.auth.credentials import guesses_log10
from contact_center.db.migrate import current_revision, head_revision
from contact_center.health.service import check_database
from contact_center.providers.base import ProviderName
from contact_center.providers.registry import (
    EMULATOR_BUILDERBOT_API_KEY,
    EMULATOR_BUILDERBOT_BOT_ID,
    EMULATOR_BUILDERBOT_TOKEN,
    EMULATOR_ELEVENLABS_AGENT_ID,
    EMULATOR_ELEVENLABS_API_KEY,
    EMULATOR_ELEVENLABS_SECRET,
    EMULATOR_TWILIO_ACCOUNT_SID,
    EMULATOR_TWILIO_AUTH_TOKEN,
    EMULATOR_TWILIO_FROM_NUMBER,
    EMULATOR_WHATSAPP_CLOUD_ACCESS_TOKEN,
    EMULATOR_WHATSAPP_CLOUD_APP_SECRET,
    EMULATOR_WHATSAPP_CLOUD_PHONE_NUMBER_ID,
    EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN,
    EMULATOR_WHATSAPP_CLOUD_WABA_ID,
    emulated_providers,
    secret_value,
)
from contact_center.redaction.vault import Keyring, KeyringError
from contact_center.settings import PLACEHOLDER_SECRETS, DatabaseKind, Settings

Level = Literal["error", "warning", "ok"]
# Secrets this service's operators generate (peppers, signing keys, webhook tokens they choose).
MIN_SECRET_LENGTH = 32
# Secrets a provider issues: every format we know is longer (Twilio's auth token has 32 hex
# digits); shorter is a truncated copy or a made-up value.
MIN_ISSUED_SECRET_LENGTH = 24
# zxcvbn's estimate, log10 of the guesses: 20 is about 66 bits. 32 random hex digits score 27
# or more; words, repeats, sequences and keyboard walks score far less.
MIN_SECRET_GUESSES_LOG10 = 20
# The provider emulator publishes these (in its source and docs/architecture.md): anyone can sign a
# webhook or call the API with them.
EMULATOR_SECRETS = frozenset(
    {
        EMULATOR_TWILIO_AUTH_TOKEN,
        EMULATOR_ELEVENLABS_SECRET,
        EMULATOR_ELEVENLABS_API_KEY,
        EMULATOR_BUILDERBOT_TOKEN,
        EMULATOR_BUILDERBOT_API_KEY,
        EMULATOR_WHATSAPP_CLOUD_ACCESS_TOKEN,
        EMULATOR_WHATSAPP_CLOUD_APP_SECRET,
        EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN,
    }
)
GENERATE_HINT = "generate one with `openssl rand -hex 32`"
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
        ("AUDIT_MAC_KEY", settings.audit_mac_key),
    ):
        if not secret_value(secret):
            found.append(Finding(severe, name, "is missing (generate 32+ random bytes)"))

    found += _redaction_findings(settings, severe)

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
    found += _whatsapp_cloud_findings(settings, severe)
    found += _secret_findings(settings, severe)
    for name, identifier, emulators in (
        ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid, EMULATOR_TWILIO_ACCOUNT_SID),
        ("TWILIO_FROM_NUMBER", settings.twilio_from_number, EMULATOR_TWILIO_FROM_NUMBER),
        ("BUILDERBOT_BOT_ID", settings.builderbot_bot_id, EMULATOR_BUILDERBOT_BOT_ID),
        ("ELEVENLABS_AGENT_ID", settings.elevenlabs_agent_id, EMULATOR_ELEVENLABS_AGENT_ID),
        (
            "WHATSAPP_CLOUD_PHONE_NUMBER_ID",
            settings.whatsapp_cloud_phone_number_id,
            EMULATOR_WHATSAPP_CLOUD_PHONE_NUMBER_ID,
        ),
        (
            "WHATSAPP_CLOUD_WABA_ID",
            settings.whatsapp_cloud_waba_id,
            EMULATOR_WHATSAPP_CLOUD_WABA_ID,
        ),
    ):
        if identifier and identifier.strip() == emulators:
            found.append(
                Finding("error", name, "is the provider emulator's test value, not a real one")
            )
    if settings.trusted_proxies == "*":
        found.append(
            Finding(
                "warning",
                "TRUSTED_PROXIES",
                "is `*`: any client can choose its address (sign-in limit, audit) unless every "
                "request reaches this service through the proxy; list the proxies' addresses",
            )
        )
    if settings.emulator_url and production:
        found.append(Finding("error", "EMULATOR_URL", "must not be set in production"))
    return found


def _redaction_findings(settings: Settings, severe: Level) -> list[Finding]:
    """With redaction on (docs/redaction.md), both keyrings set, readable, and without a key in
    common (a vault key that is also a proof key makes one secret do two jobs). A finding
    names the variable and the entry, never a key."""
    if not settings.redaction_enabled:
        return []
    found: list[Finding] = []
    keyrings: dict[str, Keyring] = {}
    for name, secret in (
        ("REDACTION_VAULT_KEYS", settings.redaction_vault_keys),
        ("REDACTION_PROOF_KEYS", settings.redaction_proof_keys),
    ):
        value = secret_value(secret)
        if not value or not value.strip():
            found.append(
                Finding(
                    severe,
                    name,
                    "is missing while REDACTION_ENABLED is on (a keyring `k1:<base64 of 32 "
                    "random bytes>`: `openssl rand -base64 32` makes a key)",
                )
            )
            continue
        try:
            keyrings[name] = Keyring.parse(value)
        except KeyringError as exc:  # its message names the entry, never the key
            found.append(Finding("error", name, f"is not a keyring: {exc}"))
    if len(keyrings) == 2:
        vault, proofs = keyrings["REDACTION_VAULT_KEYS"], keyrings["REDACTION_PROOF_KEYS"]
        shared = {vault.key(i) for i in vault.ids} & {proofs.key(i) for i in proofs.ids}
        if shared:
            found.append(
                Finding(
                    "error",
                    "REDACTION_PROOF_KEYS",
                    "shares a key with REDACTION_VAULT_KEYS: each keyring needs its own keys",
                )
            )
    return found


def _whatsapp_cloud_findings(settings: Settings, severe: Level) -> list[Finding]:
    """Meta's Cloud API (docs/whatsapp-cloud.md). Sending through it (`WHATSAPP_PROVIDER=cloud`)
    needs its token, the number's and the account's ids, and (its statuses and the customers'
    messages come by webhook) the app secret and the verify token. With BuilderBot sending, a
    Cloud API partly configured (a number connected side by side) gets warnings: without its
    secrets the webhook refuses every delivery (production never takes the emulator's), without
    the token media cannot be fetched."""
    found: list[Finding] = []
    sends = settings.whatsapp_provider == "cloud"
    token = bool((secret_value(settings.whatsapp_cloud_access_token) or "").strip())
    webhook = {
        "WHATSAPP_CLOUD_APP_SECRET": (
            secret_value(settings.whatsapp_cloud_app_secret) or ""
        ).strip(),
        "WHATSAPP_CLOUD_VERIFY_TOKEN": (
            secret_value(settings.whatsapp_cloud_verify_token) or ""
        ).strip(),
    }
    identifiers = {
        "WHATSAPP_CLOUD_PHONE_NUMBER_ID": settings.whatsapp_cloud_phone_number_id,
        "WHATSAPP_CLOUD_WABA_ID": settings.whatsapp_cloud_waba_id,
    }
    configured = token or any(webhook.values()) or any(identifiers.values())
    if not (sends or configured):
        return found  # the Cloud API is not used: its webhook refuses everything in production
    level: Level = severe if sends else "warning"
    for name, value in webhook.items():
        if not value:
            found.append(
                Finding(
                    level,
                    name,
                    "is missing: the Cloud API's webhook (/webhooks/whatsapp-cloud) refuses every "
                    "delivery without it",
                )
            )
    if sends:
        if not token:
            found.append(
                Finding(
                    severe,
                    "WHATSAPP_CLOUD_ACCESS_TOKEN",
                    "missing: with WHATSAPP_PROVIDER=cloud the Cloud API would be emulated, "
                    "which production refuses",
                )
            )
        for name, identifier in identifiers.items():
            if not identifier:
                found.append(
                    Finding(severe, name, "is missing: WHATSAPP_PROVIDER=cloud sends through it")
                )
    elif not token:
        found.append(
            Finding(
                "warning",
                "WHATSAPP_CLOUD_ACCESS_TOKEN",
                "is missing: media named by the Cloud API's webhooks cannot be fetched",
            )
        )
    if urlsplit(settings.whatsapp_cloud_base_url).scheme != "https":
        found.append(
            Finding(
                severe,
                "WHATSAPP_CLOUD_BASE_URL",
                "is not https: the access token goes with every call",
            )
        )
    return found


def _secret_findings(settings: Settings, severe: Level) -> list[Finding]:
    """Each secret set: not a placeholder, not a value the emulator publishes, long enough and
    hard enough to guess. A finding names the variable, never the value."""
    found: list[Finding] = []
    for name, secret, minimum in (
        ("OTP_PEPPER", settings.otp_pepper, MIN_SECRET_LENGTH),
        ("LINK_SIGNING_KEY", settings.link_signing_key, MIN_SECRET_LENGTH),
        ("AUDIT_MAC_KEY", settings.audit_mac_key, MIN_SECRET_LENGTH),
        ("BUILDERBOT_WEBHOOK_TOKEN", settings.builderbot_webhook_token, MIN_SECRET_LENGTH),
        ("ELEVENLABS_WEBHOOK_TOKEN", settings.elevenlabs_webhook_token, MIN_SECRET_LENGTH),
        ("TWILIO_WEBHOOK_TOKEN", settings.twilio_webhook_token, MIN_SECRET_LENGTH),
        ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token, MIN_ISSUED_SECRET_LENGTH),
        ("ELEVENLABS_API_KEY", settings.elevenlabs_api_key, MIN_ISSUED_SECRET_LENGTH),
        ("ELEVENLABS_WEBHOOK_SECRET", settings.elevenlabs_webhook_secret, MIN_ISSUED_SECRET_LENGTH),
        ("BUILDERBOT_API_KEY", settings.builderbot_api_key, MIN_ISSUED_SECRET_LENGTH),
        (
            "WHATSAPP_CLOUD_VERIFY_TOKEN",
            settings.whatsapp_cloud_verify_token,
            MIN_SECRET_LENGTH,
        ),
        (
            "WHATSAPP_CLOUD_ACCESS_TOKEN",
            settings.whatsapp_cloud_access_token,
            MIN_ISSUED_SECRET_LENGTH,
        ),
        ("WHATSAPP_CLOUD_APP_SECRET", settings.whatsapp_cloud_app_secret, MIN_ISSUED_SECRET_LENGTH),
    ):
        value = (secret_value(secret) or "").strip()
        if not value:
            continue
        lowered = value.lower()
        if any(published.lower() in lowered for published in EMULATOR_SECRETS):
            found.append(
                Finding(
                    "error",
                    name,
                    "is a value the provider emulator publishes, not a secret: set the real one",
                )
            )
        elif _placeholder(value):
            found.append(Finding("error", name, "is a placeholder, not a secret"))
        elif len(value) < minimum:
            hint = f"; {GENERATE_HINT}" if minimum == MIN_SECRET_LENGTH else ""
            found.append(Finding(severe, name, f"is shorter than {minimum} characters{hint}"))
        elif guesses_log10(value) < MIN_SECRET_GUESSES_LOG10:
            found.append(
                Finding(
                    severe,
                    name,
                    "is too easy to guess to be a secret (words, repeats or sequences); "
                    + GENERATE_HINT,
                )
            )
    return found


async def connection_findings(settings: Settings, engine: AsyncEngine) -> list[Finding]:
    """The database behind `engine` (reachable, migrations current) and Redis (reachable)."""
    found: list[Finding] = []
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


async def run_checks(settings: Settings, engine: AsyncEngine) -> list[Finding]:
    return static_findings(settings) + await connection_findings(settings, engine)


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "error"]


def describe(findings: list[Finding]) -> str:
    marks = {"error": "✗", "warning": "!", "ok": "✓"}
    return "\n".join(f"{marks[f.level]} {f.variable}: {f.message}" for f in findings)
