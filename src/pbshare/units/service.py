"""The unit registry: find, list and upsert units. Audited changes made by people go through
``catalog.units.service.save_unit``; this layer sits below security, so it records nothing itself."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.core.clock import LOCAL_TZ, as_utc, utcnow
from pbshare.core.errors import Invalid
from pbshare.core.i18n import T
from pbshare.core.lookup import get_or_raise, matching, one_or_raise
from pbshare.units.enums import SharingState, UnitKind
from pbshare.units.models import Unit

OFFICE_CODE = "SZBA"  # 深圳市破产事务管理署, the platform operator


def get_unit(db: Session, *, unit_id: str) -> Unit:
    return get_or_raise(db, Unit, unit_id, T("单位不存在", "The unit does not exist"))


def get_unit_by_code(db: Session, *, code: str) -> Unit:
    return one_or_raise(db, select(Unit).where(Unit.code == code),
                        T("单位代码 {c} 不存在", "There is no unit with code {c}", c=code), code="unit_not_found")


def find_unit_by_code(db: Session, *, code: str) -> Unit | None:
    return db.scalar(select(Unit).where(Unit.code == code))


def list_units(db: Session, *, q: str | None = None) -> list[Unit]:
    """Every unit by code; with ``q`` those whose code or name contains it (any case)."""
    stmt = select(Unit).order_by(Unit.code)
    if (match := matching(q, Unit.code, Unit.name)) is not None:
        stmt = stmt.where(match)
    return list(db.scalars(stmt))


def check_credit_code(value: str | None) -> str | None:
    """Unified social credit code (统一社会信用代码), checked with python-stdnum; None when empty."""
    if not value:
        return None
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError as StdnumError

    try:
        return uscc.validate(value)
    except StdnumError:
        raise Invalid(T("统一社会信用代码 {v} 无效（长度、字符或校验位不对），请核对后重新输入",
                        "The unified social credit code {v} is not valid (length, characters or check digit); "
                        "check it and enter it again", v=value), code="invalid_credit_code") from None


def _unit_kind(kind: str) -> str:
    try:
        return UnitKind(kind).value
    except ValueError:
        raise Invalid(T("未知的单位类型：{k}", "Unknown unit kind: {k}", k=kind), code="unknown_unit_kind") from None


def _unit_state(state: str) -> str:
    try:
        return SharingState(state).value
    except ValueError:
        raise Invalid(T("未知的共享状态：{s}（可选 negotiating / integrated / left）",
                        "Unknown sharing state: {s} (negotiating / integrated / left)", s=state),
                      code="unknown_unit_state") from None


def upsert_unit(db: Session, *, code: str, name: str, kind: str = "other", credit_code: str | None = None,
                state: str | None = None) -> Unit:
    kind = _unit_kind(kind)
    credit_code = check_credit_code(credit_code)
    unit = find_unit_by_code(db, code=code)
    if unit is None:
        unit = Unit(code=code, name=name, kind=kind, credit_code=credit_code,
                    state=_unit_state(state or ("integrated" if code == OFFICE_CODE else "negotiating")),
                    contacts=[], systems=[], state_changed_at=utcnow())
        db.add(unit)
    else:
        unit.name, unit.kind = name, kind
        if credit_code:
            unit.credit_code = credit_code
        if state and state != unit.state:
            unit.state, unit.state_changed_at = _unit_state(state), utcnow()
    db.flush()
    return unit


def ensure_office(db: Session) -> Unit:
    unit = find_unit_by_code(db, code=OFFICE_CODE)
    return unit or upsert_unit(db, code=OFFICE_CODE, name="深圳市破产事务管理署", kind="office")


def data_authority(db: Session) -> Unit:
    """The unit whose consent every resource needs besides its source unit (政务数据主管部门)."""
    unit = db.scalar(select(Unit).where(Unit.kind == UnitKind.gov_data_authority.value).order_by(Unit.code))
    return unit or ensure_office(db)


def mark_left(db: Session, *, unit: Unit) -> Unit:
    """The unit left the sharing (退出): its state becomes ``left``, dated now (the date its refusals name)."""
    if unit.state != SharingState.left.value:
        unit.state, unit.state_changed_at = SharingState.left.value, utcnow()
        db.flush()
    return unit


def office_contact(db: Session) -> str:
    """Whom a unit should call about its sharing: the office, with its first registered contact if any."""
    office = ensure_office(db)
    first = next((c for c in office.contacts or [] if isinstance(c, dict) and c.get("name")), None)
    if first is None:
        return office.name
    how = " ".join(str(first[k]) for k in ("phone", "email") if first.get(k))
    return f"{office.name} {first['name']}" + (f"（{how}）" if how else "")


def left_notice(db: Session, *, unit: Unit) -> T | None:
    """What a unit that left the sharing is told when it still calls: since when, and whom to contact.
    None while the unit takes part."""
    if unit.state != SharingState.left.value:
        return None
    since = as_utc(unit.state_changed_at or utcnow()).astimezone(LOCAL_TZ).date().isoformat()
    return T("单位 {u}（{c}）已于 {d} 退出个人破产信息共享：连接已终止，密钥已吊销，消息与调用一律不予受理。"
             "如有疑问或需重新接入，请联系{o}申请开通新连接",
             "{u} ({c}) left the personal-bankruptcy information sharing on {d}: its connections are terminated "
             "and its keys revoked, so its messages and calls are refused. To ask about it or to join again, "
             "contact {o} for a new connection", u=unit.name, c=unit.code, d=since, o=office_contact(db))


def unit_codes(db: Session) -> set[str]:
    return set(db.scalars(select(Unit.code)))
