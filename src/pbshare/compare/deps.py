"""Who may see comparisons and record history: anyone who may read the warehouse (values masked);
``pii:unmask`` with a stated purpose shows them in full."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

CompareReader = Annotated[Principal, Depends(require(Perm.warehouse_read))]
