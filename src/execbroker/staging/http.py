"""Simple data resources: a ``location`` URL, ``http(s)://`` (streamed) or ``file://`` (copied).

``file://`` is only honoured under the configured allow-listed roots, with symlinks and ``..``
resolved first: the reference implementation bind-mounted any host path, read-write on request.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import urlsplit

from execbroker.model.components import Data, DataKind
from execbroker.model.messages import INVALID_VALUE, MISSING_VALUE, Level, Message
from execbroker.staging.base import Staged, StagingError
from execbroker.staging.checksum import SUPPORTED, declared_checksum
from execbroker.staging.estimating import EstimatingStager
from execbroker.staging.transfer import (
    allowed_file,
    copy_local,
    download_http,
    file_url_path,
    safe_name,
    url_filename,
)

SCHEMES = ("http", "https", "file")


def location_of(data: Data) -> str | None:
    value = data.spec.get("location")
    return value.strip() if isinstance(value, str) and value.strip() else None


class HttpStager(EstimatingStager):
    kinds = (DataKind.SIMPLE,)

    def check(self, data: Data) -> list[Message]:
        location = location_of(data)
        if location is None:
            return [
                Message.make(
                    MISSING_VALUE, Level.ERROR, "Data resource [${name}] needs a location", name=data.label
                )
            ]
        scheme = urlsplit(location).scheme.lower()
        if scheme not in SCHEMES:
            return [
                Message.make(
                    INVALID_VALUE,
                    Level.ERROR,
                    "Data resource [${name}]: the scheme of [${location}] is not one of ${schemes}",
                    name=data.label,
                    location=location,
                    schemes=", ".join(SCHEMES),
                )
            ]
        problems: list[Message] = []
        checksum = declared_checksum(data)
        if checksum is not None and checksum.type not in SUPPORTED:
            problems.append(
                Message.make(
                    INVALID_VALUE,
                    Level.ERROR,
                    "Data resource [${name}]: checksum type [${type}] is not supported",
                    name=data.label,
                    type=checksum.type,
                )
            )
        if scheme == "file":
            try:
                allowed_file(file_url_path(location), self.config.allowed_file_roots)
            except StagingError as exc:
                problems.append(exc.message)
        return problems

    def source_key(self, data: Data) -> str:
        location = location_of(data) or ""
        parts = urlsplit(location)
        if parts.scheme.lower() == "file":
            return "file"
        return f"http:{parts.netloc.lower()}"

    def declared_size(self, data: Data) -> int | None:
        declared = super().declared_size(data)
        location = location_of(data)
        if declared is None and location and urlsplit(location).scheme.lower() == "file":
            # A local stat is cheap and exact.
            try:
                return os.stat(file_url_path(location)).st_size
            except (OSError, StagingError):
                return None
        return declared

    async def stage(self, data: Data, target: Path) -> Staged:
        location = location_of(data)
        problems = self.check(data)
        if problems or location is None:
            raise StagingError(problems[0])
        started = self.clock()
        checksum = declared_checksum(data)
        source = self.source_key(data)
        if urlsplit(location).scheme.lower() == "file":
            path = allowed_file(file_url_path(location), self.config.allowed_file_roots)
            dest = target / safe_name(path.name, safe_name(data.label))
            nbytes = await asyncio.to_thread(copy_local, path, dest, config=self.config, checksum=checksum)
        else:
            dest = target / url_filename(location, safe_name(data.label))
            nbytes = await download_http(location, dest, config=self.config, checksum=checksum)
        return self.staged(dest, nbytes, started, source)
