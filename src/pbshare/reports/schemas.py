"""Reports API shapes: the query spec (JSON in, SQLAlchemy Core out — never SQL text), reports, dashboards."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pbshare.core.clock import UtcDateTime
from pbshare.core.pagination import MAX_PAGE, MAX_SIZE

Op = Literal["eq", "ne", "gt", "ge", "lt", "le", "between", "contains", "starts_with", "in", "is_empty", "not_empty"]
AggFn = Literal["count", "count_distinct", "sum", "avg", "min", "max"]
Chart = Literal["table", "pivot", "bar", "line", "pie", "kpi", "map"]
GlobalFilter = Literal["date", "unit", "district"]


class Condition(BaseModel):
    """One test on a column: ``between`` takes ``[low, high]``, ``in`` a list, ``is_empty``/``not_empty`` nothing."""

    model_config = ConfigDict(extra="forbid")
    column: str = Field(min_length=1, max_length=63)
    op: Op
    value: Any = None


class Group(BaseModel):
    """Conditions and nested groups joined by AND or OR."""

    model_config = ConfigDict(extra="forbid")
    op: Literal["and", "or"] = "and"
    items: list[Condition | Group] = Field(default_factory=list, max_length=50)


class Aggregate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    fn: AggFn
    column: str | None = Field(None, max_length=63, description="none for count(*)")
    alias: str | None = Field(None, alias="as", pattern="^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class GroupKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str = Field(min_length=1, max_length=63)
    bucket: Literal["day", "month", "year"] | None = Field(None, description="dates grouped by day, month or year")


class SortKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str = Field(min_length=1, max_length=63)
    desc: bool = False


class SourceRef(BaseModel):
    """Where the rows come from. ``kind``: table (topic + name), dataset (id), upload (id), rest (url, path), or a
    plug-in's own kind (its fields in ``options``)."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=32)
    topic: str | None = Field(None, max_length=63)
    name: str | None = Field(None, max_length=63)
    id: str | None = Field(None, max_length=64)
    url: str | None = Field(None, max_length=2000)
    path: str | None = Field(None, max_length=200, description="dot path to the list of records in the JSON")
    options: dict[str, Any] = Field(default_factory=dict)


class QuerySpec(BaseModel):
    """Rows (``columns``) or an aggregate (``group_by`` + ``aggregates``), filtered, sorted, paged."""

    model_config = ConfigDict(extra="forbid")
    source: SourceRef
    columns: list[str] = Field(default_factory=list, max_length=100)
    group_by: list[str | GroupKey] = Field(default_factory=list, max_length=6)
    aggregates: list[Aggregate] = Field(default_factory=list, max_length=20)
    filters: Group | None = None
    sort: list[SortKey] = Field(default_factory=list, max_length=10)
    page: int = Field(1, ge=1, le=MAX_PAGE)
    size: int = Field(50, ge=1, le=MAX_SIZE)
    totals: bool = Field(False, description="also the aggregates over every filtered row")


class FieldOut(BaseModel):
    name: str
    title: str
    type: str
    pii: bool = False


class QueryResult(BaseModel):
    columns: list[FieldOut]
    rows: list[dict[str, Any]]
    total: int
    page: int
    size: int
    totals: dict[str, Any] | None = None
    masked: list[str] = Field(default_factory=list, description="columns shown masked")


class SourceOut(BaseModel):
    kind: str
    key: dict[str, Any]
    title: str
    fields: list[FieldOut] = Field(default_factory=list)


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    chart: Chart = "table"
    spec: QuerySpec
    options: dict[str, Any] = Field(default_factory=dict, description="x, y, series, global-filter columns "
                                                                      "{date, unit, district}")
    roles: list[str] = Field(default_factory=list, max_length=20)


class ReportOut(ReportIn):
    id: str
    created_by: str
    created_at: UtcDateTime
    updated_at: UtcDateTime


class Tile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report_id: str = Field(min_length=1, max_length=36)
    x: int = Field(0, ge=0, le=11)
    y: int = Field(0, ge=0, le=1000)
    w: int = Field(6, ge=1, le=12)
    h: int = Field(4, ge=1, le=20)
    title: str | None = Field(None, max_length=200)


class DashboardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    tiles: list[Tile] = Field(default_factory=list, max_length=40)
    filters: list[GlobalFilter] = Field(default_factory=list)
    refresh_seconds: int = Field(0, ge=0, le=86400, description="0: no auto-refresh; else at least 10")
    roles: list[str] = Field(default_factory=list, max_length=20)


class DashboardOut(DashboardIn):
    id: str
    created_by: str
    created_at: UtcDateTime
    updated_at: UtcDateTime


class GlobalValues(BaseModel):
    """The dashboard's global filters as a viewer set them."""

    model_config = ConfigDict(extra="forbid")
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    unit: str | None = Field(None, max_length=200)
    district: str | None = Field(None, max_length=200)


class RunIn(BaseModel):
    """Run a saved report: a page, the dashboard's global filters, or a drill to the rows behind a chart point."""

    model_config = ConfigDict(extra="forbid")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    size: int | None = Field(None, ge=1, le=MAX_SIZE)
    globals: GlobalValues | None = None
    drill: dict[str, Any] | None = Field(None, description="{group column: value}: the rows behind one point")


class UploadOut(BaseModel):
    id: str
    title: str
    filename: str
    columns: list[dict]
    rows: int
    created_by: str
    created_at: UtcDateTime
