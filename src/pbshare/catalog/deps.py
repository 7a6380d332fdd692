"""Who may do what in the catalog, as Annotated route parameters: ``principal: CatalogReader``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

CatalogReader = Annotated[Principal, Depends(require(Perm.catalog_read))]
CatalogWriter = Annotated[Principal, Depends(require(Perm.catalog_write))]
# A source unit's or the data authority's opinion in a consultation.
ConsentGiver = Annotated[Principal, Depends(require(Perm.catalog_consent))]
UnitRegistrar = Annotated[Principal, Depends(require(Perm.units_write))]
