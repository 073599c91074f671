"""The internal domain model (pure data and pure functions; imports nothing else of execbroker)."""
