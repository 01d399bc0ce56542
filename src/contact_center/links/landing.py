"""A stand-in for the bank's site where signed links open, for the demo and local trials.

A link SMS points at `{FRONTEND_URL}/verify/{token}` or `{FRONTEND_URL}/onboarding/{token}`. The
bank's own front end answers there in production. Without one (`serve --demo` with no FRONTEND_URL)
FRONTEND_URL is this service's own `/l`, and this page shows the customer what the link's state
is (valid, expired or used) through the same service the front end would call. Never served with
APP_ENV=production.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from contact_center.dependencies import SessionDep, SettingsDep
from contact_center.errors import NotFound
from contact_center.links.service import PATHS, open_link
from contact_center.principal import SYSTEM
from contact_center.settings import Settings
from contact_center.web import RuntimeDep

LANDING_PREFIX = "/l"

router = APIRouter(prefix=LANDING_PREFIX, include_in_schema=False)

_TITLES = {"VERIFICATION_LINK": "Validá tu identidad", "ONBOARDING_LINK": "Alta de tu cuenta"}
_KINDS = {path: kind for kind, path in PATHS.items()}


def own_frontend_url(settings: Settings, host: str, port: int | None) -> str:
    """FRONTEND_URL, or this service's landing page when it is not set (links then work as is:
    only a link a caller gives must be https)."""
    if settings.frontend_url:
        return settings.frontend_url
    if settings.public_base_url:
        return settings.public_base_url + LANDING_PREFIX
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port or settings.app_port}{LANDING_PREFIX}"


def _page(settings: Settings, title: str, lines: list[str], status_code: int) -> HTMLResponse:
    bank = escape(settings.bank_name)
    body = "".join(f"<p>{escape(line)}</p>" for line in lines)
    html = (
        '<!doctype html><html lang="es-AR"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{bank} · {escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1c2733}"
        "main{max-width:32rem;margin:3rem auto;padding:1.5rem;background:#fff;border-radius:8px}"
        ".bank{font-weight:700;color:#0b5cad}.note{color:#5b6875;font-size:.875rem}</style>"
        f'</head><body><main><p class="bank">{bank}</p><h1>{escape(title)}</h1>{body}'
        '<p class="note">Página de demostración: en producción el sitio del banco '
        "(FRONTEND_URL) continúa el trámite acá.</p></main></body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


@router.get("/{path}/{token}", response_class=HTMLResponse)
async def landing(
    path: str, token: str, runtime: RuntimeDep, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """The token is the customer's proof; its first open goes on the interaction's timeline."""
    kind = _KINDS.get(path)
    if settings.is_production or kind is None:
        return _page(settings, "Página no encontrada", ["Revisá la dirección."], 404)
    try:
        state = await open_link(session, runtime.keys.link_signing_key, token, SYSTEM)
    except NotFound:
        state = None
    if state is None or state.kind != kind:
        return _page(
            settings,
            "Enlace no válido",
            ["No reconocemos este enlace. Pedí uno nuevo por los canales del banco."],
            404,
        )
    title = _TITLES[kind]
    expires = state.expires_at.astimezone(settings.zone).strftime("%d/%m/%Y %H:%M")
    lines = {
        "valid": [f"Tu enlace es válido hasta el {expires}.", "Seguí los pasos para continuar."],
        "expired": [
            f"Este enlace venció el {expires}.",
            "Pedí uno nuevo por los canales del banco.",
        ],
        "used": ["Este enlace ya se usó.", "Si no fuiste vos, llamanos."],
    }[state.status]
    return _page(settings, title, lines, 200)
