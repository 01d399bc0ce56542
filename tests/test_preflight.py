"""`check-config`'s secret checks, without connecting anywhere: the emulator's published values,
placeholders, and tokens too short or too easy to guess are refused by name, never printed."""

from __future__ import annotations

import uuid

import pytest

from contact_center.preflight import EMULATOR_SECRETS, Finding, errors, static_findings
from contact_center.providers import registry
from contact_center.redaction.vault import new_key
from contact_center.settings import load_settings

SECRET_VARIABLES = (
    "OTP_PEPPER",
    "LINK_SIGNING_KEY",
    "AUDIT_MAC_KEY",
    "TWILIO_AUTH_TOKEN",
    "ELEVENLABS_API_KEY",
    "ELEVENLABS_WEBHOOK_SECRET",
    "ELEVENLABS_WEBHOOK_TOKEN",
    "BUILDERBOT_API_KEY",
    "BUILDERBOT_WEBHOOK_TOKEN",
    "TWILIO_WEBHOOK_TOKEN",
    "WHATSAPP_CLOUD_ACCESS_TOKEN",
    "WHATSAPP_CLOUD_APP_SECRET",
    "WHATSAPP_CLOUD_VERIFY_TOKEN",
)
# What a bank sending through Meta's Cloud API sets beside the rest (docs/whatsapp-cloud.md,
# "Connecting a real number").
CLOUD = {
    "WHATSAPP_PROVIDER": "cloud",
    "WHATSAPP_CLOUD_ACCESS_TOKEN": "EAAG" + uuid.uuid4().hex + uuid.uuid4().hex,
    "WHATSAPP_CLOUD_PHONE_NUMBER_ID": "106540352242922",
    "WHATSAPP_CLOUD_WABA_ID": "102290129340398",
    "WHATSAPP_CLOUD_APP_SECRET": uuid.uuid4().hex,
    "WHATSAPP_CLOUD_VERIFY_TOKEN": uuid.uuid4().hex,
}


def production(**changes: str) -> dict[str, str]:
    values = {
        "APP_ENV": "production",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/cc",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "PUBLIC_BASE_URL": "https://contact.banco.example",
        "FRONTEND_URL": "https://www.banco.example",
        "OTP_PEPPER": uuid.uuid4().hex + uuid.uuid4().hex,
        "LINK_SIGNING_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "AUDIT_MAC_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "TWILIO_ACCOUNT_SID": "AC" + uuid.uuid4().hex,
        "TWILIO_AUTH_TOKEN": uuid.uuid4().hex,
        "TWILIO_FROM_NUMBER": "+5491152500000",
        "TWILIO_WEBHOOK_TOKEN": uuid.uuid4().hex,
        "ELEVENLABS_API_KEY": "sk_" + uuid.uuid4().hex,
        "ELEVENLABS_WEBHOOK_SECRET": "wsec_" + uuid.uuid4().hex,
        "ELEVENLABS_WEBHOOK_TOKEN": uuid.uuid4().hex,
        "BUILDERBOT_API_KEY": "bb-" + uuid.uuid4().hex,
        "BUILDERBOT_BOT_ID": str(uuid.uuid4()),
        "BUILDERBOT_WEBHOOK_TOKEN": uuid.uuid4().hex,
        "REDACTION_VAULT_KEYS": f"k1:{new_key()}",
        "REDACTION_PROOF_KEYS": f"p1:{new_key()}",
    }
    values.update(changes)
    return values


def findings(**changes: str) -> list[Finding]:
    return static_findings(load_settings(**production(**changes)))


def refused(variable: str, found: list[Finding]) -> Finding:
    matching = [f for f in errors(found) if f.variable == variable]
    assert matching, found
    return matching[0]


def test_a_complete_production_configuration_has_no_error() -> None:
    assert errors(findings()) == []


