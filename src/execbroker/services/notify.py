"""In-process wake-ups: the engine when work arrives, long-polls when a session changes.

Several processes on one database do not share these; they fall back to polling the database at a
short interval, so a wake-up is an optimisation, never a requirement.
"""

from __future__ import annotations

import asyncio
import contextlib


class Notifier:
    def __init__(self) -> None:
        self._engine = asyncio.Event()
        self._changed = asyncio.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[asyncio.Future[None]] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def wake_engine(self) -> None:
        """Tell the engine that something is due now (safe from any thread)."""
        self._call(self._engine.set)

    async def engine_wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._engine.wait(), timeout)
        self._engine.clear()

    def session_changed(self) -> None:
        """Wake every long-poll waiting in this process (safe from any thread)."""
        self._call(self._notify_all)

    def _notify_all(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        task = asyncio.ensure_future(notify())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def wait_change(self, timeout: float) -> None:
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)

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
