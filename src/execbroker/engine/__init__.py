"""execbroker.engine."""
