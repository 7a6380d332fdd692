"""Building blocks every domain reuses: database, errors, ids, clock, pagination, i18n, logging."""
