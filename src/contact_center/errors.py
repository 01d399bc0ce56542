"""Application errors and the one JSON error envelope (docs/api.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)


class AppError(Exception):
    """An error with a stable code, a message for people and an HTTP status."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        self.headers = headers or {}


class BadRequest(AppError):
    status_code = 400
    code = "bad_request"


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_error"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(
            message, details=details, headers={"Retry-After": str(max(1, retry_after))}
        )


class DependencyUnavailable(AppError):
    status_code = 503
    code = "dependency_unavailable"


class BadGateway(AppError):
    status_code = 502
    code = "bad_gateway"


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "dependency_unavailable",
}


def envelope(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(envelope(code, message, details), status_code=status, headers=headers)


def _wants_html(request: Request) -> bool:
    """A browser (or htmx) on a console route: it gets a page, never the API's JSON."""
    path = request.url.path
    if path.startswith(("/api", "/webhooks", "/_emulator", "/__", "/static/")):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "hx-request" in request.headers


# What renders a console error page: set by the application (the console registers it), so
# this module does not depend on the console.
ErrorPage = Callable[[Request, int, str, dict[str, str] | None], Response]


def answer(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Every error answer: the JSON envelope, or the console's page for a browser."""
    render: ErrorPage | None = getattr(request.app.state, "error_page", None)
    if render is not None and _wants_html(request):
        try:
            return render(request, status, code, headers)
        except Exception as exc:  # the page itself failed: the envelope still says what happened
            log.error("error_page_failed", exc_info=exc, status=status)
    return error_response(status, code, message, details, headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        details.append({"field": ".".join(loc), "message": error.get("msg", "invalid value")})
    return details


async def handle_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return answer(request, exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = _validation_details(exc)
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        return answer(request, 400, "bad_request", "The request body is not valid JSON.", details)
    fields = ", ".join(sorted({d["field"] for d in details}))
    return answer(request, 422, "validation_error", f"Invalid request: {fields}.", details)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _STATUS_CODES.get(status, "error")
    if status == 404:
        message = "Not found."
    elif status == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
    else:
        message = str(exc.detail) if exc.detail else code.replace("_", " ")
    return answer(request, status, code, message, headers=getattr(exc, "headers", None))


# SQLSTATEs of a server that is there but takes no work now: starting up, shutting down or
# restarting (57P01-57P03), out of connection slots (53300); and class 08, connection exceptions.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, what a DBAPIError wraps, and their causes (a short chain)."""
    found: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending and len(found) < 8:
        item = pending.pop(0)
        if item is None or any(item is seen for seen in found):
            continue
        found.append(item)
        pending.extend([getattr(item, "orig", None), item.__cause__, item.__context__])
    return found


def _sqlstate_unavailable(exc: BaseException) -> bool:
    """A database that is starting up, shutting down or full: asyncpg's CannotConnectNowError
    and friends, raised as they are or wrapped by SQLAlchemy in a plain DBAPIError."""
    for item in _causes(exc):
        state = getattr(item, "sqlstate", None) or getattr(item, "pgcode", None)
        if isinstance(state, str) and (state in _UNAVAILABLE_SQLSTATES or state.startswith("08")):
            return True
    return False


# Unique constraints a request can race into, and what to tell the caller who lost the race.
_UNIQUE_CONFLICTS = {
    "uq_user_account_username": ("username_taken", "The username is taken."),
    "uq_otp_challenge_correlation_id": ("correlation_id_taken", "correlationId is already used."),
}


def unique_constraint(exc: IntegrityError) -> str | None:
    """The name of the unique constraint an IntegrityError violated, when it says."""
    for item in _causes(exc):
        name = getattr(item, "constraint_name", None)  # asyncpg
        diag = getattr(item, "diag", None)  # psycopg
        name = name or getattr(diag, "constraint_name", None)
        if isinstance(name, str) and name:
            return name
    message = str(exc.orig)
    if message.startswith("UNIQUE constraint failed: "):  # SQLite: "table.column, table.column"
        columns = [part.strip() for part in message.split(":", 1)[1].split(",")]
        table = columns[0].split(".", 1)[0]
        return f"uq_{table}_" + "_".join(column.split(".", 1)[-1] for column in columns)
    return None


async def handle_conflict(request: Request, exc: Exception) -> Response:
    """A write that lost a race to a unique constraint (or broke another one): 409, not 500.
    Where a service expects the race it answers itself; this is the backstop."""
    assert isinstance(exc, IntegrityError)
    constraint = unique_constraint(exc)
    code, message = _UNIQUE_CONFLICTS.get(
        constraint or "",
        ("conflict", "The change conflicts with the current data; nothing was saved."),
    )
    log.warning(
        "integrity_conflict",
        constraint=constraint,
        path=request.url.path,
        method=request.method,
    )
    return answer(request, 409, code, message)


async def handle_unavailable(request: Request, exc: Exception) -> Response:
    """The database restarting, starting up, refusing connections or dropping one under a
    request, or another service not answering: 503 with Retry-After, never a 500. A unique
    violation is a conflict (409); other database errors are unexpected."""
    if isinstance(exc, IntegrityError):
        return await handle_conflict(request, exc)
    if (
        isinstance(exc, DBAPIError)
        and not (exc.connection_invalidated or isinstance(exc, OperationalError))
        and not _sqlstate_unavailable(exc)
    ):
        return await handle_unexpected(request, exc)
    if isinstance(exc, DBAPIError) or _sqlstate_unavailable(exc):
        message = (
            "The database is unavailable or the connection was lost; the change may not have "
            "been saved. Retry in a moment."
        )
    else:
        message = "A service this request needs did not answer. Retry in a moment."
    log.warning(
        "dependency_unavailable",
        error=type(exc).__name__,
        path=request.url.path,
        method=request.method,
    )
    return answer(request, 503, "dependency_unavailable", message, headers={"Retry-After": "1"})


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, DBAPIError) and _sqlstate_unavailable(exc):
        return await handle_unavailable(request, exc)  # asyncpg's error, not wrapped
    log.error("unhandled_error", exc_info=exc, path=request.url.path, method=request.method)
    return answer(request, 500, "internal_error", "An unexpected error occurred; it was logged.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, handle_app_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    # asyncpg raises ConnectionRefusedError or TimeoutError, untranslated, when it cannot connect.
    for unavailable in (DBAPIError, ConnectionError, TimeoutError):
        app.add_exception_handler(unavailable, handle_unavailable)
    app.add_exception_handler(IntegrityError, handle_conflict)
    app.add_exception_handler(Exception, handle_unexpected)
