"""execbroker.store."""
