"""Console sign-in, sign-out, password change, the admin pages (users, tokens) and the audit
log (admins and compliance officers)."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import escape

from contact_center.audit import service as audit_service
from contact_center.audit.query import AuditFiltersDep
from contact_center.auth import service as auth
from contact_center.auth.middleware import SESSION_COOKIE
from contact_center.auth.service import LoginOutcome
from contact_center.console.i18n import LANGUAGES, Speaker
from contact_center.console.labels import N_
from contact_center.console.pages import page, runtime_of, speaker_for
from contact_center.db.base import utcnow
from contact_center.dependencies import (
    AuditContextDep,
    ComplianceDep,
    SessionDep,
    SettingsDep,
    require,
)
from contact_center.errors import AppError
from contact_center.models.enums import ActorType
from contact_center.principal import AuditContext, Principal, Role
from contact_center.settings import Settings

router = APIRouter(include_in_schema=False)

LOGIN_COOKIE = "cc_login"  # the sign-in form's CSRF value (double submit)
AUDIT_PAGE = 50


def _secure(request: Request, settings: Settings) -> bool:
    return settings.is_production or request.url.scheme == "https"


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never `//host` or `https://…` (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(
    request: Request,
    settings: Settings,
    *,
    error: str | None = None,
    status: int = 200,
    username: str = "",
    next_url: str = "/",
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    form_token = secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        error=error,
        username=username,
        next_url=_safe_next(next_url),
        form_token=form_token,
        status_code=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        form_token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
        path="/login",
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request,
    settings: SettingsDep,
    next_url: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
) -> Response:
    if settings.auth_disabled:
        return RedirectResponse("/", status_code=303)
    return _login_page(request, settings, next_url=next_url or "/")


def _minutes(speaker: Speaker, seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return speaker.ngettext("%(num)d minute", "%(num)d minutes", minutes)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    form_token: Annotated[str, Form(alias="csrf", max_length=200)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> Response:
    if settings.auth_disabled:
        return RedirectResponse("/", status_code=303)
    name = username.strip().lower()[:64]
    speaker = speaker_for(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), form_token.encode()):
        return _login_page(
            request,
            settings,
            error=speaker.gettext("The sign-in form expired. Please try again."),
            status=403,
            username=name,
            next_url=next_url,
        )
    address = request.client.host if request.client else "unknown"
    decision = await runtime_of(request).ratelimits.login_attempt(address)
    if not decision.allowed:
        return _login_page(
            request,
            settings,
            error=speaker.gettext(
                "Too many sign-in attempts from this address. Try again in %(wait)s.",
                wait=_minutes(speaker, decision.retry_after),
            ),
            status=429,
            username=name,
            next_url=next_url,
            headers={"Retry-After": str(decision.retry_after)},
        )
    context = AuditContext(
        principal=Principal(actor_type=ActorType.USER, actor_id=name or "-", role=Role.AGENT),
        ip=address,
        user_agent=request.headers.get("user-agent"),
    )
    result = await auth.authenticate(session, settings, context, name, password)
    if result.outcome is LoginOutcome.LOCKED:
        return _login_page(
            request,
            settings,
            error=speaker.gettext(
                "This account is locked after too many failed sign-ins. Try again in %(wait)s, "
                "or ask an administrator to unlock it.",
                wait=_minutes(speaker, result.retry_after),
            ),
            status=429,
            username=name,
            next_url=next_url,
            headers={"Retry-After": str(result.retry_after)},
        )
    if result.outcome is LoginOutcome.INVALID or result.user is None:
        return _login_page(
            request,
            settings,
            error=speaker.gettext("Wrong username or password."),
            status=401,
            username=name,
            next_url=next_url,
        )
    token = await auth.start_session(session, settings, result.user, context)
    target = "/account/password" if result.user.must_change_password else _safe_next(next_url)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(session: SessionDep, context: AuditContextDep) -> Response:
    await auth.end_session(session, context)
    response = Response(status_code=204, headers={"HX-Redirect": "/login"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password", response_class=HTMLResponse)
async def password_form(request: Request, context: AuditContextDep) -> HTMLResponse:
    return page(
        request,
        "password.html",
        active="account",
        forced=context.principal.must_change_password,
        languages=LANGUAGES,
    )


@router.post("/account/language")
async def choose_language(
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    language: Annotated[str, Form(max_length=16)],
) -> Response:
    """The console's language for the signed-in user. The form posts through htmx, which sends
    the session's CSRF token as the header the authentication middleware checks."""
    await auth.set_language(session, context, language)
    if "hx-request" in request.headers:  # the console's script posted it: reload the page
        return Response(status_code=204, headers={"HX-Redirect": "/account/password"})
    return RedirectResponse("/account/password", status_code=303)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    session: SessionDep,
    context: AuditContextDep,
    settings: SettingsDep,
    current: Annotated[str, Form(alias="currentPassword", max_length=1024)],
    new: Annotated[str, Form(alias="newPassword", max_length=1024)],
    repeat: Annotated[str, Form(alias="repeatPassword", max_length=1024)],
) -> Response:
    speaker = speaker_for(request)
    if new != repeat:
        text = escape(speaker.gettext("The new passwords do not match."))
        return HTMLResponse(f'<p class="notice error" role="alert">{text}</p>', status_code=422)
    try:
        await auth.change_own_password(session, settings, context, current, new)
    except AppError as error:
        return HTMLResponse(
            f'<p class="notice error" role="alert">{escape(_said(speaker, error))}</p>',
            status_code=error.status_code,
        )
    return Response(status_code=204, headers={"HX-Redirect": "/"})


