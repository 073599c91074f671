"""IVOA data resources: a DataLink row's or an ObsCore record's ``access_url``, then HTTP.

An ObsCore ``access_url`` whose ``access_format`` is a DataLink VOTable points at a links
service, not at the data: the VOTable is fetched and the ``#this`` row's ``access_url`` used.
The VOTable is read with the standard library's ElementTree (namespace-agnostic, by column
name), which is all a links response needs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx

from execbroker.model.components import Data, DataKind
from execbroker.model.messages import COMPONENT_FAILED, INVALID_VALUE, MISSING_VALUE, Level, Message
from execbroker.staging.base import Staged, StagingError
from execbroker.staging.checksum import declared_checksum
from execbroker.staging.estimating import EstimatingStager
from execbroker.staging.transfer import download_http, failure, safe_name, url_filename

DATALINK_FORMAT = "content=datalink"
_MAX_VOTABLE_BYTES = 16 * 1024 * 1024


def _block(data: Data) -> dict[str, Any]:
    block = data.spec.get("ivoa")
    return block if isinstance(block, dict) else {}


def _sub(block: dict[str, Any], key: str) -> dict[str, Any]:
    value = block.get(key)
    return value if isinstance(value, dict) else {}


def _url(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def datalink_this_url(votable: bytes) -> str:
    """The ``access_url`` of the ``#this`` row of a DataLink VOTable; StagingError otherwise."""
    try:
        root = ET.fromstring(votable)
    except ET.ParseError as exc:
        raise failure(COMPONENT_FAILED, "The DataLink response is not XML: ${error}", error=str(exc)) from exc
    for table in root.iter():
        if _local(table.tag) != "TABLE":
            continue
        names = [(f.get("name") or f.get("ID") or "").lower() for f in table if _local(f.tag) == "FIELD"]
        if "access_url" not in names or "semantics" not in names:
            continue
        for row in table.iter():
            if _local(row.tag) != "TR":
                continue
            cells = [(td.text or "").strip() for td in row if _local(td.tag) == "TD"]
            values = dict(zip(names, cells, strict=False))
            if values.get("semantics") != "#this":
                continue
            if values.get("error_message"):
                raise failure(
                    COMPONENT_FAILED,
                    "The DataLink service reports an error for the data: ${error}",
                    error=values["error_message"],
                )
            if url := _url(values.get("access_url")):
                return url
    raise failure(COMPONENT_FAILED, "The DataLink response has no #this row with an access_url")


class IvoaStager(EstimatingStager):
    kinds = (DataKind.IVOA,)

    def _access(self, data: Data) -> tuple[str, bool] | None:
        """(URL, whether it is a DataLink service to resolve first)."""
        block = _block(data)
        datalink, obscore = _sub(block, "datalink"), _sub(block, "obscore")
        if url := _url(datalink.get("access_url")):
            return url, False
        if url := _url(obscore.get("access_url")):
            fmt = str(obscore.get("access_format") or "").lower()
            return url, DATALINK_FORMAT in fmt
        return None

    def check(self, data: Data) -> list[Message]:
        block = _block(data)
        if self._access(data) is not None:
            return []
        if not block:
            return [
                Message.make(
                    MISSING_VALUE, Level.ERROR, "IVOA data [${name}] needs an ivoa block", name=data.label
                )
            ]
        return [
            Message.make(
                INVALID_VALUE,
                Level.ERROR,
                "IVOA data [${name}] needs an http(s) access_url in its datalink or obscore block; "
                "an ivoid alone cannot be resolved here",
                name=data.label,
            )
        ]

    def source_key(self, data: Data) -> str:
        access = self._access(data)
        if access is None:
            return "ivoa"
        return f"http:{httpx.URL(access[0]).netloc.decode().lower()}"

    def declared_size(self, data: Data) -> int | None:
        block = _block(data)
        length = _sub(block, "datalink").get("content_length")
        if isinstance(length, int) and not isinstance(length, bool) and length >= 0:
            return length
        estsize = _sub(block, "obscore").get("access_estsize")  # ObsCore: kilobytes
        if isinstance(estsize, int) and not isinstance(estsize, bool) and estsize >= 0:
            return estsize * 1024
        return super().declared_size(data)

    async def _resolve_datalink(self, url: str) -> str:
        try:
            async with httpx.AsyncClient(
                timeout=httpx.Timeout(60.0, connect=self.config.connect_timeout_seconds),
                follow_redirects=True,
                trust_env=self.config.trust_env,
            ) as client:
                response = await client.get(url)
        except httpx.HTTPError as exc:
            raise failure(
                COMPONENT_FAILED, "DataLink service [${url}] failed: ${error}", url=url, error=repr(exc)
            ) from exc
        if response.status_code != 200:
            raise failure(
                COMPONENT_FAILED,
                "DataLink service [${url}] answered HTTP ${status}",
                url=url,
                status=response.status_code,
            )
        if len(response.content) > _MAX_VOTABLE_BYTES:
            raise failure(COMPONENT_FAILED, "DataLink response from [${url}] is too large", url=url)
        return datalink_this_url(response.content)

    async def stage(self, data: Data, target: Path) -> Staged:
        access = self._access(data)
        if access is None:
            raise StagingError(self.check(data)[0])
        started = self.clock()
        url, is_links = access
        if is_links:
            url = await self._resolve_datalink(url)
        dest = target / url_filename(url, safe_name(data.label))
        nbytes = await download_http(url, dest, config=self.config, checksum=declared_checksum(data))
        return self.staged(dest, nbytes, started, self.source_key(data))
