"""execbroker.wire."""
