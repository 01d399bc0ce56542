"""The configuration reference, generated from `Settings`.

`python -m contact_center.settings_doc` writes `docs/operations/configuration.md` and
`.env.example`: each variable's environment name, default and accepted values come from the
`Settings` fields, its meaning from `DESCRIPTIONS` below (a field's own `description`, when it has
one, wins). `tests/test_settings_doc.py` fails when a field has no description or when a committed
file differs from what this module writes.
"""

from __future__ import annotations

import enum
import sys
import textwrap
import typing
from pathlib import Path

import annotated_types
from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo

from contact_center.settings import Settings

PAGE = Path("docs/operations/configuration.md")
ENV_EXAMPLE = Path(".env.example")

# Sections in the order they are documented, each with its variables (by field name).
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Application",
        (
            "app_env",
            "app_host",
            "app_port",
            "app_timezone",
            "log_level",
            "log_format",
            "log_file",
            "frontend_url",
            "public_base_url",
            "pii_masking_enabled",
            "default_phone_region",
        ),
    ),
    (
        "Console sign-in and client addresses",
        (
            "auth_disabled",
            "session_ttl_seconds",
            "session_idle_seconds",
            "login_max_failures",
            "login_lockout_seconds",
            "login_rate_limit_max",
            "login_rate_limit_window_seconds",
            "trusted_proxies",
        ),
    ),
    (
        "Storage",
        (
            "database_url",
            "database_pool_size",
            "redis_url",
            "redis_host",
            "redis_port",
            "redis_password",
            "recordings_dir",
        ),
    ),
    (
        "ElevenLabs (voice agent)",
        (
            "elevenlabs_webhook_token",
            "elevenlabs_webhook_secret",
            "elevenlabs_api_key",
            "elevenlabs_agent_id",
            "elevenlabs_api_url",
            "elevenlabs_sync_interval_minutes",
            "elevenlabs_sync_window_hours",
            "call_abandon_seconds",
        ),
    ),
    (
        "BuilderBot (WhatsApp)",
        (
            "builderbot_webhook_token",
            "builderbot_api_url",
            "builderbot_api_key",
            "builderbot_bot_id",
        ),
    ),
    (
        "WhatsApp Business Cloud API",
        (
            "whatsapp_provider",
            "whatsapp_cloud_access_token",
            "whatsapp_cloud_phone_number_id",
            "whatsapp_cloud_waba_id",
            "whatsapp_cloud_app_secret",
            "whatsapp_cloud_verify_token",
            "whatsapp_cloud_base_url",
            "whatsapp_cloud_api_version",
            "whatsapp_otp_template",
            "whatsapp_otp_template_language",
            "whatsapp_template_sync_minutes",
            "media_dir",
        ),
    ),
    (
        "Twilio (SMS)",
        (
            "twilio_account_sid",
            "twilio_auth_token",
            "twilio_from_number",
            "twilio_webhook_token",
            "twilio_api_url",
            "twilio_max_mps",
        ),
    ),
    (
        "One-time passwords",
        (
            "otp_ttl_seconds",
            "otp_max_attempts",
            "otp_rate_limit_window_seconds",
            "otp_rate_limit_max",
            "otp_length",
            "otp_pepper",
        ),
    ),
    (
        "Redaction",
        ("redaction_enabled", "redaction_vault_keys", "redaction_proof_keys"),
    ),
    ("Audit", ("audit_mac_key",)),
    (
        "Retention",
        (
            "retention_recordings_days",
            "retention_transcripts_days",
            "retention_message_bodies_days",
            "retention_event_payloads_days",
            "retention_webhook_bodies_days",
            "retention_otp_challenges_days",
            "retention_console_sessions_days",
            "retention_audit_rows_days",
            "retention_batch_size",
            "retention_batch_pause_ms",
        ),
    ),
    (
        "Data-subject requests",
        ("dsr_access_days", "dsr_rectification_business_days", "dsr_deletion_business_days"),
    ),
    (
        "Outbound messages",
        (
            "link_signing_key",
            "link_ttl_seconds",
            "csat_enabled",
            "csat_expiry_days",
            "complaint_answer_business_days",
            "complaint_warn_business_days",
            "complaint_escalate_after_business_days",
            "complaint_types",
            "complaint_products",
            "complaint_responsable",
            "outbound_rate_limit_max",
            "outbound_rate_limit_window_seconds",
            "send_max_attempts",
            "send_retry_base_seconds",
        ),
    ),
    ("Wording", ("console_language", "bank_name", "sms_templates_file")),
    (
        "Job queue",
        (
            "worker_concurrency",
            "reconcile_after_seconds",
            "sms_status_reconcile_interval_minutes",
            "sms_status_reconcile_after_seconds",
            "sms_status_reconcile_max_age_hours",
            "sms_status_reconcile_batch",
            "routing_interval_seconds",
            "routing_offline_grace_seconds",
        ),
    ),
    ("Provider emulator", ("emulator_url", "emulator_target_url")),
    ("Demo", ("demo_seed",)),
)

