"""Preparation-time estimates: declared size over configured throughput, refined by measurements."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from pydantic import SecretStr

from execbroker.model.components import (
    Data,
    DataKind,
    Executable,
    ExecutableKind,
    Meta,
    Session,
)
from execbroker.platforms.docker import DockerPlatform
from execbroker.platforms.docker_config import DockerPlatformConfig
from execbroker.staging.base import Staged
from execbroker.staging.config import RucioConfig, StagingConfig
from execbroker.staging.registry import StagerRegistry
from execbroker.staging.throughput import ThroughputBook

MB = 1_000_000


def skao(size: int, rses: list[str]) -> Data:
    return Data(
        kind=DataKind.SKAO,
        meta=Meta(name="vis"),
        spec={
            "skao": {
                "namespace": "test",
                "objectname": "vis.ms",
                "datasize": size,
                "replicas": [{"rsename": r} for r in rses],
            }
        },
    )


def registry(**config: object) -> StagerRegistry:
    return StagerRegistry.from_config(StagingConfig.model_validate(config))


def test_estimate_is_overhead_plus_size_over_configured_throughput() -> None:
    reg = registry(
        default_throughput=10 * MB,
        overhead_seconds=3,
        throughput={"http:data.example.org": 2 * MB, "s3": 100 * MB},
    )
    http = Data(kind=DataKind.SIMPLE, spec={"location": "https://data.example.org/x.fits", "size": 20 * MB})
    other = Data(kind=DataKind.SIMPLE, spec={"location": "https://elsewhere.org/y", "size": 20 * MB})
    s3 = Data(kind=DataKind.S3, spec={"endpoint": "http://s3.example.org", "bucket": "b", "size": 500 * MB})
    assert reg.estimate(http) == timedelta(seconds=3 + 10)  # per-source override
    assert reg.estimate(other) == timedelta(seconds=3 + 2)  # default throughput
    assert reg.estimate(s3) == timedelta(seconds=3 + 5)  # per-scheme override


def test_declared_sizes_per_kind_and_default_size() -> None:
    reg = registry(default_throughput=1 * MB, overhead_seconds=0, default_size=7 * MB)
    assert reg.estimate(skao(30 * MB, [])) == timedelta(seconds=30)
    ivoa = Data(
        kind=DataKind.IVOA,
        spec={"ivoa": {"datalink": {"access_url": "http://h/d.fits", "content_length": 4 * MB}}},
    )
    assert reg.estimate(ivoa) == timedelta(seconds=4)
    obscore = Data(
        kind=DataKind.IVOA,
        spec={"ivoa": {"obscore": {"access_url": "http://h/d", "access_estsize": 2000}}},  # kB
    )
    assert reg.estimate(obscore) == timedelta(seconds=2000 * 1024 / MB)
    undeclared = Data(kind=DataKind.SIMPLE, spec={"location": "https://h/x"})
    assert reg.estimate(undeclared) == timedelta(seconds=7)


def test_file_size_is_read_from_disk(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 3 * MB)
    reg = registry(default_throughput=1 * MB, overhead_seconds=0, allowed_file_roots=[tmp_path])
    assert reg.estimate(Data(kind=DataKind.SIMPLE, spec={"location": f"file://{tmp_path}/f"})) == timedelta(
        seconds=3
    )


def test_skao_estimate_uses_the_preferred_rse_throughput() -> None:
    reg = registry(
        default_throughput=1 * MB,
        overhead_seconds=0,
        throughput={"rse:FAST": 10 * MB, "rse:SLOW": 1 * MB},
        rucio=RucioConfig(
            url="http://rucio",
            account="root",
            username="u",
            password=SecretStr("p"),
            rse_preference=["FAST", "SLOW"],
        ),
    )
    assert reg.estimate(skao(10 * MB, ["SLOW", "FAST"])) == timedelta(seconds=1)


def test_learning_moves_the_estimate_toward_measured_throughput() -> None:
    reg = registry(default_throughput=100 * MB, overhead_seconds=0, learning_rate=0.5)
    data = Data(kind=DataKind.SIMPLE, spec={"location": "https://slow.example.org/x", "size": 100 * MB})
    assert reg.estimate(data) == timedelta(seconds=1)
    source = "http:slow.example.org"
    # Measured: 10 MB/s, three times. The first measurement replaces the configured value;
    # later ones are averaged.
    assert reg.record(Staged(Path("x"), 50 * MB, 5.0, source))
    assert reg.estimate(data) == timedelta(seconds=10)
    assert reg.record(Staged(Path("x"), 20 * MB, 1.0, source))  # 20 MB/s
    assert reg.estimate(data) == timedelta(seconds=100 / 15)
    assert reg.book.samples(source) == 2
    # tiny transfers say nothing about throughput
    assert not reg.record(Staged(Path("x"), 10, 0.5, source))
    assert reg.book.samples(source) == 2
    # another source is unaffected
    other = Data(kind=DataKind.SIMPLE, spec={"location": "https://fast.example.org/x", "size": 100 * MB})
    assert reg.estimate(other) == timedelta(seconds=1)


def test_book_round_trips_through_dict() -> None:
    book = ThroughputBook(5 * MB, {"s3": 7 * MB})
    book.observe("rse:A", 40 * MB, 2.0)
    saved = book.to_dict()
    assert saved["sources"]["rse:A"] == {"bytes_per_second": 20 * MB, "samples": 1}
    restored = ThroughputBook.from_dict(saved, 5 * MB, {"s3": 7 * MB})
    assert restored.throughput("rse:A") == 20 * MB
    assert restored.throughput("s3:host") == 7 * MB
    assert restored.throughput("http:x") == 5 * MB
    # the registry takes a saved book at construction
    reg = StagerRegistry.from_config(StagingConfig(), saved_throughput=saved)
    assert reg.book.throughput("rse:A") == 20 * MB
    # garbage is ignored, not fatal
    restored.load({"sources": {"bad": {"bytes_per_second": "x"}, "neg": {"bytes_per_second": -1}}})
    assert restored.to_dict()["sources"] == {}


def test_docker_preparation_time_sums_staging_beside_the_image_check() -> None:
    staging = StagingConfig(default_throughput=1 * MB, overhead_seconds=1)
    platform = DockerPlatform(
        DockerPlatformConfig(image_check_seconds=5, setup_seconds=2), StagerRegistry.from_config(staging)
    )
    session = Session(
        meta=Meta(uuid=uuid4()),
        executable=Executable(kind=ExecutableKind.DOCKER_CONTAINER, spec={"image": {"locations": ["x"]}}),
    )
    assert platform.preparation_time(session) == timedelta(seconds=5)  # image check only
    session.data = [
        Data(kind=DataKind.SIMPLE, spec={"location": "https://h/a", "size": 10 * MB}),
        Data(kind=DataKind.SIMPLE, spec={"location": "https://h/b", "size": 20 * MB}),
    ]
    assert platform.preparation_time(session) == timedelta(seconds=2 + (1 + 10) + (1 + 20))
