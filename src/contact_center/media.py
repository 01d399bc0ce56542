"""The media file store: WhatsApp media (images, documents, voice notes) under MEDIA_DIR, each
file named by the SHA-256 of its content (the same file sent twice is kept once)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from contact_center.files import write_atomically

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
# A MIME type as it may be sent back in Content-Type (type/subtype and simple parameters).
_CONTENT_TYPE = re.compile(
    r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,127}"
    r"(; ?[a-z0-9_-]{1,32}=[a-z0-9_.+-]{1,64})*$"
)
# Shown in the browser (inline); everything else is downloaded (attachment).
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "video/mp4",
        "video/3gpp",
        "application/pdf",
    }
)
FALLBACK_TYPE = "application/octet-stream"


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class StoredMedia:
    sha256: str
    size: int


class MediaStore:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path_for(self, sha256: str) -> Path | None:
        """Where a content lives (two levels of fan-out); None for anything but a digest."""
        if not isinstance(sha256, str) or not _DIGEST.match(sha256):
            return None
        return self.directory / sha256[:2] / sha256

    async def save(self, content: bytes) -> StoredMedia:
        """Write atomically (temp file + rename) unless that content is kept already."""
        stored = StoredMedia(digest(content), len(content))
        path = self.path_for(stored.sha256)
        assert path is not None
        await asyncio.to_thread(self._write, path, content)
        return stored

    def _write(self, path: Path, content: bytes) -> None:
        if path.is_file() and path.stat().st_size == len(content):
            return
        write_atomically(path, content, prefix=".media-")

    def exists(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        return path is not None and path.is_file()


def safe_content_type(value: object) -> str:
    """The stored item's MIME type when it is a well-formed one, else octet-stream."""
    if not isinstance(value, str):
        return FALLBACK_TYPE
    lowered = value.strip().lower()
    return lowered if _CONTENT_TYPE.match(lowered) else FALLBACK_TYPE


def disposition(content_type: str, filename: str | None, fallback: str) -> str:
    """`inline` for types a browser shows safely, `attachment` for the rest; the file name in
    ASCII (`filename`) and, when it has other characters, in UTF-8 (`filename*`)."""
    kind = "inline" if content_type.split(";")[0] in INLINE_TYPES else "attachment"
    name = filename if isinstance(filename, str) and filename.strip() else fallback
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")[:200] or fallback
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name).strip() or fallback
    header = f'{kind}; filename="{ascii_name}"'
    if ascii_name != name:
        quoted = "".join(
            c if c.isascii() and (c.isalnum() or c in "._-") else _pct(c) for c in name
        )
        header += f"; filename*=UTF-8''{quoted}"
    return header


def _pct(char: str) -> str:
    return "".join(f"%{b:02X}" for b in char.encode("utf-8"))
