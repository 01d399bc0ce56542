"""Secrets the service needs: configured, or generated once and kept in the database (dev only)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from functools import cached_property

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.db.session import create_session_factory
from contact_center.keys import audit_mac, repository
from contact_center.redaction.service import RedactionKeys
from contact_center.redaction.vault import Keyring, KeyringError, new_key
from contact_center.settings import ConfigError, Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Keys:
    otp_pepper: bytes
    link_signing_key: bytes
    # The redaction keyrings (docs/redaction.md): the vault's (AES-256-GCM) and the proofs'
    # (HMAC). Parsed once; their repr shows key ids only.
    vault_keyring: Keyring | None = field(default=None, repr=False)
    proof_keyring: Keyring | None = field(default=None, repr=False)
    # The key of every audit row's HMAC (docs/audit-chain.md).
    audit_mac_key: bytes | None = field(default=None, repr=False)

    @cached_property
    def redaction(self) -> RedactionKeys | None:
        """What redacts at ingest; None when redaction is off (REDACTION_ENABLED=false)."""
        if self.vault_keyring is None or self.proof_keyring is None:
            return None
        return RedactionKeys(self.vault_keyring, self.proof_keyring)

    @property
    def pseudonym_key(self) -> bytes:
        """The key that turns a phone number or an address into a pseudonym (the rate-limit keys
        in Redis). Derived from the OTP pepper under its own label: nothing more to configure,
        the same in every process, and never the pepper itself."""
        return hmac.new(self.otp_pepper, b"contact-center pseudonyms v1", hashlib.sha256).digest()


async def load_keys(engine: AsyncEngine, settings: Settings) -> Keys:
    """Configured secrets win; outside production missing ones are generated and kept."""
    wanted = {
        "OTP_PEPPER": settings.otp_pepper,
        "LINK_SIGNING_KEY": settings.link_signing_key,
        "REDACTION_VAULT_KEYS": settings.redaction_vault_keys,
        "REDACTION_PROOF_KEYS": settings.redaction_proof_keys,
        "AUDIT_MAC_KEY": settings.audit_mac_key,
    }
    if not settings.redaction_enabled:
        # Nothing is redacted, sealed or fingerprinted: no keyring is needed (what was sealed
        # before stays sealed until redaction is turned on again with its keys).
        wanted = {k: v for k, v in wanted.items() if not k.startswith("REDACTION_")}
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
                keyring = name.startswith("REDACTION_")
                fresh = f"k1:{new_key()}" if keyring else secrets.token_urlsafe(48)
                values[name], created = await repository.get_or_create(session, name, fresh)
                if created:
                    log.warning("secret_generated", variable=name, stored="database")
            await session.commit()
    keys = Keys(
        otp_pepper=values["OTP_PEPPER"].encode(),
        link_signing_key=values["LINK_SIGNING_KEY"].encode(),
        vault_keyring=_keyring("REDACTION_VAULT_KEYS", values),
        proof_keyring=_keyring("REDACTION_PROOF_KEYS", values),
        audit_mac_key=values["AUDIT_MAC_KEY"].encode(),
    )
    audit_mac.install(keys.audit_mac_key)
    return keys


async def load_audit_mac_key(engine: AsyncEngine, settings: Settings) -> bytes:
    """Only the audit MAC key (a command that writes or verifies audit rows needs no other
    secret): configured, or generated and kept outside production. Installed for the process."""
    if settings.audit_mac_key is not None:
        key = settings.audit_mac_key.get_secret_value()
    elif settings.is_production:
        raise ConfigError("AUDIT_MAC_KEY: required in production")
    else:
        async with create_session_factory(engine)() as session:
            key, created = await repository.get_or_create(
                session, "AUDIT_MAC_KEY", secrets.token_urlsafe(48)
            )
            await session.commit()
        if created:
            log.warning("secret_generated", variable="AUDIT_MAC_KEY", stored="database")
    audit_mac.install(key.encode())
    return key.encode()


def _keyring(name: str, values: dict[str, str]) -> Keyring | None:
    if name not in values:
        return None
    try:
        return Keyring.parse(values[name])
    except KeyringError as exc:  # the message names the entry, never the key
        raise ConfigError(f"{name}: {exc}") from None
