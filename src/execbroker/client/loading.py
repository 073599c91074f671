"""Turning what a caller hands the client (a model object, a mapping, a file) into a v1.0 document.

The client always speaks v1.0 on the wire, so that it works against any conforming broker and so that
the answer comes back in v1.0 too (a broker answers in the dialect it was asked in). A document in an
older dialect is decoded with the same decoder the broker uses and re-encoded as v1.0.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from execbroker.client.errors import InvalidRequest, Problem
from execbroker.model.components import ExecutionRequest
from execbroker.wire.dialects import Dialect, get_codec, sniff_dialect
from execbroker.wire.errors import WireError
from execbroker.wire.media import Limits, parse_body

RequestSource = ExecutionRequest | Mapping[str, Any] | str | os.PathLike[str]

#: A request file larger than this is surely a mistake (the broker's default limit is 1 MB).
MAX_REQUEST_BYTES = 10_000_000


def read_request_file(path: str | os.PathLike[str]) -> Any:
    """Read and parse a request file: JSON if it ends in ``.json``, else YAML (the standard's default)."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InvalidRequest(f"Cannot read {file}: {exc.strerror or exc}") from None
    content_type = "application/json" if file.suffix.lower() == ".json" else "application/yaml"
    try:
        return parse_body(raw, content_type, Limits(max_bytes=MAX_REQUEST_BYTES))
    except WireError as exc:
        raise InvalidRequest(
            _summary(f"{file} is not a readable request", exc), problems=_problems(exc)
        ) from None


def decode_request_document(doc: Any) -> ExecutionRequest:
    """Decode a parsed document in whatever dialect it is, exactly as a broker would.

    Raises :class:`InvalidRequest` with the decoder's problems (paths and messages) for structural
    errors; problems that make a broker answer NO (unknown kinds, bad times) are left in
    ``request.problems``.
    """
    dialect = sniff_dialect(doc, Dialect.V1_0)
    try:
        return get_codec(dialect).decode_request(doc)
    except WireError as exc:
        raise InvalidRequest(_summary("The request is not valid", exc), problems=_problems(exc)) from None


def request_document(source: RequestSource) -> Any:
    """The v1.0 document to send for ``source``."""
    if isinstance(source, ExecutionRequest):
        return get_codec(Dialect.V1_0).encode_request(source)
    doc: Any
    if isinstance(source, Mapping):
        doc = dict(source)
    elif isinstance(source, str | os.PathLike):
        doc = read_request_file(source)
    else:
        raise TypeError(f"Cannot make a request from {type(source).__name__}")
    if not isinstance(doc, dict):
        raise InvalidRequest("A request must be a mapping (executable, compute, storage, data, schedule)")
    if sniff_dialect(doc, Dialect.V1_0) is Dialect.V1_0:
        # Sent as written: the broker reports problems against the user's own paths.
        return doc
    return get_codec(Dialect.V1_0).encode_request(decode_request_document(doc))


def _problems(exc: WireError) -> list[Problem]:
    return [Problem(str(p.path), str(p.message)) for p in getattr(exc, "problems", None) or []]


def _summary(lead: str, exc: WireError) -> str:
    """The lead sentence; the error's own text only when it has no problems to list one by one."""
    return lead if getattr(exc, "problems", None) else f"{lead}: {exc}"
