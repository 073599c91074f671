"""The process-wide objects, built once from the settings (the one place that wires layers together)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from execbroker.config import Settings
from execbroker.engine.reconciler import Engine
from execbroker.platforms.base import Platform
from execbroker.platforms.simulated import SimulatedPlatform
from execbroker.policy.rules import Policy
from execbroker.services.codec import StoredCodec
from execbroker.services.notify import Notifier
from execbroker.services.offers import OfferService
from execbroker.services.sessions import SessionService
from execbroker.store.db import Database
from execbroker.store.ledger import Ledger


def build_platform(settings: Settings, db: Database) -> Platform:
    if settings.platform.kind == "docker":
        from execbroker.platforms.docker import DockerPlatform
        from execbroker.staging.registry import StagerRegistry
        from execbroker.store.throughput import load_throughput

        saved = db.read_sync(load_throughput)
        stagers = StagerRegistry.from_config(settings.staging, saved_throughput=saved)
        return DockerPlatform(settings.platform.docker, stagers)
    return SimulatedPlatform(settings.platform.simulated)


@dataclass
class Context:
    settings: Settings
    db: Database
    ledger: Ledger
    notifier: Notifier
    codec: StoredCodec
    platform: Platform
    offers: OfferService
    sessions: SessionService
    engine: Engine
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def build(cls, settings: Settings) -> Context:
        db = Database(
            settings.database_url,
            pool_size=settings.database.pool_size,
            inline_writes=settings.database.inline_writes,
        )
        if settings.database.migrate:
            db.migrate()
        ledger = Ledger(settings.capacity)
        db.write_sync(ledger.ensure_pools)
        notifier = Notifier()
        codec = StoredCodec()
        platform = build_platform(settings, db)
        policy = Policy(settings.policy)
        offers = OfferService(
            db, ledger, settings.capacity, policy, platform, codec, notifier, settings.engine.stop_grace
        )
        sessions = SessionService(db, ledger, notifier)
        engine = Engine(db, ledger, platform, codec, notifier, settings.engine)
        return cls(settings, db, ledger, notifier, codec, platform, offers, sessions, engine)
