"""The IVOA stager: a DataLink service on loopback whose #this row points at a file beside it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from execbroker.model.components import Data, DataKind, Meta
from execbroker.staging.base import StagingError
from execbroker.staging.config import StagingConfig
from execbroker.staging.ivoa import IvoaStager, datalink_this_url
from execbroker.staging.throughput import ThroughputBook
from test_staging_http import FileServer

DATALINK = "application/x-votable+xml;content=datalink"


def votable(rows: list[tuple[str, str, str]]) -> bytes:
    """A DataLink response: (access_url, semantics, error_message) rows, with the usual namespace."""
    trs = "".join(
        f"<TR><TD>ivo://example.org/obs?1</TD><TD>{url}</TD><TD>{sem}</TD><TD>{err}</TD></TR>"
        for url, sem, err in rows
    )
    return (
        '<?xml version="1.0"?>'
        '<VOTABLE xmlns="http://www.ivoa.net/xml/VOTable/v1.3" version="1.3"><RESOURCE type="results">'
        '<TABLE><FIELD name="ID" datatype="char" arraysize="*"/>'
        '<FIELD name="access_url" datatype="char" arraysize="*"/>'
        '<FIELD name="semantics" datatype="char" arraysize="*"/>'
        '<FIELD name="error_message" datatype="char" arraysize="*"/>'
        f"<DATA><TABLEDATA>{trs}</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>"
    ).encode()


@pytest.fixture
def server() -> Iterator[FileServer]:
    with FileServer() as srv:
        srv.files["/data/obs-1.fits"] = b"SIMPLE  =                    T" + b" " * 2000
        srv.files["/data/preview.png"] = b"not this one"
        srv.files["/links"] = votable(
            [
                (f"{srv.base}/data/preview.png", "#preview", ""),
                (f"{srv.base}/data/obs-1.fits", "#this", ""),
            ]
        )
        srv.files["/broken-links"] = votable([("", "#this", "NotFoundFault: no such dataset")])
        yield srv


def ivoa(**block: Any) -> Data:
    return Data(kind=DataKind.IVOA, meta=Meta(name="obs"), spec={"ivoa": {"ivoid": "ivo://x/y", **block}})


def stager() -> IvoaStager:
    conf = StagingConfig()
    return IvoaStager(conf, ThroughputBook.from_config(conf))


def test_obscore_datalink_is_resolved_to_the_this_row(server: FileServer, tmp_path: Path) -> None:
    data = ivoa(obscore={"access_url": f"{server.base}/links?ID=ivo%3A%2F%2Fx", "access_format": DATALINK})
    assert stager().check(data) == []
    staged = asyncio.run(stager().stage(data, tmp_path))
    assert staged.path == tmp_path / "obs-1.fits"
    assert staged.path.read_bytes() == server.files["/data/obs-1.fits"]
    assert server.requests[0].startswith("/links?ID=")
    assert "/data/preview.png" not in server.requests


def test_obscore_direct_access_url(server: FileServer, tmp_path: Path) -> None:
    data = ivoa(obscore={"access_url": f"{server.base}/data/obs-1.fits", "access_format": "image/fits"})
    staged = asyncio.run(stager().stage(data, tmp_path))
    assert staged.bytes == len(server.files["/data/obs-1.fits"])
    assert server.requests == ["/data/obs-1.fits"]


def test_datalink_block_access_url_wins(server: FileServer, tmp_path: Path) -> None:
    data = ivoa(
        datalink={"access_url": f"{server.base}/data/obs-1.fits", "content_length": 2030},
        obscore={"access_url": f"{server.base}/links", "access_format": DATALINK},
    )
    staged = asyncio.run(stager().stage(data, tmp_path))
    assert staged.path.name == "obs-1.fits"
    assert server.requests == ["/data/obs-1.fits"]


def test_datalink_error_row_is_reported(server: FileServer, tmp_path: Path) -> None:
    data = ivoa(obscore={"access_url": f"{server.base}/broken-links", "access_format": DATALINK})
    with pytest.raises(StagingError) as err:
        asyncio.run(stager().stage(data, tmp_path))
    assert "NotFoundFault" in err.value.message.rendered


def test_votable_without_this_row_and_non_xml() -> None:
    with pytest.raises(StagingError, match="no #this row"):
        datalink_this_url(votable([("http://h/p.png", "#preview", "")]))
    with pytest.raises(StagingError, match="not XML"):
        datalink_this_url(b"<html")


def test_ivoid_alone_is_refused() -> None:
    problems = stager().check(ivoa())
    assert problems and "an ivoid alone cannot be resolved" in problems[0].rendered
