"""The sharing catalog, one sub-domain per folder: ``units`` (the audited unit registry), ``resources``
(resources, info items, documents and the publishing lifecycle), ``editions``, ``attributes`` (extra
metadata) and ``transfer`` (import and export). Other domains use ``resources.service``."""
