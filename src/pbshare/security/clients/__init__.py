"""API clients: a unit's system with its own signing keys."""
