"""A real (silent) MP3: MPEG-1 Layer III frames any player decodes."""

from __future__ import annotations

# MPEG-1 Layer III, no CRC, 128 kbit/s, 44.1 kHz, mono, original. An all-zero side info and main
# data decode as silence.
_HEADER = bytes([0xFF, 0xFB, 0x90, 0xC4])
_FRAME_BYTES = 417  # 144 * 128000 / 44100, no padding
_SECONDS_PER_FRAME = 1152 / 44100


def silent_mp3(seconds: float) -> bytes:
    frames = max(1, int(seconds / _SECONDS_PER_FRAME))
    frame = _HEADER + bytes(_FRAME_BYTES - len(_HEADER))
    return frame * frames
