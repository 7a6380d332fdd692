"""Catalog logic. The foundation provides the unit registry; the catalog issue adds the rest."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.catalog.models import Unit, UnitKind
from pbshare.core.errors import Invalid, NotFound
from pbshare.core.i18n import T

OFFICE_CODE = "SZBA"  # 深圳市破产事务管理署, the platform operator


def get_unit(db: Session, *, unit_id: str) -> Unit:
    unit = db.get(Unit, unit_id)
    if unit is None:
        raise NotFound(T("单位不存在", "The unit does not exist"))
    return unit


def get_unit_by_code(db: Session, *, code: str) -> Unit:
    unit = db.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(T("单位代码 {c} 不存在", "There is no unit with code {c}", c=code), code="unit_not_found")
    return unit


def find_unit_by_code(db: Session, *, code: str) -> Unit | None:
    return db.scalar(select(Unit).where(Unit.code == code))


def list_units(db: Session) -> list[Unit]:
    return list(db.scalars(select(Unit).order_by(Unit.code)))


def upsert_unit(db: Session, *, code: str, name: str, kind: str = "other", credit_code: str | None = None,
                state: str | None = None) -> Unit:
    try:
        kind = UnitKind(kind).value
    except ValueError:
        raise Invalid(T("未知的单位类型：{k}", "Unknown unit kind: {k}", k=kind), code="unknown_unit_kind") from None
    unit = find_unit_by_code(db, code=code)
    if unit is None:
        unit = Unit(code=code, name=name, kind=kind, credit_code=credit_code,
                    state=state or ("integrated" if code == OFFICE_CODE else "negotiating"))
        db.add(unit)
    else:
        unit.name, unit.kind = name, kind
        if credit_code:
            unit.credit_code = credit_code
        if state:
            unit.state = state
    db.flush()
    return unit


def ensure_office(db: Session) -> Unit:
    unit = find_unit_by_code(db, code=OFFICE_CODE)
    return unit or upsert_unit(db, code=OFFICE_CODE, name="深圳市破产事务管理署", kind="office")
