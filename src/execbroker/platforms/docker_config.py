"""Configuration of the Docker platform (Docker Engine or Podman's Docker-compatible API)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: A Linux capability as Docker and Podman take it: ``NET_RAW``, ``CAP_NET_RAW``, or ``ALL``.
_CAPABILITY = re.compile(r"(CAP_)?[A-Z][A-Z_]*")


class DockerPlatformConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The engine socket: ``unix:///run/docker.sock`` or ``unix:///run/podman/podman.sock``.
    base_url: str = "unix:///run/docker.sock"
    #: ``none`` isolates containers; published ports need ``host`` (no bridge on these hosts).
    network_mode: str = "none"
    #: The host name written into port connectors.
    public_host: str = "127.0.0.1"
    #: Where staged files wait on the host before they are copied into a volume.
    work_dir: Path = Path("/var/lib/execbroker/docker")
    label_prefix: str = "org.execbroker."
    #: Prefix of container and volume names (names are derived from uuids, so repeats are found).
    name_prefix: str = "execbroker"
    #: Seconds between TERM and KILL when a container is stopped.
    stop_grace_seconds: float = Field(default=10.0, ge=0)
    #: Limit of one engine API call (an inspect, a create, a remove).
    call_timeout_seconds: float = Field(default=60.0, gt=0)
    #: Pull an image that is absent locally (never when it is present).
    pull: bool = True
    pull_timeout_seconds: float = Field(default=600.0, gt=0)
    #: How staged data gets into a volume: write the volume's host directory (``mountpoint``),
    #: copy a tar through a helper container (``archive``, works with a remote engine), or
    #: ``auto`` (mountpoint when it is a writable directory here, else archive).
    stage_via: Literal["auto", "mountpoint", "archive"] = "auto"
    #: How long one prepare() call waits for the background preparation before it answers
    #: "not yet" (``retry_after``), and the retry interval it then asks for.
    prepare_wait_seconds: float = Field(default=5.0, ge=0)
    prepare_poll_seconds: float = Field(default=2.0, gt=0)
    #: Planned time for the image check, and for creating volumes and containers.
    image_check_seconds: float = Field(default=5.0, ge=0)
    setup_seconds: float = Field(default=2.0, ge=0)
    release_seconds: float = Field(default=10.0, ge=0)
    #: Used when the compute resource says nothing.
    default_cores: float = Field(default=1.0, gt=0)
    default_memory_gib: float = Field(default=1.0, gt=0)
    #: Log lines quoted in the message of a failed run, and kept after the container is removed.
    failure_log_lines: int = Field(default=20, ge=0)
    kept_log_lines: int = Field(default=200, ge=0)
    max_pool_size: int = Field(default=10, ge=1)
    # -- hardening of the session's main container (the staging helper is never started) ------
    #: Most processes (and threads) the container may have; ``null`` leaves the engine's default
    #: (none on Docker, ``pids_limit`` of containers.conf on Podman).
    pids_limit: int | None = Field(default=4096, ge=1)
    #: Set ``no-new-privileges``: setuid/setgid binaries and file capabilities give no more rights.
    no_new_privileges: bool = True
    #: Capabilities taken from / added to the engine's default set (``NET_RAW`` or ``CAP_NET_RAW``;
    #: ``ALL`` drops all). Empty: the engine's default set.
    cap_drop: list[str] = Field(default_factory=list)
    cap_add: list[str] = Field(default_factory=list)
    #: Run as this ``uid[:gid]`` (or a name known to the image) instead of the image's user. A numeric
    #: user gets the session's volumes (their top directories, when the engine is local), so it can
    #: write them; with a name, or a remote engine, Docker leaves a fresh volume owned by root (Podman
    #: hands it to the user of the first container that mounts it).
    user: str | None = None
    #: Mount the image's file system read-only; ``/tmp`` is then a tmpfs of ``tmpfs_tmp_size``
    #: (unless a session volume is mounted there). The session's writable volumes stay writable.
    read_only_rootfs: bool = False
    #: Size of that ``/tmp`` tmpfs, counted in the container's memory: bytes, or with k, m or g.
    tmpfs_tmp_size: str = Field(default="256m", pattern=r"^[1-9][0-9]*[kmg]?$")

    @field_validator("cap_drop", "cap_add")
    @classmethod
    def _capability_names(cls, names: list[str]) -> list[str]:
        bad = [n for n in names if not _CAPABILITY.fullmatch(n)]
        if bad:
            raise ValueError(
                f"not a capability name: {', '.join(repr(n) for n in bad)} "
                "(upper-case letters and '_', optionally prefixed CAP_, e.g. NET_RAW or CAP_NET_RAW)"
            )
        return names

    @field_validator("user")
    @classmethod
    def _user_not_blank(cls, user: str | None) -> str | None:
        if user is not None and not user.strip():
            raise ValueError("user must be uid[:gid] or a name; leave it unset for the image's user")
        return user
