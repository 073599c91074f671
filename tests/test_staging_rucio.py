"""Rucio and SKAO stagers against the real Rucio server (posix RSEs on this host).

Files are put in with the real rucio client (``tests/rucio_seed.py``, run by the Python of the
Rucio venv); the stagers then resolve and fetch them through the REST API alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from execbroker.model.components import Data, DataKind, Meta
from execbroker.staging.base import StagingError
from execbroker.staging.config import RucioConfig, StagingConfig
from execbroker.staging.registry import StagerRegistry
from execbroker.staging.rucio import RucioStager, SkaoStager

pytestmark = pytest.mark.rucio

SEED = Path(__file__).with_name("rucio_seed.py")
#: A second posix RSE, created by the seed script on first use, for the preference tests.
EXTRA_RSE = "EXECBROKER_TEST_B"
EXTRA_PREFIX = Path(tempfile.gettempdir()) / "execbroker-test-rse-b"


def seed(rucio_env: Any, *args: str) -> dict[str, Any]:
    env = {**os.environ, "RUCIO_CONFIG": str(rucio_env.cfg)}
    done = subprocess.run(
        [str(rucio_env.python), str(SEED), "--rse", rucio_env.rse, "--scope", "test", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def pfn_dir(pfn: str) -> Path:
    return Path(urlsplit(pfn).path).parent


def config(rucio_env: Any, roots: list[Path], preference: list[str], **extra: Any) -> StagingConfig:
    return StagingConfig(
        allowed_file_roots=roots,
        rucio=RucioConfig(
            url=rucio_env.url,
            account=rucio_env.account,
            username=rucio_env.user,
            password=rucio_env.password,
            rse_preference=preference,
            **extra,
        ),
    )


def rucio_data(scope: str, name: str, **block: Any) -> Data:
    return Data(
        kind=DataKind.RUCIO, meta=Meta(name="did"), spec={"rucio": {"scope": scope, "object": name, **block}}
    )


def skao_data(scope: str, name: str, **block: Any) -> Data:
    return Data(
        kind=DataKind.SKAO,
        meta=Meta(name="did"),
        spec={"skao": {"namespace": scope, "objectname": name, **block}},
    )


def test_rucio_and_skao_stage_the_same_bytes(rucio_env: Any, tmp_path: Path) -> None:
    seeded = seed(rucio_env, "--size", "70000")
    item = seeded["files"][0]
    pfn = item["pfns"][rucio_env.rse]
    original = Path(urlsplit(pfn).path).read_bytes()
    reg = StagerRegistry.from_config(config(rucio_env, [pfn_dir(pfn)], [rucio_env.rse]))

    rucio = reg.for_kind(DataKind.RUCIO)
    assert isinstance(rucio, RucioStager)
    data = rucio_data("test", item["name"], endpoint=rucio_env.url, type="FILE")
    assert rucio.check(data) == []
    (tmp_path / "a").mkdir()
    staged = asyncio.run(rucio.stage(data, tmp_path / "a"))
    assert staged.path == tmp_path / "a" / item["name"]
    assert staged.path.read_bytes() == original
    assert staged.bytes == 70000
    assert staged.source == f"rse:{rucio_env.rse}"

    skao = reg.for_kind(DataKind.SKAO)
    assert isinstance(skao, SkaoStager)
    sdata = skao_data(
        "test",
        item["name"],
        datasize=70000,
        checksum={"type": "adler32", "value": item["adler32"]},
        replicas=[{"rsename": rucio_env.rse}],
    )
    (tmp_path / "b").mkdir()
    sstaged = asyncio.run(skao.stage(sdata, tmp_path / "b"))
    assert sstaged.path.read_bytes() == original


def test_dataset_is_staged_as_a_directory(rucio_env: Any, tmp_path: Path) -> None:
    seeded = seed(rucio_env, "--files", "2", "--dataset")
    roots = [pfn_dir(f["pfns"][rucio_env.rse]) for f in seeded["files"]]
    stager = RucioStager(config(rucio_env, roots, []), StagerRegistry.from_config(StagingConfig()).book)
    staged = asyncio.run(stager.stage(rucio_data("test", seeded["dataset"], type="DATASET"), tmp_path))
    assert staged.path == tmp_path / seeded["dataset"]
    assert sorted(p.name for p in staged.path.iterdir()) == sorted(f["name"] for f in seeded["files"])
    assert staged.bytes == sum(f["bytes"] for f in seeded["files"])


def test_rse_preference_is_honoured(rucio_env: Any, tmp_path: Path) -> None:
    seeded = seed(rucio_env, "--extra-rse", EXTRA_RSE, "--extra-prefix", str(EXTRA_PREFIX))
    item = seeded["files"][0]
    assert set(item["pfns"]) == {rucio_env.rse, EXTRA_RSE}
    roots = [pfn_dir(p) for p in item["pfns"].values()]
    data = skao_data("test", item["name"])
    for preferred, other in ((EXTRA_RSE, rucio_env.rse), (rucio_env.rse, EXTRA_RSE)):
        reg = StagerRegistry.from_config(config(rucio_env, roots, [preferred, other]))
        target = tmp_path / preferred
        target.mkdir()
        staged = asyncio.run(reg.for_kind(DataKind.SKAO).stage(data, target))  # type: ignore[union-attr]
        assert staged.source == f"rse:{preferred}"
        assert staged.bytes == item["bytes"]
    # only_preferred excludes every other RSE, even when it holds the file
    strict = StagerRegistry.from_config(
        config(rucio_env, roots, ["NOT_AN_RSE"], only_preferred=True)
    ).for_kind(DataKind.SKAO)
    assert strict is not None
    with pytest.raises(StagingError) as err:
        asyncio.run(strict.stage(data, tmp_path))
    assert "RSE this broker may use" in err.value.message.rendered


def test_replica_outside_allowed_roots_is_refused(rucio_env: Any, tmp_path: Path) -> None:
    item = seed(rucio_env)["files"][0]
    stager = StagerRegistry.from_config(config(rucio_env, [tmp_path / "elsewhere"], [])).for_kind(
        DataKind.RUCIO
    )
    assert stager is not None
    with pytest.raises(StagingError) as err:
        asyncio.run(stager.stage(rucio_data("test", item["name"]), tmp_path))
    assert "not under a directory" in err.value.message.rendered
    assert list(tmp_path.iterdir()) == []


def test_checksum_mismatch_against_declared_value(rucio_env: Any, tmp_path: Path) -> None:
    item = seed(rucio_env)["files"][0]
    roots = [pfn_dir(item["pfns"][rucio_env.rse])]
    stager = StagerRegistry.from_config(config(rucio_env, roots, [])).for_kind(DataKind.SKAO)
    assert stager is not None
    bad = skao_data("test", item["name"], checksum={"type": "adler32", "value": "00000000"})
    with pytest.raises(StagingError) as err:
        asyncio.run(stager.stage(bad, tmp_path))
    assert "Checksum mismatch" in err.value.message.rendered


def test_unknown_did_is_a_staging_error(rucio_env: Any, tmp_path: Path) -> None:
    stager = StagerRegistry.from_config(config(rucio_env, [], [])).for_kind(DataKind.RUCIO)
    assert stager is not None
    with pytest.raises(StagingError) as err:
        asyncio.run(stager.stage(rucio_data("test", "no-such-file-anywhere.dat"), tmp_path))
    assert "does not know the DID [test:no-such-file-anywhere.dat]" in err.value.message.rendered


def test_bad_credentials_are_reported(rucio_env: Any, tmp_path: Path) -> None:
    conf = StagingConfig(
        rucio=RucioConfig(
            url=rucio_env.url, account=rucio_env.account, username=rucio_env.user, password=SecretStr("wrong")
        )
    )
    stager = StagerRegistry.from_config(conf).for_kind(DataKind.RUCIO)
    assert stager is not None
    with pytest.raises(StagingError) as err:
        asyncio.run(stager.stage(rucio_data("test", "x"), tmp_path))
    assert "refused the broker's credentials" in err.value.message.rendered


def test_check_without_service() -> None:
    none = StagerRegistry.from_config(StagingConfig())
    assert "no Rucio server configured" in none.check(rucio_data("test", "x"))[0].rendered
    reg = StagerRegistry.from_config(
        StagingConfig(
            rucio=RucioConfig(
                url="http://127.0.0.1:18088", account="a", username="u", password=SecretStr("p")
            )
        )
    )
    assert reg.check(rucio_data("test", "x")) == []
    assert "needs a scope" in reg.check(skao_data("", "x"))[0].rendered
    other = reg.check(rucio_data("test", "x", endpoint="https://rucio.elsewhere.example"))
    assert other and "does not use the Rucio endpoint" in other[0].rendered
