"""execbroker.services."""
