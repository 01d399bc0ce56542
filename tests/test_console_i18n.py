"""The console speaks es-AR first and English second, through message catalogs.

Fails when a template holds words outside the catalogs, when the Spanish catalog has an empty or
fuzzy entry (or misses a message the code uses), when a value of the model's vocabularies or an
audit action has no label, or when a page is not in its reader's language.
"""

from __future__ import annotations

import ast
import enum
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.console import labels
from contact_center.console.i18n import LOCALE_DIR, Speaker
from contact_center.console.pages import templates
from contact_center.models import enums
from contact_center.models.enums import Role
from tests import auth
from tests import factories as f

SRC = Path(__file__).parent.parent / "src" / "contact_center"
TEMPLATES = SRC / "console" / "templates"
# What may stand in a template outside the catalogs: symbols, and names that are the same in
# every language.
NOT_WORDS = re.compile(r"^[\s\d\W]*$")
SAME_IN_EVERY_LANGUAGE = {"WhatsApp", "SMS", "HTTP", "API", "OTP"}
# Placeholders that show what to type: a username, a name, action codes, an entity type.
EXAMPLES = {"ana.gomez", "Ana Gómez", "pii.reveal, auth.", "interaction"}
TEXT_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt", "data-confirm", "value"}


def _catalog(locale_id: str) -> Catalog:
    with (LOCALE_DIR / locale_id / "LC_MESSAGES" / "messages.po").open("rb") as stream:
        return read_po(stream, locale=locale_id)


class _Words(HTMLParser):
    """The words a person reads in a template's literal HTML (text and readable attributes)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value and not (name == "value" and tag != "button"):
                self.found.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.found.append(data)


def _literal_words(source: str) -> list[str]:
    """Words in a template's HTML outside every `{{ }}`, `{% %}` and `{# #}`."""
    html = []
    for _line, kind, value in templates.env.lex(source):
        if kind == "data":
            html.append(value)
        elif kind in ("variable_begin", "block_begin"):
            html.append("\x00")  # an expression stands here: it is no word of the template
    parser = _Words()
    parser.feed("".join(html))
    words = []
    for text in parser.found:
        for piece in text.split("\x00"):
            piece = piece.strip()
            if (
                piece
                and not NOT_WORDS.match(piece)
                and piece not in SAME_IN_EVERY_LANGUAGE | EXAMPLES
            ):
                words.append(piece)
    return words


def test_no_template_holds_words_outside_the_catalogs() -> None:
    offenders = {
        path.name: words
        for path in sorted(TEMPLATES.glob("*.html"))
        if (words := _literal_words(path.read_text()))
    }
    assert offenders == {}


def test_the_scan_would_catch_an_untranslated_word() -> None:
    assert _literal_words('<p class="x">Hello {{ name }}</p>') == ["Hello"]
    assert _literal_words('<input placeholder="digits">') == ["digits"]
    assert _literal_words('<p>{{ _("Hello") }} · —</p>') == []


def test_the_spanish_catalog_is_complete_and_holds_every_message_of_the_code() -> None:
    spanish = _catalog("es_AR")
    empty = [
        m.id
        for m in spanish
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)
    ]
    assert empty == []
    # What the code and templates ask for now (as `scripts/catalogs` extracts it).
    method_map = [
        ("src/contact_center/console/**.py", "python"),
        ("src/contact_center/console/templates/**.html", "jinja2"),
    ]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    used = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(SRC.parent.parent), method_map, keywords=keywords
        )
    }
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in spanish if m.id}
    assert sorted(used - known) == [], "run scripts/catalogs and translate the new entries"
    english = _catalog("en")
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in english if m.id} >= used


def test_every_value_of_the_vocabularies_has_a_label_in_both_languages() -> None:
    vocabularies = [
        value
        for value in vars(enums).values()
        if isinstance(value, type) and issubclass(value, enum.Enum) and value is not enum.StrEnum
    ]
    assert len(vocabularies) >= 12
    spanish = _catalog("es_AR")
    for vocabulary in vocabularies:
        for member in vocabulary:
            message = labels.label_id(member)
            assert message, f"{vocabulary.__name__}.{member.name} has no label"
            translated = spanish.get(message)
            assert translated is not None, message
            assert translated.string, message


def _audit_actions() -> set[str]:
    """Every action an `audit.record(…)` call in the code writes (its third argument)."""
    actions: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"audit", "audit_service"}
                and len(node.args) >= 3
            ):
                continue
            action = node.args[2]
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                actions.add(action.value)
            elif isinstance(action, ast.JoinedStr):
                prefix = action.values[0]
                if isinstance(prefix, ast.Constant):
                    actions.add(str(prefix.value) + "*")
    return actions


def test_every_audit_action_has_a_label() -> None:
    actions = _audit_actions()
    assert len(actions) >= 20
    for action in actions:
        if action.endswith("*"):
            prefix = action[:-1]
            assert any(known.startswith(prefix) for known in labels.AUDIT_ACTIONS), action
        else:
            assert action in labels.AUDIT_ACTIONS, f"no label for audit action {action}"


