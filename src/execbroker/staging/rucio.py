"""Rucio and SKAO data resources: resolve a DID's replicas through the Rucio REST API, then fetch.

The rucio client package is deliberately not used: it is large, pins its own dependencies and
is blocking. Two REST calls are enough: ``GET /auth/userpass`` for a token and
``GET /replicas/{scope}/{name}`` (a JSON stream, one file per line) for the replicas. A replica is
chosen by the configured RSE preference; ``file://`` PFNs (a posix RSE on this host) are copied
from allow-listed roots, ``http(s)://`` PFNs are downloaded. Every file is verified against the
adler32 or md5 Rucio holds for it, so a corrupt replica never reaches a volume.
"""

from __future__ import annotations

import abc
import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from execbroker.model.components import Data, DataKind
from execbroker.model.messages import COMPONENT_FAILED, MISSING_VALUE, POLICY_DENIED, Level, Message
from execbroker.staging.base import Staged, StagingError
from execbroker.staging.checksum import Checksum, declared_checksum
from execbroker.staging.config import RucioConfig, StagingConfig
from execbroker.staging.estimating import EstimatingStager
from execbroker.staging.throughput import ThroughputBook
from execbroker.staging.transfer import (
    allowed_file,
    copy_local,
    download_http,
    failure,
    file_url_path,
    safe_name,
    too_big,
)


@dataclass(slots=True)
class FileReplicas:
    """One file of a DID and where Rucio says copies of it are."""

    scope: str
    name: str
    bytes: int | None
    adler32: str | None
    md5: str | None
    #: PFNs per RSE, in the order Rucio gave them.
    rses: dict[str, list[str]] = field(default_factory=dict)

    def checksum(self) -> Checksum | None:
        if self.adler32:
            return Checksum("adler32", self.adler32)
        if self.md5:
            return Checksum("md5", self.md5)
        return None


@dataclass(frozen=True, slots=True)
class Did:
    scope: str
    name: str


def _netloc(url: str) -> str:
    return urlsplit(url if "://" in url else f"//{url}").netloc.lower()


class RucioApi:
    """The two Rucio REST calls the stagers need, with a reused token."""

    def __init__(self, config: RucioConfig, staging: StagingConfig) -> None:
        self.config = config
        self.staging = staging
        self._token: str | None = None
        self._token_time = 0.0
        self._lock = asyncio.Lock()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=self.staging.connect_timeout_seconds),
            verify=self.config.verify_tls,
            trust_env=self.staging.trust_env,
        )

    async def token(self, client: httpx.AsyncClient, *, renew: bool = False) -> str:
        async with self._lock:
            fresh = time.monotonic() - self._token_time < self.config.token_reuse_seconds
            if self._token is not None and fresh and not renew:
                return self._token
            headers = {
                "X-Rucio-Account": self.config.account,
                "X-Rucio-Username": self.config.username,
                "X-Rucio-Password": self.config.password.get_secret_value(),
            }
            if self.config.vo:
                headers["X-Rucio-VO"] = self.config.vo
            base = (self.config.auth_url or self.config.url).rstrip("/")
            response = await client.get(f"{base}/auth/userpass", headers=headers)
            token: str | None = response.headers.get("X-Rucio-Auth-Token")
            if response.status_code != 200 or not token:
                raise failure(
                    COMPONENT_FAILED,
                    "Rucio at [${url}] refused the broker's credentials: HTTP ${status}",
                    url=base,
                    status=response.status_code,
                )
            self._token, self._token_time = token, time.monotonic()
            return token

    async def list_replicas(self, did: Did) -> list[FileReplicas]:
        url = f"{self.config.url.rstrip('/')}/replicas/{quote(did.scope, safe='')}/{quote(did.name, safe='')}"
        try:
            async with self._client() as client:
                for attempt in range(2):
                    headers = {
                        "X-Rucio-Auth-Token": await self.token(client, renew=attempt > 0),
                        "Accept": "application/x-json-stream",
                    }
                    response = await client.get(url, headers=headers)
                    if response.status_code == 401 and attempt == 0:
                        continue
                    break
        except httpx.HTTPError as exc:
            raise failure(
                COMPONENT_FAILED, "Rucio at [${url}] cannot be reached: ${error}", url=url, error=repr(exc)
            ) from exc
        if response.status_code == 404:
            raise failure(
                COMPONENT_FAILED,
                "Rucio does not know the DID [${scope}:${name}]",
                scope=did.scope,
                name=did.name,
            )
        if response.status_code != 200:
            raise failure(
                COMPONENT_FAILED,
                "Rucio replica lookup for [${scope}:${name}] failed: HTTP ${status} ${body}",
                scope=did.scope,
                name=did.name,
                status=response.status_code,
                body=response.text[:200],
            )
        return [_parse_replica(json.loads(line)) for line in response.text.splitlines() if line.strip()]

    async def did_exists(self, did: Did) -> bool:
        """Whether Rucio knows the DID (to tell "unknown" from "no copies")."""
        url = f"{self.config.url.rstrip('/')}/dids/{quote(did.scope, safe='')}/{quote(did.name, safe='')}"
        try:
            async with self._client() as client:
                headers = {"X-Rucio-Auth-Token": await self.token(client)}
                response = await client.get(url, headers=headers)
        except httpx.HTTPError:
            return True
        return response.status_code != 404


