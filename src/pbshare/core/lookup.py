"""Get-or-raise: the one way a service turns "no such row" into a bilingual ``NotFound``.

    unit = get_or_raise(db, Unit, unit_id, T("单位不存在", "The unit does not exist"))
    unit = one_or_raise(db, select(Unit).where(Unit.code == code), T(...), code="unit_not_found")
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from pbshare.core.errors import NotFound
from pbshare.core.i18n import T

M = TypeVar("M")


def get_or_raise(db: Session, model: type[M], ident: Any, message: T | None = None, *, code: str | None = None) -> M:
    """The row of ``model`` with primary key ``ident``, or ``NotFound`` with ``message``."""
    row = db.get(model, ident) if ident is not None else None
    if row is None:
        raise NotFound(message, code=code)
    return row


def one_or_raise(db: Session, stmt: Select[M], message: T | None = None, *, code: str | None = None) -> M:
    """The first row ``stmt`` selects, or ``NotFound`` with ``message``."""
    row = db.scalars(stmt.limit(1)).first()
    if row is None:
        raise NotFound(message, code=code)
    return row


def matching(q: str | None, *columns: Any) -> Any:
    """A WHERE clause: ``q`` occurs in any of ``columns``, ignoring case (pickers search by name or code).
    None when ``q`` is empty, so ``stmt.where(*filter(None, [matching(q, ...)]))`` adds nothing."""
    from sqlalchemy import func, or_

    text = (q or "").strip().lower()
    if not text:
        return None
    return or_(*(func.lower(c).contains(text, autoescape=True) for c in columns))
