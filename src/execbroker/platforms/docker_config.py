"""Configuration of the Docker platform (Docker Engine or Podman's Docker-compatible API)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


class DockerPlatformConfig(BaseModel):
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
