"""The estimate every stager shares: fixed overhead plus declared size over the source's throughput.

No network call is made at estimate time (an offer request must be answered quickly and must not
depend on a remote service being up), so the size is what the request declares, or the configured
default size when it declares none.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from execbroker.model.components import Data
from execbroker.staging.base import Staged, Stager
from execbroker.staging.config import StagingConfig
from execbroker.staging.throughput import ThroughputBook


def _as_size(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


class EstimatingStager(Stager):
    """A stager with a config and a throughput book; subclasses say how big their data is."""

    def __init__(self, config: StagingConfig, book: ThroughputBook) -> None:
        self.config = config
        self.book = book

    def declared_size(self, data: Data) -> int | None:
        """Bytes the request declares for ``data`` (generic ``size``/``datasize`` hints)."""
        for key in ("datasize", "size", "bytes"):
            size = _as_size(data.spec.get(key))
            if size is not None:
                return size
        return None

    def size(self, data: Data) -> int:
        declared = self.declared_size(data)
        return self.config.default_size if declared is None else declared

    def estimate(self, data: Data) -> timedelta:
        return self.book.estimate(self.source_key(data), self.size(data), self.config.overhead_seconds)

    @staticmethod
    def clock() -> float:
        return time.monotonic()

    def staged(self, path: Path, nbytes: int, started: float, source: str) -> Staged:
        return Staged(path=path, bytes=nbytes, seconds=time.monotonic() - started, source=source)
