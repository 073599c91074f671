"""Resource amounts: the four quantities a pool has and a session takes.

Kept as one small value type (rather than four loose ints) so that capacity arithmetic reads as
arithmetic, and so that every place that adds or compares capacity treats all four resources alike.
Memory and storage are whole GiB: fractions of a GiB are not worth the rounding bugs they invite.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: The resources in the order used by every array in this package (row i of a profile is RESOURCES[i]).
RESOURCES: tuple[str, ...] = ("cores", "memory", "storage", "gpus")

#: How each resource is spelled in messages, after its number ("4 cores", "8 GiB of memory").
UNITS: dict[str, str] = {
    "cores": "cores",
    "memory": "GiB of memory",
    "storage": "GiB of storage",
    "gpus": "GPUs",
}


@dataclass(frozen=True, slots=True)
class Amounts:
    """Cores, memory (GiB), storage (GiB) and GPUs, as whole numbers."""

    cores: int = 0
    memory: int = 0
    storage: int = 0
    gpus: int = 0

    def __add__(self, other: Amounts) -> Amounts:
        return Amounts(
            self.cores + other.cores,
            self.memory + other.memory,
            self.storage + other.storage,
            self.gpus + other.gpus,
        )

    def __sub__(self, other: Amounts) -> Amounts:
        return Amounts(
            self.cores - other.cores,
            self.memory - other.memory,
            self.storage - other.storage,
            self.gpus - other.gpus,
        )

    def __iter__(self) -> Iterator[int]:
        return iter((self.cores, self.memory, self.storage, self.gpus))

    def fits_within(self, other: Amounts) -> bool:
        """True when no resource of ``self`` is larger than the same resource of ``other``."""
        return (
            self.cores <= other.cores
            and self.memory <= other.memory
            and self.storage <= other.storage
            and self.gpus <= other.gpus
        )

    def is_negative(self) -> bool:
        """True when any resource is below zero."""
        return self.cores < 0 or self.memory < 0 or self.storage < 0 or self.gpus < 0

    def minimum(self, other: Amounts) -> Amounts:
        """The resource-wise minimum."""
        return Amounts(
            min(self.cores, other.cores),
            min(self.memory, other.memory),
            min(self.storage, other.storage),
            min(self.gpus, other.gpus),
        )

    def as_array(self) -> NDArray[np.int64]:
        """The amounts as an int64 vector in :data:`RESOURCES` order."""
        return np.array((self.cores, self.memory, self.storage, self.gpus), dtype=np.int64)

    @classmethod
    def from_array(cls, values: NDArray[np.int64]) -> Amounts:
        """The inverse of :meth:`as_array`."""
        cores, memory, storage, gpus = (int(v) for v in values)
        return cls(cores, memory, storage, gpus)

    def get(self, resource: str) -> int:
        """The amount of one resource by its name in :data:`RESOURCES`."""
        value: int = getattr(self, resource)
        return value

    def describe(self) -> str:
        """Plain words for messages: ``4 cores, 8 GiB of memory, 10 GiB of storage`` (GPUs only if any)."""
        parts = [f"{self.cores} cores", f"{self.memory} GiB of memory", f"{self.storage} GiB of storage"]
        if self.gpus:
            parts.append(f"{self.gpus} GPUs")
        return ", ".join(parts)


ZERO_AMOUNTS = Amounts()
