"""What the sync and async clients share: how each call is built and how each answer is read.

Nothing here does I/O, so :class:`~execbroker.client.sync.Client` and
:class:`~execbroker.client.asyncio.AsyncClient` differ only in how they send a :class:`Call` and wait.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from execbroker import __version__
from execbroker.client.errors import (
    BadRequest,
    BrokerError,
    BrokerUnavailable,
    Conflict,
    NotFound,
    Problem,
    Rejected,
    SessionFailed,
    UnsupportedUpdate,
    WaitTimeout,
)
from execbroker.model.components import OfferSet, Result, Session, Update, UpdateKind
from execbroker.model.messages import Message
from execbroker.model.phases import SessionPhase, is_forward
from execbroker.model.times import TimeSyntaxError, parse_instant
from execbroker.wire.dialects import Dialect, get_codec
from execbroker.wire.errors import WireError
from execbroker.wire.media import Limits, parse_body

JSON = "application/json"
USER_AGENT = f"execbroker-client/{__version__}"
#: Largest answer the client will read (an offer set with many offers is a few hundred kB).
MAX_ANSWER_BYTES = 50_000_000
#: The longest single long-poll the client asks for; brokers cap it anyway.
MAX_WAIT = 30.0

#: Every codec reads every dialect; v1.0 is what the client asks for and expects.
_READER = get_codec(Dialect.V1_0)

_ERRORS: dict[int, type[BrokerError]] = {
    400: BadRequest,
    404: NotFound,
    406: BadRequest,
    409: Conflict,
    413: BadRequest,
    415: BadRequest,
    422: UnsupportedUpdate,
}


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP exchange with a broker, relative to its base URL."""

    method: str
    path: str
    params: dict[str, str | list[str]] = field(default_factory=dict)
    body: bytes | None = None
    accept: str = JSON
    #: How long the broker may hold the answer on purpose (a long-poll), added to the read timeout.
    hold: float = 0.0

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Accept": self.accept, "User-Agent": USER_AGENT}
        if self.body is not None:
            headers["Content-Type"] = JSON
        return headers

    def timeout(self, base: float) -> httpx.Timeout:
        return httpx.Timeout(base, read=base + self.hold)


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One row of a broker's session list."""

    uuid: str
    phase: SessionPhase
    url: str | None = None
    offerset: str | None = None
    owner: str | None = None
    created: datetime | None = None
    modified: datetime | None = None
    start: datetime | None = None
    end: datetime | None = None


# -- building calls ------------------------------------------------------------------------------


def _segment(uuid: object) -> str:
    text = str(uuid).strip()
    if not text:
        raise ValueError("An empty uuid names nothing")
    return quote(text, safe="")


def _json(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, default=str).encode()


def offer_request(doc: Any) -> Call:
    return Call("POST", "requests", body=_json(doc))


def direct_request(doc: Any) -> Call:
    return Call("POST", "direct", body=_json(doc))


def read_offerset(uuid: object) -> Call:
    return Call("GET", f"offersets/{_segment(uuid)}")


def read_session(uuid: object, *, wait: float | None = None, phase: SessionPhase | None = None) -> Call:
    """GET a session; with ``wait``, a UWS-style long-poll that returns early when the phase changes."""
    if wait is None:
        return Call("GET", f"sessions/{_segment(uuid)}")
    seconds = max(1, math.ceil(min(wait, MAX_WAIT)))
    params: dict[str, str | list[str]] = {"WAIT": str(seconds)}
    if phase is not None:
        params["PHASE"] = phase.value
    return Call("GET", f"sessions/{_segment(uuid)}", params=params, hold=float(seconds))


def update_phase(uuid: object, phase: SessionPhase) -> Call:
    update = Update(
        kind=UpdateKind.ENUM_VALUE, kind_text=UpdateKind.ENUM_VALUE.value, path="phase", value=phase.value
    )
    return Call(
        "POST", f"sessions/{_segment(uuid)}", body=_json(get_codec(Dialect.V1_0).encode_update(update))
    )


def list_sessions(
    *, phases: list[SessionPhase] | None = None, owner: str | None = None, limit: int = 50, offset: int = 0
) -> Call:
    params: dict[str, str | list[str]] = {"limit": str(limit), "offset": str(offset)}
    if owner:
        params["owner"] = owner
    if phases:
        # Several phases repeat the parameter (phase=RUNNING&phase=WAITING).
        params["phase"] = [p.value for p in phases]
    return Call("GET", "sessions", params=params)


def read_logs(uuid: object) -> Call:
    return Call("GET", f"sessions/{_segment(uuid)}/logs", accept="text/plain")


# -- reading answers -----------------------------------------------------------------------------


