"""Data resources: estimate preparation time, stage into storage, verify checksums."""
