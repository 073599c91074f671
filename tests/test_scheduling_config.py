"""The capacity model's defaults and validation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from execbroker.scheduling import Amounts, CapacityConfig, LimitsConfig, PoolConfig


def test_defaults_match_the_issue() -> None:
    config = CapacityConfig()
    assert [pool.name for pool in config.pools] == ["default"]
    assert config.pools[0].totals == Amounts(16, 64, 1000, 0)
    assert config.resolution == timedelta(seconds=60)
    assert config.horizon == timedelta(days=7)
    assert config.offers_per_request == 4
    assert config.offer_lifetime == timedelta(seconds=300)
    assert config.default_duration == timedelta(hours=2)
    assert (config.default_cores, config.default_memory) == (1, 1)
    assert config.max_duration_factor == 2.0
    assert config.release_time == timedelta(seconds=10)
    assert config.limits == LimitsConfig()
    assert config.limits.max_duration == timedelta(days=1)
    assert config.limits.max_cores is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PT1M", timedelta(minutes=1)),
        ("P7D", timedelta(days=7)),
        ("PT0.5S", timedelta(seconds=0.5)),
        (90, timedelta(seconds=90)),
        (1.5, timedelta(seconds=1.5)),
        ("30", timedelta(seconds=30)),
        (timedelta(hours=3), timedelta(hours=3)),
    ],
)
def test_durations_accept_iso_and_seconds(value: object, expected: timedelta) -> None:
    config = CapacityConfig.model_validate({"offer_lifetime": value, "horizon": "P30D"})
    assert config.offer_lifetime == expected
    assert config.horizon == timedelta(days=30)


def test_limits_duration_accepts_iso_and_none() -> None:
    assert LimitsConfig.model_validate({"max_duration": "PT4H"}).max_duration == timedelta(hours=4)
    assert LimitsConfig.model_validate({"max_duration": None}).max_duration is None


def test_bad_duration_text_is_refused_with_the_parser_reason() -> None:
    with pytest.raises(ValidationError, match="years and months"):
        CapacityConfig.model_validate({"horizon": "P1M"})
    with pytest.raises(ValidationError, match="PT1H"):
        CapacityConfig.model_validate({"horizon": "soon"})


def test_pool_names_must_be_unique() -> None:
    pools = [{"name": "a", "cores": 1, "memory": 1, "storage": 0}] * 2
    with pytest.raises(ValidationError, match="'a' appears more than once"):
        CapacityConfig.model_validate({"pools": pools})


def test_at_least_one_pool() -> None:
    with pytest.raises(ValidationError, match="at least one resource pool"):
        CapacityConfig.model_validate({"pools": []})


@pytest.mark.parametrize("field", ["cores", "memory"])
def test_pool_totals_must_be_positive(field: str) -> None:
    values = {"name": "p", "cores": 4, "memory": 4, "storage": 0, field: 0}
    with pytest.raises(ValidationError, match=field):
        PoolConfig.model_validate(values)
    with pytest.raises(ValidationError):
        PoolConfig.model_validate({"name": "p", "cores": 4, "memory": 4, "storage": -1})


def test_resolution_at_least_one_second() -> None:
    with pytest.raises(ValidationError, match="at least 1 second"):
        CapacityConfig.model_validate({"resolution": "PT0.5S"})
    assert CapacityConfig.model_validate({"resolution": 1}).resolution == timedelta(seconds=1)


def test_horizon_not_shorter_than_resolution() -> None:
    with pytest.raises(ValidationError, match="horizon"):
        CapacityConfig.model_validate({"resolution": "PT1H", "horizon": "PT30M"})


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        CapacityConfig.model_validate({"pool": []})


def test_limits_must_be_positive_and_cap_lookup() -> None:
    with pytest.raises(ValidationError):
        LimitsConfig(max_cores=0)
    with pytest.raises(ValidationError, match="longer than zero"):
        LimitsConfig.model_validate({"max_duration": "PT0S"})
    limits = LimitsConfig(max_cores=8, max_memory=32, max_storage=100)
    assert [limits.cap(r) for r in ("cores", "memory", "storage", "gpus")] == [8, 32, 100, None]


def test_pool_lookup_by_name() -> None:
    config = CapacityConfig(
        pools=[
            PoolConfig(name="a", cores=1, memory=1, storage=0),
            PoolConfig(name="b", cores=2, memory=2, storage=0),
        ]
    )
    assert config.pool("b").cores == 2
    with pytest.raises(KeyError):
        config.pool("c")
