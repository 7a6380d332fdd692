"""Catalog resources: info items, consents, versions, documents and the publishing lifecycle."""
