"""The configuration layer: schema validation with defaults, semantic checks, the run plan (no PyTorch)."""
