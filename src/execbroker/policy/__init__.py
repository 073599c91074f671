"""execbroker.policy: what a platform will accept, as configuration.

``Policy(PolicyConfig).check(request)`` returns the reasons for a NO (an empty list when the policy has
no objection). Every rule is a key of :class:`PolicyConfig`, the ``policy:`` section of the broker config.
"""

from execbroker.policy.config import PolicyConfig
from execbroker.policy.matching import Match
from execbroker.policy.rules import Policy

__all__ = ["Match", "Policy", "PolicyConfig"]
