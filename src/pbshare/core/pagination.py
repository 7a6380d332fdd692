"""Page-by-page listing shared by every list endpoint."""

from __future__ import annotations

from typing import Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

ItemT = TypeVar("ItemT")


# Deep enough for any real listing (a million pages of 500), small enough that the offset always fits the
# database's 64-bit integer: a larger page number is refused 422, never an OverflowError and a 500.
MAX_PAGE = 1_000_000
MAX_SIZE = 500


class PageParams(BaseModel):
    page: int = 1
    size: int = 20


def page_params(
    page: int = Query(1, ge=1, le=MAX_PAGE, description="页码 / page number"),
    size: int = Query(20, ge=1, le=MAX_SIZE, description="每页条数 / page size"),
) -> PageParams:
    return PageParams(page=page, size=size)


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    page: int
    size: int


def paginate(db: Session, stmt: Select, params: PageParams) -> tuple[list, int]:
    """Rows of one page of ``stmt`` (ORM entities when it selects one) and the total count."""
    total = db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.scalars(stmt.limit(params.size).offset((params.page - 1) * params.size)).all()
    return list(rows), total