def _parse_replica(entry: dict[str, Any]) -> FileReplicas:
    rses: dict[str, list[str]] = {}
    states = entry.get("states") or {}
    for rse, pfns in (entry.get("rses") or {}).items():
        if states.get(rse, "AVAILABLE") == "AVAILABLE" and pfns:
            rses[str(rse)] = [str(p) for p in pfns]
    size = entry.get("bytes")
    return FileReplicas(
        scope=str(entry.get("scope", "")),
        name=str(entry.get("name", "")),
        bytes=int(size) if isinstance(size, int) else None,
        adler32=entry.get("adler32") or None,
        md5=entry.get("md5") or None,
        rses=rses,
    )


class _RucioBase(EstimatingStager):
    """What Rucio and SKAO share: the API, the replica choice and the download."""

    def __init__(self, config: StagingConfig, book: ThroughputBook) -> None:
        super().__init__(config, book)
        self.api = RucioApi(config.rucio, config) if config.rucio is not None else None

    # -- what subclasses provide -------------------------------------------------------------
    @abc.abstractmethod
    def did(self, data: Data) -> Did | None:
        """The scope and name to look up (None: the request does not say)."""

    def hinted_rses(self, data: Data) -> list[str]:
        """RSEs the request says hold the data (SKAO's replica list)."""
        return []

    def requested_endpoint(self, data: Data) -> str | None:
        return None

    # -- Stager ------------------------------------------------------------------------------
    def check(self, data: Data) -> list[Message]:
        if self.config.rucio is None:
            return [
                Message.make(
                    POLICY_DENIED,
                    Level.ERROR,
                    "Data resource [${name}] needs Rucio, and this broker has no Rucio server configured",
                    name=data.label,
                )
            ]
        problems: list[Message] = []
        if self.did(data) is None:
            problems.append(
                Message.make(
                    MISSING_VALUE,
                    Level.ERROR,
                    "Data resource [${name}] needs a scope (namespace) and a name (object)",
                    name=data.label,
                )
            )
        endpoint = self.requested_endpoint(data)
        if endpoint and _netloc(endpoint) != _netloc(self.config.rucio.url):
            problems.append(
                Message.make(
                    POLICY_DENIED,
                    Level.ERROR,
                    "Data resource [${name}]: this broker does not use the Rucio endpoint [${endpoint}]",
                    name=data.label,
                    endpoint=endpoint,
                )
            )
        return problems

    def rank(self, rses: list[str], data: Data) -> list[str]:
        """``rses`` in the order they should be tried; excluded ones dropped."""
        assert self.config.rucio is not None
        preference = self.config.rucio.rse_preference
        hinted = self.hinted_rses(data)
        if self.config.rucio.only_preferred:
            rses = [r for r in rses if r in preference]

        def order(rse: str) -> tuple[int, int, str]:
            pref = preference.index(rse) if rse in preference else len(preference)
            hint = hinted.index(rse) if rse in hinted else len(hinted)
            return (pref, hint, rse)

        return sorted(rses, key=order)

    def source_key(self, data: Data) -> str:
        if self.config.rucio is None:
            return "rucio"
        candidates = self.rank(
            list(dict.fromkeys(self.hinted_rses(data) + self.config.rucio.rse_preference)), data
        )
        if candidates:
            return f"rse:{candidates[0]}"
        return f"rucio:{_netloc(self.config.rucio.url)}"

    async def stage(self, data: Data, target: Path) -> Staged:
        problems = self.check(data)
        did = self.did(data)
        if problems or did is None or self.api is None:
            raise StagingError(problems[0])
        started = self.clock()
        files = await self.api.list_replicas(did)
        files = [f for f in files if f.rses]
        if not files:
            known = await self.api.did_exists(did)
            raise failure(
                COMPONENT_FAILED,
                "Rucio lists no available replica of [${scope}:${name}]"
                if known
                else "Rucio does not know the DID [${scope}:${name}]",
                scope=did.scope,
                name=did.name,
            )
        total = sum(f.bytes or 0 for f in files)
        if total > self.config.max_bytes:
            raise too_big(f"{did.scope}:{did.name}", total, self.config.max_bytes)
        single = len(files) == 1 and files[0].name == did.name
        base = target if single else target / safe_name(did.name)
        base.mkdir(parents=True, exist_ok=True)
        declared = declared_checksum(data) if single else None
        nbytes = 0
        used: list[str] = []
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                for entry in files:
                    dest = base / safe_name(entry.name)
                    rse, count = await self._fetch_file(entry, dest, data, declared)
                    nbytes += count
                    used.append(rse)
        except TimeoutError as exc:
            raise failure(
                COMPONENT_FAILED,
                "Staging [${scope}:${name}] did not finish within ${seconds} s",
                scope=did.scope,
                name=did.name,
                seconds=self.config.timeout_seconds,
            ) from exc
        path = base / safe_name(files[0].name) if single else base
        return self.staged(path, nbytes, started, f"rse:{used[0]}")

    async def _fetch_file(
        self, entry: FileReplicas, dest: Path, data: Data, declared: Checksum | None
    ) -> tuple[str, int]:
        """Try the replicas of one file in preference order; returns (RSE used, bytes)."""
        ranked = self.rank(list(entry.rses), data)
        if not ranked:
            raise failure(
                POLICY_DENIED,
                "No replica of [${scope}:${name}] is on an RSE this broker may use (found: ${rses})",
                scope=entry.scope,
                name=entry.name,
                rses=", ".join(sorted(entry.rses)) or "none",
            )
        checksum = declared or entry.checksum()
        errors: list[str] = []
        for rse in ranked:
            for pfn in entry.rses[rse]:
                try:
                    return rse, await self._fetch_pfn(pfn, dest, checksum, entry.bytes)
                except StagingError as exc:
                    errors.append(f"{rse}: {exc.message.rendered}")
        raise failure(
            COMPONENT_FAILED,
            "Every replica of [${scope}:${name}] failed: ${errors}",
            scope=entry.scope,
            name=entry.name,
            errors="; ".join(errors),
        )

    async def _fetch_pfn(self, pfn: str, dest: Path, checksum: Checksum | None, size: int | None) -> int:
        scheme = urlsplit(pfn).scheme.lower()
        if scheme == "file":
            path = allowed_file(file_url_path(pfn), self.config.allowed_file_roots)
            return await asyncio.to_thread(copy_local, path, dest, config=self.config, checksum=checksum)
        if scheme in ("http", "https"):
            return await download_http(pfn, dest, config=self.config, checksum=checksum)
        raise failure(COMPONENT_FAILED, "The replica [${pfn}] uses an unsupported protocol", pfn=pfn)


