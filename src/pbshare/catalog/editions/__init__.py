"""Editions (named, dated sets of published versions) and the catalog's own header."""
