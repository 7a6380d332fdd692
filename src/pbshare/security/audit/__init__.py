"""The audit log: SM3-chained records, search, export, archive and verification."""
