"""In-process wake-ups: the engine when work arrives, long-polls when a session changes.

Several processes on one database do not share these; long-polls fall back to one shared poll of the
database at a short interval (see ``SessionService``), so a wake-up is an optimisation, never a
requirement.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable


class Notifier:
    def __init__(self) -> None:
        self._engine = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        #: session uuid -> the long-polls waiting on it
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def wake_engine(self) -> None:
        """Tell the engine that something is due now (safe from any thread)."""
        self._call(self._engine.set)

    async def engine_wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._engine.wait(), timeout)
        self._engine.clear()

    def session_changed(self, uuids: Iterable[str]) -> None:
        """Wake the long-polls on these sessions (safe from any thread)."""
        keys = list(uuids)
        self._call(lambda: self._wake(keys))

    def _wake(self, keys: list[str]) -> None:
        for key in keys:
            for future in self._waiters.pop(key, ()):
                if not future.done():
                    future.set_result(None)

    async def wait_change(self, uuid: str, timeout: float) -> bool:
        """Wait until :meth:`session_changed` names ``uuid`` (True) or ``timeout`` passes (False)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = self._waiters.setdefault(uuid, set())
        waiting.add(future)
        try:
            await asyncio.wait_for(future, max(0.0, timeout))
            return True
        except TimeoutError:
            return False
        finally:
            waiting.discard(future)
            if not waiting and self._waiters.get(uuid) is waiting:
                del self._waiters[uuid]

    def watched(self) -> list[str]:
        """The sessions some long-poll is waiting on."""
        return list(self._waiters)

    def _call(self, fn: object) -> None:
        assert callable(fn)
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn()
        else:
            loop.call_soon_threadsafe(fn)
