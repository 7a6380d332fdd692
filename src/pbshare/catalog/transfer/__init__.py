"""Catalog import and export: YAML/JSON, the Excel layout and DCAT-AP."""
