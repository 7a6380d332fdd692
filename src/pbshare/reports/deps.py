"""Who may read and build reports, as Annotated principals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

ReportReader = Annotated[Principal, Depends(require(Perm.reports_read))]
ReportWriter = Annotated[Principal, Depends(require(Perm.reports_write))]