DESCRIPTIONS: dict[str, str] = {
    "retention_recordings_days": (
        "Days a call's recording is kept (from the call's start). At least 180; 0 keeps it "
        'forever. docs/data-lifecycle.md, "Retention".'
    ),
    "retention_transcripts_days": (
        "Days a call's transcript, summary and analysis are kept (from the call's start). At "
        'least 180; 0 keeps them forever. docs/data-lifecycle.md, "Retention".'
    ),
    "retention_message_bodies_days": (
        "Days a message's text and media are kept. At least 180; 0 keeps them forever. docs/data-"
        'lifecycle.md, "Retention".'
    ),
    "retention_event_payloads_days": (
        "Days the providers' raw payloads of the timeline's events are kept. At least 90. "
        'docs/data-lifecycle.md, "Retention".'
    ),
    "retention_webhook_bodies_days": (
        "Days the webhook ledger keeps a processed delivery's body and headers. At least 30. "
        'docs/data-lifecycle.md, "Retention".'
    ),
    "retention_otp_challenges_days": (
        "Days before a finished OTP challenge is anonymized (no code hash, the phone masked). At "
        'least 90. docs/data-lifecycle.md, "Retention".'
    ),
    "retention_console_sessions_days": (
        "Days an ended or expired console session is kept before it is deleted. At least 1. "
        'docs/data-lifecycle.md, "Retention".'
    ),
    "retention_audit_rows_days": (
        "Days audit rows are kept. At least 365 (PCI DSS 10.5.1: 12 months); 0 keeps them "
        'forever. docs/data-lifecycle.md, "Retention".'
    ),
    "retention_batch_size": (
        "Rows the retention purge erases per transaction (each batch commits alone, so locks stay"
        " short)."
    ),
    "retention_batch_pause_ms": (
        "Milliseconds the retention purge waits after each batch, outside any transaction, so "
        "ingest keeps its latency while it runs; 0 = no pause. `contact-center retention run "
        '--pause-ms` overrides it. docs/data-lifecycle.md, "Retention".'
    ),
    "app_env": "The environment. `production` refuses the emulator, placeholder secrets and "
    "`AUTH_DISABLED`, and runs the production checks before starting.",
    "app_host": "Bind address; unset means `127.0.0.1`, or `0.0.0.0` when `APP_ENV=production`.",
    "app_port": "Port. `PORT` (set by Railway, Heroku and similar platforms) is honoured when "
    "`APP_PORT` is not set.",
    "app_timezone": "Time zone of day boundaries: date filters, the dashboard's day, dates shown "
    "in the console.",
    "log_level": "Log level (`WARN` reads as `WARNING`). Logs go to stdout, one event per line.",
    "log_format": "`console`: readable lines, coloured on a terminal unless `NO_COLOR` is set; "
    "`json`; `auto`: console when stdout is a terminal, JSON otherwise (`LOG_FILE` gets JSON "
    "unless `console` is chosen).",
    "log_file": "Also write the logs to this file (unset: stdout only).",
    "frontend_url": "The bank's front end: base of verification and onboarding links "
    "(`https://…`). The demo sets it to this service's own `/l` landing page when unset.",
    "public_base_url": "This service's public URL (Twilio signs its callbacks to it; status "
    "callback URLs are built from it), e.g. `https://cc.bank.example`.",
    "pii_masking_enabled": "Mask phone numbers and names in every response unless revealed; "
    "`false` turns masking off (each response is still audited).",
    "default_phone_region": "Region (ISO 3166 alpha-2) for phone numbers written without a "
    "country code.",
    "auth_disabled": "`true` reproduces the original's open API for a trusted network: no "
    "sign-in, every route open, the role comes from `X-Role`. Production refuses to start with "
    "it.",
    "session_ttl_seconds": "A console session ends this long after sign-in in any case.",
    "session_idle_seconds": "A console session ends after this long without a request.",
    "login_max_failures": "Wrong passwords in a row that lock an account.",
    "login_lockout_seconds": "How long a locked account stays locked (unless an admin unlocks it).",
    "login_rate_limit_max": "Sign-ins one client address may try per window, whatever the "
    "usernames.",
    "login_rate_limit_window_seconds": "The window of `LOGIN_RATE_LIMIT_MAX`.",
    "trusted_proxies": "The reverse proxies or load balancers whose `X-Forwarded-For` and "
    "`X-Forwarded-Proto` count: comma-separated addresses or networks (`10.0.0.0/8,127.0.0.1`); "
    "`*` trusts any peer, only right when nothing reaches the app except through the platform's "
    "router (Heroku). Unset: forwarded headers are ignored and the TCP peer is the client. Set "
    "it when a proxy sits in front, or every customer shares the proxy's sign-in limit.",
    "database_url": "SQLite (`sqlite:///path`, `sqlite+aiosqlite:///path`) or PostgreSQL "
    "(`postgresql://user:pass@host:5432/db`, `postgres://…`, `postgresql+asyncpg://…`, "
    "`postgresql+psycopg://…`).",
    "database_pool_size": "PostgreSQL connections each process keeps (plus a quarter more under "
    "bursts): processes × size × 1.25 must stay below the server's `max_connections`.",
    "redis_url": "Redis for the job queue, rate limits and live notices. Redis is used only when "
    "`REDIS_URL` or `REDIS_HOST` is set; otherwise everything runs in-process.",
    "redis_host": "Redis host, when `REDIS_URL` is not set.",
    "redis_port": "Redis port, with `REDIS_HOST`.",
    "redis_password": "Redis password, with `REDIS_HOST`.",
    "recordings_dir": "Where call recordings received from the voice provider are kept (and, on "
    "PostgreSQL, the first administrator's password file).",
    "elevenlabs_webhook_token": "Token of the post-call webhook (`X-Webhook-Token` or `?token=`).",
    "elevenlabs_webhook_secret": "HMAC secret of the post-call webhook (`ElevenLabs-Signature`).",
    "elevenlabs_api_key": "API key of the voice agent's API.",
    "elevenlabs_agent_id": "The voice agent's id.",
    "elevenlabs_api_url": "Voice agent API base URL.",
    "elevenlabs_sync_interval_minutes": "The periodic sync of conversations runs every N minutes "
    "(a divisor of 60; `0` turns it off), once per period across all workers.",
    "elevenlabs_sync_window_hours": "The periodic sync covers the conversations started in the "
    "last H hours.",
    "call_abandon_seconds": "A finished call shorter than this counts as ABANDONED.",
    "builderbot_webhook_token": "Token of the WhatsApp webhook (`X-Webhook-Token` or `?token=`).",
    "builderbot_api_url": "WhatsApp API base URL.",
    "builderbot_api_key": "WhatsApp API key.",
    "builderbot_bot_id": "The WhatsApp bot's id.",
    "whatsapp_provider": "Who sends WhatsApp messages: `builderbot` or `cloud` (Meta's Cloud "
    "API: templates and one-time codes by WhatsApp). Both receive webhooks at all times "
    "(docs/whatsapp-cloud.md).",
    "whatsapp_cloud_access_token": "A system user's token with `whatsapp_business_messaging` and "
    "`whatsapp_business_management`. Unset: the Cloud API is emulated (production refuses that "
    "with `WHATSAPP_PROVIDER=cloud`).",
    "whatsapp_cloud_phone_number_id": "The business number's id (sends go to "
    "`/{version}/{id}/messages`).",
    "whatsapp_cloud_waba_id": "The WhatsApp Business Account's id (templates are listed from it).",
    "whatsapp_cloud_app_secret": "The Meta app's secret: every webhook's `X-Hub-Signature-256` "
    "is checked with it.",
    "whatsapp_cloud_verify_token": "The string typed in the App Dashboard: the webhook's "
    "subscription handshake answers only to it (32+ random characters in production).",
    "whatsapp_cloud_base_url": "Graph API base URL (https in production).",
    "whatsapp_cloud_api_version": "The Graph API version, pinned.",
    "whatsapp_otp_template": "The approved authentication template (copy-code button) one-time "
    "codes go out with by WhatsApp.",
    "whatsapp_otp_template_language": "The language of `WHATSAPP_OTP_TEMPLATE`.",
    "whatsapp_template_sync_minutes": "How often the worker syncs the template registry from "
    "the account (`0`: only on demand).",
    "media_dir": "Where media fetched from WhatsApp (images, documents, voice notes) are kept.",
    "twilio_account_sid": "SMS account SID.",
    "twilio_auth_token": "SMS auth token; also verifies `X-Twilio-Signature` on status callbacks.",
    "twilio_from_number": "The SMS sender number.",
    "twilio_webhook_token": "When set, status callbacks must also carry this `X-Webhook-Token`.",
    "twilio_api_url": "SMS API base URL.",
    "twilio_max_mps": "SMS sent per second at most, across all workers (shared through Redis).",
    "otp_ttl_seconds": "Lifetime of a one-time password.",
    "otp_max_attempts": "Wrong codes before a challenge locks.",
    "otp_rate_limit_window_seconds": "The window of `OTP_RATE_LIMIT_MAX`.",
    "otp_rate_limit_max": "Challenges per phone and purpose per window (canceled and failed ones "
    "included).",
    "otp_length": "Digits of a code.",
    "otp_pepper": "Secret mixed into every OTP hash (and the key of the limiter's hashed "
    "recipients). Required in production (32+ random characters); generated and kept in the "
    "database otherwise. Changing it invalidates open challenges.",
    "redaction_enabled": "Remove card numbers, security codes and identifiers (DNI, CUIT/CUIL, "
    "CBU/CVU, aliases, e-mail addresses, the customer's name) from transcripts, messages, "
    "events and the webhook ledger before they are stored (docs/redaction.md).",
    "redaction_vault_keys": "The vault's keyring: `id:base64-of-32-bytes` entries separated by "
    "commas, the current key first (new seals use it; the others still open what they "
    "sealed). Required in production when redaction is on; generated and kept in the database "
    "otherwise. `contact-center redaction new-key` prints a key.",
    "redaction_proof_keys": "The proofs' keyring (HMAC of each removed value), in the vault's "
    "format and never the same keys. Required in production when redaction is on; generated "
    "otherwise.",
    "audit_mac_key": "Key of the HMAC every audit row carries, so `contact-center audit verify` "
    "tells a row the service wrote from one inserted behind its back (docs/audit-chain.md). "
    "Required in production (32+ random characters); generated and kept in the database "
    "otherwise. Changing it makes the rows written before look forged.",
    "link_signing_key": "Key that signs verification and onboarding links. Required in "
    "production (32+ random characters); generated otherwise. Changing it invalidates sent "
    "links.",
    "link_ttl_seconds": "Lifetime of signed links.",
    "csat_enabled": (
        "Send a satisfaction survey after each resolved conversation (docs/service-levels.md)."
    ),
    "dsr_access_days": "Calendar days to answer an access request (Ley 25.326 art. 14: 10).",
    "dsr_rectification_business_days": "Business days (on the business calendar) to rectify "
    "a customer's data (Ley 25.326 art. 16: 5).",
    "dsr_deletion_business_days": "Business days (on the business calendar) to delete a "
    "customer's data (Ley 25.326 art. 16: 5).",
    "csat_expiry_days": "Days a survey can be answered after it was sent.",
    "complaint_answer_business_days": "Business days to answer a complaint, counted from the day "
    "after it was opened, on the business calendar (the BCRA's rule today: 10; "
    "docs/complaints.md).",
    "complaint_warn_business_days": "Business days before a complaint's due date when its owner "
    "is warned (0: on the due day).",
    "complaint_escalate_after_business_days": "Business days after opening when an unanswered "
    "complaint escalates to the responsable de atención al usuario (0: never automatically).",
    "complaint_types": "The complaint types offered and accepted (comma-separated).",
    "complaint_products": "The products a complaint can concern (comma-separated).",
    "complaint_responsable": "Who escalated complaints go to: the responsable de atención al "
    "usuario (a username, notified when it is an active user's, or a label).",
    "outbound_rate_limit_max": "Anti-spam: SMS + WhatsApp sends accepted per recipient per window.",
    "outbound_rate_limit_window_seconds": "The window of `OUTBOUND_RATE_LIMIT_MAX`.",
    "send_max_attempts": "Attempts of a send whose provider errors are transient.",
    "send_retry_base_seconds": "First retry delay of a transient send error; it doubles each "
    "time (±10 %, capped at 5 min, or the provider's `Retry-After`).",
    "console_language": "The console's language for users who have not chosen one; the API is "
    "always English.",
    "bank_name": "The bank's name in outbound texts (and a word a password may not lean on).",
    "sms_templates_file": 'A JSON file of kind → template (`{"TEXT": "…", '
    '"VERIFICATION_LINK": "…"}`) that overrides the Spanish default wording.',
    "worker_concurrency": "Jobs one worker process runs at once.",
    "reconcile_after_seconds": "A QUEUED message older than this (or a SENDING one four times "
    "older) counts as lost by the queue and is enqueued again; a RECEIVED webhook delivery this "
    "old is applied again.",
    "sms_status_reconcile_interval_minutes": "How often SMS still SENT get their status read from "
    "Twilio, in case their callback was lost (a divisor of 60; `0` turns it off).",
    "sms_status_reconcile_after_seconds": "An SMS is asked once it has been SENT this long (then "
    "less and less often).",
    "sms_status_reconcile_max_age_hours": "An SMS is no longer asked once it is this old.",
    "sms_status_reconcile_batch": "SMS asked per run at most.",
    "routing_interval_seconds": "How often each worker's router sweeps the queues: assigns "
    "waiting conversations to available people, wakes snoozed ones, returns those of people "
    "offline past the grace period (it also sweeps at once when a conversation arrives or someone "
    "becomes available; `0` turns routing off).",
    "routing_offline_grace_seconds": "How long a person who goes OFFLINE keeps their open "
    "conversations before they return to their queues.",
    "emulator_url": "Where the provider emulator answers; unset: mounted in this app at "
    "`http://127.0.0.1:$APP_PORT/_emulator`.",
    "emulator_target_url": "Where the emulator delivers provider webhooks; unset: this app.",
    "demo_seed": "Seed of the deterministic demo data set (`contact-center demo-data`, "
    "`serve --demo`).",
}


