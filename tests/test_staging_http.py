"""The http(s)/file stager against a real HTTP server on loopback and real files."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from execbroker.model.components import Data, DataKind, Meta
from execbroker.staging.base import StagingError
from execbroker.staging.config import StagingConfig
from execbroker.staging.http import HttpStager
from execbroker.staging.throughput import ThroughputBook


class FileServer:
    """A loopback HTTP server serving ``files`` (path -> bytes); ``/slow/...`` trickles its body."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        files, requests = self.files, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = files.get(self.path.split("?", 1)[0])
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path.startswith("/slow/"):
                    try:
                        for i in range(len(body)):
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(0.5)
                    except (BrokenPipeError, ConnectionResetError):
                        return  # the client gave up, as the timeout test wants
                else:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_server() -> Iterator[FileServer]:
    with FileServer() as server:
        yield server


def simple(location: str, **spec: Any) -> Data:
    return Data(kind=DataKind.SIMPLE, meta=Meta(name="input"), spec={"location": location, **spec})


def stager(**config: Any) -> HttpStager:
    conf = StagingConfig(**config)
    return HttpStager(conf, ThroughputBook.from_config(conf))


def test_streamed_download_lands_under_the_url_name(http_server: FileServer, tmp_path: Path) -> None:
    payload = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes: several chunks
    http_server.files["/data/cube.fits"] = payload
    staged = asyncio.run(
        stager(chunk_size=65536).stage(simple(f"{http_server.base}/data/cube.fits"), tmp_path)
    )
    assert staged.path == tmp_path / "cube.fits"
    assert staged.path.read_bytes() == payload
    assert staged.bytes == len(payload)
    assert staged.source == f"http:127.0.0.1:{http_server.server.server_address[1]}"
    assert staged.seconds >= 0
    assert not list(tmp_path.glob("*.part"))


def test_size_limit_refuses_and_leaves_nothing(http_server: FileServer, tmp_path: Path) -> None:
    http_server.files["/big.bin"] = b"x" * 5000
    with pytest.raises(StagingError) as err:
        asyncio.run(stager(max_bytes=4096).stage(simple(f"{http_server.base}/big.bin"), tmp_path))
    assert "limit of 4096 bytes" in err.value.message.rendered
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kind", "digest"),
    [
        ("md5", lambda b: hashlib.md5(b).hexdigest()),
        ("sha256", lambda b: hashlib.sha256(b).hexdigest()),
        ("adler32", lambda b: f"{zlib.adler32(b):08x}"),
    ],
)
def test_checksum_verified(http_server: FileServer, tmp_path: Path, kind: str, digest: Any) -> None:
    body = b"checked content\n"
    http_server.files["/c.txt"] = body
    data = simple(f"{http_server.base}/c.txt", checksum={"type": kind, "value": digest(body)})
    staged = asyncio.run(stager().stage(data, tmp_path))
    assert staged.path.read_bytes() == body


def test_checksum_mismatch_fails_and_removes_the_file(http_server: FileServer, tmp_path: Path) -> None:
    http_server.files["/c.txt"] = b"checked content\n"
    data = simple(f"{http_server.base}/c.txt", checksum={"type": "sha256", "value": "0" * 64})
    with pytest.raises(StagingError) as err:
        asyncio.run(stager().stage(data, tmp_path))
    assert "Checksum mismatch" in err.value.message.rendered
    assert list(tmp_path.iterdir()) == []


def test_http_error_is_a_staging_error(http_server: FileServer, tmp_path: Path) -> None:
    with pytest.raises(StagingError) as err:
        asyncio.run(stager().stage(simple(f"{http_server.base}/missing"), tmp_path))
    assert "HTTP 404" in err.value.message.rendered


def test_timeout(http_server: FileServer, tmp_path: Path) -> None:
    http_server.files["/slow/file"] = b"abcdefgh"  # 8 bytes at 2 bytes/s: 4 s
    started = time.monotonic()
    with pytest.raises(StagingError) as err:
        asyncio.run(stager(timeout_seconds=1.0).stage(simple(f"{http_server.base}/slow/file"), tmp_path))
    assert time.monotonic() - started < 3.5
    assert "did not finish within 1.0 s" in err.value.message.rendered
    assert list(tmp_path.iterdir()) == []


def test_file_url_from_allowed_root_is_copied(tmp_path: Path) -> None:
    root = tmp_path / "allowed"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.txt").write_text("local data\n")
    out = tmp_path / "out"
    out.mkdir()
    s = stager(allowed_file_roots=[root])
    data = simple(f"file://{root}/sub/a.txt")
    assert s.check(data) == []
    staged = asyncio.run(s.stage(data, out))
    assert staged.path == out / "a.txt"
    assert staged.path.read_text() == "local data\n"
    assert staged.source == "file"
    # a whole directory is copied too
    staged_dir = asyncio.run(s.stage(simple(f"file://{root}/sub"), out))
    assert (staged_dir.path / "a.txt").read_text() == "local data\n"


@pytest.mark.parametrize(
    "relative",
    ["../secret.txt", "allowed/../secret.txt", "allowed/link.txt"],
)
def test_file_url_outside_allowed_root_is_refused(tmp_path: Path, relative: str) -> None:
    root = tmp_path / "allowed"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("not for you")
    (root / "link.txt").symlink_to(secret)
    out = tmp_path / "out"
    out.mkdir()
    s = stager(allowed_file_roots=[root])
    location = f"file://{root}/{relative}" if relative.startswith("..") else f"file://{tmp_path}/{relative}"
    data = simple(location)
    problems = s.check(data)
    assert problems and "not under a directory" in problems[0].rendered
    with pytest.raises(StagingError):
        asyncio.run(s.stage(data, out))
    assert list(out.iterdir()) == []


def test_file_url_with_no_roots_and_remote_host_refused(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x")
    assert stager().check(simple(f"file://{tmp_path}/a"))
    remote = stager(allowed_file_roots=[tmp_path]).check(simple(f"file://otherhost{tmp_path}/a"))
    assert remote and "remote host" in remote[0].rendered


def test_check_refuses_unknown_scheme_and_missing_location() -> None:
    s = stager()
    assert "scheme" in s.check(simple("ftp://example.org/x"))[0].rendered
    assert "needs a location" in s.check(Data(kind=DataKind.SIMPLE, spec={}))[0].rendered
    assert s.check(simple("https://example.org/x")) == []
