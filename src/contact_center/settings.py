"""Configuration: one settings class, the original variable names, fail fast with the name."""

from __future__ import annotations

import ipaddress
import zoneinfo
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlsplit

import phonenumbers
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict


class AppEnv(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    AUTO = "auto"  # console on a terminal, JSON otherwise (decided for each stream)
    CONSOLE = "console"
    JSON = "json"


class DatabaseKind(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "password", "xxx", "todo"})


class ConfigError(Exception):
    """Invalid configuration; the message names the variable(s) to fix."""


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _base_url(value: str | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{name} must be scheme://host[:port]")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ValueError(f"{name} must be scheme://host[:port] with no path")
    return f"{parts.scheme}://{parts.netloc}"


# The least each retention setting may be, in days, and whether 0 ("keep forever") is allowed
# (docs/data-lifecycle.md, "Retention", gives each floor's source).
RETENTION_FLOORS: dict[str, tuple[int, bool]] = {
    "retention_recordings_days": (180, True),
    "retention_transcripts_days": (180, True),
    "retention_message_bodies_days": (180, True),
    "retention_event_payloads_days": (90, False),
    "retention_webhook_bodies_days": (30, False),
    "retention_otp_challenges_days": (90, False),
    "retention_console_sessions_days": (1, False),
    # PCI DSS v4.0 requirement 10.5.1: audit log history kept at least 12 months.
    "retention_audit_rows_days": (365, True),
}


class Settings(BaseSettings):
    """Every original variable keeps its name and default (docs/operations/configuration.md)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=False,
        extra="ignore",
        populate_by_name=True,
        # "VAR=" in a copied .env.example means "not set", not an empty secret.
        env_ignore_empty=True,
    )

    # Application
    app_env: AppEnv = Field(default=AppEnv.DEVELOPMENT, alias="APP_ENV")
    app_host: str | None = Field(default=None, alias="APP_HOST")
    app_port: int = Field(
        default=3000, ge=1, le=65535, validation_alias=AliasChoices("APP_PORT", "PORT")
    )
    app_timezone: str = Field(default="America/Argentina/Buenos_Aires", alias="APP_TIMEZONE")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    log_file: str | None = Field(default=None, alias="LOG_FILE")
    log_format: LogFormat = Field(default=LogFormat.AUTO, alias="LOG_FORMAT")
    frontend_url: str | None = Field(default=None, alias="FRONTEND_URL")
    public_base_url: str | None = Field(default=None, alias="PUBLIC_BASE_URL")
    auth_disabled: bool = Field(default=False, alias="AUTH_DISABLED")
    # Console sign-in: sessions end after SESSION_IDLE_SECONDS without a request, and after
    # SESSION_TTL_SECONDS in any case; LOGIN_MAX_FAILURES wrong passwords lock an account for
    # LOGIN_LOCKOUT_SECONDS; one address may try LOGIN_RATE_LIMIT_MAX times per window.
    session_ttl_seconds: int = Field(default=12 * 3600, ge=60, alias="SESSION_TTL_SECONDS")
    session_idle_seconds: int = Field(default=1800, ge=60, alias="SESSION_IDLE_SECONDS")
    login_max_failures: int = Field(default=5, ge=1, le=100, alias="LOGIN_MAX_FAILURES")
    login_lockout_seconds: int = Field(default=900, ge=1, alias="LOGIN_LOCKOUT_SECONDS")
    login_rate_limit_max: int = Field(default=20, ge=1, alias="LOGIN_RATE_LIMIT_MAX")
    login_rate_limit_window_seconds: int = Field(
        default=900, ge=1, alias="LOGIN_RATE_LIMIT_WINDOW_SECONDS"
    )
    # The proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated IP
    # addresses or networks, or `*` for any peer): the client address of the sign-in limit
    # and the audit log comes from there. Empty (the default): none, the peer is the client.
    trusted_proxies: str = Field(default="", alias="TRUSTED_PROXIES")
    pii_masking_enabled: bool = Field(default=True, alias="PII_MASKING_ENABLED")
    default_phone_region: str = Field(default="AR", alias="DEFAULT_PHONE_REGION")

    # Storage
    database_url: str = Field(
        default="sqlite+aiosqlite:///./contact_center.db", alias="DATABASE_URL"
    )
    database_pool_size: int = Field(default=20, ge=1, le=200, alias="DATABASE_POOL_SIZE")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    redis_host: str | None = Field(default=None, alias="REDIS_HOST")
    redis_port: int = Field(default=6379, ge=1, le=65535, alias="REDIS_PORT")
    redis_password: SecretStr | None = Field(default=None, alias="REDIS_PASSWORD")
    recordings_dir: str = Field(default="./recordings", alias="RECORDINGS_DIR")

    # ElevenLabs
    elevenlabs_webhook_token: SecretStr | None = Field(
        default=None, alias="ELEVENLABS_WEBHOOK_TOKEN"
    )
    elevenlabs_webhook_secret: SecretStr | None = Field(
        default=None, alias="ELEVENLABS_WEBHOOK_SECRET"
    )
    elevenlabs_api_key: SecretStr | None = Field(default=None, alias="ELEVENLABS_API_KEY")
    elevenlabs_agent_id: str | None = Field(default=None, alias="ELEVENLABS_AGENT_ID")
    elevenlabs_api_url: str = Field(default="https://api.elevenlabs.io", alias="ELEVENLABS_API_URL")
    # The periodic sync: every N minutes (a divisor of 60; 0 turns it off) over the last H hours.
    elevenlabs_sync_interval_minutes: int = Field(
        default=5, ge=0, le=60, alias="ELEVENLABS_SYNC_INTERVAL_MINUTES"
    )
    elevenlabs_sync_window_hours: int = Field(
        default=2, ge=1, le=168, alias="ELEVENLABS_SYNC_WINDOW_HOURS"
    )
    call_abandon_seconds: int = Field(default=10, ge=0, alias="CALL_ABANDON_SECONDS")

    # BuilderBot
    builderbot_webhook_token: SecretStr | None = Field(
        default=None, alias="BUILDERBOT_WEBHOOK_TOKEN"
    )
    builderbot_api_url: str = Field(
        default="https://app.builderbot.cloud", alias="BUILDERBOT_API_URL"
    )
    builderbot_api_key: SecretStr | None = Field(default=None, alias="BUILDERBOT_API_KEY")
    builderbot_bot_id: str | None = Field(default=None, alias="BUILDERBOT_BOT_ID")

    # WhatsApp: which provider sends (docs/whatsapp-cloud.md). Both receive webhooks.
    whatsapp_provider: Literal["builderbot", "cloud"] = Field(
        default="builderbot", alias="WHATSAPP_PROVIDER"
    )
    # Meta's WhatsApp Business Cloud API
    whatsapp_cloud_base_url: str = Field(
        default="https://graph.facebook.com", alias="WHATSAPP_CLOUD_BASE_URL"
    )
    whatsapp_cloud_api_version: str = Field(
        default="v23.0", pattern=r"^v\d{1,3}\.\d{1,2}$", alias="WHATSAPP_CLOUD_API_VERSION"
    )
    whatsapp_cloud_access_token: SecretStr | None = Field(
        default=None, alias="WHATSAPP_CLOUD_ACCESS_TOKEN"
    )
    whatsapp_cloud_phone_number_id: str | None = Field(
        default=None, pattern=r"^\d{1,32}$", alias="WHATSAPP_CLOUD_PHONE_NUMBER_ID"
    )
    whatsapp_cloud_waba_id: str | None = Field(
        default=None, pattern=r"^\d{1,32}$", alias="WHATSAPP_CLOUD_WABA_ID"
    )
    whatsapp_cloud_app_secret: SecretStr | None = Field(
        default=None, alias="WHATSAPP_CLOUD_APP_SECRET"
    )
    whatsapp_cloud_verify_token: SecretStr | None = Field(
        default=None, alias="WHATSAPP_CLOUD_VERIFY_TOKEN"
    )
    # The approved authentication template one-time codes go out with, and its language.
    whatsapp_otp_template: str = Field(
        default="verification_code", min_length=1, max_length=512, alias="WHATSAPP_OTP_TEMPLATE"
    )
    whatsapp_otp_template_language: str = Field(
        default="es_AR", min_length=2, max_length=16, alias="WHATSAPP_OTP_TEMPLATE_LANGUAGE"
    )
    # How often the worker syncs the template registry from the account (0 turns it off).
    whatsapp_template_sync_minutes: int = Field(
        default=60, ge=0, le=1440, alias="WHATSAPP_TEMPLATE_SYNC_MINUTES"
    )
    # Where fetched WhatsApp media (images, documents, voice notes) are kept.
    media_dir: str = Field(default="./media", alias="MEDIA_DIR")

    # Twilio
    twilio_account_sid: str | None = Field(default=None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr | None = Field(default=None, alias="TWILIO_AUTH_TOKEN")
    twilio_from_number: str | None = Field(default=None, alias="TWILIO_FROM_NUMBER")
    twilio_webhook_token: SecretStr | None = Field(default=None, alias="TWILIO_WEBHOOK_TOKEN")
    twilio_api_url: str = Field(default="https://api.twilio.com", alias="TWILIO_API_URL")
    twilio_max_mps: int = Field(default=10, ge=1, le=10000, alias="TWILIO_MAX_MPS")

    # OTP
    otp_ttl_seconds: int = Field(default=300, ge=1, le=86400, alias="OTP_TTL_SECONDS")
    otp_max_attempts: int = Field(default=5, ge=1, le=100, alias="OTP_MAX_ATTEMPTS")
    otp_rate_limit_window_seconds: int = Field(
        default=900, ge=1, le=86400 * 7, alias="OTP_RATE_LIMIT_WINDOW_SECONDS"
    )
    otp_rate_limit_max: int = Field(default=3, ge=1, le=1000, alias="OTP_RATE_LIMIT_MAX")
    otp_length: int = Field(default=6, ge=4, le=10, alias="OTP_LENGTH")
    otp_pepper: SecretStr | None = Field(default=None, alias="OTP_PEPPER")

    # Redaction of sensitive data at ingest (docs/redaction.md). The keyrings are
    # "id:base64-of-32-bytes" entries separated by commas, the current key first; outside
    # production missing ones are generated once and kept in the database.
    redaction_enabled: bool = Field(default=True, alias="REDACTION_ENABLED")
    redaction_vault_keys: SecretStr | None = Field(default=None, alias="REDACTION_VAULT_KEYS")
    redaction_proof_keys: SecretStr | None = Field(default=None, alias="REDACTION_PROOF_KEYS")

    # The audit log's row authentication (docs/audit-chain.md): HMAC key of every audit row.
    audit_mac_key: SecretStr | None = Field(default=None, alias="AUDIT_MAC_KEY")

    # Retention (docs/data-lifecycle.md, "Retention"): days each data class is kept before the
    # daily purge erases it; 0 keeps it forever where RETENTION_FLOORS allows. A value below
    # its legal floor stops the service at start and fails `contact-center check-config`.
    retention_recordings_days: int = Field(
        default=1825, ge=0, le=36500, alias="RETENTION_RECORDINGS_DAYS"
    )
    retention_transcripts_days: int = Field(
        default=1825, ge=0, le=36500, alias="RETENTION_TRANSCRIPTS_DAYS"
    )
    retention_message_bodies_days: int = Field(
        default=1825, ge=0, le=36500, alias="RETENTION_MESSAGE_BODIES_DAYS"
    )
    retention_event_payloads_days: int = Field(
        default=365, ge=0, le=36500, alias="RETENTION_EVENT_PAYLOADS_DAYS"
    )
    retention_webhook_bodies_days: int = Field(
        default=90, ge=0, le=36500, alias="RETENTION_WEBHOOK_BODIES_DAYS"
    )
    retention_otp_challenges_days: int = Field(
        default=180, ge=0, le=36500, alias="RETENTION_OTP_CHALLENGES_DAYS"
    )
    retention_console_sessions_days: int = Field(
        default=30, ge=0, le=36500, alias="RETENTION_CONSOLE_SESSIONS_DAYS"
    )
    retention_audit_rows_days: int = Field(
        default=1825, ge=0, le=36500, alias="RETENTION_AUDIT_ROWS_DAYS"
    )
    retention_batch_size: int = Field(default=1000, ge=1, le=50000, alias="RETENTION_BATCH_SIZE")
    # The purge's pace (docs/benchmarks.md, "Data lifecycle"): a pause after every batch that
    # erased something keeps the ingest's p99 within 20 % while it runs.
    retention_batch_pause_ms: int = Field(
        default=1000, ge=0, le=60000, alias="RETENTION_BATCH_PAUSE_MS"
    )
    # Data-subject requests (docs/data-lifecycle.md): the legal terms of Ley 25.326, art. 14
    # (access: 10 calendar days) and art. 16 (rectification, deletion: 5 business days).
    dsr_access_days: int = Field(default=10, ge=1, le=365, alias="DSR_ACCESS_DAYS")
    dsr_rectification_business_days: int = Field(
        default=5, ge=1, le=365, alias="DSR_RECTIFICATION_BUSINESS_DAYS"
    )
    dsr_deletion_business_days: int = Field(
        default=5, ge=1, le=365, alias="DSR_DELETION_BUSINESS_DAYS"
    )

    # Outbound
    link_signing_key: SecretStr | None = Field(default=None, alias="LINK_SIGNING_KEY")
    link_ttl_seconds: int = Field(default=86400, ge=60, alias="LINK_TTL_SECONDS")
    # Satisfaction surveys after a resolution (docs/service-levels.md, "CSAT").
    csat_enabled: bool = Field(default=True, alias="CSAT_ENABLED")
    csat_expiry_days: int = Field(default=7, ge=1, le=90, alias="CSAT_EXPIRY_DAYS")
    # Complaints (docs/complaints.md, "Deadlines (settings)"): today's BCRA rule by default.
    complaint_answer_business_days: int = Field(
        default=10, ge=1, le=90, alias="COMPLAINT_ANSWER_BUSINESS_DAYS"
    )
    complaint_warn_business_days: int = Field(
        default=2, ge=0, le=90, alias="COMPLAINT_WARN_BUSINESS_DAYS"
    )
    complaint_escalate_after_business_days: int = Field(
        default=7, ge=0, le=90, alias="COMPLAINT_ESCALATE_AFTER_BUSINESS_DAYS"
    )
    complaint_types: str = Field(
        default=(
            "cobro indebido,cargo no reconocido,operación no reconocida,demora en la atención,"
            "información incorrecta,producto no solicitado,baja no procesada,fraude,otro"
        ),
        alias="COMPLAINT_TYPES",
    )
    complaint_products: str = Field(
        default=(
            "tarjeta de crédito,tarjeta de débito,cuenta,préstamo,transferencias,home banking,"
            "plazo fijo,seguros,inversiones,otro"
        ),
        alias="COMPLAINT_PRODUCTS",
    )
    complaint_responsable: str = Field(
        default="responsable de atención al usuario",
        min_length=1,
        max_length=128,
        alias="COMPLAINT_RESPONSABLE",
    )
    outbound_rate_limit_max: int = Field(default=10, ge=1, alias="OUTBOUND_RATE_LIMIT_MAX")
    outbound_rate_limit_window_seconds: int = Field(
        default=3600, ge=1, alias="OUTBOUND_RATE_LIMIT_WINDOW_SECONDS"
    )
    send_max_attempts: int = Field(default=6, ge=1, le=50, alias="SEND_MAX_ATTEMPTS")
    send_retry_base_seconds: float = Field(default=2, gt=0, le=300, alias="SEND_RETRY_BASE_SECONDS")

    # The console's language when a user has not chosen one (the API always speaks English)
    console_language: Literal["es-AR", "en"] = Field(default="es-AR", alias="CONSOLE_LANGUAGE")

    # Wording of outbound messages
    bank_name: str = Field(default="Banco Demo", min_length=1, max_length=40, alias="BANK_NAME")
    sms_templates_file: str | None = Field(default=None, alias="SMS_TEMPLATES_FILE")

    # Job queue
    worker_concurrency: int = Field(default=20, ge=1, le=500, alias="WORKER_CONCURRENCY")
    reconcile_after_seconds: int = Field(default=30, ge=5, le=3600, alias="RECONCILE_AFTER_SECONDS")
    # The router (docs/workflow.md, "Routing"): how often every worker sweeps the queues (also
    # at once when a conversation arrives or someone becomes available; 0: no routing), and how
    # long an OFFLINE person keeps their open conversations before they return to the queues.
    routing_interval_seconds: float = Field(
        default=0.5, ge=0, le=60, alias="ROUTING_INTERVAL_SECONDS"
    )
    routing_offline_grace_seconds: int = Field(
        default=120, ge=0, le=86400, alias="ROUTING_OFFLINE_GRACE_SECONDS"
    )
    # SMS delivery statuses whose callbacks were lost: read from the provider for messages SENT
    # this long ago (then less and less often) until they are this old; at most a batch a run.
    sms_status_reconcile_interval_minutes: int = Field(
        default=5, ge=0, le=60, alias="SMS_STATUS_RECONCILE_INTERVAL_MINUTES"
    )
    sms_status_reconcile_after_seconds: int = Field(
        default=900, ge=10, le=86400, alias="SMS_STATUS_RECONCILE_AFTER_SECONDS"
    )
    sms_status_reconcile_max_age_hours: int = Field(
        default=72, ge=1, le=24 * 30, alias="SMS_STATUS_RECONCILE_MAX_AGE_HOURS"
    )
    sms_status_reconcile_batch: int = Field(
        default=500, ge=1, le=10000, alias="SMS_STATUS_RECONCILE_BATCH"
    )

    # Provider emulator: where it answers (default: mounted in this app at /_emulator) and where
    # it delivers webhooks (default: this app).
    emulator_url: str | None = Field(default=None, alias="EMULATOR_URL")
    emulator_target_url: str | None = Field(default=None, alias="EMULATOR_TARGET_URL")

    # Demo data and simulated traffic (`serve --demo`)
    demo_seed: int = Field(default=20261126, alias="DEMO_SEED")

    @field_validator("elevenlabs_sync_interval_minutes", "sms_status_reconcile_interval_minutes")
    @classmethod
    def _sync_interval(cls, value: int) -> int:
        if value and 60 % value:
            raise ValueError("must be 0 (off) or a divisor of 60 (1, 2, 3, 5, 10, 15, 30…)")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        items = [item.strip() for item in value.split(",") if item.strip()]
        if items == ["*"]:
            return "*"
        for item in items:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (e.g. 10.0.0.0/8, 127.0.0.1); "
                    "`*` alone trusts every peer"
                ) from None
        return ",".join(items)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return "WARNING" if level == "WARN" else level

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("app_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator(*RETENTION_FLOORS)
    @classmethod
    def _retention_floor(cls, value: int, info: ValidationInfo) -> int:
        floor, forever = RETENTION_FLOORS[str(info.field_name)]
        if value == 0 and forever:
            return value
        if value < floor:
            allowed = " (or 0 to keep forever)" if forever else ""
            raise ValueError(f"must be at least {floor} days, the legal floor{allowed}")
        return value

    @field_validator("default_phone_region")
    @classmethod
    def _region(cls, value: str) -> str:
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r} (ISO 3166 alpha-2, e.g. AR)")
        return region

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in {
            "sqlite",
            "sqlite+aiosqlite",
            "postgresql",
            "postgres",
            "postgresql+asyncpg",
            "postgresql+psycopg",
        }:
            raise ValueError("must start with sqlite:///, sqlite+aiosqlite:///, or postgresql://")
        return value

    @field_validator(
        "elevenlabs_api_url", "builderbot_api_url", "twilio_api_url", "whatsapp_cloud_base_url"
    )
    @classmethod
    def _api_urls(cls, value: str) -> str:
        result = _base_url(value, "the value")
        assert result is not None
        return result

    @field_validator("frontend_url", "public_base_url", "emulator_url", "emulator_target_url")
    @classmethod
    def _optional_urls(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/")

    @property
    def is_production(self) -> bool:
        return self.app_env is AppEnv.PRODUCTION

    @property
    def complaint_type_list(self) -> list[str]:
        """COMPLAINT_TYPES as a list (trimmed, empty entries dropped)."""
        return _comma_list(self.complaint_types)

    @property
    def complaint_product_list(self) -> list[str]:
        """COMPLAINT_PRODUCTS as a list (trimmed, empty entries dropped)."""
        return _comma_list(self.complaint_products)

    @property
    def trusted_proxy_list(self) -> list[str]:
        """TRUSTED_PROXIES as a list (empty: trust no forwarded header)."""
        return self.trusted_proxies.split(",") if self.trusted_proxies else []

    @property
    def host(self) -> str:
        if self.app_host:
            return self.app_host
        return "0.0.0.0" if self.is_production else "127.0.0.1"  # noqa: S104

    @property
    def database_kind(self) -> DatabaseKind:
        return (
            DatabaseKind.SQLITE
            if self.database_url.startswith("sqlite")
            else DatabaseKind.POSTGRESQL
        )

    @property
    def async_database_url(self) -> str:
        """The URL with the async driver that SQLAlchemy needs."""
        scheme, rest = self.database_url.split("://", 1)
        if scheme in {"sqlite", "sqlite+aiosqlite"}:
            return f"sqlite+aiosqlite://{rest}"
        if scheme == "postgresql+psycopg":
            return self.database_url
        return f"postgresql+asyncpg://{rest}"

    @property
    def redis_enabled(self) -> bool:
        return bool(self.redis_url or self.redis_host)

    @property
    def redis_dsn(self) -> str | None:
        if self.redis_url:
            return self.redis_url
        if not self.redis_host:
            return None
        password = self.redis_password.get_secret_value() if self.redis_password else ""
        auth = f":{password}@" if password else ""
        return f"redis://{auth}{self.redis_host}:{self.redis_port}/0"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.app_timezone)


def _field_env_name(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "configuration"
    name = str(loc[0])
    field = Settings.model_fields.get(name)
    if field is not None and field.alias:
        return field.alias
    if field is not None and isinstance(field.validation_alias, AliasChoices):
        return str(field.validation_alias.choices[0])
    return name.upper()


def load_settings(**overrides: Any) -> Settings:
    """Read the environment; raise ConfigError naming each invalid variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            lines.append(f"{_field_env_name(error['loc'])}: {error['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(lines)) from None
