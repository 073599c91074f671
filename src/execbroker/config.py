"""The broker's configuration: a YAML file and ``EXECBROKER_*`` environment variables.

Precedence: environment variables (``EXECBROKER_SERVER__PORT=9000``; nested keys joined with ``__``)
over the YAML file (``--config FILE`` or ``EXECBROKER_CONFIG``) over the defaults. Everything is
validated at start; a bad value stops the broker with a message that names it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from execbroker.engine.config import EngineConfig
from execbroker.platforms.docker_config import DockerPlatformConfig
from execbroker.platforms.simulated import SimulatedConfig
from execbroker.policy.config import PolicyConfig
from execbroker.scheduling.config import CapacityConfig
from execbroker.staging.config import StagingConfig


class ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    #: The public base URL (scheme, host, path prefix) when behind a proxy; else taken from requests.
    base_url: str | None = None
    #: Largest request body accepted (bytes); larger ones get 413.
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    #: Longest ``?WAIT=`` a long-poll may ask for (seconds).
    max_wait: float = Field(default=60.0, ge=0)
    #: Trust X-Forwarded-* headers (set when behind a reverse proxy).
    proxy_headers: bool = False


class DatabaseConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: SQLAlchemy URL. Empty: SQLite in ``data_dir`` (embedded, one process). PostgreSQL for replicas:
    #: ``postgresql+psycopg://user:password@host:5432/broker``.
    url: str = ""
    pool_size: int = Field(default=8, ge=1, le=128)
    #: Run migrations at start (they never drop data).
    migrate: bool = True
    #: Run write transactions on the event loop thread (default: yes for SQLite, no for PostgreSQL).
    inline_writes: bool | None = None


class PlatformConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["simulated", "docker"] = "simulated"
    simulated: SimulatedConfig = Field(default_factory=SimulatedConfig)
    docker: DockerPlatformConfig = Field(default_factory=DockerPlatformConfig)


class LoggingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = True
    access_log: bool = False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EXECBROKER_", env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    #: Where the embedded database and platform work files live.
    data_dir: Path = Path("./data")
    server: ServerConfig = Field(default_factory=ServerConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    capacity: CapacityConfig = Field(default_factory=CapacityConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    platform: PlatformConfig = Field(default_factory=PlatformConfig)
    staging: StagingConfig = Field(default_factory=StagingConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first, then what the caller passed (the YAML file), then defaults.
        return (env_settings, init_settings)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'execbroker.db').resolve()}"


class ConfigError(Exception):
    """The configuration is unusable; the message says what and where."""


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read the YAML file (if any), apply the environment, validate everything."""
    source = path or os.environ.get("EXECBROKER_CONFIG")
    data: dict[str, Any] = {}
    if source:
        file = Path(source)
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file {file} does not exist") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"configuration file {file} is not valid YAML: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"configuration file {file} must hold a mapping of sections")
        data = loaded
    _merge(data, overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()]
        where = f" in {source}" if source else ""
        raise ConfigError("invalid configuration" + where + ":\n" + "\n".join(lines)) from None


def _merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def dump_settings(settings: Settings) -> str:
    """The effective configuration as YAML (secrets masked)."""
    data = settings.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False)
