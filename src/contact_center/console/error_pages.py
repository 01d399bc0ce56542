"""Error pages of the console: a page in the reader's language with a way back, never the API's
JSON envelope in a browser. (`/api` keeps answering JSON.) An htmx request gets a short notice
instead of a page, which the page shows where the action was."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import escape

from contact_center.console.i18n import ERROR_MESSAGES
from contact_center.console.labels import N_
from contact_center.console.pages import page, speaker_for
from contact_center.errors import ErrorPage

HEADINGS: dict[int, tuple[str, str]] = {
    400: (N_("The request could not be read"), N_("Something in what was sent is not valid.")),
    401: (N_("Sign in to continue"), N_("Your session ended or you have not signed in yet.")),
    403: (
        N_("You cannot do this"),
        N_("Your role does not allow it, or the page expired; reload it and try again."),
    ),
    404: (
        N_("Not found"),
        N_("What you are looking for does not exist, or is not yours to see."),
    ),
    405: (N_("Not available"), N_("This address does not take that kind of request.")),
    409: (N_("It changed meanwhile"), N_("Someone changed it at the same time; reload and see.")),
    413: (N_("Too large"), N_("What was sent is larger than the service takes.")),
    422: (N_("Something is not valid"), N_("Check what was typed and try again.")),
    429: (N_("Too many attempts"), N_("Wait a moment before trying again.")),
    500: (
        N_("Something went wrong on our side"),
        N_("The error was recorded. Try again; if it goes on, tell the support team."),
    ),
    503: (
        N_("A service is not answering"),
        N_("The database or another service is restarting or unreachable. Try again in a moment."),
    ),
}


def _back(request: Request) -> str | None:
    """Where the reader came from, when it is a page of this site (never another site)."""
    referer = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.url.netloc:
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or path == request.url.path:
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def error_page(
    request: Request,
    status: int,
    code: str,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The console's answer for an error: a page, or a notice for htmx."""
    speaker = speaker_for(request)
    heading, explanation = HEADINGS.get(status, HEADINGS[500 if status >= 500 else 400])
    known = ERROR_MESSAGES.get(code)
    said = speaker.gettext(known) if known else speaker.gettext(explanation)
    retry_after = (headers or {}).get("Retry-After")
    if request.headers.get("hx-request"):
        text = escape(said)
        return HTMLResponse(
            f'<p class="notice error" role="alert">{text}</p>', status_code=status, headers=headers
        )
    response = page(
        request,
        "error.html",
        status_code=status,
        status=status,
        heading=speaker.gettext(heading),
        explanation=said,
        retry_after=retry_after,
        back=_back(request),
        speaker=speaker,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


_: ErrorPage = error_page  # the shape errors.answer calls
