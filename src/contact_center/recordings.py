"""The recordings file store: one MP3 per conversation under RECORDINGS_DIR."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

from contact_center.files import write_atomically

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def digest(audio: bytes) -> str:
    """How the call's timeline names a recording's content."""
    return hashlib.sha256(audio).hexdigest()


class RecordingStore:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path_for(self, conversation_id: str) -> Path | None:
        if not _SAFE_ID.match(conversation_id):
            return None
        return self.directory / f"{conversation_id}.mp3"

    async def save(self, conversation_id: str, audio: bytes) -> str:
        """Write atomically (temp file + rename); returns the content's sha256."""
        path = self.path_for(conversation_id)
        if path is None:
            raise ValueError("unsafe conversation id")
        await asyncio.to_thread(self._write, path, audio)
        return digest(audio)

    def _write(self, path: Path, audio: bytes) -> None:
        write_atomically(path, audio, prefix=".rec-")

    def exists(self, conversation_id: str) -> bool:
        path = self.path_for(conversation_id)
        return path is not None and path.is_file()
