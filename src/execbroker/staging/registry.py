"""Which stager handles which data kind, and one shared throughput book.

A new data kind is one new stager module plus one line in :meth:`StagerRegistry.from_config`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from execbroker.model.components import Data, DataKind
from execbroker.model.messages import UNKNOWN_KIND, Level, Message
from execbroker.staging.base import Staged, Stager
from execbroker.staging.config import StagingConfig
from execbroker.staging.http import HttpStager
from execbroker.staging.ivoa import IvoaStager
from execbroker.staging.rucio import RucioStager, SkaoStager
from execbroker.staging.s3 import S3Stager
from execbroker.staging.throughput import ThroughputBook


class StagerRegistry:
    """``StagerRegistry(config)`` gives the standard stagers sharing one throughput book.

    ``saved_throughput`` is a previous ``book.to_dict()``; ``book`` and ``stagers`` replace the
    defaults (tests, or a deployment with a stager of its own).
    """

    def __init__(
        self,
        config: StagingConfig,
        book: ThroughputBook | None = None,
        stagers: list[Stager] | None = None,
        *,
        saved_throughput: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.book = book or ThroughputBook.from_config(config, saved_throughput)
        if stagers is None:
            stagers = [
                HttpStager(config, self.book),
                S3Stager(config, self.book),
                RucioStager(config, self.book),
                SkaoStager(config, self.book),
                IvoaStager(config, self.book),
            ]
        self._by_kind: dict[DataKind, Stager] = {}
        for stager in stagers:
            for kind in stager.kinds:
                self._by_kind[kind] = stager

    @classmethod
    def from_config(
        cls, config: StagingConfig, saved_throughput: dict[str, Any] | None = None
    ) -> StagerRegistry:
        return cls(config, saved_throughput=saved_throughput)

    def for_kind(self, kind: DataKind | None) -> Stager | None:
        return self._by_kind.get(kind) if kind is not None else None

    def check(self, data: Data) -> list[Message]:
        stager = self.for_kind(data.kind)
        if stager is None:
            return [
                Message.make(
                    UNKNOWN_KIND,
                    Level.ERROR,
                    "Data resource [${name}] is of a kind [${type}] this broker cannot stage",
                    name=data.label,
                    type=data.kind.value if data.kind else data.kind_uri or "unknown",
                )
            ]
        return stager.check(data)

    def estimate(self, data: Data) -> timedelta:
        """Staging time for ``data``; zero for a kind no stager handles (check() refuses those)."""
        stager = self.for_kind(data.kind)
        return stager.estimate(data) if stager else timedelta(0)

    def record(self, staged: Staged) -> bool:
        """Feed a measurement into the shared book."""
        return self.book.record(staged)
