"""execbroker.client."""
