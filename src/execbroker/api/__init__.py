"""execbroker.api."""
