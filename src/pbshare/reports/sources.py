"""Where a report's rows come from: a plug-in registry of source kinds.

Each kind turns a ``SourceRef`` into an ``Opened`` source: an engine, a SQLAlchemy table and its fields
(with which are personal). The query (``reports.query``) then runs the same way on every kind. Built in:
warehouse tables, SQL datasets (collect/derived, read from the table they fill), uploaded Excel/CSV files and
REST APIs answering JSON; the last two are loaded into an in-memory SQLite table for the query. A plug-in
registers its own kind with ``@register_source("kind")``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import polars as pl
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    MetaData,
    Table,
    Text,
    create_engine,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeEngine

from pbshare.collect.derived import datasets as collect_datasets
from pbshare.core.db import Database
from pbshare.core.dynamic import ColumnSpec
from pbshare.core.errors import Forbidden, Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse
from pbshare.warehouse.service import BLIND_SUFFIX

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_REST_BYTES = 5 * 1024 * 1024
MAX_MEMORY_ROWS = 200_000


@dataclass
class SourceField:
    name: str
    title: str
    type: str = "string"
    pii: bool = False
    id_kind: str = ""
    blind: str | None = None  # the blind index column of a sealed personal column


@dataclass
class Opened:
    engine: Engine
    table: Table
    fields: list[SourceField]
    label: str  # what the audit record names, e.g. "table:case.debtor"
    dispose: Callable[[], None] = field(default=lambda: None)

    def field(self, name: str) -> SourceField:
        for f in self.fields:
            if f.name == name:
                return f
        raise Invalid(T("字段“{c}”不在数据源 {s} 中，可选：{a}", "The column '{c}' is not in the source {s}; choose one of: {a}",
                        c=name[:63], s=self.label, a=", ".join(f.name for f in self.fields)[:500]),
                      code="unknown_column", detail={"column": name[:63]})


@dataclass
class SourceContext:
    db: Session
    database: Database
    principal: Principal | None
    trusted: bool = False  # a saved report shared with the person: its source is granted with it


class Source(Protocol):
    def open(self, ctx: SourceContext, ref: dict[str, Any]) -> Opened: ...

    def list(self, ctx: SourceContext) -> list[dict[str, Any]]: ...


SOURCES: dict[str, Source] = {}


def register_source(kind: str) -> Callable[[type], type]:
    def add(cls: type) -> type:
        SOURCES[kind] = cls()
        return cls
    return add


def open_source(ctx: SourceContext, ref: dict[str, Any]) -> Opened:
    kind = ref.get("kind") or ""
    source = SOURCES.get(kind)
    if source is None:
        raise Invalid(T("未知的数据源类型“{k}”，可选：{a}", "Unknown source kind '{k}'; choose one of: {a}", k=str(kind)[:32],
                        a=", ".join(sorted(SOURCES))), code="unknown_source")
    return source.open(ctx, ref)


def list_sources(ctx: SourceContext) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for kind, source in SOURCES.items():
        try:
            out.extend({"kind": kind, **s} for s in source.list(ctx))
        except Forbidden:
            continue
    return out


def _need(ctx: SourceContext, perm: Perm, what: T) -> None:
    if ctx.trusted or ctx.principal is None or ctx.principal.has(perm.value):
        return
    raise Forbidden(what, code="source_forbidden")


def _table_fields(columns: list[dict]) -> list[SourceField]:
    blinds = {c["blind_index_of"]: c["name"] for c in columns if c.get("blind_index_of")}
    return [SourceField(name=c["name"], title=c.get("title") or c["name"], type=c.get("value_type") or c.get("type")
                        or "string", pii=bool(c.get("pii")), id_kind=c.get("id_kind") or "", blind=blinds.get(c["name"]))
            for c in columns if not c.get("blind_index_of")]


def _registered_table(ctx: SourceContext, topic: str, name: str, columns: list[dict]) -> Table:
    """The table as the registry describes it: no catalogue queries per report (reflection costs tens of ms on
    PostgreSQL); a table the registry knows no columns of is reflected."""
    store = warehouse.topic_store(ctx.database)
    try:
        specs = [ColumnSpec(c["name"], c.get("type") or "string", c.get("length")) for c in columns]
        if specs:
            return store.define_table(topic, name, specs)
    except Invalid:
        pass
    return store.reflect_table(topic, name)


def open_table(ctx: SourceContext, topic: str, name: str, label: str | None = None) -> Opened:
    row = warehouse.get_table(ctx.db, topic=topic, name=name)
    table = _registered_table(ctx, topic, name, row.columns)
    fields = [f for f in _table_fields(row.columns) if f.name in table.c]
    known = {f.name for f in fields} | {c["name"] for c in row.columns}
    # columns a later step added to the physical table but not to the registry
    fields += [SourceField(name=c.name, title=c.name, type=warehouse._kind_of(c.type)) for c in table.columns
               if c.name not in known and not c.name.endswith(BLIND_SUFFIX)]
    return Opened(engine=ctx.database.warehouse_reader, table=table, fields=fields,
                  label=label or f"table:{topic}.{name}")


_READ_WAREHOUSE = T("查询专题库的表需要“专题库查看”权限；请打开分享给您的报表，或联系管理员",
                    "Querying warehouse tables needs the warehouse:read permission; open a report shared with you, or "
                    "ask an administrator")


@register_source("table")
class TableSource:
    def open(self, ctx: SourceContext, ref: dict[str, Any]) -> Opened:
        _need(ctx, Perm.warehouse_read, _READ_WAREHOUSE)
        if not ref.get("topic") or not ref.get("name"):
            raise Invalid(T("表数据源需要 topic 和 name", "A table source needs topic and name"), code="bad_source")
        return open_table(ctx, ref["topic"], ref["name"])

    def list(self, ctx: SourceContext) -> list[dict[str, Any]]:
        _need(ctx, Perm.warehouse_read, _READ_WAREHOUSE)
        return [{"key": {"topic": t.topic, "name": t.name}, "title": f"{t.title}（{t.topic}.{t.name}）",
                 "fields": [f.__dict__ for f in _table_fields(t.columns)]} for t in warehouse.list_tables(ctx.db)]


def _sniffed(src: Opened) -> Opened:
    """SQLite gives a CREATE TABLE … AS column of an expression (sum, count) no declared type, so the registry
    calls it text: look at its first values and treat it as a number when they all are."""
    untyped = [f for f in src.fields if f.type in ("string", "text")]
    if not untyped or src.engine.dialect.name != "sqlite":
        return src
    with src.engine.connect() as conn:
        sample = conn.execute(select(*[src.table.c[f.name] for f in untyped]).limit(50)).all()
    for i, f in enumerate(untyped):
        values = [r[i] for r in sample if r[i] is not None]
        if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            f.type = "integer" if all(isinstance(v, int) for v in values) else "float"
    return src


@register_source("dataset")
class DatasetSource:
    def open(self, ctx: SourceContext, ref: dict[str, Any]) -> Opened:
        _need(ctx, Perm.warehouse_read, _READ_WAREHOUSE)
        ds = collect_datasets.get_dataset(ctx.db, dataset_id=str(ref.get("id") or ""))
        if warehouse.find_table(ctx.db, topic=ds.target_topic, name=ds.target_table) is None:
            raise Invalid(T("数据集“{n}”还没有生成数据，请先刷新它", "The dataset '{n}' has no rows yet; refresh it first",
                            n=ds.title), code="dataset_empty")
        return _sniffed(open_table(ctx, ds.target_topic, ds.target_table, label=f"dataset:{ds.name}"))

    def list(self, ctx: SourceContext) -> list[dict[str, Any]]:
        _need(ctx, Perm.warehouse_read, _READ_WAREHOUSE)
        return [{"key": {"id": d.id}, "title": f"{d.title}（SQL 数据集 {d.name}）", "fields": []}
                for d in collect_datasets.list_datasets(ctx.db)]


# --------------------------------------------------------------------------- in-memory sources
def _sql_type(dtype: pl.DataType) -> tuple[TypeEngine, str]:
    if dtype.is_integer():
        return BigInteger(), "integer"
    if dtype.is_float() or dtype.is_decimal():
        return Float(), "float"
    if dtype == pl.Boolean:
        return Boolean(), "boolean"
    if dtype == pl.Date:
        return Date(), "date"
    if isinstance(dtype, pl.Datetime):
        return DateTime(), "datetime"
    return Text(), "string"


def _column_name(raw: str, taken: set[str]) -> str:
    base = "".join(ch if (ch.isascii() and ch.isalnum()) or ch == "_" else "_" for ch in str(raw).strip().lower())[:60]
    if not base.strip("_") or not base[0].isalpha():
        base = f"c{len(taken) + 1}" if not base.strip("_") else f"c_{base}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def frame_columns(frame: pl.DataFrame) -> list[dict[str, str]]:
    taken: set[str] = set()
    return [{"name": _column_name(c, taken), "title": str(c), "type": _sql_type(frame.schema[c])[1]}
            for c in frame.columns]


def in_memory(frame: pl.DataFrame, label: str) -> Opened:
    """Load ``frame`` into a private in-memory SQLite table: the query then runs as on any table."""
    if frame.height > MAX_MEMORY_ROWS:
        raise Invalid(T("数据源有 {n} 行，超过上限 {m} 行；请先导入专题库再做报表",
                        "The source has {n} rows, over the limit of {m}; import it into the warehouse first",
                        n=frame.height, m=MAX_MEMORY_ROWS), code="source_too_big")
    cols = frame_columns(frame)
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    table = Table("source", MetaData(), *[Column(c["name"], _sql_type(frame.schema[raw])[0])
                                         for c, raw in zip(cols, frame.columns, strict=True)])
    table.create(engine)
    renamed = frame.rename({raw: c["name"] for c, raw in zip(cols, frame.columns, strict=True)})
    if renamed.height:
        with engine.begin() as conn:
            conn.execute(table.insert(), renamed.to_dicts())
    fields = [SourceField(name=c["name"], title=c["title"], type=c["type"]) for c in cols]
    return Opened(engine=engine, table=table, fields=fields, label=label, dispose=engine.dispose)


def read_file(data: bytes, filename: str) -> pl.DataFrame:
    """An uploaded CSV (UTF-8 or GBK) or Excel sheet as a frame; identifier-like columns stay text."""
    lower = filename.lower()
    try:
        if lower.endswith(".csv"):
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("gbk")
            return pl.read_csv(io.StringIO(text), infer_schema_length=1000)
        if lower.endswith((".xlsx", ".xls")):
            return pl.read_excel(io.BytesIO(data), engine="calamine")
    except Exception as exc:  # a damaged file: say which and what to do
        raise Invalid(T("无法读取文件“{f}”：{e}。请确认它是 UTF-8/GBK 的 CSV 或 Excel 文件",
                        "Could not read the file '{f}': {e}. Check it is a UTF-8/GBK CSV or an Excel file",
                        f=filename[:100], e=str(exc).splitlines()[0][:200]), code="bad_file") from None
    raise Invalid(T("只支持 .csv、.xlsx、.xls 文件", "Only .csv, .xlsx and .xls files are supported"), code="bad_file_type")


def uploads_dir(database: Database) -> Path:
    return database.settings.resolved_data_dir / "reports" / "uploads"


@register_source("upload")
class UploadSource:
    def open(self, ctx: SourceContext, ref: dict[str, Any]) -> Opened:
        from pbshare.reports import service  # the upload registry lives in the service

        up = service.get_upload(ctx.db, upload_id=str(ref.get("id") or ""))
        if not ctx.trusted and ctx.principal is not None and up.created_by != ctx.principal.username \
                and not ctx.principal.has(Perm.reports_write.value):
            raise Forbidden(T("这个上传文件属于别人；请打开分享给您的报表", "This uploaded file belongs to someone else; open a "
                              "report shared with you"), code="source_forbidden")
        path = uploads_dir(ctx.database) / f"{up.id}.parquet"
        if not path.is_file():
            raise NotFound(T("上传文件的数据已不在服务器上，请重新上传", "The uploaded file's rows are gone from the server; "
                             "upload it again"), code="upload_missing")
        return in_memory(pl.read_parquet(path), f"upload:{up.id}")

    def list(self, ctx: SourceContext) -> list[dict[str, Any]]:
        from pbshare.reports import service

        return [{"key": {"id": u.id}, "title": f"{u.title}（{u.filename}）", "fields": u.columns}
                for u in service.list_uploads(ctx.db)]


def _dig(data: Any, path: str | None) -> Any:
    for part in (path or "").split("."):
        if not part:
            continue
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            raise Invalid(T("JSON 中找不到路径“{p}”", "The path '{p}' is not in the JSON", p=path or ""), code="bad_json_path")
    return data


def fetch_json(url: str, path: str | None, *, timeout: float = 10.0) -> pl.DataFrame:
    if not url.startswith(("http://", "https://")):
        raise Invalid(T("接口地址须以 http:// 或 https:// 开头", "The API address must start with http:// or https://"),
                      code="bad_url")
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client, client.stream("GET", url) as resp:
            resp.raise_for_status()
            body = b""
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > MAX_REST_BYTES:
                    raise Invalid(T("接口返回超过 5 MB", "The API answered more than 5 MB"), code="source_too_big")
    except httpx.HTTPError as exc:
        raise Invalid(T("无法读取接口 {u}：{e}。请检查地址，或稍后再试", "Could not read the API {u}: {e}. Check the address, "
                        "or try again later", u=url[:200], e=str(exc)[:200]), code="rest_failed") from None
    try:
        records = _dig(json.loads(body), path)
    except ValueError:
        raise Invalid(T("接口返回的不是 JSON", "The API did not answer JSON"), code="rest_not_json") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise Invalid(T("接口返回（或路径指向）的须是对象的列表，例如 [{\"a\": 1}]",
                        "The API's answer (or the path in it) must be a list of objects, like [{\"a\": 1}]"),
                      code="rest_not_records")
    return pl.DataFrame(records, infer_schema_length=1000)


@register_source("rest")
class RestSource:
    def open(self, ctx: SourceContext, ref: dict[str, Any]) -> Opened:
        _need(ctx, Perm.reports_write, T("以接口为数据源需要“报表编辑”权限", "An API as a source needs the reports:write "
                                         "permission"))
        return in_memory(fetch_json(str(ref.get("url") or ""), ref.get("path")), f"rest:{str(ref.get('url'))[:200]}")

    def list(self, ctx: SourceContext) -> list[dict[str, Any]]:
        return []
