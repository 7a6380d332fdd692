"""Data sources, harvested tables and columns, metadata types, the data dictionary and lineage."""