_PASSWORD_ERRORS = {
    "wrong_password": N_("The current password is wrong."),
    "weak_password": N_(
        "That password is too easy to guess: use at least 12 characters, a few unrelated words "
        "work well."
    ),
}


def _said(speaker: Speaker, error: AppError) -> str:
    """A refusal of the password form in the reader's language (the API's words otherwise)."""
    message = _PASSWORD_ERRORS.get(error.code)
    return speaker.gettext(message) if message else error.message


# --- admin pages ----------------------------------------------------------------------------

AdminPage = Annotated[Principal, Depends(require(Role.ADMIN))]


@router.get("/admin/users", response_class=HTMLResponse)
async def users_page(request: Request, session: SessionDep, _: AdminPage) -> HTMLResponse:
    users = await auth.list_users(session)
    tokens = await auth.list_tokens(session)
    return page(
        request,
        "users.html",
        active="users",
        users=users,
        tokens=tokens,
        roles=[r.value for r in Role],
        now=utcnow(),
    )


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    session: SessionDep,
    filters: AuditFiltersDep,
    _: ComplianceDep,
    skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    # People's actions by default; the service's and its providers' rows on request (or when
    # the filter names an actor or a kind of actor).
    everyone = request.query_params.get("everyone") == "1"
    if not everyone and not filters.actor_types and filters.actor_id is None:
        filters = dataclasses.replace(filters, actor_types=frozenset({ActorType.USER}))
    rows = await audit_service.listing(session, filters, limit=AUDIT_PAGE, skip=skip)
    query = {k: v for k, v in request.query_params.items() if k != "skip" and v}
    context: dict[str, Any] = {
        "entries": rows[:AUDIT_PAGE],
        "has_more": len(rows) > AUDIT_PAGE,
        "skip": skip,
        "limit": AUDIT_PAGE,
        "query": query,
        "everyone": everyone,
        "people_only": filters.actor_types == frozenset({ActorType.USER}),
        "everyone_url": f"?{urlencode({**query, 'everyone': '1'})}",
        "people_url": f"?{urlencode({k: v for k, v in query.items() if k != 'everyone'})}",
        "prev_url": f"?{urlencode({**query, 'skip': max(0, skip - AUDIT_PAGE)})}",
        "next_url": f"?{urlencode({**query, 'skip': skip + AUDIT_PAGE})}",
    }
    return page(request, "audit.html", active="audit", **context)
