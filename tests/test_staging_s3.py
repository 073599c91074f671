"""The S3 stager against the moto S3 server on loopback."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from pydantic import SecretStr

from execbroker.model.components import Data, DataKind, Meta
from execbroker.staging.base import StagingError
from execbroker.staging.config import S3Config, S3EndpointConfig, StagingConfig
from execbroker.staging.s3 import S3Stager
from execbroker.staging.throughput import ThroughputBook

pytestmark = pytest.mark.s3


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    )


def make_stager(endpoint: str, **extra: Any) -> S3Stager:
    conf = StagingConfig(
        s3=S3Config(
            endpoints={endpoint: S3EndpointConfig(access_key_id="test", secret_access_key=SecretStr("test"))}
        ),
        **extra,
    )
    return S3Stager(conf, ThroughputBook.from_config(conf))


def s3data(endpoint: str, bucket: str, obj: str | None = None, **spec: Any) -> Data:
    body: dict[str, Any] = {"endpoint": endpoint, "bucket": bucket, **spec}
    if obj is not None:
        body["object"] = obj
    return Data(kind=DataKind.S3, meta=Meta(name="s3in"), spec=body)


def test_stage_one_object(s3_endpoint: str, tmp_path: Path) -> None:
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="survey")
    payload = b"spectrum " * 20000
    client.put_object(Bucket="survey", Key="2026/obs-1.fits", Body=payload)
    stager = make_stager(s3_endpoint)
    data = s3data(
        s3_endpoint,
        "survey",
        "2026/obs-1.fits",
        checksum={"type": "sha256", "value": hashlib.sha256(payload).hexdigest()},
    )
    assert stager.check(data) == []
    staged = asyncio.run(stager.stage(data, tmp_path))
    assert staged.path == tmp_path / "obs-1.fits"
    assert staged.path.read_bytes() == payload
    assert staged.bytes == len(payload)
    assert staged.source == "s3:127.0.0.1:5000"


def test_stage_whole_bucket_when_object_is_blank(s3_endpoint: str, tmp_path: Path) -> None:
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="wholebucket")
    objects = {"a.txt": b"alpha", "dir/b.txt": b"bravo", "dir/sub/c.txt": b"charlie"}
    for key, body in objects.items():
        client.put_object(Bucket="wholebucket", Key=key, Body=body)
    staged = asyncio.run(make_stager(s3_endpoint).stage(s3data(s3_endpoint, "wholebucket", ""), tmp_path))
    assert staged.path == tmp_path / "wholebucket"
    assert staged.bytes == sum(len(b) for b in objects.values())
    for key, body in objects.items():
        assert (staged.path / key).read_bytes() == body


def test_missing_object_is_a_staging_error(s3_endpoint: str, tmp_path: Path) -> None:
    s3_client(s3_endpoint).create_bucket(Bucket="survey")
    with pytest.raises(StagingError) as err:
        asyncio.run(make_stager(s3_endpoint).stage(s3data(s3_endpoint, "survey", "nope.fits"), tmp_path))
    assert "survey/nope.fits" in err.value.message.rendered
    assert list(tmp_path.iterdir()) == []


def test_missing_bucket_is_a_staging_error(s3_endpoint: str, tmp_path: Path) -> None:
    with pytest.raises(StagingError) as err:
        asyncio.run(make_stager(s3_endpoint).stage(s3data(s3_endpoint, "nobucket"), tmp_path))
    assert "NoSuchBucket" in err.value.message.rendered


def test_size_limit_and_checksum_mismatch(s3_endpoint: str, tmp_path: Path) -> None:
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="survey")
    client.put_object(Bucket="survey", Key="big", Body=b"x" * 2048)
    with pytest.raises(StagingError) as err:
        asyncio.run(
            make_stager(s3_endpoint, max_bytes=1024).stage(s3data(s3_endpoint, "survey", "big"), tmp_path)
        )
    assert "limit of 1024" in err.value.message.rendered
    bad = s3data(s3_endpoint, "survey", "big", checksum={"type": "md5", "value": "0" * 32})
    with pytest.raises(StagingError) as err:
        asyncio.run(make_stager(s3_endpoint).stage(bad, tmp_path))
    assert "Checksum mismatch" in err.value.message.rendered
    assert list(tmp_path.iterdir()) == []


def test_unconfigured_endpoint_and_missing_bucket_refused() -> None:
    stager = make_stager("http://127.0.0.1:5000")
    other = stager.check(s3data("https://s3.elsewhere.example", "b", "k"))
    assert other and "not one this broker is configured for" in other[0].rendered
    # the same endpoint spelled as host:port is recognised
    assert stager.check(s3data("127.0.0.1:5000", "b", "k")) == []
    assert "needs a bucket" in stager.check(s3data("http://127.0.0.1:5000", ""))[0].rendered
