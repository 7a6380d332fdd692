"""Connections: a unit × channel × settings × keys, moving draft → testing → live (or suspended, terminated)."""
