"""The admin's extra metadata attributes on resources (e.g. 法律依据)."""
