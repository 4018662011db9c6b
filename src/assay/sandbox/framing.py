"""Length-prefixed orjson frames over a pipe: a 4-byte big-endian length, then the JSON body."""

from __future__ import annotations

import struct
from typing import Any

import orjson

HEADER = struct.Struct(">I")
MAX_REQUEST_BYTES = 64 * 1024 * 1024
"""Largest frame the worker accepts from the parent (a batch of calls with their events)."""
MAX_RESPONSE_BYTES = 64 * 1024
"""Largest frame the parent accepts from a worker: one call's result, or the ready report."""


def encode(message: Any) -> bytes:
    """One frame holding `message`."""
    body = orjson.dumps(message)
    return HEADER.pack(len(body)) + body


class FrameTooLarge(ValueError):
    """A frame announced more bytes than the reader accepts."""


def split_frames(buffer: bytearray, limit: int) -> list[bytes]:
    """Remove and return the complete frame bodies at the start of `buffer` (raises FrameTooLarge)."""
    bodies: list[bytes] = []
    start = 0
    size = len(buffer)
    while size - start >= HEADER.size:
        (length,) = HEADER.unpack_from(buffer, start)
        if length > limit:
            raise FrameTooLarge(f"a frame of {length} bytes is larger than {limit}")
        end = start + HEADER.size + length
        if end > size:
            break
        bodies.append(bytes(buffer[start + HEADER.size : end]))
        start = end
    if start:
        del buffer[:start]
    return bodies
