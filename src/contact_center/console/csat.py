"""The satisfaction survey's public page (`/csat/{token}`): no sign-in, the signed token is the
proof. A mobile page in the customer's language (Spanish first): the score 1–5 and a comment,
answered once; an expired link says so (410), a forged one is not found (404)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from contact_center.console.i18n import Speaker, supported
from contact_center.console.pages import page, runtime_of
from contact_center.db.base import utcnow
from contact_center.dependencies import SessionDep, SettingsDep
from contact_center.errors import NotFound
from contact_center.outcomes import service
from contact_center.outcomes.service import COMMENT_MAX, InvalidAnswer, SurveyState
from contact_center.settings import Settings

router = APIRouter(include_in_schema=False)

# The form is small: anything larger is not an answer.
FORM_LIMIT = 16 * 1024
STATUS = {SurveyState.OPEN: 200, SurveyState.ANSWERED: 409, SurveyState.EXPIRED: 410}


def customer_speaker(request: Request, settings: Settings) -> Speaker:
    """The customer's language (their browser's first supported one), else Spanish."""
    for part in request.headers.get("accept-language", "")[:200].split(","):
        language = supported(part.split(";", 1)[0].strip())
        if language:
            return Speaker(language, settings.zone)
    return Speaker("es-AR", settings.zone)


def _page(
    request: Request, settings: Settings, state: str, status_code: int, **context: Any
) -> HTMLResponse:
    response = page(
        request,
        "csat.html",
        status_code=status_code,
        speaker=customer_speaker(request, settings),
        state=state,
        comment_max=COMMENT_MAX,
        **context,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _key(request: Request) -> bytes:
    return service.survey_key(runtime_of(request).keys.link_signing_key)


def _cross_site(request: Request) -> bool:
    """A form posted from another site (the token in the address is the proof, and a page
    elsewhere should not post it for the customer)."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return False
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


@router.get("/csat/{token}", response_class=HTMLResponse)
async def survey_page(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    try:
        survey = await service.survey_by_token(session, _key(request), token)
    except NotFound:
        return _page(request, settings, "unknown", 404)
    state = service.state_of(survey, utcnow())
    return _page(request, settings, state.value, STATUS[state], token=token)


@router.post("/csat/{token}", response_class=HTMLResponse)
async def answer_survey(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    key = _key(request)
    try:
        survey = await service.survey_by_token(session, key, token)
    except NotFound:
        return _page(request, settings, "unknown", 404)
    if _cross_site(request):
        return _page(request, settings, "refused", 403)
    state = service.state_of(survey, utcnow())
    if state is not SurveyState.OPEN:
        return _page(request, settings, state.value, STATUS[state])
    score_raw: str | None = None
    try:
        score_raw, comment_raw = await _form(request)
        score = service.valid_score(score_raw)
        comment = service.valid_comment(comment_raw)
    except InvalidAnswer as invalid:
        return _page(
            request,
            settings,
            "open",
            400,
            token=token,
            error=invalid.field,
            score=score_raw if score_raw in {"1", "2", "3", "4", "5"} else None,
        )
    result = await service.answer(
        session, key, token, score, comment, redaction=runtime_of(request).keys.redaction
    )
    if result is not SurveyState.OPEN:
        return _page(request, settings, result.value, STATUS[result])
    return _page(request, settings, "thanks", 200)


async def _form(request: Request) -> tuple[str | None, str | None]:
    """The form's score and comment; InvalidAnswer("form") when the body is not a readable
    form (too large, not UTF-8, not URL-encoded)."""
    length = request.headers.get("content-length", "")
    if length and (not length.isdigit() or int(length) > FORM_LIMIT):
        raise InvalidAnswer("form")
    body = await request.body()
    if len(body) > FORM_LIMIT:
        raise InvalidAnswer("form")
    try:
        fields = parse_qs(
            body.decode("utf-8"), max_num_fields=10, encoding="utf-8", errors="strict"
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidAnswer("form") from None

    def first(name: str) -> str | None:
        values = fields.get(name)
        return values[0] if values else None

    return first("score"), first("comment")