def env_names(field: FieldInfo) -> list[str]:
    """The environment variable names a field reads, in order of precedence."""
    if isinstance(field.validation_alias, AliasChoices):
        return [str(choice) for choice in field.validation_alias.choices]
    if field.alias:
        return [field.alias]
    raise ValueError(f"a settings field without an environment name: {field}")


def description(name: str, field: FieldInfo) -> str:
    if field.description:
        return field.description
    try:
        return DESCRIPTIONS[name]
    except KeyError:
        raise ValueError(f"Settings.{name} has no description in settings_doc") from None


def _is_secret(annotation: object) -> bool:
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


def default_text(field: FieldInfo) -> str:
    value = field.default
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def accepted(field: FieldInfo) -> str:
    """What a value may be, in words: choices, a range, a secret."""
    annotation = field.annotation
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    base = args[0] if len(args) == 1 else annotation
    if typing.get_origin(base) is typing.Literal:
        return " \\| ".join(f"`{choice}`" for choice in typing.get_args(base))
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return " \\| ".join(f"`{member.value}`" for member in base)
    if _is_secret(annotation):
        return "secret"
    if base is bool:
        return "`true` \\| `false`"
    low: object = None
    high: object = None
    low_open = False
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Ge):
            low = rule.ge
        elif isinstance(rule, annotated_types.Gt):
            low, low_open = rule.gt, True
        elif isinstance(rule, annotated_types.Le):
            high = rule.le
        elif isinstance(rule, annotated_types.MaxLen):
            return f"1–{rule.max_length} characters"
    kinds: dict[object, str] = {int: "integer", float: "number"}
    kind = kinds.get(base, "text")
    if low is not None and high is not None:
        return f"{kind}, {'>' if low_open else ''}{low}–{high}"
    if low is not None:
        return f"{kind}, {'>' if low_open else '≥ '}{low}"
    return str(kind)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_page() -> str:
    fields = Settings.model_fields
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by `python -m contact_center.settings_doc` from `Settings` "
        "(src/contact_center/settings.py) and the descriptions in "
        "src/contact_center/settings_doc.py; edit those, then run it again. -->",
        "",
        "Every variable of the original system keeps its name and default. Each is read from "
        "the environment, or from a `.env` file in the working "
        "directory (`.env.example` lists them all). Names are case-insensitive; an empty value "
        "means unset. An invalid value stops start-up with a message that names the variable "
        "(exit code 2). Every variable is optional in development; see "
        "[production](index.md#production-configuration) for what production requires.",
        "",
    ]
    for title, names in SECTIONS:
        lines += [f"## {title}", "", "| variable | default | accepted | meaning |"]
        lines.append("| --- | --- | --- | --- |")
        for name in names:
            field = fields[name]
            env = " or ".join(f"`{env}`" for env in env_names(field))
            default = default_text(field)
            lines.append(
                f"| {env} | {f'`{_cell(default)}`' if default else 'unset'} "
                f"| {accepted(field)} | {_cell(description(name, field))} |"
            )
        lines.append("")
    return "\n".join(lines)


