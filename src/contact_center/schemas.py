"""Shared API schema building blocks: camelCase models and the timestamp format (docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema, field_validator
from pydantic.alias_generators import to_camel

from contact_center.storable import REASON, storable


def format_timestamp(value: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ`, always UTC, always 6 fractional digits.

    (isoformat rather than strftime: a list page formats a thousand timestamps.)"""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


Timestamp = Annotated[
    datetime,
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "example": "2026-11-26T14:03:12.123456Z"}
    ),
]


class ApiModel(BaseModel):
    """Response and request models: snake_case in Python, camelCase on the wire."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        serialize_by_alias=True,
    )


# Request fields nest a few levels at most (a transaction's context); deeper is not a request.
MAX_REQUEST_DEPTH = 16


class RequestModel(ApiModel):
    """Request bodies: every string in them, nested ones too, must be text a column takes (no
    NUL: PostgreSQL refuses it), and free-form values nest at most MAX_REQUEST_DEPTH levels;
    else 422 naming the field (storable.py)."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        stack: list[tuple[Any, int]] = [(value, 0)]
        while stack:
            item, depth = stack.pop()
            if isinstance(item, str):
                if not storable(item):
                    raise ValueError(REASON)
                continue
            if isinstance(item, dict):
                children = [*item.keys(), *item.values()]
            elif isinstance(item, list | tuple | set):
                children = list(item)
            else:
                continue
            if depth >= MAX_REQUEST_DEPTH:
                raise ValueError(f"nested deeper than {MAX_REQUEST_DEPTH} levels")
            stack.extend((child, depth + 1) for child in children)
        return value


class ErrorBody(BaseModel):
    code: str
    message: str
    details: object | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in {
        400: "Malformed request",
        401: "No valid API token or console session",
        403: "The caller's role does not allow this",
        404: "Not found",
        422: "Validation error",
    }.items()
}
