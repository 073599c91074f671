"""The pure scheduling core: capacity profiles per pool and offer generation.

Pure and deterministic: no database, no clock (``now`` is always passed in). Imports only
:mod:`execbroker.model` and third-party libraries.
"""

from execbroker.scheduling.amounts import RESOURCES, Amounts
from execbroker.scheduling.config import CapacityConfig, LimitsConfig, PoolConfig
from execbroker.scheduling.grid import Grid
from execbroker.scheduling.offers import Bounds, Demand, Plan, Slot, SlotRequest, generate, generate_for
from execbroker.scheduling.profile import Booking, Profile, Reserved

__all__ = [
    "RESOURCES",
    "Amounts",
    "Booking",
    "Bounds",
    "CapacityConfig",
    "Demand",
    "Grid",
    "LimitsConfig",
    "Plan",
    "PoolConfig",
    "Profile",
    "Reserved",
    "Slot",
    "SlotRequest",
    "generate",
    "generate_for",
]
