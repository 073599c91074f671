"""The asynchronous client: the same calls as :class:`~execbroker.client.sync.Client`, awaited.

Useful to ask several brokers at once (``asyncio.gather``), which is what ``execbroker offers`` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from uuid import UUID

import httpx

from execbroker.client import protocol
from execbroker.client.errors import BrokerUnavailable
from execbroker.client.loading import RequestSource, request_document
from execbroker.client.protocol import Call, SessionSummary
from execbroker.client.sync import PhaseSet
from execbroker.model.components import OfferSet, Session
from execbroker.model.phases import SessionPhase


class AsyncClient:
    """Talks to one broker over HTTP with :class:`httpx.AsyncClient`; see the sync client for each method."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/", transport=transport, headers=headers, follow_redirects=False
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient({self.base_url!r})"

    async def _send(self, call: Call, url: str | None = None, hops: int = 0) -> httpx.Response:
        try:
            response = await self._http.request(
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
            return await self._send(Call("GET", call.path, accept=call.accept), url=target, hops=hops + 1)
        return response

    async def request_offers(self, request: RequestSource, *, check: bool = False) -> OfferSet:
        offerset = protocol.offerset_from(await self._send(protocol.offer_request(request_document(request))))
        if check and protocol.is_no(offerset):
            raise protocol.no_answer(offerset)
        return offerset

    async def offerset(self, uuid: str | UUID) -> OfferSet:
        return protocol.offerset_from(await self._send(protocol.read_offerset(uuid)))

    async def direct(self, request: RequestSource) -> Session:
        return protocol.session_from(await self._send(protocol.direct_request(request_document(request))))

    async def session(self, uuid: str | UUID) -> Session:
        return protocol.session_from(await self._send(protocol.read_session(uuid)))

    async def set_phase(self, uuid: str | UUID, phase: SessionPhase) -> Session:
        return protocol.session_from(await self._send(protocol.update_phase(uuid, phase)))

    async def accept(self, uuid: str | UUID) -> Session:
        return await self.set_phase(uuid, SessionPhase.ACCEPTED)

    async def reject(self, uuid: str | UUID) -> Session:
        return await self.set_phase(uuid, SessionPhase.REJECTED)

    async def cancel(self, uuid: str | UUID) -> Session:
        return await self.set_phase(uuid, SessionPhase.CANCELLED)

    async def wait(
        self,
        uuid: str | UUID,
        phases: PhaseSet = None,
        *,
        timeout: float | None = None,
        poll: float = 1.0,
    ) -> Session:
        waiter = protocol.Waiter(uuid, protocol.wanted(phases), timeout=timeout, poll=poll)
        session = await self.session(uuid)
        while not waiter.done(session):
            before = session
            session = protocol.session_from(await self._send(waiter.next_call(session)))
            await asyncio.sleep(waiter.pause(before, session))
        return session

    async def follow(
        self,
        uuid: str | UUID,
        *,
        timeout: float | None = None,
        poll: float = 1.0,
        step: float = 5.0,
        patience: float = 60.0,
    ) -> AsyncIterator[Session]:
        waiter = protocol.Waiter(uuid, None, timeout=timeout, poll=poll, step=step)
        outage = protocol.Outage(patience)
        session = await self.session(uuid)
        yield session
        while not waiter.done(session):
            before = session
            try:
                answer = await self._send(waiter.next_call(session))
            except BrokerUnavailable as error:
                await asyncio.sleep(outage.pause(error))
                continue
            outage.over()
            session = protocol.session_from(answer)
            if protocol.fingerprint(before) != protocol.fingerprint(session):
                yield session
            await asyncio.sleep(waiter.pause(before, session))

    async def sessions(
        self,
        phase: PhaseSet = None,
        *,
        owner: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[SessionSummary]:
        phases = sorted(protocol.wanted(phase) or (), key=lambda p: p.value) or None
        rows: list[SessionSummary] = []
        while len(rows) < limit:
            page = min(500, limit - len(rows))
            call = protocol.list_sessions(phases=phases, owner=owner, limit=page, offset=offset + len(rows))
            items, _total, next_link = protocol.summaries_from(await self._send(call))
            rows.extend(items)
            if not items or next_link is None:
                break
        return rows[:limit]

    async def logs(self, uuid: str | UUID) -> str:
        return protocol.logs_from(await self._send(protocol.read_logs(uuid)))

    async def submit(self, request: RequestSource) -> AsyncOfferSetHandle:
        return AsyncOfferSetHandle(self, await self.request_offers(request))

    async def handle(self, session: Session | str | UUID) -> AsyncSessionHandle:
        return AsyncSessionHandle(
            self, session if isinstance(session, Session) else await self.session(session)
        )


class AsyncSessionHandle:
    """The async twin of :class:`~execbroker.client.sync.SessionHandle`."""

    def __init__(self, client: AsyncClient, session: Session) -> None:
        self.client = client
        self.session = session

    @property
    def uuid(self) -> str:
        return str(self.session.meta.uuid)

    @property
    def phase(self) -> SessionPhase:
        return self.session.phase

    def __repr__(self) -> str:
        return f"<AsyncSessionHandle {self.uuid} {self.phase.value} at {self.client.base_url}>"

    async def refresh(self) -> AsyncSessionHandle:
        self.session = await self.client.session(self.uuid)
        return self

    async def accept(self) -> AsyncSessionHandle:
        self.session = await self.client.accept(self.uuid)
        return self

    async def reject(self) -> AsyncSessionHandle:
        self.session = await self.client.reject(self.uuid)
        return self

    async def cancel(self) -> AsyncSessionHandle:
        self.session = await self.client.cancel(self.uuid)
        return self

    async def wait(
        self, phases: PhaseSet = None, *, timeout: float | None = None, poll: float = 1.0
    ) -> AsyncSessionHandle:
        self.session = await self.client.wait(self.uuid, phases, timeout=timeout, poll=poll)
        return self

    async def logs(self) -> str:
        return await self.client.logs(self.uuid)

    def raise_if_error(self) -> AsyncSessionHandle:
        if self.session.phase is SessionPhase.FAILED:
            raise protocol.failure(self.session)
        return self


class AsyncOfferSetHandle:
    """The async twin of :class:`~execbroker.client.sync.OfferSetHandle`."""

    def __init__(self, client: AsyncClient, offerset: OfferSet) -> None:
        self.client = client
        self.offerset = offerset
        self.offers = [AsyncSessionHandle(client, offer) for offer in offerset.offers]

    @property
    def yes(self) -> bool:
        return not protocol.is_no(self.offerset)

    def raise_if_no(self) -> AsyncOfferSetHandle:
        if not self.yes:
            raise protocol.no_answer(self.offerset)
        return self
