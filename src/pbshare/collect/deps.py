"""Who may call collect's routes, as Annotated principals (``principal: CollectRunner``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

# Upload, preview, run imports and profiles, see runs and their quarantine.
CollectRunner = Annotated[Principal, Depends(require(Perm.collect_run))]
# Save, edit and delete import profiles, datasets and transforms.
CollectManager = Annotated[Principal, Depends(require(Perm.collect_manage))]
# The quarantine as Excel is in clear: quality management's right as well.
QuarantineExporter = Annotated[Principal, Depends(require(Perm.collect_run, Perm.quality_manage))]
SqlChecker = Annotated[Principal, Depends(require(Perm.warehouse_read, Perm.collect_run))]
# Define a derived table (it writes a warehouse table) ...
DerivedWriter = Annotated[Principal, Depends(require(Perm.collect_manage, Perm.warehouse_write))]
# ... and rebuild one.
DerivedRefresher = Annotated[Principal, Depends(require(Perm.collect_run, Perm.warehouse_write))]
