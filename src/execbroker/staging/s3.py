"""S3 data resources (``endpoint``, ``template``, ``bucket``, ``object``), fetched with boto3.

A blank ``object`` means the whole bucket, staged as a directory named after the bucket.
Only endpoints named in the configuration are used, with the credentials configured for them:
a request cannot make the broker sign requests to an arbitrary host. boto3 is blocking, so every
transfer runs in a thread, and the time limit is checked between objects.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.config
import botocore.exceptions

from execbroker.model.components import Data, DataKind
from execbroker.model.messages import COMPONENT_FAILED, MISSING_VALUE, POLICY_DENIED, Level, Message
from execbroker.staging.base import Staged, StagingError
from execbroker.staging.checksum import declared_checksum
from execbroker.staging.config import S3EndpointConfig
from execbroker.staging.estimating import EstimatingStager
from execbroker.staging.transfer import check_digest, failure, safe_name, too_big, within


def _netloc(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"//{url}")
    return parts.netloc.lower()


@dataclass(frozen=True, slots=True)
class S3Target:
    endpoint: str
    bucket: str
    key: str | None


class S3Stager(EstimatingStager):
    kinds = (DataKind.S3,)

    def _endpoint_url(self, data: Data) -> str | None:
        for field in ("endpoint", "template"):
            value = data.spec.get(field)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return self.config.s3.default_endpoint

    def _endpoint(self, requested: str) -> tuple[str, S3EndpointConfig] | None:
        """The configured endpoint matching ``requested`` (by URL or by host:port)."""
        wanted = _netloc(requested)
        for url, conf in self.config.s3.endpoints.items():
            if url == requested or _netloc(url) == wanted:
                return url, conf
        return None

    def _target(self, data: Data) -> S3Target | list[Message]:
        endpoint = self._endpoint_url(data)
        bucket = data.spec.get("bucket")
        problems: list[Message] = []
        if not isinstance(bucket, str) or not bucket.strip():
            problems.append(
                Message.make(MISSING_VALUE, Level.ERROR, "S3 data [${name}] needs a bucket", name=data.label)
            )
        if endpoint is None:
            problems.append(
                Message.make(
                    MISSING_VALUE, Level.ERROR, "S3 data [${name}] needs an endpoint", name=data.label
                )
            )
        elif self._endpoint(endpoint) is None:
            problems.append(
                Message.make(
                    POLICY_DENIED,
                    Level.ERROR,
                    "S3 data [${name}]: the endpoint [${endpoint}] is not one this broker is configured for",
                    name=data.label,
                    endpoint=endpoint,
                )
            )
        if problems or endpoint is None or not isinstance(bucket, str):
            return problems
        key = data.spec.get("object")
        return S3Target(
            endpoint, bucket.strip(), key.strip() if isinstance(key, str) and key.strip() else None
        )

    def check(self, data: Data) -> list[Message]:
        target = self._target(data)
        return target if isinstance(target, list) else []

    def source_key(self, data: Data) -> str:
        endpoint = self._endpoint_url(data)
        return f"s3:{_netloc(endpoint)}" if endpoint else "s3"

    def _client(self, endpoint: str) -> Any:
        found = self._endpoint(endpoint)
        assert found is not None
        url, conf = found
        secret = conf.secret_access_key.get_secret_value() if conf.secret_access_key else None
        return boto3.session.Session().client(
            "s3",
            endpoint_url=url,
            region_name=conf.region,
            aws_access_key_id=conf.access_key_id,
            aws_secret_access_key=secret,
            verify=conf.verify_tls,
            config=botocore.config.Config(
                s3={"addressing_style": "path" if conf.path_style else "auto"},
                connect_timeout=self.config.connect_timeout_seconds,
                read_timeout=min(self.config.timeout_seconds, 300.0),
                retries={"max_attempts": 2},
            ),
        )

    async def stage(self, data: Data, target: Path) -> Staged:
        where = self._target(data)
        if isinstance(where, list):
            raise StagingError(where[0])
        started = self.clock()
        try:
            async with asyncio.timeout(self.config.timeout_seconds + 5):
                path, nbytes = await asyncio.to_thread(self._fetch, where, data, target)
        except TimeoutError as exc:
            raise failure(
                COMPONENT_FAILED,
                "S3 staging of [${bucket}] did not finish within ${seconds} s",
                bucket=where.bucket,
                seconds=self.config.timeout_seconds,
            ) from exc
        return self.staged(path, nbytes, started, self.source_key(data))

    def _fetch(self, where: S3Target, data: Data, target: Path) -> tuple[Path, int]:
        client = self._client(where.endpoint)
        deadline = time.monotonic() + self.config.timeout_seconds
        try:
            if where.key is not None:
                dest = target / safe_name(where.key, "object")
                nbytes = self._fetch_object(client, where.bucket, where.key, dest, data)
                return dest, nbytes
            return self._fetch_bucket(client, where.bucket, target / safe_name(where.bucket), deadline)
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            raise failure(
                COMPONENT_FAILED,
                "S3 staging of [${bucket}/${key}] failed: ${code} ${error}",
                bucket=where.bucket,
                key=where.key or "",
                code=error.get("Code", "?"),
                error=error.get("Message", str(exc)),
            ) from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise failure(
                COMPONENT_FAILED,
                "S3 staging from [${endpoint}] failed: ${error}",
                endpoint=where.endpoint,
                error=str(exc),
            ) from exc
        finally:
            client.close()

    def _fetch_object(self, client: Any, bucket: str, key: str, dest: Path, data: Data | None) -> int:
        head = client.head_object(Bucket=bucket, Key=key)
        size = int(head.get("ContentLength", 0))
        if size > self.config.max_bytes:
            raise too_big(f"{bucket}/{key}", size, self.config.max_bytes)
        checksum = declared_checksum(data) if data is not None else None
        hasher = checksum.hasher() if checksum else None
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        part = dest.with_name(dest.name + ".part")
        total = 0
        try:
            with part.open("wb") as out:
                for chunk in body.iter_chunks(self.config.chunk_size):
                    total += len(chunk)
                    if total > self.config.max_bytes:
                        raise too_big(f"{bucket}/{key}", total, self.config.max_bytes)
                    if hasher:
                        hasher.update(chunk)
                    out.write(chunk)
            check_digest(f"{bucket}/{key}", checksum, hasher.hexdigest() if hasher else None)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        finally:
            body.close()
        part.replace(dest)
        return total

    def _fetch_bucket(self, client: Any, bucket: str, dest: Path, deadline: float) -> tuple[Path, int]:
        keys: list[tuple[str, int]] = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys.extend((obj["Key"], int(obj.get("Size", 0))) for obj in page.get("Contents", []))
        total = sum(size for _, size in keys)
        if total > self.config.max_bytes:
            raise too_big(f"bucket {bucket}", total, self.config.max_bytes)
        dest.mkdir(parents=True, exist_ok=True)
        copied = 0
        for key, _ in keys:
            if key.endswith("/"):
                continue  # a "directory" placeholder object
            if time.monotonic() > deadline:
                raise failure(
                    COMPONENT_FAILED,
                    "S3 staging of bucket [${bucket}] did not finish within ${seconds} s",
                    bucket=bucket,
                    seconds=self.config.timeout_seconds,
                )
            path = within(dest, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            copied += self._fetch_object(client, bucket, key, path, None)
        return dest, copied
