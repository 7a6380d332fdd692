"""Exchange channels: one module per transport, one envelope (DESIGN.md §5)."""
