"""execbroker.wire.dialects."""