def unavailable(base_url: str, exc: httpx.TransportError) -> BrokerUnavailable:
    """Say in plain words why there was no answer."""
    if isinstance(exc, httpx.TimeoutException):
        reason = "it did not answer in time"
    elif isinstance(exc, httpx.ConnectError):
        reason = "the connection failed (is it running, and is the URL right?)"
    else:
        reason = f"the connection broke ({type(exc).__name__})"
    detail = str(exc).strip()
    message = f"Cannot reach the broker at {base_url}: {reason}"
    if detail:
        message += f" [{detail}]"
    return BrokerUnavailable(message, url=base_url)


def redirect_target(response: httpx.Response) -> str | None:
    """Where to GET the answer, for a 3xx that came without a body (the body is used when there is one)."""
    if response.is_redirect and not response.content.strip():
        location = response.headers.get("location")
        if location:
            return str(response.url.join(location))
    return None


def check_hops(hops: int, target: str) -> None:
    """Stop a redirect loop: a broker answers in at most a few hops."""
    if hops >= 3:
        raise BrokerError(f"Too many redirects (last to {target})")


def document(response: httpx.Response) -> Any:
    """The parsed body (JSON or YAML, by Content-Type); ``None`` when empty or unreadable."""
    if not response.content.strip():
        return None
    try:
        return parse_body(
            response.content,
            response.headers.get("content-type"),
            Limits(max_bytes=MAX_ANSWER_BYTES, max_nodes=5_000_000, max_depth=256),
        )
    except WireError:
        return None


def check(response: httpx.Response) -> None:
    """Raise the typed error for a 4xx/5xx answer, carrying the broker's message and problems."""
    if response.status_code < 400:
        return
    raise error_for(response)


def error_for(response: httpx.Response) -> BrokerError:
    status = response.status_code
    url = str(response.request.url) if response.request is not None else None
    doc = document(response)
    if isinstance(doc, dict) and "phase" in doc and status == 400:
        # POST /direct refused: a FAILED session whose messages say why.
        session = _decode_session(doc)
        text = _first_text(session.meta.messages) or "The broker will not run this request"
        return Rejected(text, status=status, messages=session.meta.messages, url=url)
    message = ""
    error = None
    problems: list[Problem] = []
    if isinstance(doc, dict):
        message = str(doc.get("message") or doc.get("detail") or "")
        error = str(doc["error"]) if doc.get("error") else None
        for item in doc.get("problems") or []:
            if isinstance(item, dict):
                problems.append(Problem(str(item.get("path", "")), str(item.get("message", ""))))
    elif isinstance(doc, str):
        message = doc.strip()
    if not message:
        message = error or response.reason_phrase or "no reason given"
    if status == 404 and not isinstance(doc, dict):
        message = f"Not found: {url}"
    if status >= 500:
        message = f"The broker failed ({status}): {message}"
    cls = _ERRORS.get(status, BrokerError)
    return cls(message, status=status, error=error, problems=problems, url=url)


def _first_text(messages: list[Message]) -> str | None:
    return messages[0].rendered if messages else None


def _decoded(kind: str, doc: Any) -> Any:
    if not isinstance(doc, dict):
        raise BrokerError(f"The broker's answer is not a {kind} document")
    return doc


def _decode_session(doc: Any) -> Session:
    doc = _decoded("session", doc)
    try:
        return _READER.decode_session(doc)
    except WireError as exc:
        raise BrokerError(f"The broker's session could not be read: {exc}") from None


def _decode_offerset(doc: Any) -> OfferSet:
    doc = _decoded("offer set", doc)
    try:
        return _READER.decode_offerset(doc)
    except WireError as exc:
        raise BrokerError(f"The broker's offer set could not be read: {exc}") from None


def session_from(response: httpx.Response) -> Session:
    check(response)
    return _decode_session(document(response))


def offerset_from(response: httpx.Response) -> OfferSet:
    check(response)
    return _decode_offerset(document(response))


