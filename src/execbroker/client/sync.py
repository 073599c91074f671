"""The blocking client: one broker, one :class:`httpx.Client`.

>>> with Client("http://127.0.0.1:8080") as broker:          # doctest: +SKIP
...     offers = broker.submit("request.yaml").raise_if_no()
...     session = offers.offers[0].accept().wait()
...     session.raise_if_error()
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from uuid import UUID

import httpx

from execbroker.client import protocol
from execbroker.client.errors import BrokerUnavailable
from execbroker.client.loading import RequestSource, request_document
from execbroker.client.protocol import Call, SessionSummary
from execbroker.model.components import OfferSet, Session
from execbroker.model.phases import SessionPhase

PhaseSet = Iterable[SessionPhase | str] | SessionPhase | str | None


class Client:
    """Talks to one broker over HTTP, v1.0 on the wire. Every method raises a
    :class:`~execbroker.client.errors.BrokerError` subclass when the broker says no or cannot be reached."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.base_url + "/", transport=transport, headers=headers, follow_redirects=False
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    # -- transport ----------------------------------------------------------------------------

    def _send(self, call: Call, url: str | None = None, hops: int = 0) -> httpx.Response:
        try:
            response = self._http.request(
                call.method,
                url or call.path,
                params=call.params or None,
                content=call.body,
                headers=call.headers,
                timeout=call.timeout(self.timeout),
            )
        except httpx.TransportError as exc:
            raise protocol.unavailable(self.base_url, exc) from None
        target = protocol.redirect_target(response)
        if target is not None:
            protocol.check_hops(hops, target)
            return self._send(Call("GET", call.path, accept=call.accept), url=target, hops=hops + 1)
        return response

    # -- offers -------------------------------------------------------------------------------

    def request_offers(self, request: RequestSource, *, check: bool = False) -> OfferSet:
        """Ask for offers. A NO is an answer, not an error: see ``result`` and ``meta.messages``,
        or pass ``check=True`` to raise :class:`~execbroker.client.errors.Rejected` instead."""
        offerset = protocol.offerset_from(self._send(protocol.offer_request(request_document(request))))
        if check and protocol.is_no(offerset):
            raise protocol.no_answer(offerset)
        return offerset

    def offerset(self, uuid: str | UUID) -> OfferSet:
        return protocol.offerset_from(self._send(protocol.read_offerset(uuid)))

    def direct(self, request: RequestSource) -> Session:
        """Run at the earliest slot without choosing an offer; a refusal raises ``Rejected``."""
        return protocol.session_from(self._send(protocol.direct_request(request_document(request))))

    # -- sessions -----------------------------------------------------------------------------

    def session(self, uuid: str | UUID) -> Session:
        return protocol.session_from(self._send(protocol.read_session(uuid)))

    def set_phase(self, uuid: str | UUID, phase: SessionPhase) -> Session:
        return protocol.session_from(self._send(protocol.update_phase(uuid, phase)))

    def accept(self, uuid: str | UUID) -> Session:
        return self.set_phase(uuid, SessionPhase.ACCEPTED)

    def reject(self, uuid: str | UUID) -> Session:
        return self.set_phase(uuid, SessionPhase.REJECTED)

    def cancel(self, uuid: str | UUID) -> Session:
        return self.set_phase(uuid, SessionPhase.CANCELLED)

    def wait(
        self,
        uuid: str | UUID,
        phases: PhaseSet = None,
        *,
        timeout: float | None = None,
        poll: float = 1.0,
    ) -> Session:
        """Block until the session is in (or past) one of ``phases``, or in any final phase.

        ``phases=None`` waits for a final phase. Long-polls when the broker supports ``?WAIT=``, polls
        every ``poll`` seconds otherwise. Raises ``WaitTimeout`` after ``timeout`` seconds. A final phase
        that was not wanted ends the wait too: check ``phase`` or call ``raise_if_error``.
        """
        waiter = protocol.Waiter(uuid, protocol.wanted(phases), timeout=timeout, poll=poll)
        session = self.session(uuid)
        while not waiter.done(session):
            before = session
            session = protocol.session_from(self._send(waiter.next_call(session)))
            time.sleep(waiter.pause(before, session))
        return session

    def follow(
        self,
        uuid: str | UUID,
        *,
        timeout: float | None = None,
        poll: float = 1.0,
        step: float = 5.0,
        patience: float = 60.0,
    ) -> Iterator[Session]:
        """Yield the session now and at every change (phase, component phases, modified) until final.

        While the broker does not answer (a restart), keep asking for up to ``patience`` seconds.
        """
        waiter = protocol.Waiter(uuid, None, timeout=timeout, poll=poll, step=step)
        outage = protocol.Outage(patience)
        session = self.session(uuid)
        yield session
        while not waiter.done(session):
            before = session
            try:
                answer = self._send(waiter.next_call(session))
            except BrokerUnavailable as error:
                time.sleep(outage.pause(error))
                continue
            outage.over()
            session = protocol.session_from(answer)
            if protocol.fingerprint(before) != protocol.fingerprint(session):
                yield session
            time.sleep(waiter.pause(before, session))

    def sessions(
        self,
        phase: PhaseSet = None,
        *,
        owner: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[SessionSummary]:
        """The broker's sessions, newest first as the broker orders them, at most ``limit`` rows."""
        phases = sorted(protocol.wanted(phase) or (), key=lambda p: p.value) or None
        rows: list[SessionSummary] = []
        while len(rows) < limit:
            page = min(500, limit - len(rows))
            call = protocol.list_sessions(phases=phases, owner=owner, limit=page, offset=offset + len(rows))
            items, _total, next_link = protocol.summaries_from(self._send(call))
            rows.extend(items)
            if not items or next_link is None:
                break
        return rows[:limit]

    def logs(self, uuid: str | UUID) -> str:
        return protocol.logs_from(self._send(protocol.read_logs(uuid)))

    # -- pyvo-like handles --------------------------------------------------------------------

    def submit(self, request: RequestSource) -> OfferSetHandle:
        """Like :meth:`request_offers`, but the offers come back as handles with ``accept()``."""
        return OfferSetHandle(self, self.request_offers(request))

    def handle(self, session: Session | str | UUID) -> SessionHandle:
        """A handle on a session, from its model object or its uuid (read now)."""
        return SessionHandle(self, session if isinstance(session, Session) else self.session(session))


class SessionHandle:
    """A session (or an offer) on a broker, with the verbs that act on it.

    ``session`` is the last state seen; each verb replaces it with the broker's answer.
    """

    def __init__(self, client: Client, session: Session) -> None:
        self.client = client
        self.session = session

    @property
    def uuid(self) -> str:
        return str(self.session.meta.uuid)

    @property
    def phase(self) -> SessionPhase:
        return self.session.phase

    def __repr__(self) -> str:
        return f"<SessionHandle {self.uuid} {self.phase.value} at {self.client.base_url}>"

    def refresh(self) -> SessionHandle:
        self.session = self.client.session(self.uuid)
        return self

    def accept(self) -> SessionHandle:
        self.session = self.client.accept(self.uuid)
        return self

    def reject(self) -> SessionHandle:
        self.session = self.client.reject(self.uuid)
        return self

    def cancel(self) -> SessionHandle:
        self.session = self.client.cancel(self.uuid)
        return self

    def wait(
        self, phases: PhaseSet = None, *, timeout: float | None = None, poll: float = 1.0
    ) -> SessionHandle:
        self.session = self.client.wait(self.uuid, phases, timeout=timeout, poll=poll)
        return self

    def logs(self) -> str:
        return self.client.logs(self.uuid)

    def raise_if_error(self) -> SessionHandle:
        """Raise :class:`~execbroker.client.errors.SessionFailed` if the session FAILED."""
        if self.session.phase is SessionPhase.FAILED:
            raise protocol.failure(self.session)
        return self


class OfferSetHandle:
    """An answer to an offer request, with its offers as :class:`SessionHandle` objects."""

    def __init__(self, client: Client, offerset: OfferSet) -> None:
        self.client = client
        self.offerset = offerset
        self.offers = [SessionHandle(client, offer) for offer in offerset.offers]

    @property
    def yes(self) -> bool:
        return not protocol.is_no(self.offerset)

    def raise_if_no(self) -> OfferSetHandle:
        """Raise :class:`~execbroker.client.errors.Rejected` with the broker's reasons on a NO."""
        if not self.yes:
            raise protocol.no_answer(self.offerset)
        return self
