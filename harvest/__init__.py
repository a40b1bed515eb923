"""The national aggregator: harvest OAI-PMH feeds, validate, deduplicate, publish (no Flask in its core)."""
