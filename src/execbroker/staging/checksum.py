"""Checksums declared by a data resource, computed while the bytes stream past.

A request may declare ``checksum: {type, value}`` at the top of a data resource's spec, or in the
SKAO block (``skao.checksum``). Rucio reports adler32 and md5, so both are supported beside the
hashlib family.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from typing import Any, Protocol

from execbroker.model.components import Data

_HASHLIB = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}
SUPPORTED = frozenset(_HASHLIB | {"adler32"})


class Hasher(Protocol):
    def update(self, chunk: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


class _Adler32:
    def __init__(self) -> None:
        self._value = 1

    def update(self, chunk: bytes, /) -> None:
        self._value = zlib.adler32(chunk, self._value)

    def hexdigest(self) -> str:
        return f"{self._value & 0xFFFFFFFF:08x}"


@dataclass(frozen=True, slots=True)
class Checksum:
    type: str
    value: str

    def hasher(self) -> Hasher:
        return new_hasher(self.type)

    def matches(self, hexdigest: str) -> bool:
        return self.value.strip().lower().removeprefix(f"{self.type}:") == hexdigest.lower()


def normalise_type(name: str) -> str:
    return name.strip().lower().replace("-", "")


def new_hasher(kind: str) -> Hasher:
    name = normalise_type(kind)
    if name == "adler32":
        return _Adler32()
    if name in _HASHLIB:
        return hashlib.new(name)
    raise ValueError(f"unsupported checksum type {kind!r}")


def parse_checksum(block: Any) -> Checksum | None:
    """A Checksum from ``{type, value}``; None when absent or incomplete."""
    if not isinstance(block, dict):
        return None
    kind, value = block.get("type"), block.get("value")
    if not isinstance(kind, str) or not isinstance(value, str) or not kind or not value:
        return None
    return Checksum(normalise_type(kind), value.strip())


def declared_checksum(data: Data) -> Checksum | None:
    """The checksum the client declared for ``data``, wherever its dialect put it."""
    found = parse_checksum(data.spec.get("checksum"))
    if found is None:
        skao = data.spec.get("skao")
        if isinstance(skao, dict):
            found = parse_checksum(skao.get("checksum"))
    return found
