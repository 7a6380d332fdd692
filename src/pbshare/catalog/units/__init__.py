"""The audited side of the unit registry: what the catalog's unit pages save and show."""