def _text(block: Any, key: str) -> str | None:
    if isinstance(block, dict):
        value = block.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class RucioStager(_RucioBase):
    """``rucio: {endpoint, scope, object, type}``."""

    kinds = (DataKind.RUCIO,)

    def did(self, data: Data) -> Did | None:
        block = data.spec.get("rucio")
        scope, name = _text(block, "scope"), _text(block, "object")
        return Did(scope, name) if scope and name else None

    def requested_endpoint(self, data: Data) -> str | None:
        return _text(data.spec.get("rucio"), "endpoint")


class SkaoStager(_RucioBase):
    """``skao: {namespace, objectname, objecttype, datasize, checksum, replicas: [{rsename, dataurl}]}``."""

    kinds = (DataKind.SKAO,)

    def did(self, data: Data) -> Did | None:
        block = data.spec.get("skao")
        scope, name = _text(block, "namespace"), _text(block, "objectname")
        return Did(scope, name) if scope and name else None

    def hinted_rses(self, data: Data) -> list[str]:
        block = data.spec.get("skao")
        replicas = block.get("replicas") if isinstance(block, dict) else None
        if not isinstance(replicas, list):
            return []
        return [name for r in replicas if (name := _text(r, "rsename"))]

    def declared_size(self, data: Data) -> int | None:
        block = data.spec.get("skao")
        if isinstance(block, dict):
            size = block.get("datasize")
            if isinstance(size, int) and not isinstance(size, bool) and size >= 0:
                return size
        return super().declared_size(data)
