"""The languages the console speaks (the API speaks English only)."""

from __future__ import annotations

LANGUAGES: dict[str, str] = {"es-AR": "Español (Argentina)", "en": "English"}
DEFAULT_LANGUAGE = "es-AR"


def supported(language: str | None) -> str | None:
    """The supported language a tag names (`es-AR`, `es_ar`, `es` → `es-AR`; `en-US` → `en`),
    or None."""
    if not language:
        return None
    tag = language.strip().replace("_", "-").lower()
    for known in LANGUAGES:
        if tag == known.lower():
            return known
    base = tag.split("-", 1)[0]
    for known in LANGUAGES:
        if known.lower().split("-", 1)[0] == base:
            return known
    return None
