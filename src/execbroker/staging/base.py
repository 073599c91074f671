"""The interface of a stager: one module per data source (http, s3, rucio/skao, ivoa).

A stager checks a data resource against its own rules (required fields, allowed endpoints), estimates
how long staging will take from the data size and the configured or measured throughput of the
source, and stages the data into a directory on the platform host.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from execbroker.model.components import Data, DataKind
from execbroker.model.messages import Message


@dataclass(slots=True)
class Staged:
    """What staging one data resource produced."""

    path: Path
    bytes: int
    seconds: float
    source: str


class StagingError(Exception):
    """Staging failed; ``message`` says what and where, for the session's messages."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.rendered)
        self.message = message


class Stager(abc.ABC):
    #: The data kinds this stager handles.
    kinds: tuple[DataKind, ...] = ()

    @abc.abstractmethod
    def check(self, data: Data) -> list[Message]:
        """Why this data resource cannot be staged here (empty: it can)."""

    @abc.abstractmethod
    def estimate(self, data: Data) -> timedelta:
        """How long staging will take."""

    @abc.abstractmethod
    async def stage(self, data: Data, target: Path) -> Staged:
        """Stage the data into directory ``target`` (created by the caller). Raise StagingError."""

    def source_key(self, data: Data) -> str:
        """The key under which throughput is measured (an endpoint, an RSE)."""
        return self.kinds[0].value if self.kinds else "unknown"