def summaries_from(response: httpx.Response) -> tuple[list[SessionSummary], int, str | None]:
    """The rows of a session list, the total, and the link to the next page (if any)."""
    check(response)
    doc = document(response)
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise BrokerError("The broker's session list is not a {total, items} document")
    rows: list[SessionSummary] = []
    for item in doc["items"]:
        try:
            rows.append(
                SessionSummary(
                    uuid=str(item["uuid"]),
                    phase=SessionPhase(str(item["phase"]).upper()),
                    url=item.get("url"),
                    offerset=item.get("offerset"),
                    owner=item.get("owner"),
                    created=_instant(item.get("created")),
                    modified=_instant(item.get("modified")),
                    start=_instant(item.get("start")),
                    end=_instant(item.get("end")),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BrokerError(f"A row of the broker's session list could not be read: {exc}") from None
    total = doc.get("total")
    next_link = doc.get("next")
    return (
        rows,
        int(total) if isinstance(total, int) else len(rows),
        next_link if isinstance(next_link, str) else None,
    )


def logs_from(response: httpx.Response) -> str:
    check(response)
    return response.text


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_instant(str(value))
    except TimeSyntaxError:
        return None


# -- rules of the protocol the client relies on ---------------------------------------------------


def no_answer(offerset: OfferSet, url: str | None = None) -> Rejected:
    """The exception for a NO answer, with its reasons."""
    reasons = [
        m for m in offerset.meta.messages if m.level.value in ("ERROR", "WARN")
    ] or offerset.meta.messages
    text = _first_text(reasons) or "The broker answered NO and gave no reason"
    return Rejected(text, messages=reasons, url=url or offerset.meta.url)


def is_no(offerset: OfferSet) -> bool:
    return offerset.result is not Result.YES or not offerset.offers


def failure(session: Session) -> SessionFailed:
    text = _first_text(
        [m for m in session.meta.messages if m.level.value == "ERROR"] or session.meta.messages
    )
    name = session.meta.uuid or "(unknown)"
    return SessionFailed(
        f"Session {name} FAILED" + (f": {text}" if text else ""), session, url=session.meta.url
    )


def wanted(phases: object) -> frozenset[SessionPhase] | None:
    """Normalise the ``phases`` argument of a wait: names or enums; ``None`` means any final phase."""
    if phases is None:
        return None
    items = [phases] if isinstance(phases, str | SessionPhase) else list(phases)  # type: ignore[call-overload]
    out = set()
    for item in items:
        try:
            out.add(item if isinstance(item, SessionPhase) else SessionPhase(str(item).upper()))
        except ValueError:
            raise ValueError(f"[{item}] is not a session phase") from None
    return frozenset(out)


def reached(session: Session, targets: frozenset[SessionPhase] | None) -> bool:
    """Whether a wait is over: the phase is wanted, or final (a final phase never changes again)."""
    return session.phase.is_final or (targets is not None and session.phase in targets)


def base_of(url: str) -> tuple[str, str] | None:
    """Split a session or offer-set URL into (broker base URL, uuid); ``None`` if it is not one."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError:  # e.g. an unclosed [IPv6 address
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    segments = parts.path.rstrip("/").split("/")
    if len(segments) < 2 or segments[-2] not in ("sessions", "offersets") or not segments[-1]:
        return None
    base_path = "/".join(segments[:-2])
    return f"{parts.scheme}://{parts.netloc}{base_path}", segments[-1]


def _past(target: SessionPhase, phase: SessionPhase) -> bool:
    return not target.is_final and not phase.is_final and is_forward(target, phase)


def fingerprint(session: Session) -> tuple[object, ...]:
    """What a watcher compares to tell that a session changed."""
    return (session.phase, session.meta.modified, tuple(c.phase for c in session.components()))


class Outage:
    """How long a follower keeps asking while the broker does not answer: it survives restarts, so a
    watch should too. ``pause`` gives the time to wait before the next try, or raises once the broker
    has been unreachable for longer than ``patience`` seconds."""

    def __init__(self, patience: float) -> None:
        self.patience = patience
        self.since: float | None = None
        self.tries = 0

    def pause(self, error: BrokerUnavailable) -> float:
        now = time.monotonic()
        if self.since is None:
            self.since = now
        if now - self.since >= self.patience:
            raise error
        self.tries += 1
        return float(min(2.0, 0.1 * 2**self.tries, max(0.0, self.since + self.patience - now)))

    def over(self) -> None:
        self.since = None
        self.tries = 0


class Waiter:
    """The wait loop as a small state machine, so that sync and async waits behave the same.

    Each round long-polls with ``?WAIT=..&PHASE=<current>``; a broker that ignores WAIT answers at once
    with the same phase, and then the waiter sleeps ``poll`` seconds before asking again.
    """

    def __init__(
        self,
        uuid: object,
        targets: frozenset[SessionPhase] | None,
        *,
        timeout: float | None,
        poll: float,
        step: float = MAX_WAIT,
    ) -> None:
        self.uuid = uuid
        self.targets = targets
        self.poll = max(0.05, poll)
        self.step = max(1.0, step)
        self.deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        self.sent_at = 0.0

    def remaining(self) -> float:
        return math.inf if self.deadline is None else self.deadline - time.monotonic()

    def done(self, session: Session) -> bool:
        if reached(session, self.targets):
            return True
        return self.targets is not None and any(_past(t, session.phase) for t in self.targets)

    def next_call(self, session: Session) -> Call:
        """The next long-poll, or :class:`WaitTimeout` when the time is up."""
        remaining = self.remaining()
        if remaining <= 0:
            what = (
                "a final phase"
                if self.targets is None
                else " or ".join(sorted(p.value for p in self.targets))
            )
            raise WaitTimeout(
                f"Session {self.uuid} is still {session.phase.value} after waiting; wanted {what}", session
            )
        self.sent_at = time.monotonic()
        return read_session(self.uuid, wait=min(self.step, remaining), phase=session.phase)

    def pause(self, before: Session, after: Session) -> float:
        """How long to sleep before the next round: only when the broker answered early with no change."""
        if self.done(after) or fingerprint(before) != fingerprint(after):
            return 0.0
        elapsed = time.monotonic() - self.sent_at
        return max(0.0, min(self.poll - elapsed, self.remaining()))
