"""Timing knobs of the reconcile loop."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from execbroker.model.times import coerce_duration


class EngineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Longest sleep between passes when nothing is due (a wake-up comes sooner on local changes).
    poll_interval: timedelta = timedelta(seconds=1)
    #: How long one platform call may take before the step counts as failed.
    step_timeout: timedelta = timedelta(minutes=10)
    #: How long after the booked slot ends a still-running executable is stopped.
    stop_grace: timedelta = timedelta(seconds=5)
    #: How long a claimed session stays reserved for this process without a heartbeat. While a step
    #: runs the lease is renewed every third of this; a process that dies loses its claims after it.
    lease: timedelta = timedelta(seconds=30)
    #: An accepted session whose preparation starts later than this shows WAITING; after a shorter
    #: wait it goes from ACCEPTED straight to PREPARING (clients written for the reference
    #: implementation expect ACCEPTED or PREPARING right after a direct execution).
    waiting_threshold: timedelta = timedelta(minutes=2)
    #: A step that runs later than this after its due time gets a message recording the lateness.
    late_after: timedelta = timedelta(seconds=30)
    #: How many sessions this process advances at once.
    concurrency: int = Field(default=32, ge=1, le=1024)
    #: Whether this process runs the engine at all (a replica may serve the API only).
    enabled: bool = True

    _durations = field_validator(
        "poll_interval",
        "step_timeout",
        "stop_grace",
        "late_after",
        "lease",
        "waiting_threshold",
        mode="before",
    )(coerce_duration)
