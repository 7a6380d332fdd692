"""The audited side of the unit registry: saving a unit with its contacts and connected systems.

The registry itself (lookups, codes, the office) is ``pbshare.units.service``; it sits below
security and records nothing, so the catalog's unit pages save through here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from pbshare.catalog.resources import service as resource_service
from pbshare.security.audit import service as audit
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

if TYPE_CHECKING:
    from pbshare.units.models import Unit


def save_unit(db: Session, *, code: str, name: str, kind: str = "other", credit_code: str | None = None,
              state: str | None = None, description: str | None = None, contacts: list[dict] | None = None,
              systems: list[dict] | None = None, principal: Principal | None = None) -> Unit:
    """Create or update a unit with everything the registry keeps; audited as a configuration change."""
    existed = unit_service.find_unit_by_code(db, code=code) is not None
    unit = unit_service.upsert_unit(db, code=code, name=name, kind=kind, credit_code=credit_code, state=state)
    if credit_code == "":
        unit.credit_code = None
    unit.description = description
    if contacts is not None:
        unit.contacts = [dict(c) for c in contacts]
    if systems is not None:
        unit.systems = [dict(s) for s in systems]
    db.flush()
    audit.record(db, action="catalog.unit.update" if existed else "catalog.unit.create", principal=principal,
                 object_type="unit", object_id=unit.id, detail={"code": code, "state": unit.state})
    return unit


def count_resources_by_unit(db: Session) -> dict[str, int]:
    """How many catalog resources each unit provides, by unit id."""
    return resource_service.count_by_provider(db)
