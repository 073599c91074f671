"""The capacity model: what the platform has, what one session may take, and how finely we plan.

Durations may be written as ISO-8601 strings (``PT1M``, ``P7D``), as seconds (``60``) or as
``timedelta`` values, so that YAML config files can say what they mean in the standard's own notation.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from execbroker.model.times import TimeSyntaxError, parse_duration
from execbroker.scheduling.amounts import Amounts


def _coerce_duration(value: Any) -> Any:
    """Accept ``"PT1M"`` or a number of seconds; leave timedeltas (and rubbish, for pydantic) alone."""
    if isinstance(value, bool):
        raise ValueError("a duration cannot be true or false")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return timedelta(seconds=float(text))
        except ValueError:
            pass
        try:
            return parse_duration(text)
        except TimeSyntaxError as exc:
            raise ValueError(str(exc)) from None
    return value


Duration = Annotated[timedelta, BeforeValidator(_coerce_duration)]


class PoolConfig(BaseModel):
    """One resource pool: a set of machines a session may be placed on (a session fits in ONE pool)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    cores: int = Field(gt=0, description="CPU cores in the pool")
    memory: int = Field(gt=0, description="memory in GiB")
    storage: int = Field(ge=0, description="storage in GiB")
    gpus: int = Field(default=0, ge=0)

    @property
    def totals(self) -> Amounts:
        return Amounts(self.cores, self.memory, self.storage, self.gpus)


class LimitsConfig(BaseModel):
    """What one session may take at most, whatever is free (``None``: no limit beyond the pool)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_cores: int | None = Field(default=None, gt=0)
    max_memory: int | None = Field(default=None, gt=0)
    max_storage: int | None = Field(default=None, ge=0)
    max_duration: Duration | None = timedelta(days=1)

    @field_validator("max_duration")
    @classmethod
    def _positive_duration(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError(f"max_duration must be longer than zero, not {value}")
        return value

    def cap(self, resource: str) -> int | None:
        """The per-session cap of one resource of :data:`~execbroker.scheduling.amounts.RESOURCES`."""
        return {"cores": self.max_cores, "memory": self.max_memory, "storage": self.max_storage}.get(resource)


def _default_pools() -> list[PoolConfig]:
    return [PoolConfig(name="default", cores=16, memory=64, storage=1000)]


class CapacityConfig(BaseModel):
    """The whole capacity model of one broker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pools: list[PoolConfig] = Field(default_factory=_default_pools)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    resolution: Duration = timedelta(seconds=60)
    horizon: Duration = timedelta(days=7)
    offers_per_request: int = Field(default=4, ge=1)
    offer_lifetime: Duration = timedelta(seconds=300)
    #: The least time an offer leaves its client to accept it before its preparation must begin: the
    #: earliest offer starts no sooner than this plus the preparation time from now. An offer expires
    #: after ``offer_lifetime`` or when its preparation is due, whichever comes first.
    min_accept_time: Duration = timedelta(seconds=30)
    default_duration: Duration = timedelta(hours=2)
    default_cores: int = Field(default=1, ge=1)
    default_memory: int = Field(default=1, ge=1)
    max_duration_factor: float = Field(default=2.0, ge=1.0)
    release_time: Duration = timedelta(seconds=10)

    @field_validator("pools")
    @classmethod
    def _unique_pools(cls, pools: list[PoolConfig]) -> list[PoolConfig]:
        if not pools:
            raise ValueError("at least one resource pool is needed")
        seen: set[str] = set()
        for pool in pools:
            if pool.name in seen:
                raise ValueError(f"pool names must be unique; '{pool.name}' appears more than once")
            seen.add(pool.name)
        return pools

    @field_validator("resolution")
    @classmethod
    def _resolution_at_least_a_second(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError(f"the scheduling resolution must be at least 1 second, not {value}")
        return value

    @field_validator("offer_lifetime", "default_duration")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError(f"must be longer than zero, not {value}")
        return value

    @field_validator("release_time", "min_accept_time")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError(f"cannot be negative, not {value}")
        return value

    @model_validator(mode="after")
    def _horizon_covers_resolution(self) -> CapacityConfig:
        if self.horizon < self.resolution:
            raise ValueError(
                f"the look-ahead horizon ({self.horizon}) must be at least the resolution ({self.resolution})"
            )
        return self

    def pool(self, name: str) -> PoolConfig:
        """The pool called ``name`` (KeyError when there is none)."""
        for pool in self.pools:
            if pool.name == name:
                return pool
        raise KeyError(name)
