"""Authentication of every request, before anything reads its body.

`/api/*` needs an API token (`Authorization: Bearer …`) or a console session cookie; console pages
need a session and otherwise redirect to the sign-in page. Health, the API documents, webhooks
(they carry their own signatures), the emulator, static files, the links' landing page and the
satisfaction survey's page (their token is the proof) are public; in production the table list
is not (it describes the database to anyone who asks). A cookie is ambient (the browser sends it
by itself), so a request that changes something with it must also carry the session's CSRF token.
With AUTH_DISABLED every caller is trusted, as in the original.
"""

from __future__ import annotations

from urllib.parse import quote

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from contact_center.auth import credentials, service
from contact_center.db.fast import autocommit
from contact_center.errors import answer, envelope
from contact_center.models.enums import ActorType
from contact_center.principal import Principal, Via, role_from_header
from contact_center.settings import Settings

log = structlog.get_logger(__name__)

SESSION_COOKIE = "cc_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_EXACT = frozenset(
    {"/api/health", "/api/docs", "/api/openapi.json", "/__whoami", "/login", "/favicon.ico"}
)
PUBLIC_PREFIXES = ("/api/health/", "/webhooks/", "/_emulator/", "/static/", "/l/", "/csat/")
# Public elsewhere (as in the original), authenticated in production.
PRIVATE_IN_PRODUCTION = frozenset({"/api/health/tables"})
# Pages a user who must change their password may still open.
PASSWORD_CHANGE_PATHS = frozenset({"/account/password", "/logout"})


def is_public(path: str, *, production: bool) -> bool:
    if production and path.rstrip("/") in PRIVATE_IN_PRODUCTION:
        return False
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def trusted_principal(request: Request) -> Principal:
    """AUTH_DISABLED: the role is `X-Role` (absent = agent), as in the original."""
    header = request.headers.get("x-role")
    role = role_from_header(header)
    return Principal(
        actor_type=ActorType.USER,
        actor_id=f"anonymous:{role.value}",
        role=role,
        asked_admin_view=header is not None and header.strip().lower() == "admin",
        trusted_network=True,
        via=Via.TRUSTED,
    )


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()[:512]


def _api_error(status: int, code: str, message: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="contact-center"'} if status == 401 else None
    return JSONResponse(envelope(code, message), status_code=status, headers=headers)


def _console_refusal(request: Request, status: int, message: str) -> Response:
    if (
        status == 401
        and request.method in SAFE_METHODS
        and "hx-request" not in request.headers
        and "text/event-stream" not in request.headers.get("accept", "")
    ):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    code = "unauthenticated" if status == 401 else "forbidden"
    if "csrf" in message.lower():
        code = "csrf_failed"
    response = answer(request, status, code, message)
    if status == 401:
        response.headers["HX-Redirect"] = "/login"
    return response


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        settings: Settings = scope["app"].state.settings
        path = scope["path"]
        state = scope.setdefault("state", {})
        if settings.auth_disabled:
            state["principal"] = trusted_principal(request)
            await self.app(scope, receive, send)
            return
        if is_public(path, production=settings.is_production):
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._authenticate(scope["app"].state, request)
        except Exception as exc:  # the database is down: say so, never a 500
            log.warning("authentication_unavailable", error=type(exc).__name__)
            response: Response = _api_error(
                503, "dependency_unavailable", "Sign-in is unavailable: the database is down."
            )
            response.headers["Retry-After"] = "5"
            await response(scope, receive, send)
            return
        refusal = self._refusal(request, principal, settings)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        state["principal"] = principal
        await self.app(scope, receive, send)

    async def _authenticate(self, state: State, request: Request) -> Principal | None:
        token = bearer_token(request)
        if token is not None:
            # A token is one read by its key: no transaction (two round trips fewer).
            asked = request.headers.get("x-role", "").strip().lower() == "admin"
            async with autocommit(state.engine) as tx:
                return await service.principal_from_token(tx, token, asked_admin_view=asked)
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        factory: async_sessionmaker[AsyncSession] = state.session_factory
        async with factory() as session:
            principal = await service.principal_from_session(session, state.settings, cookie[:512])
            await session.commit()
        return principal

    def _refusal(
        self, request: Request, principal: Principal | None, settings: Settings
    ) -> Response | None:
        path = request.url.path
        api = is_api(path)
        if principal is None:
            message = (
                "Authentication required: send an API token as `Authorization: Bearer <token>`."
                if api
                else "Sign in to use the console."
            )
            return (
                _api_error(401, "unauthenticated", message)
                if api
                else _console_refusal(request, 401, message)
            )
        if principal.via is not Via.SESSION:
            return None
        if request.method not in SAFE_METHODS:
            cookie = request.cookies.get(SESSION_COOKIE, "")
            expected = credentials.csrf_token(cookie[:512])
            if not credentials.same_secret(request.headers.get(CSRF_HEADER), expected):
                message = "The request lacks this session's CSRF token; reload."
                return (
                    _api_error(403, "csrf_failed", message)
                    if api
                    else _console_refusal(request, 403, message)
                )
        if principal.must_change_password and path not in PASSWORD_CHANGE_PATHS:
            if api:
                return _api_error(
                    403, "password_change_required", "Change your password in the console first."
                )
            if request.method in SAFE_METHODS and "hx-request" not in request.headers:
                return RedirectResponse("/account/password", status_code=303)
            return _console_refusal(request, 403, "Change your password first.")
        return None
