"""What each data source delivers, learnt from what staging actually took.

Offers promise a preparation time, so a source that is slower than configured makes the broker
late and one that is faster makes it book the platform for nothing. The book keeps an
exponentially weighted moving average of the measured throughput per source key; until a source
has been measured the configured value stands. The engine persists :meth:`ThroughputBook.to_dict`
so that learning survives restarts.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from execbroker.staging.base import Staged
from execbroker.staging.config import StagingConfig

_FORMAT = 1


class ThroughputBook:
    """Throughput per source key: configured defaults, refined by measurements."""

    def __init__(
        self,
        default_throughput: float,
        configured: dict[str, float] | None = None,
        *,
        learning_rate: float = 0.3,
        min_sample_bytes: int = 256 * 1024,
    ) -> None:
        self.default_throughput = default_throughput
        self.configured = dict(configured or {})
        self.learning_rate = learning_rate
        self.min_sample_bytes = min_sample_bytes
        self._learnt: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: StagingConfig, saved: dict[str, Any] | None = None) -> ThroughputBook:
        book = cls(
            config.default_throughput,
            config.throughput,
            learning_rate=config.learning_rate,
            min_sample_bytes=config.min_sample_bytes,
        )
        if saved:
            book.load(saved)
        return book

    def throughput(self, source: str) -> float:
        """Bytes per second expected from ``source``."""
        with self._lock:
            learnt = self._learnt.get(source)
        if learnt is not None:
            return learnt[0]
        if source in self.configured:
            return self.configured[source]
        scheme = source.split(":", 1)[0]
        return self.configured.get(scheme, self.default_throughput)

    def samples(self, source: str) -> int:
        with self._lock:
            learnt = self._learnt.get(source)
        return learnt[1] if learnt else 0

    def estimate(self, source: str, size: int, overhead_seconds: float) -> timedelta:
        """Overhead plus the time ``size`` bytes take at the source's throughput."""
        return timedelta(seconds=overhead_seconds + size / self.throughput(source))

    def observe(self, source: str, nbytes: int, seconds: float) -> bool:
        """Feed one measurement; returns whether it was used (tiny transfers are not)."""
        if nbytes < self.min_sample_bytes or nbytes <= 0 or seconds < 0:
            return False
        measured = nbytes / max(seconds, 1e-3)
        with self._lock:
            old = self._learnt.get(source)
            if old is None:
                self._learnt[source] = (measured, 1)
            else:
                value = old[0] + self.learning_rate * (measured - old[0])
                self._learnt[source] = (value, old[1] + 1)
        return True

    def record(self, staged: Staged) -> bool:
        return self.observe(staged.source, staged.bytes, staged.seconds)

    def to_dict(self) -> dict[str, Any]:
        """The learnt part only (configuration is not state)."""
        with self._lock:
            sources = {k: {"bytes_per_second": v, "samples": n} for k, (v, n) in self._learnt.items()}
        return {"format": _FORMAT, "sources": sources}

    def load(self, data: dict[str, Any]) -> None:
        """Replace the learnt values with saved ones; malformed entries are skipped."""
        sources = data.get("sources", {}) if isinstance(data, dict) else {}
        learnt: dict[str, tuple[float, int]] = {}
        for key, entry in sources.items():
            try:
                value = float(entry["bytes_per_second"])
                count = int(entry.get("samples", 1))
            except (KeyError, TypeError, ValueError):
                continue
            if value > 0:
                learnt[str(key)] = (value, count)
        with self._lock:
            self._learnt = learnt

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], default_throughput: float, configured: dict[str, float] | None = None
    ) -> ThroughputBook:
        book = cls(default_throughput, configured)
        book.load(data)
        return book
