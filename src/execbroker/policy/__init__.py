"""execbroker.policy."""
