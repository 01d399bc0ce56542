from __future__ import annotations

import os
import subprocess
import sys

import pytest

from contact_center.settings import AppEnv, ConfigError, Settings, load_settings


def test_defaults_are_the_originals() -> None:
    settings = Settings()
    assert settings.app_port == 3000
    assert settings.otp_ttl_seconds == 300
    assert settings.otp_max_attempts == 5
    assert settings.otp_rate_limit_window_seconds == 900
    assert settings.otp_rate_limit_max == 3
    assert settings.pii_masking_enabled is True
    assert settings.elevenlabs_api_url == "https://api.elevenlabs.io"
    assert settings.builderbot_api_url == "https://app.builderbot.cloud"
    assert settings.twilio_api_url == "https://api.twilio.com"
    assert settings.default_phone_region == "AR"
    assert settings.database_url == "sqlite+aiosqlite:///./contact_center.db"
    assert settings.app_env is AppEnv.DEVELOPMENT
    assert settings.host == "127.0.0.1"
    assert settings.redis_enabled is False
    assert settings.call_abandon_seconds == 10
    assert settings.send_max_attempts == 6
    assert settings.twilio_max_mps == 10


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OTP_TTL_SECONDS", "abc"),
        ("APP_PORT", "70000"),
        ("PII_MASKING_ENABLED", "maybe"),
        ("DATABASE_URL", "mysql://x"),
        ("APP_ENV", "moon"),
        ("APP_TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_PHONE_REGION", "ZZ"),
        ("TWILIO_API_URL", "https://api.twilio.com/2010-04-01"),
        ("FRONTEND_URL", "not a url"),
        ("LOG_LEVEL", "LOUD"),
        ("LOG_FORMAT", "pretty"),
    ],
)
def test_invalid_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(**{variable: value})


def test_log_format_is_auto_unless_chosen() -> None:
    assert load_settings().log_format == "auto"
    assert load_settings(LOG_FORMAT="Console").log_format == "console"
    assert load_settings(LOG_FORMAT="json").log_format == "json"


def test_port_is_honoured_and_app_port_wins() -> None:
    assert load_settings(PORT="8080").app_port == 8080
    assert load_settings(PORT="8080", APP_PORT="9090").app_port == 9090


def test_production_binds_all_interfaces() -> None:
    assert load_settings(APP_ENV="production").host == "0.0.0.0"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_database_urls_select_an_async_driver(url: str, expected: str) -> None:
    assert load_settings(DATABASE_URL=url).async_database_url == expected


def test_redis_dsn_from_host_port_password() -> None:
    settings = load_settings(REDIS_HOST="cache", REDIS_PORT="6380", REDIS_PASSWORD="pw")
    assert settings.redis_dsn == "redis://:pw@cache:6380/0"
    assert load_settings(REDIS_URL="redis://r:1/2").redis_dsn == "redis://r:1/2"


def test_cli_refuses_to_start_naming_the_variable(tmp_path: object) -> None:
    env = {**os.environ, "OTP_MAX_ATTEMPTS": "many"}
    result = subprocess.run(
        [sys.executable, "-m", "contact_center", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "OTP_MAX_ATTEMPTS" in result.stderr


def test_env_example_documents_every_variable() -> None:
    from pathlib import Path

    text = (Path(__file__).parent.parent / ".env.example").read_text()
    for field in Settings.model_fields.values():
        names = [field.alias] if field.alias else []
        if field.validation_alias is not None and not names:
            names = [str(field.validation_alias.choices[0])]  # type: ignore[union-attr]
        for name in names:
            assert f"{name}=" in text, name