def test_the_emulator_publishes_exactly_these_secrets() -> None:
    # Every fixed secret the emulator shares with the app (grep providers/registry.py).
    assert {
        registry.EMULATOR_TWILIO_AUTH_TOKEN,
        registry.EMULATOR_ELEVENLABS_SECRET,
        registry.EMULATOR_ELEVENLABS_API_KEY,
        registry.EMULATOR_BUILDERBOT_TOKEN,
        registry.EMULATOR_BUILDERBOT_API_KEY,
        registry.EMULATOR_WHATSAPP_CLOUD_ACCESS_TOKEN,
        registry.EMULATOR_WHATSAPP_CLOUD_APP_SECRET,
        registry.EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN,
    } == EMULATOR_SECRETS
    assert {"emulator-elevenlabs-secret", "emulator-builderbot-token", "emulator-twilio-token"} < (
        EMULATOR_SECRETS
    )


@pytest.mark.parametrize("variable", SECRET_VARIABLES)
@pytest.mark.parametrize("published", sorted(EMULATOR_SECRETS))
def test_every_secret_refuses_every_value_the_emulator_publishes(
    variable: str, published: str
) -> None:
    finding = refused(variable, findings(**{variable: published}))
    assert "emulator" in finding.message
    assert published not in finding.message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TWILIO_ACCOUNT_SID", registry.EMULATOR_TWILIO_ACCOUNT_SID),
        ("TWILIO_FROM_NUMBER", registry.EMULATOR_TWILIO_FROM_NUMBER),
        ("BUILDERBOT_BOT_ID", registry.EMULATOR_BUILDERBOT_BOT_ID),
        ("ELEVENLABS_AGENT_ID", registry.EMULATOR_ELEVENLABS_AGENT_ID),
        ("WHATSAPP_CLOUD_PHONE_NUMBER_ID", registry.EMULATOR_WHATSAPP_CLOUD_PHONE_NUMBER_ID),
        ("WHATSAPP_CLOUD_WABA_ID", registry.EMULATOR_WHATSAPP_CLOUD_WABA_ID),
    ],
)
def test_the_emulators_identifiers_are_refused_too(variable: str, value: str) -> None:
    assert "emulator" in refused(variable, findings(**{variable: value})).message


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("OTP_PEPPER", "7c1f9a2be04d", "shorter than 32"),
        ("LINK_SIGNING_KEY", "abcdefghijklmnopqrstuvwxyz0123456789", "too easy to guess"),
        ("OTP_PEPPER", "Password123Password123Password123", "too easy to guess"),
        ("BUILDERBOT_WEBHOOK_TOKEN", "qwertyuiopasdfghjklzxcvbnm1234567890", "too easy to guess"),
        ("TWILIO_WEBHOOK_TOKEN", "0123456789012345678901234567890123", "too easy to guess"),
        ("ELEVENLABS_WEBHOOK_TOKEN", "0a0b0c0d0e0f", "shorter than 32"),
        ("TWILIO_AUTH_TOKEN", "f00dcafe1234", "shorter than 24"),
        ("BUILDERBOT_API_KEY", "abcabcabcabcabcabcabcabcabcabc", "too easy to guess"),
        ("ELEVENLABS_API_KEY", "changeme-please", "placeholder"),
        ("WHATSAPP_CLOUD_VERIFY_TOKEN", "mi-token-de-verificacion", "shorter than 32"),
        ("WHATSAPP_CLOUD_VERIFY_TOKEN", "bancodemobancodemobancodemobancodemo", "too easy"),
        ("WHATSAPP_CLOUD_APP_SECRET", "3f2a9c1d7e", "shorter than 24"),
        ("WHATSAPP_CLOUD_ACCESS_TOKEN", "<your-system-user-token>", "placeholder"),
    ],
)
def test_short_guessable_and_placeholder_secrets_are_refused_by_name(
    variable: str, value: str, says: str
) -> None:
    finding = refused(variable, findings(**{variable: value}))
    assert says in finding.message
    assert value not in finding.message


def test_outside_production_the_same_findings_are_warnings() -> None:
    found = findings(APP_ENV="staging", OTP_PEPPER="abcdefghijklmnopqrstuvwxyz0123456789")
    assert [f.level for f in found if f.variable == "OTP_PEPPER"] == ["warning"]
    # A value the emulator publishes is never a secret, whatever the environment.
    found = findings(APP_ENV="staging", BUILDERBOT_WEBHOOK_TOKEN="emulator-builderbot-token")
    assert [f.level for f in found if f.variable == "BUILDERBOT_WEBHOOK_TOKEN"] == ["error"]