def render_env_example() -> str:
    fields = Settings.model_fields
    lines = [
        "# Contact Center configuration. Copy to .env (read at start-up) or set in the "
        "environment.",
        "# Generated by `python -m contact_center.settings_doc`; the reference, with the accepted",
        "# values of each variable, is docs/operations/configuration.md. Values shown are the",
        "# defaults; an empty value means unset.",
    ]
    for title, names in SECTIONS:
        lines += ["", f"# --- {title} ".ljust(100, "-")]
        for name in names:
            field = fields[name]
            text = description(name, field).replace("`", "")
            lines += textwrap.wrap(text, width=98, initial_indent="# ", subsequent_indent="# ")
            lines.append(f"{env_names(field)[0]}={default_text(field)}")
    return "\n".join(lines) + "\n"


def check_complete() -> None:
    """Every field in exactly one section, with a description; no stale description."""
    listed = [name for _, names in SECTIONS for name in names]
    fields = Settings.model_fields
    missing = sorted(set(fields) - set(listed))
    extra = sorted({name for name in listed if name not in fields} | (DESCRIPTIONS.keys() - fields))
    repeated = sorted({name for name in listed if listed.count(name) > 1})
    if missing or extra or repeated:
        raise ValueError(f"settings_doc: missing {missing}, unknown {extra}, repeated {repeated}")
    for name in listed:
        description(name, fields[name])


def outputs() -> dict[Path, str]:
    check_complete()
    return {PAGE: render_page(), ENV_EXAMPLE: render_env_example()}


def main(root: Path = Path()) -> None:
    for path, text in outputs().items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
