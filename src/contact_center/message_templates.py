"""The wording of outbound messages: Spanish by default, overridable by a JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from string import Formatter

from contact_center.models.enums import MessageKind
from contact_center.settings import ConfigError, Settings

DEFAULT_TEMPLATES = {
    "VERIFICATION_LINK": (
        "{bank}: para verificar tu identidad ingresá a {url} . El enlace vence en {hours} h. "
        "No lo compartas con nadie."
    ),
    "ONBOARDING_LINK": (
        "Hola{name_part}, te damos la bienvenida a {bank}. Completá tu alta en {url} . "
        "El enlace vence en {hours} h."
    ),
    "CARD_ACTIVATION": (
        "{bank}: para activar tu tarjeta{card_part} ingresá a Home Banking > Tarjetas > Activar, "
        "o desde la app en Tarjetas > Activar tarjeta. Nunca te pediremos tu clave por mensaje."
    ),
    "CSAT": (
        "{bank}: ¿cómo te atendimos? Calificá la atención de 1 a 5 en {url} . "
        "Tenés {days} días para responder."
    ),
    "COMPLAINT_NOTICE": (
        "{bank}: registramos tu reclamo con el número {number}. Te responderemos a más tardar "
        "el {due}. Guardá este número para consultarlo."
    ),
    "COMPLAINT_ANSWER": "{bank}: respuesta a tu reclamo {number}: {text}",
    "OTP": (
        "{bank}: tu código de verificación es {code}. Vence en {minutes} minutos. "
        "No lo compartas con nadie."
    ),
    "OTP_TX": (
        "{bank}: para confirmar la transferencia de {currency} {amount} a {payee} usá el código "
        "{code}. Vence en {minutes} minutos. Si no la pediste, no lo compartas."
    ),
}
PLACEHOLDERS = {
    "VERIFICATION_LINK": {"bank", "url", "hours"},
    "ONBOARDING_LINK": {"bank", "url", "hours", "name_part"},
    "CARD_ACTIVATION": {"bank", "card_part"},
    "CSAT": {"bank", "url", "days"},
    "COMPLAINT_NOTICE": {"bank", "number", "due"},
    "COMPLAINT_ANSWER": {"bank", "number", "text"},
    "OTP": {"bank", "code", "minutes"},
    "OTP_TX": {"bank", "code", "minutes", "currency", "amount", "payee"},
}


class Templates:
    def __init__(self, settings: Settings) -> None:
        self.bank = settings.bank_name
        self.templates = dict(DEFAULT_TEMPLATES)
        if settings.sms_templates_file:
            self.templates.update(_load(settings.sms_templates_file))

    def render(self, kind: str, **values: str) -> str:
        return self.templates[kind].format(bank=self.bank, **values)

    def link(self, kind: MessageKind, *, url: str, hours: int, name: str | None = None) -> str:
        """A verification or onboarding link's SMS."""
        values = {"url": url, "hours": str(max(1, hours))}
        if kind is MessageKind.ONBOARDING_LINK:
            values["name_part"] = f" {name}" if name else ""
        return self.render(kind, **values)

    def csat(self, *, url: str, days: int) -> str:
        """The satisfaction survey's message (SMS, or WhatsApp text inside the window)."""
        return self.render(MessageKind.CSAT, url=url, days=str(days))

    def complaint_notice(self, *, number: str, due: str) -> str:
        """The claim number's message (SMS, or WhatsApp text inside the window)."""
        return self.render("COMPLAINT_NOTICE", number=number, due=due)

    def complaint_answer(self, *, number: str, text: str) -> str:
        return self.render("COMPLAINT_ANSWER", number=number, text=text)

    def card_activation(self, card_last4: str | None) -> str:
        card_part = f" terminada en {card_last4}" if card_last4 else ""
        return self.render(MessageKind.CARD_ACTIVATION, card_part=card_part)


def _load(path: str) -> dict[str, str]:
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"SMS_TEMPLATES_FILE: cannot read {path}: {exc}") from None
    if not isinstance(loaded, dict):
        raise ConfigError("SMS_TEMPLATES_FILE: must hold a JSON object of kind → template")
    result: dict[str, str] = {}
    for kind, template in loaded.items():
        if kind not in DEFAULT_TEMPLATES or not isinstance(template, str):
            raise ConfigError(f"SMS_TEMPLATES_FILE: unknown kind or non-text template {kind!r}")
        used = {name for _, name, _, _ in Formatter().parse(template) if name}
        if not used <= PLACEHOLDERS[kind]:
            raise ConfigError(
                f"SMS_TEMPLATES_FILE: {kind} uses unknown placeholders "
                f"{sorted(used - PLACEHOLDERS[kind])}"
            )
        result[kind] = template
    return result
