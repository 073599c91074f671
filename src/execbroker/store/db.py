"""Engines, transactions and the threads they run on.

The store is synchronous SQLAlchemy Core; the async API reaches it through executors, one thread hop per
transaction. On SQLite every write transaction runs on ONE thread with ``BEGIN IMMEDIATE`` (one writer,
as SQLite wants; several processes on one file then queue on the database lock instead of failing
half-way). On PostgreSQL writes run on a small pool of threads and serialise per resource pool with
row locks taken in a fixed order (see :mod:`execbroker.store.ledger`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

T = TypeVar("T")

_MIGRATIONS = Path(__file__).parent / "migrations"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class Database:
    """One database: engine, migrations, and the executors that transactions run on."""

    def __init__(self, url: str, *, pool_size: int = 8, inline_writes: bool | None = None) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                url,
                json_serializer=_json_dumps,
                json_deserializer=orjson.loads,
                connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=pool_size + 2,
                max_overflow=4,
            )
            self._install_sqlite_hooks(self.engine)
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="db-writer")
        else:
            self.engine = create_engine(
                url,
                json_serializer=_json_dumps,
                json_deserializer=orjson.loads,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
            )
            self._writer = ThreadPoolExecutor(pool_size, thread_name_prefix="db-writer")
        self._reader = ThreadPoolExecutor(pool_size, thread_name_prefix="db-reader")
        #: Run write transactions on the event loop's own thread. With SQLite's single writer this
        #: is the fastest way (no thread hop, no fight for the GIL); the transactions are short.
        self.inline_writes = self.is_sqlite if inline_writes is None else inline_writes

    @staticmethod
    def _install_sqlite_hooks(engine: Engine) -> None:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide where transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            mode = conn.info.get("begin_mode", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

    # -- transactions -------------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite); commits on success."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.info["begin_mode"] = "IMMEDIATE"
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("begin_mode", None)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    async def run_write(
        self,
        fn: Callable[[Connection], T],
        *,
        retries: int = 5,
        on_error: Callable[[], None] | None = None,
    ) -> T:
        """Run ``fn`` in a write transaction on the writer thread(s); retry on lock contention.

        ``on_error`` runs whenever an attempt fails (before a retry too): callers that keep state
        beside the database (the ledger's profiles) drop it there.
        """
        if self.inline_writes:
            return self.write_sync(fn, retries, on_error)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self.write_sync, fn, retries, on_error)

    def write_sync(
        self, fn: Callable[[Connection], T], retries: int = 5, on_error: Callable[[], None] | None = None
    ) -> T:
        delay = 0.01
        for attempt in range(retries + 1):
            try:
                with self.write() as conn:
                    return fn(conn)
            except OperationalError as exc:
                if on_error is not None:
                    on_error()
                if attempt == retries or not _is_retryable(exc):
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except BaseException:
                if on_error is not None:
                    on_error()
                raise
        raise AssertionError("unreachable")

    async def run_read(self, fn: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, self.read_sync, fn)

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        with self.read() as conn:
            return fn(conn)

    # -- lifecycle ------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest revision. Never drops data."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def head_revision() -> str | None:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        return ScriptDirectory.from_config(config).get_current_head()

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._reader.shutdown(wait=True)
        self.engine.dispose()


def _is_retryable(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return any(
        marker in text
        for marker in ("database is locked", "deadlock detected", "could not serialize", "busy")
    )
