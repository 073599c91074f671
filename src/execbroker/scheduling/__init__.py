"""execbroker.scheduling."""
