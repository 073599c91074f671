"""Put test files into the real Rucio server; run with the Python of the venv that has rucio.

    $EXECBROKER_TEST_RUCIO_PYTHON tests/rucio_seed.py --rse LOCAL_POSIX --scope test \
        [--files 2 --dataset] [--extra-rse NAME --extra-prefix DIR]

Uploads ``--files`` small random files to ``--rse`` (a posix RSE), optionally attaches them to a
new dataset, and optionally registers a second replica of each file on another posix RSE (created
if absent, with ``--extra-prefix`` as its directory), copying the bytes to that replica's PFN.
Prints one JSON object: ``{"scope", "dataset", "files": [{"name", "bytes", "adler32", "md5",
"pfns": {rse: pfn}}]}``. Needs RUCIO_CONFIG pointing at the client configuration.

This script runs in another venv and is not imported by the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def adler32(path: str) -> str:
    return f"{zlib.adler32(Path(path).read_bytes()) & 0xFFFFFFFF:08x}"


def md5(path: str) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rse", required=True)
    parser.add_argument("--scope", default="test")
    parser.add_argument("--files", type=int, default=1)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--dataset", action="store_true")
    parser.add_argument("--extra-rse")
    parser.add_argument("--extra-prefix")
    args = parser.parse_args()

    from rucio.client import Client
    from rucio.client.uploadclient import UploadClient
    from rucio.common.exception import RSEProtocolNotSupported

    client = Client()
    tag = secrets.token_hex(6)
    workdir = Path(tempfile.mkdtemp(prefix="rucio-seed-"))
    items = []
    for i in range(args.files):
        path = workdir / f"seed-{tag}-{i}.dat"
        path.write_bytes(secrets.token_bytes(args.size))
        items.append({"path": str(path), "rse": args.rse, "did_scope": args.scope, "did_name": path.name})
    UploadClient(client).upload(items)

    if args.extra_rse:
        if not args.extra_prefix:
            parser.error("--extra-rse needs --extra-prefix")
        if args.extra_rse not in {r["rse"] for r in client.list_rses()}:
            client.add_rse(args.extra_rse)
        try:
            have_protocol = bool(client.get_protocols(args.extra_rse))
        except RSEProtocolNotSupported:
            have_protocol = False
        if not have_protocol:
            both = {"read": 1, "write": 1, "delete": 1}
            client.add_protocol(
                args.extra_rse,
                {
                    "scheme": "file",
                    "hostname": "localhost",
                    "port": 0,
                    "prefix": args.extra_prefix.rstrip("/") + "/",
                    "impl": "rucio.rse.protocols.posix.Default",
                    "domains": {"lan": both, "wan": both},
                },
            )
        client.set_local_account_limit(client.account, args.extra_rse, -1)
        for item in items:
            path = Path(item["path"])
            client.add_replicas(
                args.extra_rse,
                [
                    {
                        "scope": args.scope,
                        "name": path.name,
                        "bytes": path.stat().st_size,
                        "adler32": adler32(str(path)),
                        "md5": md5(str(path)),
                    }
                ],
            )
            pfn = next(iter(client.lfns2pfns(args.extra_rse, [f"{args.scope}:{path.name}"]).values()))
            target = Path(urlsplit(pfn).path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)

    dataset = None
    if args.dataset:
        dataset = f"dataset-{tag}"
        client.add_dataset(args.scope, dataset)
        client.attach_dids(
            args.scope, dataset, [{"scope": args.scope, "name": Path(i["path"]).name} for i in items]
        )

    files: list[dict[str, Any]] = []
    for item in items:
        path = Path(item["path"])
        replicas = list(client.list_replicas([{"scope": args.scope, "name": path.name}]))
        files.append(
            {
                "name": path.name,
                "bytes": path.stat().st_size,
                "adler32": adler32(str(path)),
                "md5": md5(str(path)),
                "pfns": {rse: pfns[0] for rse, pfns in replicas[0]["rses"].items()},
            }
        )
    shutil.rmtree(workdir, ignore_errors=True)
    json.dump({"scope": args.scope, "dataset": dataset, "files": files}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("RUCIO_CONFIG", os.environ.get("EXECBROKER_TEST_RUCIO_CFG", ""))
    sys.exit(main())
