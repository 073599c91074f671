"""Dialect codecs: which dialect a document is in, and the codec that reads and writes it.

Reading is liberal in every codec (any dialect's document decodes); the dialect decides how answers
are written, so that what a client sent in one dialect comes back in the same dialect.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from execbroker.wire.dialects import n25, seed, v10
from execbroker.wire.dialects.codec import Codec
from execbroker.wire.kinds import is_j25_uri, is_v10_uri

__all__ = ["Codec", "Dialect", "detect_dialect", "get_codec", "sniff_dialect"]


class Dialect(StrEnum):
    #: OpenAPI v1.0 final: ``POST /requests`` and ``/direct``.
    V1_0 = "v1.0"
    #: The Nov-2025 pre-release used by the reference implementation and its generated client.
    N25 = "n25"
    #: v0.8 / seed deck 004: ``type``, flat metadata, ``{update: {...}}``, PROPOSED/READY.
    SEED = "seed"
    #: The June-2025 variant of SEED (reference examples 002-008): ``computer:``, ``schedule.offered``.
    J25 = "j25"


_CODECS: dict[Dialect, Codec] = {
    Dialect.V1_0: v10.CODEC,
    Dialect.N25: n25.CODEC,
    Dialect.SEED: seed.SEED_CODEC,
    Dialect.J25: seed.J25_CODEC,
}


def get_codec(dialect: Dialect | str) -> Codec:
    return _CODECS[Dialect(dialect)]


def detect_dialect(doc: Any, endpoint_default: Dialect) -> Dialect:
    """The dialect of a request body, endpoint first.

    ``POST /requests`` and ``/direct`` exist only in v1.0, so a ``V1_0`` default is final whatever
    the body looks like. For the older endpoints (``POST /offersets``, ``POST /sessions``, session
    updates) the body decides, see :func:`sniff_dialect`, and ``endpoint_default`` is the answer when
    the body gives no sign.
    """
    if endpoint_default is Dialect.V1_0:
        return Dialect.V1_0
    return sniff_dialect(doc, endpoint_default)


def _nodes(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The document and the components (and offers, and their components) directly inside it."""
    yield doc
    for key in ("executable", "compute", "computer"):
        if isinstance(doc.get(key), dict):
            yield doc[key]
    for key in ("storage", "data", "volumes"):
        items = doc.get(key)
        if isinstance(items, list):
            yield from (item for item in items if isinstance(item, dict))
    offers = doc.get("offers")
    if isinstance(offers, list):
        for offer in offers:
            if isinstance(offer, dict):
                yield from _nodes(offer)


def sniff_dialect(doc: Any, default: Dialect) -> Dialect:
    """The dialect a body is written in, from the body alone; ``default`` when it gives no sign.

    In order: an ``update:`` wrapper means SEED; any ``type`` discriminator means SEED, or J25 when a
    ``computer`` key, a ``schedule.offered`` block or a ``…/types/computer/…`` URI appears; a v1.0
    kind URI means V1_0; any ``kind`` or ``meta`` means N25 (so example-001, which mixes ``kind`` with
    pre-v1.0 URIs and a flat compute ``name``, is N25); flat ``name``/``uuid`` alone mean SEED (J25
    with the J25 signs).
    """
    if not isinstance(doc, dict):
        return default
    if isinstance(doc.get("update"), dict):
        return Dialect.SEED
    typed = kinded = flat = j25 = v10_uri = False
    for node in _nodes(doc):
        if "computer" in node:
            j25 = True
        schedule = node.get("schedule")
        if isinstance(schedule, dict) and "offered" in schedule:
            j25 = True
        for key in ("type", "kind"):
            uri = node.get(key)
            if isinstance(uri, str):
                typed = typed or key == "type"
                kinded = kinded or key == "kind"
                j25 = j25 or is_j25_uri(uri)
                v10_uri = v10_uri or is_v10_uri(uri)
        kinded = kinded or "meta" in node
        flat = flat or "name" in node or "uuid" in node
    if typed:
        return Dialect.J25 if j25 else Dialect.SEED
    if v10_uri:
        return Dialect.V1_0
    if kinded:
        return Dialect.N25
    if flat or j25:
        return Dialect.J25 if j25 else Dialect.SEED
    return default
