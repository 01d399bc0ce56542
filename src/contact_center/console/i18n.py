"""The console's languages: message catalogs (Babel + Jinja2's i18n extension), and dates,
numbers, durations and ages in the reader's locale.

Every word the console shows goes through the catalogs in `locale/` (English message ids,
`es_AR` and `en` translations). Spanish (es-AR) is the default (`CONSOLE_LANGUAGE`); each user may
choose theirs. The API stays English: nothing here is used by `/api`.

The catalogs are compiled (`.po` → `.mo`) by `scripts/bootstrap` and the image build; a checkout
that has not compiled them yet reads the `.po` files directly (the same text, a little slower to
start).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from contact_center.console.labels import N_, humanize, label_id
from contact_center.languages import DEFAULT_LANGUAGE, LANGUAGES, supported

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Speaker", "install", "supported", "translations"]

log = structlog.get_logger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
# One pattern for both languages: the day first, as banks in the region write it.
DATETIME_PATTERN = "dd/MM/yyyy HH:mm"
DATE_PATTERN = "dd/MM/yyyy"


def locale_of(language: str) -> Locale:
    return Locale.parse(language, sep="-")


@functools.cache
def translations(language: str) -> Translations:
    """The compiled catalog of a language (its `.po` read directly when no `.mo` is newer)."""
    locale_id = str(locale_of(language))
    folder = LOCALE_DIR / locale_id / "LC_MESSAGES"
    compiled, source = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if compiled.is_file() and (
        not source.is_file() or compiled.stat().st_mtime >= source.stat().st_mtime
    ):
        with compiled.open("rb") as stream:
            return Translations(stream, domain=DOMAIN)
    if not source.is_file():
        raise FileNotFoundError(f"no message catalog for {language} in {folder}")
    log.warning("catalog_not_compiled", language=language, hint="scripts/bootstrap compiles it")
    with source.open("rb") as stream:
        catalog = read_po(stream, locale=locale_id, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


class Speaker:
    """What a page needs to speak one language: words, dates, numbers and ages."""

    def __init__(self, language: str, zone: ZoneInfo) -> None:
        self.language = language
        self.zone = zone
        self.locale = locale_of(language)
        self._translations = translations(language)

    def gettext(self, message: str, **variables: Any) -> str:
        text = self._translations.gettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        text = self._translations.ngettext(singular, plural, n)
        return text % {"num": n, **variables}

    def when(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return format_datetime(moment, DATETIME_PATTERN, tzinfo=self.zone, locale=self.locale)

    def day(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return format_datetime(moment, DATE_PATTERN, tzinfo=self.zone, locale=self.locale)

    def ago(self, value: datetime | None, now: datetime | None = None) -> str:
        """ "hace 3 min" / "3 min ago": how long since `value`, as people scan lists."""
        if value is None:
            return "—"
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        delta = moment - (now or datetime.now(UTC))
        if abs(delta) < timedelta(seconds=45):
            return self.gettext("just now")
        return format_timedelta(
            delta, add_direction=True, format="short", threshold=1.0, locale=self.locale
        )

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float | None) -> str:
        if value is None:
            return "—"
        return format_percent(value, format="#,##0.0 %", locale=self.locale)

    def label(self, value: object, kind: str | None = None) -> str:
        """The words for a value (a status, a channel, an event type…) in this language."""
        if value is None or value == "":
            return "—"
        message = label_id(value, kind)
        if message is not None:
            return self._translations.gettext(message)
        raw = str(value.value) if isinstance(value, Enum) else str(value)
        return humanize(raw) if kind in ("intent", "queue") else raw

    def script_messages(self) -> dict[str, Any]:
        """Everything the console's script may say, in this language."""
        gettext = self._translations.gettext
        return {
            **{key: gettext(message) for key, message in SCRIPT_MESSAGES.items()},
            "errors": {code: gettext(message) for code, message in ERROR_MESSAGES.items()},
        }

    def duration(self, seconds: float | None) -> str:
        """ "3 min 05 s", "42 s", "1 h 02 min": handle times and first responses."""
        if seconds is None:
            return "—"
        total = round(seconds)
        hours, rest = divmod(total, 3600)
        minutes, secs = divmod(rest, 60)
        if hours:
            return self.gettext("%(h)d h %(m)02d min", h=hours, m=minutes)
        if minutes:
            return self.gettext("%(m)d min %(s)02d s", m=minutes, s=secs)
        return self.gettext("%(s)d s", s=secs)


