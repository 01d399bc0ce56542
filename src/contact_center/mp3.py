"""A real (silent) MP3: MPEG Layer III frames any player decodes."""

from __future__ import annotations

# MPEG-1 Layer III, no CRC, 128 kbit/s, 44.1 kHz, mono, original. An all-zero side info and main
# data decode as silence.
_HEADER = bytes([0xFF, 0xFB, 0x90, 0xC4])
_FRAME_BYTES = 417  # 144 * 128000 / 44100, no padding
_SECONDS_PER_FRAME = 1152 / 44100

# MPEG-2 Layer III (MP3's lower sampling rates), no CRC, 8 kbit/s, 22.05 kHz, mono, original: the
# smallest frames players accept, about 1 KB a second, for keeping many recordings (the demo).
_SMALL_HEADER = bytes([0xFF, 0xF3, 0x10, 0xC4])
_SMALL_FRAME_BYTES = 26  # 72 * 8000 / 22050, no padding
_SMALL_SECONDS_PER_FRAME = 576 / 22050


def silent_mp3(seconds: float) -> bytes:
    frames = max(1, int(seconds / _SECONDS_PER_FRAME))
    frame = _HEADER + bytes(_FRAME_BYTES - len(_HEADER))
    return frame * frames


def small_silent_mp3(seconds: float) -> bytes:
    """`seconds` of silence in about a kilobyte a second."""
    frames = max(1, round(seconds / _SMALL_SECONDS_PER_FRAME))
    frame = _SMALL_HEADER + bytes(_SMALL_FRAME_BYTES - len(_SMALL_HEADER))
    return frame * frames
