"""Who may call the exchange's routes, as Annotated principals (``principal: ExchangeManager``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

CaseReader = Annotated[Principal, Depends(require(Perm.cases_read))]
# Identifiers in clear need a second right beside reading cases.
CaseUnmasker = Annotated[Principal, Depends(require(Perm.cases_read, Perm.pii_unmask))]
# A unit's system (an API client) sending or pulling envelopes over the REST channel.
UnitSystem = Annotated[Principal, Depends(require(Perm.exchange_send))]
# The office's administrator: connections, dead letters, refusals.
ExchangeManager = Annotated[Principal, Depends(require(Perm.exchange_manage))]
# A case handler asks units for a debtor's information; a unit operator answers its own unit's items.
RequestWriter = Annotated[Principal, Depends(require(Perm.requests_write))]
UnitAnswerer = Annotated[Principal, Depends(require(Perm.requests_answer))]
RequestUnmasker = Annotated[Principal, Depends(require(Perm.requests_write, Perm.pii_unmask))]
