"""The seed dialects: v0.8 / seed deck 004 (SEED) and its June-2025 predecessor (J25).

Both use ``type`` discriminators, flat ``uuid``/``name``/``href``/``created``/``messages``, session
``options`` at the top level, ``…/EB/schema/types/<group>/<name>-1.0`` URIs, the v0.8 phase names
PROPOSED and READY, and updates wrapped in ``update:``. They have no costs, metrics, ``modified`` or
docker ``command``. J25 differs in three places, all seen in the reference's examples 002-008: the
``computer:`` key and ``computer/`` URI group, schedules wrapped in ``offered:``, and an exact available
start written as a bare instant.
"""

from __future__ import annotations

from execbroker.wire.dialects.codec import Codec
from execbroker.wire.dialects.encoding import Style
from execbroker.wire.kinds import UriStyle

SEED_STYLE = Style(
    uris=UriStyle.V08,
    discriminator="type",
    nested_meta=False,
    legacy_phases=True,
    wrapped_update=True,
)

J25_STYLE = Style(
    uris=UriStyle.J25,
    discriminator="type",
    nested_meta=False,
    compute_key="computer",
    offered_wrapper=True,
    bare_exact_start=True,
    legacy_phases=True,
    wrapped_update=True,
)

SEED_CODEC = Codec("seed", SEED_STYLE)
J25_CODEC = Codec("j25", J25_STYLE)
