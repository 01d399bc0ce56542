"""Structured logs: one event per line, request/job ids bound, secrets redacted.

JSON for machines, readable coloured lines for people on a terminal (`LOG_FORMAT`). Every record,
ours and the libraries' (uvicorn, saq, httpx), goes through one formatter whose redaction
processor runs before either renderer, so redaction does not depend on each call site.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import IO, Any
from urllib.parse import unquote_plus

import structlog
from structlog.types import EventDict, Processor

from contact_center.pii import mask_link_tokens, mask_number, mask_text
from contact_center.settings import LogFormat

_SENSITIVE_KEY_RE = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|authorization|cookie|pepper|signature|"
    r"^code$|otp_?code|^otp$|^pin$|code_hash|codehash|credential)",
    re.IGNORECASE,
)
# An OTP-like code written after a word that announces it ("código: 123456", "code 1234").
_CODE_IN_TEXT_RE = re.compile(r"(?i)(c[oó]digo|code|otp|pin|clave)([^\d\n]{1,40}?)(\d{4,10})\b")
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
REDACTED = "[REDACTED]"
# PostgreSQL repeats a row's values in an error's DETAIL ("Key (phone)=(…) already exists",
# "Failing row contains (…)"), which a chained exception's traceback prints: keep the columns.
_DB_DETAIL_RE = re.compile(
    r"(Key \([^\n]*?\)=\()[^\n]*?(\)(?: already exists| is not present|\.|$))", re.M
)
_FAILING_ROW_RE = re.compile(r"(Failing row contains \()[^\n]*(\))")


def redact_text(text: str) -> str:
    if "%" in text:
        # URLs in library lines ("?to=%2B54+9+11+5555-1234"): decode so that numbers are seen.
        text = unquote_plus(text)
    text = _CODE_IN_TEXT_RE.sub(lambda m: m.group(1) + m.group(2) + "*" * len(m.group(3)), text)
    text = _BEARER_RE.sub(lambda m: m.group(1) + " " + REDACTED, text)
    text = mask_link_tokens(text, REDACTED)
    if "Key (" in text or "Failing row" in text:
        text = _DB_DETAIL_RE.sub(rf"\g<1>{REDACTED}\g<2>", text)
        text = _FAILING_ROW_RE.sub(rf"\g<1>{REDACTED}\g<2>", text)
    return mask_text(text)


def _redact_value(key: str, value: Any) -> Any:
    if _SENSITIVE_KEY_RE.search(key) and value not in (None, "", 0):
        if key in {"code"} and isinstance(value, str) and not value.isdigit():
            return redact_text(value)  # an error code such as "validation_error"
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return mask_number(value, key)  # `phone=5491155551234` as much as `phone="…"`
    if isinstance(value, dict):
        return {redact_text(str(k)): _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(key, v) for v in value]
    # Anything else would be rendered with repr() by the JSON renderer: redact that text.
    return redact_text(repr(value))


def redact(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: no phone number, OTP code, token or secret leaves the process."""
    event_dict.pop("color_message", None)
    for key in list(event_dict.keys()):
        event_dict[key] = _redact_value(key, event_dict[key])
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
    ]


def build_formatter(
    log_format: str = LogFormat.JSON, *, colors: bool = False
) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every handler. Exceptions become text (`format_exc_info`) before the
    redaction step, so a traceback is redacted in both formats; the console prints it on its
    own lines, as Python does."""
    renderer: Processor
    if log_format == LogFormat.CONSOLE:
        renderer = structlog.dev.ConsoleRenderer(colors=colors, timestamp_key="ts")
    else:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed or replaced streams
        return False


def formatter_for(stream: IO[str], log_format: str = LogFormat.AUTO) -> logging.Formatter:
    """`auto` is console on a terminal and JSON elsewhere (a pipe, a file, a platform's log
    collector); colours only on a terminal, and never with NO_COLOR set (no-color.org)."""
    terminal = _is_terminal(stream)
    if log_format == LogFormat.AUTO:
        log_format = LogFormat.CONSOLE if terminal else LogFormat.JSON
    return build_formatter(log_format, colors=terminal and not os.environ.get("NO_COLOR"))


def configure_logging(
    level: str = "INFO", log_file: str | None = None, log_format: str = LogFormat.AUTO
) -> None:
    """Route structlog and the standard library through one formatter per stream: stdout, and
    LOG_FILE if set (a file is no terminal: `auto` writes JSON there)."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handlers: list[logging.StreamHandler[Any]] = [logging.StreamHandler(sys.stdout)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.setFormatter(formatter_for(handler.stream, log_format))
        root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "saq", "alembic"):
        lib_logger = logging.getLogger(name)
        lib_logger.handlers.clear()
        lib_logger.propagate = True
    # Our middleware writes one access line per request, with the request id.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(max(logging.getLevelName(level), logging.WARNING))
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


def bind_context(**values: Any) -> None:
    structlog.contextvars.bind_contextvars(**values)


def context_snapshot() -> MutableMapping[str, Any]:
    return structlog.contextvars.get_contextvars()