def test_trusting_every_proxy_is_a_warning() -> None:
    found = findings(TRUSTED_PROXIES="*")
    assert [f.level for f in found if f.variable == "TRUSTED_PROXIES"] == ["warning"]
    assert not [
        f for f in findings(TRUSTED_PROXIES="10.0.0.0/8") if f.variable == "TRUSTED_PROXIES"
    ]


def test_sending_through_the_cloud_api_needs_its_token_ids_and_webhook_secrets() -> None:
    assert errors(findings(**CLOUD)) == []
    for variable in CLOUD:
        if variable == "WHATSAPP_PROVIDER":
            continue
        missing = {name: value for name, value in CLOUD.items() if name != variable}
        assert [f.variable for f in errors(findings(**missing))] == [variable]
    # Without the token the Cloud API would be emulated: production refuses it.
    no_token = {
        name: value for name, value in CLOUD.items() if name != "WHATSAPP_CLOUD_ACCESS_TOKEN"
    }
    assert "emulated" in refused("WHATSAPP_CLOUD_ACCESS_TOKEN", findings(**no_token)).message
    # Without a webhook secret, its statuses and the customers' messages would be refused.
    no_secret = {**CLOUD, "WHATSAPP_CLOUD_APP_SECRET": ""}
    assert "webhook" in refused("WHATSAPP_CLOUD_APP_SECRET", findings(**no_secret)).message
    staging = findings(**{**no_secret, "APP_ENV": "staging"})
    assert [f.level for f in staging if f.variable == "WHATSAPP_CLOUD_APP_SECRET"] == ["warning"]


def test_a_bank_without_the_cloud_api_needs_none_of_its_variables() -> None:
    """BuilderBot sending and nothing of the Cloud API set: its webhook refuses every delivery
    in production (never the emulator's secrets), and check-config says nothing of it."""
    found = findings(WHATSAPP_PROVIDER="builderbot")
    assert [f for f in found if f.variable.startswith("WHATSAPP")] == []


@pytest.mark.parametrize("variable", ["WHATSAPP_CLOUD_APP_SECRET", "WHATSAPP_CLOUD_VERIFY_TOKEN"])
def test_a_cloud_number_beside_builderbot_is_warned_of_what_it_misses(variable: str) -> None:
    """Connected side by side (BuilderBot still sends): without a webhook secret its
    deliveries are refused, without the token its media cannot be fetched; warnings only."""
    partial = {**CLOUD, "WHATSAPP_PROVIDER": "builderbot", variable: ""}
    found = [f for f in findings(**partial) if f.variable.startswith("WHATSAPP")]
    assert [(f.level, f.variable) for f in found] == [("warning", variable)]
    assert "refuses every delivery" in found[0].message
    receiving = {
        name: value
        for name, value in CLOUD.items()
        if name in ("WHATSAPP_CLOUD_APP_SECRET", "WHATSAPP_CLOUD_VERIFY_TOKEN")
    }
    found = [f for f in findings(**receiving) if f.variable.startswith("WHATSAPP")]
    assert [(f.level, f.variable) for f in found] == [("warning", "WHATSAPP_CLOUD_ACCESS_TOKEN")]
    assert "media" in found[0].message


def test_the_cloud_api_base_url_must_be_https() -> None:
    plain = findings(**CLOUD, WHATSAPP_CLOUD_BASE_URL="http://graph.facebook.com")
    assert "https" in refused("WHATSAPP_CLOUD_BASE_URL", plain).message
    assert errors(findings(**CLOUD, WHATSAPP_CLOUD_BASE_URL="https://graph.facebook.com")) == []


def test_no_cloud_finding_names_a_secret_value() -> None:
    values = {
        "WHATSAPP_CLOUD_ACCESS_TOKEN": "short-token",
        "WHATSAPP_CLOUD_APP_SECRET": "emulator-whatsapp-cloud-app-secret",
        "WHATSAPP_CLOUD_VERIFY_TOKEN": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    }
    found = findings(**{**CLOUD, **values})
    assert {f.variable for f in errors(found)} >= set(values)
    for finding in found:
        assert not any(value in finding.message for value in values.values())