# What the console's script says (static/console.js reads them from <body data-messages>);
# `{name}` marks a value the script fills in.
SCRIPT_MESSAGES: dict[str, str] = {
    "live": N_("live"),
    "polling": N_("polling"),
    "failedStatus": N_("The request failed (HTTP {status})."),
    "failed": N_("The request failed."),
    "retryIn": N_("Try again in {seconds} s."),
    "secretOnce": N_("It is shown only now: copy it before you leave this page."),
    "newToken": N_("New API token {prefix}… for {username}."),
    "oneTimePassword": N_("One-time password for {username}."),
    "accepted": N_("Accepted: it goes out through the queue."),
    "saved": N_("Saved."),
    "newMessage": N_("New customer message in Mine"),
    "open": N_("Open it"),
    "show": N_("Show it in the list"),
    "unreachable": N_("The server could not be reached. Check the connection and try again."),
}
# The API answers in English; the console says the common refusals in the reader's language
# (by the error's code) and shows the API's own message for the rest.
ERROR_MESSAGES: dict[str, str] = {
    "invalid_phone": N_("The phone number is not valid."),
    "validation_error": N_("Some fields are not valid."),
    "rate_limited": N_("Too many attempts for now."),
    "forbidden_assignment": N_("An agent assigns interactions to themselves only."),
    "interaction_assigned_to_other_agent": N_(
        "This customer's conversation is assigned to another agent; a supervisor can reassign it."
    ),
    "interaction_not_found": N_("That interaction does not exist or is not yours."),
    "weak_password": N_("That password is too easy to guess."),
    "csrf_failed": N_("The page expired; reload it and try again."),
    "forbidden": N_("Your role does not allow this."),
    "dependency_unavailable": N_("A service is not answering; try again in a moment."),
    "frontend_url_missing": N_("Links cannot be sent: the bank's link address is not set."),
    "reveal_reason_required": N_("Say why you need to see the personal data."),
    "username_taken": N_("That username is taken."),
    "last_admin": N_("The service needs at least one active administrator."),
    "team_name_taken": N_("A team with that name exists."),
    "unknown_user": N_("Members must be existing, active users."),
    "unknown_team": N_("That team does not exist."),
    "templates_unavailable": N_("WhatsApp templates are not available with this provider."),
    # Legal holds (docs/data-lifecycle.md).
    "hold_field_not_used": N_("A field does not apply to this kind of hold."),
    "hold_end_in_past": N_("The end of the hold must be in the future."),
    "hold_needs_customer": N_("Give the customer's phone number or reference."),
    "hold_range_order": N_("The range must end after it starts."),
    "unknown_interaction": N_("That interaction does not exist."),
    "already_released": N_("This hold was already released."),
    "legal_hold_not_found": N_("That legal hold does not exist."),
}


def speaker_of(context: Context) -> Speaker:
    speaker = context.get("speaker")
    if not isinstance(speaker, Speaker):
        raise RuntimeError("a console template rendered without its speaker")
    return speaker


@pass_context
def _gettext(context: Context, message: str) -> str:
    return speaker_of(context)._translations.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return speaker_of(context)._translations.ngettext(singular, plural, n)


def _filter(method: Callable[..., str]) -> Callable[..., str]:
    @pass_context
    def apply(context: Context, value: Any, *args: Any) -> str:
        return method(speaker_of(context), value, *args)

    return apply


def install(env: Environment) -> None:
    """The i18n extension with the reader's catalog, and the locale-aware filters."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    env.filters["local"] = _filter(Speaker.when)
    env.filters["day"] = _filter(Speaker.day)
    env.filters["ago"] = _filter(Speaker.ago)
    env.filters["number"] = _filter(Speaker.number)
    env.filters["percent"] = _filter(Speaker.percent)
    env.filters["duration"] = _filter(Speaker.duration)
    env.filters["label"] = _filter(Speaker.label)
