"""Identifiers: time-ordered UUIDs (version 7, RFC 9562).

Every session, component and offer set gets a new UUID, and each is a primary key. Random (version 4)
keys land on random pages of their indexes, so a booking transaction dirties a page per key and its
commit writes all of them. Version 7 keys start with the creation time in milliseconds, so new rows
append at the end of each index: a few pages per commit instead of hundreds. The remaining 74 bits are
random (from the operating system's generator, read in blocks), so the keys stay unguessable.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_BLOCK = 4096
_lock = threading.Lock()
_buffer = b""
_offset = _BLOCK


def _random_bytes(count: int) -> bytes:
    """``count`` random bytes (the OS generator is read 4 KiB at a time)."""
    global _buffer, _offset
    if count > _BLOCK:
        return os.urandom(count)
    with _lock:
        if _offset + count > len(_buffer):
            _buffer, _offset = os.urandom(_BLOCK), 0
        start = _offset
        _offset += count
        return _buffer[start : start + count]


def _random_bits() -> int:
    """Ten random bytes as an integer."""
    return int.from_bytes(_random_bytes(10))


def _uuid7_int(millis: int | None = None, rand: int | None = None) -> int:
    if millis is None:
        millis = time.time_ns() // 1_000_000
    if rand is None:
        rand = _random_bits()
    value = (millis & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a: 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # rand_b: 62 bits
    return value


def uuid7() -> uuid.UUID:
    """A new version-7 UUID: 48 bits of Unix time in ms, then 74 random bits."""
    return uuid.UUID(int=_uuid7_int())


def uuid7_texts(count: int) -> list[str]:
    """``count`` new version-7 UUIDs as canonical lowercase text, made at once (one clock reading,
    one read of random bytes; no UUID objects)."""
    millis = time.time_ns() // 1_000_000
    raw = _random_bytes(10 * count)
    out = []
    for index in range(0, 10 * count, 10):
        h = f"{_uuid7_int(millis, int.from_bytes(raw[index : index + 10])):032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out
