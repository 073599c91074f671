"""execbroker.cli."""
