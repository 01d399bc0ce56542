"""Secrets the service needs: configured, or generated once and kept in the database (dev only)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.db.session import create_session_factory
from contact_center.keys import repository
from contact_center.settings import ConfigError, Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Keys:
    otp_pepper: bytes
    link_signing_key: bytes

    @property
    def pseudonym_key(self) -> bytes:
        """The key that turns a phone number or an address into a pseudonym (the rate-limit keys
        in Redis). Derived from the OTP pepper under its own label: nothing more to configure,
        the same in every process, and never the pepper itself."""
        return hmac.new(self.otp_pepper, b"contact-center pseudonyms v1", hashlib.sha256).digest()


async def load_keys(engine: AsyncEngine, settings: Settings) -> Keys:
    """Configured secrets win; outside production missing ones are generated and kept."""
    wanted = {"OTP_PEPPER": settings.otp_pepper, "LINK_SIGNING_KEY": settings.link_signing_key}
    values: dict[str, str] = {}
    missing = [name for name, value in wanted.items() if value is None]
    if missing and settings.is_production:
        raise ConfigError(f"{', '.join(missing)}: required in production")
    for name, value in wanted.items():
        if value is not None:
            values[name] = value.get_secret_value()
    if missing:
        async with create_session_factory(engine)() as session:
            for name in missing:
                values[name], created = await repository.get_or_create(
                    session, name, secrets.token_urlsafe(48)
                )
                if created:
                    log.warning("secret_generated", variable=name, stored="database")
            await session.commit()
    return Keys(
        otp_pepper=values["OTP_PEPPER"].encode(),
        link_signing_key=values["LINK_SIGNING_KEY"].encode(),
    )
