"""Errors of the wire layer: a body that cannot be read, or a document that makes no structural sense.

Each error knows its HTTP status and a short error code, and carries every problem found (not just the
first), each with a JSON-pointer path into the document, so that a client can fix its body in one go.
Business refusals (an unknown kind, a bad duration) are *not* errors here: they become messages on the
decoded request and the broker answers ``NO``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a body: where (a JSON pointer, ``/`` for the whole body) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def pointer(parent: str, key: str | int) -> str:
    """Extend a JSON pointer (RFC 6901), as Problem paths are written; the root is the empty string."""
    token = key if type(key) is str else str(key)
    if "~" in token or "/" in token:
        token = token.replace("~", "~0").replace("/", "~1")
    return f"{parent}/{token}"


class WireError(Exception):
    """Base of every wire error; ``status`` is the HTTP status the API answers with."""

    status: int = 400
    error: str = "bad-request"
    summary: str = "The request body is not valid"

    def __init__(self, problems: Iterable[Problem] = (), summary: str | None = None) -> None:
        self.problems: list[Problem] = list(problems)
        text = summary or self.summary
        if self.problems:
            text = f"{text}: " + "; ".join(str(p) for p in self.problems[:5])
            if len(self.problems) > 5:
                text += f" (and {len(self.problems) - 5} more)"
        super().__init__(text)


class MalformedBody(WireError):
    """The bytes do not parse as a single, plain JSON or YAML document within the limits."""

    status = 400
    error = "malformed-body"
    summary = "The body is not a well-formed document"


class BodyTooLarge(WireError):
    status = 413
    error = "body-too-large"
    summary = "The body is too large"


class UnsupportedMediaType(WireError):
    status = 415
    error = "unsupported-media-type"
    summary = "The body's content type is not supported; use application/yaml or application/json"


class NotAcceptable(WireError):
    status = 406
    error = "not-acceptable"
    summary = "None of the accepted media types can be produced; use application/yaml or application/json"


class DecodeError(WireError):
    """The document parsed but its structure is nonsense (a list where a mapping must be, ...)."""

    status = 400
    error = "invalid-document"
    summary = "The document is not valid"
