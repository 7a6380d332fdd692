"""Who may design models and enter records. Each model also names the roles that may read, enter, edit and
export its records (checked in the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

FormDesigner = Annotated[Principal, Depends(require(Perm.forms_design))]
FormUser = Annotated[Principal, Depends(require(Perm.forms_enter))]
