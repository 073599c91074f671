"""Typed exceptions for what can go wrong when talking to a broker.

Each carries the broker's own words (the error body's ``message`` and ``problems``, or the messages of a
NO answer / a failed session) so that a caller, and the CLI, can show the user why without digging in
HTTP responses.
"""

from __future__ import annotations

from dataclasses import dataclass

from execbroker.model.components import Session
from execbroker.model.messages import Message


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a request the broker refused: where (a JSON pointer) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class BrokerError(Exception):
    """Anything a broker (or the way to it) said no to.

    ``status`` is the HTTP status when there was an answer; ``error`` the broker's short error code;
    ``messages`` the protocol messages (a NO answer's reasons, a failed session's messages); ``problems``
    the per-field problems of a refused document.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error: str | None = None,
        messages: list[Message] | None = None,
        problems: list[Problem] | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error = error
        self.messages: list[Message] = list(messages or [])
        self.problems: list[Problem] = list(problems or [])
        self.url = url

    def details(self) -> list[str]:
        """The lines that explain the error beyond its message: problems, then message texts."""
        lines = [str(p) for p in self.problems]
        lines.extend(m.rendered for m in self.messages)
        return lines


class BrokerUnavailable(BrokerError):
    """No answer: connection refused, name not resolved, or timed out."""


class BadRequest(BrokerError):
    """400 (or 406/413/415): the broker could not read or would not take the document."""


class InvalidRequest(BadRequest):
    """The request document was refused before sending: unreadable, or not a request at all."""


class NotFound(BrokerError):
    """404: no such offer set or session on this broker."""


class Conflict(BrokerError):
    """409: the move is not allowed now (an expired offer, a second accept, a finished session)."""


class UnsupportedUpdate(BrokerError):
    """422: the broker does not support this kind of update or path."""


class Rejected(BrokerError):
    """The broker answered NO; ``messages`` says why."""


class SessionFailed(BrokerError):
    """A session ended in FAILED; ``messages`` are the session's messages, ``session`` the last state."""

    def __init__(self, message: str, session: Session, *, url: str | None = None) -> None:
        super().__init__(message, messages=session.meta.messages, url=url)
        self.session = session


class WaitTimeout(BrokerError, TimeoutError):
    """A wait ran out of time before the session reached a wanted phase; ``session`` is the last state."""

    def __init__(self, message: str, session: Session) -> None:
        super().__init__(message)
        self.session = session
