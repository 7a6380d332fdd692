"""Debtors and their bankruptcy cases, with identifiers sealed and shown masked."""
