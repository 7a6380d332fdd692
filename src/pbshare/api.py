"""Every domain's router, mounted under ``/api/v1``.

Public routes (login) go on ``public``; everything else on ``protected``, which carries the
authentication dependency once for all, so no route can forget it. A domain adds one line below.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from pbshare.catalog.attributes import api as catalog_attributes_api
from pbshare.catalog.editions import api as catalog_editions_api
from pbshare.catalog.resources import api as catalog_resources_api
from pbshare.catalog.transfer import api as catalog_transfer_api
from pbshare.catalog.units import api as catalog_units_api
from pbshare.collect.derived import api as collect_derived_api
from pbshare.collect.profiles import api as collect_profiles_api
from pbshare.collect.runs import api as collect_runs_api
from pbshare.collect.uploads import api as collect_uploads_api
from pbshare.exchange.cases import api as exchange_cases_api
from pbshare.exchange.connections import api as exchange_connections_api
from pbshare.exchange.messaging import api as exchange_messaging_api
from pbshare.metadata import api as metadata_api
from pbshare.ops import api as ops_api
from pbshare.security.audit import api as audit_api
from pbshare.security.clients import api as clients_api
from pbshare.security.deps import current_principal
from pbshare.security.identity import api as security_api
from pbshare.warehouse import api as warehouse_api

PREFIX = "/api/v1"

public = APIRouter(prefix=PREFIX)
public.include_router(security_api.public_router)

protected = APIRouter(prefix=PREFIX, dependencies=[Depends(current_principal)])
protected.include_router(security_api.router)
protected.include_router(clients_api.router)
protected.include_router(audit_api.router)
protected.include_router(ops_api.router)
protected.include_router(ops_api.audit_router)
protected.include_router(exchange_cases_api.router)
protected.include_router(exchange_messaging_api.router)
protected.include_router(exchange_connections_api.router)
protected.include_router(exchange_messaging_api.mailbox_router)
protected.include_router(catalog_units_api.router)
protected.include_router(catalog_resources_api.router)
protected.include_router(catalog_editions_api.router)
protected.include_router(catalog_attributes_api.router)
protected.include_router(catalog_transfer_api.router)
protected.include_router(metadata_api.router)
protected.include_router(collect_uploads_api.router)
protected.include_router(collect_runs_api.router)
protected.include_router(collect_profiles_api.router)
protected.include_router(collect_derived_api.router)
protected.include_router(warehouse_api.router)

# Paths reachable without a session; tests check that every other route answers 401.
PUBLIC_PATHS = {f"{PREFIX}/auth/login"}
