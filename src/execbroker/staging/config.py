"""Configuration of the stagers: throughputs, limits, allowed roots and per-source credentials.

Throughputs are in bytes per second and keyed by a *source key* (``http:<host>``, ``file``,
``s3:<host:port>``, ``rse:<RSE>``, ``rucio:<host>``); a key without an entry falls back to its
scheme part (``http``, ``s3``, ``rse``) and then to ``default_throughput``. Measured throughput
(:mod:`execbroker.staging.throughput`) overrides these once a source has been seen.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

MB = 1_000_000
GiB = 1024**3


class S3EndpointConfig(BaseModel):
    """Credentials and addressing of one S3 endpoint."""

    model_config = ConfigDict(extra="forbid")

    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    region: str = "us-east-1"
    #: Path-style addressing (``endpoint/bucket/key``): what moto, MinIO and Ceph expect.
    path_style: bool = True
    verify_tls: bool = True


class S3Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Endpoints by URL (``http://127.0.0.1:5000``); a request may only name these.
    endpoints: dict[str, S3EndpointConfig] = Field(default_factory=dict)
    #: The endpoint used when a request names none.
    default_endpoint: str | None = None


class RucioConfig(BaseModel):
    """One Rucio server the broker may resolve DIDs against, with its userpass identity."""

    model_config = ConfigDict(extra="forbid")

    url: str
    auth_url: str | None = None
    account: str
    username: str
    password: SecretStr
    vo: str | None = None
    #: RSEs in order of preference; an RSE not listed comes after all listed ones.
    rse_preference: list[str] = Field(default_factory=list)
    #: Refuse replicas on RSEs that are not in ``rse_preference``.
    only_preferred: bool = False
    verify_tls: bool = True
    #: Seconds a token is reused before a new one is requested (Rucio's default lifetime is 1 h).
    token_reuse_seconds: float = 1800.0


class StagingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_throughput: float = Field(default=50 * MB, gt=0)
    #: Configured throughput per source key or per scheme (``"http"``, ``"rse:LOCAL_POSIX"``).
    throughput: dict[str, float] = Field(default_factory=dict)
    #: Fixed cost per data item (connection, authentication, replica lookup), seconds.
    overhead_seconds: float = Field(default=2.0, ge=0)
    #: Size assumed when a data resource declares none.
    default_size: int = Field(default=100 * MB, ge=0)
    #: Largest item (or sum of a bucket's or dataset's files) staged.
    max_bytes: int = Field(default=10 * GiB, gt=0)
    #: Wall-clock limit for staging one data item.
    timeout_seconds: float = Field(default=3600.0, gt=0)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    chunk_size: int = Field(default=1024 * 1024, gt=0)
    #: Host directories ``file://`` locations may come from (symlinks resolved before the check).
    allowed_file_roots: list[Path] = Field(default_factory=list)
    #: Weight of a new measurement in the moving average of a source's throughput.
    learning_rate: float = Field(default=0.3, gt=0, le=1)
    #: Smaller transfers are dominated by latency and are not used to learn throughput.
    min_sample_bytes: int = Field(default=256 * 1024, ge=0)
    #: Honour HTTP(S)_PROXY from the environment for downloads.
    trust_env: bool = False
    s3: S3Config = Field(default_factory=S3Config)
    rucio: RucioConfig | None = None
