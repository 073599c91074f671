"""Moving bytes: a streamed HTTP download and a local copy, with size limits and checksums.

Shared by the stagers whose sources end in a URL (simple data, Rucio PFNs, IVOA access URLs).
Every write goes to a ``.part`` file that is renamed only when complete and verified, so a crash
never leaves a plausible-looking but truncated file in a volume.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from execbroker.model.messages import COMPONENT_FAILED, POLICY_DENIED, RESOURCE_LIMIT, Level, Message
from execbroker.staging.base import StagingError
from execbroker.staging.checksum import Checksum
from execbroker.staging.config import StagingConfig


def failure(kind: str, template: str, **values: object) -> StagingError:
    return StagingError(Message.make(kind, Level.ERROR, template, **values))


def safe_name(name: str | None, fallback: str = "data") -> str:
    """A single path component: no separators, no ``..``, never empty."""
    base = (name or "").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    base = base.strip().lstrip(".")
    return base or fallback


def url_filename(url: str, fallback: str = "data") -> str:
    return safe_name(unquote(urlsplit(url).path), fallback)


def file_url_path(url: str) -> Path:
    """The host path of a ``file://`` URL (``file:///p`` or ``file://localhost/p``)."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise failure(
            POLICY_DENIED,
            "The file URL [${url}] names a remote host; only local files can be copied",
            url=url,
        )
    return Path(unquote(parts.path))


def allowed_file(path: Path, roots: list[Path]) -> Path:
    """``path`` with symlinks and ``..`` resolved, if it lies under one of ``roots``; else StagingError."""
    resolved = Path(os.path.realpath(path))
    for root in roots:
        real_root = Path(os.path.realpath(root))
        if resolved == real_root or resolved.is_relative_to(real_root):
            return resolved
    raise failure(
        POLICY_DENIED,
        "The path [${path}] is not under a directory this broker may read files from",
        path=str(path),
    )


def within(base: Path, relative: str) -> Path:
    """``base/relative`` if it stays inside ``base`` (object keys and DID names come from outside)."""
    parts = [p for p in relative.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise failure(COMPONENT_FAILED, "Refusing to write the unsafe name [${name}]", name=relative)
    return base.joinpath(*parts)


def too_big(what: str, size: int, limit: int) -> StagingError:
    return failure(
        RESOURCE_LIMIT,
        "[${what}] is ${size} bytes, more than the limit of ${limit} bytes",
        what=what,
        size=size,
        limit=limit,
    )


def check_digest(what: str, checksum: Checksum | None, hexdigest: str | None) -> None:
    if checksum is not None and hexdigest is not None and not checksum.matches(hexdigest):
        raise failure(
            COMPONENT_FAILED,
            "Checksum mismatch for [${what}]: expected ${type} ${expected}, got ${actual}",
            what=what,
            type=checksum.type,
            expected=checksum.value,
            actual=hexdigest,
        )


async def download_http(
    url: str,
    dest: Path,
    *,
    config: StagingConfig,
    checksum: Checksum | None = None,
    max_bytes: int | None = None,
    headers: dict[str, str] | None = None,
    verify: bool = True,
) -> int:
    """Stream ``url`` into file ``dest``; returns the byte count. Raises StagingError."""
    limit = config.max_bytes if max_bytes is None else max_bytes
    hasher = checksum.hasher() if checksum else None
    part = dest.with_name(dest.name + ".part")
    timeout = httpx.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds)
    total = 0
    try:
        async with (
            asyncio.timeout(config.timeout_seconds),
            httpx.AsyncClient(
                timeout=timeout, follow_redirects=True, trust_env=config.trust_env, verify=verify
            ) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code != 200:
                raise failure(
                    COMPONENT_FAILED,
                    "Download of [${url}] failed: HTTP ${status}",
                    url=url,
                    status=response.status_code,
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise too_big(url, int(declared), limit)
            with part.open("wb") as out:
                async for chunk in response.aiter_bytes(config.chunk_size):
                    total += len(chunk)
                    if total > limit:
                        raise too_big(url, total, limit)
                    if hasher:
                        hasher.update(chunk)
                    await asyncio.to_thread(out.write, chunk)
    except TimeoutError as exc:
        part.unlink(missing_ok=True)
        raise failure(
            COMPONENT_FAILED,
            "Download of [${url}] did not finish within ${seconds} s",
            url=url,
            seconds=config.timeout_seconds,
        ) from exc
    except httpx.HTTPError as exc:
        part.unlink(missing_ok=True)
        raise failure(
            COMPONENT_FAILED, "Download of [${url}] failed: ${error}", url=url, error=repr(exc)
        ) from exc
    except StagingError:
        part.unlink(missing_ok=True)
        raise
    try:
        check_digest(url, checksum, hasher.hexdigest() if hasher else None)
    except StagingError:
        part.unlink(missing_ok=True)
        raise
    part.replace(dest)
    return total


def copy_local(
    source: Path,
    dest: Path,
    *,
    config: StagingConfig,
    checksum: Checksum | None = None,
    max_bytes: int | None = None,
) -> int:
    """Copy a host file or directory (already allow-listed) to ``dest``; returns bytes copied.

    Blocking: call it in a thread.
    """
    limit = config.max_bytes if max_bytes is None else max_bytes
    if not source.exists():
        raise failure(COMPONENT_FAILED, "The file [${path}] does not exist", path=str(source))
    if source.is_dir():
        files = [p for p in source.rglob("*") if p.is_file() and not p.is_symlink()]
        size = sum(p.stat().st_size for p in files)
        if size > limit:
            raise too_big(str(source), size, limit)
        part = dest.with_name(dest.name + ".part")
        shutil.rmtree(part, ignore_errors=True)
        for path in files:
            target = part / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        if dest.exists():
            shutil.rmtree(dest)
        part.replace(dest)
        return size
    size = source.stat().st_size
    if size > limit:
        raise too_big(str(source), size, limit)
    hasher = checksum.hasher() if checksum else None
    part = dest.with_name(dest.name + ".part")
    with source.open("rb") as src, part.open("wb") as out:
        while chunk := src.read(config.chunk_size):
            if hasher:
                hasher.update(chunk)
            out.write(chunk)
    try:
        check_digest(str(source), checksum, hasher.hexdigest() if hasher else None)
    except StagingError:
        part.unlink(missing_ok=True)
        raise
    part.replace(dest)
    return size
