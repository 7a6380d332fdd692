"""Who may read or change the warehouse, as Annotated principals (collect's derived-table routes use them too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

WarehouseReader = Annotated[Principal, Depends(require(Perm.warehouse_read))]
WarehouseWriter = Annotated[Principal, Depends(require(Perm.warehouse_write))]