def test_dates_numbers_durations_and_ages_follow_the_locale() -> None:
    zone = ZoneInfo("America/Argentina/Buenos_Aires")
    spanish, english = Speaker("es-AR", zone), Speaker("en", zone)
    moment = datetime(2026, 3, 7, 18, 5, tzinfo=UTC)
    assert spanish.when(moment) == "07/03/2026 15:05"
    assert english.when(moment) == "07/03/2026 15:05"
    assert spanish.number(1234567) == "1.234.567"
    assert english.number(1234567) == "1,234,567"
    assert spanish.percent(0.1234) == "12,3 %"
    assert english.percent(0.1234) == "12.3 %"
    assert spanish.duration(185) == "3 min 05 s"
    now = datetime(2026, 3, 7, 18, 8, tzinfo=UTC)
    assert spanish.ago(moment, now) == "hace 3 min"
    assert english.ago(moment, now) == "3 min. ago"
    assert spanish.ago(now - timedelta(seconds=5), now) == "recién"
    assert spanish.label("cambio_clave", "intent") == "Cambio de clave"
    assert spanish.label("otro_motivo_nuevo", "intent") == "Otro motivo nuevo"
    assert spanish.label(enums.InteractionStatus.IN_PROGRESS) == "En curso"
    assert english.label(enums.Outcome.TICKETED) == "Ticket opened"
    assert spanish.label("message.received", "event") == "Mensaje recibido"


async def _signed_in(app: FastAPI, username: str, role: Role) -> httpx.AsyncClient:
    return await auth.session_client(app, username, role)


def _csrf(page: str) -> str:
    return page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


async def test_pages_speak_spanish_by_default_and_each_user_may_choose_english(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await f.save(session, f.interaction(intent="cambio_clave"))
    login = await httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ).get("/login")
    assert '<html lang="es-AR">' in login.text
    assert "Ingresar" in login.text
    http = await _signed_in(app, "sofia", Role.SUPERVISOR)
    try:
        home = await http.get("/dashboard")
        assert '<html lang="es-AR">' in home.text
        assert "Abandono" in home.text
        whatsapp = await http.get("/whatsapp")
        assert "En curso" in whatsapp.text
        assert "IN_PROGRESS" not in whatsapp.text.replace('value="IN_PROGRESS"', "")
        account = await http.get("/account/password")
        refused = await http.post(
            "/account/language",
            data={"language": "klingon", "csrf": _csrf(account.text)},
            headers={"X-CSRF-Token": _csrf(account.text)},
        )
        assert refused.status_code == 422
        chosen = await http.post(
            "/account/language",
            data={"language": "en", "csrf": _csrf(account.text)},
            headers={"X-CSRF-Token": _csrf(account.text)},
        )
        assert chosen.status_code == 303
        home = await http.get("/dashboard")
        assert '<html lang="en">' in home.text
        assert "Abandonment" in home.text
        detail_id = (await http.get("/whatsapp")).text.split('href="/interactions/', 1)[1][:36]
        detail = await http.get(f"/interactions/{detail_id}")
        assert "Password change" in detail.text  # the intent, as words
        assert "cambio_clave" not in detail.text
    finally:
        await http.aclose()
    # Another user still reads Spanish; the API stays English whatever the user chose.
    other = await _signed_in(app, "tomas", Role.SUPERVISOR)
    try:
        assert '<html lang="es-AR">' in (await other.get("/")).text
    finally:
        await other.aclose()


async def test_the_reports_date_range_reads_desde_hasta(app: FastAPI) -> None:
    """The range's end is a date ("Hasta"), not the recipient "To" of a message ("Para")."""
    http = await _signed_in(app, "sofia", Role.SUPERVISOR)
    try:
        page = await http.get("/reports")
        assert page.status_code == 200, page.text
        label = re.search(r"<label data-custom>([^<]*)<input[^>]*name=\"to\"", page.text)
        assert label is not None
        assert label.group(1).strip() == "Hasta"
    finally:
        await http.aclose()


async def test_the_api_stays_english(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/interactions/" + "0" * 8 + "-0000-0000-0000-" + "0" * 12)
    body: dict[str, Any] = response.json()
    assert response.status_code == 404
    assert body["error"]["message"].startswith("No interaction")


def test_the_service_language_setting_is_documented() -> None:
    example = (SRC.parent.parent / ".env.example").read_text()
    assert "CONSOLE_LANGUAGE=es-AR" in example


def test_every_entity_type_the_audit_log_records_has_a_label() -> None:
    pattern = re.compile(r'entity_type="([a-z_]+)"')
    found = {name for path in SRC.rglob("*.py") for name in pattern.findall(path.read_text())}
    assert "interaction" in found
    assert sorted(found - set(labels.ENTITY_TYPES)) == []
