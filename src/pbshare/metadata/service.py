"""Metadata logic: data sources (sealed URLs, test connection), harvesting tables/columns/keys/row
counts with the changes since the last harvest, admin-defined metadata types, the data dictionary
and lineage.

Other domains call ``get_source``, ``get_source_engine`` and ``record_lineage``.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, or_, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session

from pbshare.catalog.resources import service as catalog_service
from pbshare.config import Settings
from pbshare.core import dictionary
from pbshare.core.clock import utcnow
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T
from pbshare.core.logs import scrub
from pbshare.core.lookup import get_or_raise, one_or_raise
from pbshare.core.userquery import sqlite_readonly_engine
from pbshare.metadata.models import DataSource, Harvest, LineageEdge, MetaObject, MetaType
from pbshare.security.audit import service as audit
from pbshare.security.crypto.pii import vault_for
from pbshare.units.principal import Principal

SUPPORTED_DIALECTS = {"postgresql", "mysql", "mariadb", "sqlite"}
CONNECT_TIMEOUT_S = 8
MAX_TABLES = 2000  # a harvest reads at most this many tables; the rest are reported, not read
COUNT_TIMEOUT_MS = 10_000

BUILTIN_TYPES: list[tuple[str, str, str]] = [
    ("database", "数据库", "Database"), ("table", "数据表", "Table"), ("column", "字段", "Column"),
    ("resource", "目录资源", "Catalog resource"), ("api", "接口", "API"), ("file", "文件", "File"),
]


# ---------------------------------------------------------------- data sources


def _parse_url(url: str):
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise Invalid(T("数据库地址格式不对，应类似 postgresql+psycopg://用户@主机:5432/库名",
                        "The database URL is not valid; it looks like postgresql+psycopg://user@host:5432/db"),
                      code="bad_url") from None
    if parsed.get_backend_name() not in SUPPORTED_DIALECTS:
        raise Invalid(T("暂不支持 {d} 数据库（支持 PostgreSQL、MySQL/MariaDB、SQLite）",
                        "{d} is not supported (PostgreSQL, MySQL/MariaDB and SQLite are)", d=parsed.get_backend_name()),
                      code="unsupported_dialect")
    return parsed


def platform_databases(settings: Settings) -> tuple[str, ...]:
    """The platform's own database and warehouse URLs: never a data source."""
    return (settings.resolved_database_url, settings.resolved_warehouse_url)


def _sqlite_file(url: URL) -> Path | None:
    path = (url.database or "").removeprefix("file:").split("?")[0]
    if not path or path == ":memory:":
        return None
    return Path(path).expanduser().resolve()  # relative to the working directory, symlinks followed


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)  # hard links too
    except OSError:
        return False


_LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}  # noqa: S104 - names compared, nothing bound


def _addresses(host: str | None) -> set[str]:
    host = (host or "").strip("[]").lower()
    if host in _LOCAL_HOSTS or host.startswith("/"):  # no host or a unix socket: this machine
        return {"local"}
    try:
        found = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError:
        return {host}
    return {"local" if a in _LOCAL_HOSTS or a.startswith("127.") else a for a in found} | {host}


_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}


def _same_server_database(a: URL, b: URL) -> bool:
    family = {"mariadb": "mysql"}
    if family.get(a.get_backend_name(), a.get_backend_name()) != family.get(b.get_backend_name(), b.get_backend_name()):
        return False
    if (a.database or "") != (b.database or ""):
        return False
    if (a.port or _DEFAULT_PORTS.get(a.get_backend_name())) != (b.port or _DEFAULT_PORTS.get(b.get_backend_name())):
        return False
    socket_a, socket_b = a.query.get("host"), b.query.get("host")  # ?host=/var/run/postgresql
    host_a = a.host or (socket_a if isinstance(socket_a, str) else None)
    host_b = b.host or (socket_b if isinstance(socket_b, str) else None)
    return bool(_addresses(host_a) & _addresses(host_b))


def refuse_platform_database(url: URL, *, data_dir: Path, platform: Sequence[str] = ()) -> None:
    """A data source must never be the platform's own database (users, password hashes, audit, keys) nor
    its warehouse: the same SQLite file however it is spelt (relative, symlinked, hard-linked), any file
    in the data directory, or the same server, port and database."""
    refused = Invalid(T("不能把本平台自己的数据库登记为数据源（其中有用户、密码和审计记录）；请登记数源单位的数据库",
                        "The platform's own database cannot be a data source (it holds users, passwords and the "
                        "audit trail); register the source unit's database instead"), code="source_is_platform")
    if url.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        if path is None:
            return
        root = data_dir.expanduser().resolve()
        if path == root or root in path.parents:
            raise refused
        for own in platform:
            own_url = make_url(own)
            own_path = _sqlite_file(own_url) if own_url.get_backend_name() == "sqlite" else None
            if own_path is not None and _same_file(path, own_path):
                raise refused
        return
    for own in platform:
        own_url = make_url(own)
        if own_url.get_backend_name() != "sqlite" and _same_server_database(url, own_url):
            raise refused


def add_source(db: Session, *, data_dir: Path, name: str, url: str, schema_name: str | None = None,
               description: str | None = None, principal: Principal | None = None,
               platform: Sequence[str] = ()) -> DataSource:
    """Register a source; ``platform`` (``platform_databases``) names the databases it must not be."""
    parsed = _parse_url(url)
    refuse_platform_database(parsed, data_dir=data_dir, platform=platform)
    if db.scalar(select(DataSource.id).where(DataSource.name == name)):
        raise Conflict(T("数据源“{n}”已存在", "The data source “{n}” already exists", n=name), code="source_exists")
    source = DataSource(name=name, dialect=parsed.get_backend_name(), url_sealed=vault_for(data_dir).seal(url),
                        url_display=parsed.render_as_string(hide_password=True), schema_name=schema_name or None,
                        description=description)
    db.add(source)
    db.flush()
    audit.record(db, action="metadata.source.create", principal=principal, object_type="data_source",
                 object_id=source.id, detail={"name": name, "url": source.url_display})
    return source


def update_source(db: Session, *, data_dir: Path, source_id: str, url: str | None = None,
                  schema_name: str | None = None, description: str | None = None,
                  principal: Principal | None = None, platform: Sequence[str] = ()) -> DataSource:
    source = get_source(db, source_id=source_id)
    if url:
        parsed = _parse_url(url)
        refuse_platform_database(parsed, data_dir=data_dir, platform=platform)
        source.url_sealed = vault_for(data_dir).seal(url)
        source.url_display, source.dialect = parsed.render_as_string(hide_password=True), parsed.get_backend_name()
    source.schema_name = schema_name or None
    source.description = description
    db.flush()
    audit.record(db, action="metadata.source.update", principal=principal, object_type="data_source",
                 object_id=source.id, detail={"name": source.name, "url": source.url_display})
    return source


def delete_source(db: Session, *, source_id: str, principal: Principal | None = None) -> None:
    source = get_source(db, source_id=source_id)
    db.execute(sa.delete(MetaObject).where(MetaObject.source_id == source.id))
    db.delete(source)
    db.flush()
    audit.record(db, action="metadata.source.delete", principal=principal, object_type="data_source",
                 object_id=source_id, detail={"name": source.name})


def get_source(db: Session, *, source_id: str) -> DataSource:
    """A data source by id or by name."""
    return db.get(DataSource, source_id) or one_or_raise(
        db, select(DataSource).where(DataSource.name == source_id),
        T("数据源 {s} 不存在", "There is no data source {s}", s=source_id), code="source_not_found")


def list_sources(db: Session) -> list[DataSource]:
    return list(db.scalars(select(DataSource).order_by(DataSource.name)))


def count_tables(db: Session, *, source_id: str) -> int:
    """Tables the source had at its last harvest (removed ones not counted)."""
    return db.scalar(select(func.count()).select_from(MetaObject).where(
        MetaObject.source_id == source_id, MetaObject.type_code == "table", MetaObject.removed.is_(False))) or 0


def source_url(db: Session, *, source_id: str, data_dir: Path) -> str:
    """The URL in clear (with password). Never log or return it to a browser."""
    return vault_for(data_dir).open(get_source(db, source_id=source_id).url_sealed) or ""


def get_source_engine(db: Session, *, source_id: str, data_dir: Path, platform: Sequence[str] = ()) -> Engine:
    """An engine on the data source (credentials decrypted here). The caller disposes it.

    Checked again here, so a source registered before the check (or whose file became a link to the
    platform's) is refused at test, harvest, preview and import too."""
    url = make_url(source_url(db, source_id=source_id, data_dir=data_dir))
    refuse_platform_database(url, data_dir=data_dir, platform=platform)
    backend = url.get_backend_name()
    args: dict[str, Any] = {}
    if backend == "postgresql":
        args = {"connect_timeout": CONNECT_TIMEOUT_S}
    elif backend in ("mysql", "mariadb"):
        args = {"connect_timeout": CONNECT_TIMEOUT_S, "read_timeout": 60}
    elif backend == "sqlite":
        # SQLite would quietly create an empty file for a mistyped path; open existing files only.
        path = url.database or ""
        if path and path != ":memory:" and not Path(path).is_file():
            raise Invalid(T("SQLite 文件不存在：{p}，请检查路径", "The SQLite file does not exist: {p}; check the path",
                            p=path), code="sqlite_missing")
        if path and path != ":memory:":
            # read-only (mode=ro): neither a harvest nor an import can write the unit's file or take its lock
            return sqlite_readonly_engine(Path(path).resolve())
        args = {"timeout": CONNECT_TIMEOUT_S}
    try:
        return sa.create_engine(url, connect_args=args, pool_pre_ping=True, poolclass=sa.pool.NullPool)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise Invalid(T("无法使用该数据库地址：{e}", "This database URL cannot be used: {e}", e=scrub(str(exc))),
                      code="bad_url") from None


def _error_text(exc: Exception) -> str:
    # Driver messages may echo the URL; keep the first line and strip anything secret-looking.
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return scrub(text)[:500]


def test_source(db: Session, *, source_id: str, data_dir: Path, principal: Principal | None = None,
                platform: Sequence[str] = ()) -> dict:
    """Connect and run ``SELECT 1``; remember the result on the source."""
    source = get_source(db, source_id=source_id)
    started = time.perf_counter()
    try:
        engine = get_source_engine(db, source_id=source.id, data_dir=data_dir, platform=platform)
    except Invalid as exc:
        if exc.code == "source_is_platform":
            raise
        source.last_tested_at, source.last_test_ok, source.last_test_message = utcnow(), False, exc.message.render()
        db.flush()
        return {"ok": False, "message": exc.message.render(), "ms": 0}
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            version = conn.dialect.server_version_info
        ok, message = True, "OK " + ".".join(str(v) for v in version or ())
    except SQLAlchemyError as exc:
        ok, message = False, _error_text(exc)
    finally:
        engine.dispose()
    source.last_tested_at, source.last_test_ok, source.last_test_message = utcnow(), ok, message
    db.flush()
    audit.record(db, action="metadata.source.test", principal=principal, object_type="data_source",
                 object_id=source.id, result="ok" if ok else "failed", detail={"name": source.name})
    return {"ok": ok, "message": message, "ms": round((time.perf_counter() - started) * 1000)}


# ---------------------------------------------------------------- harvest


def _qualified(source: DataSource, *parts: str) -> str:
    return "source:" + ".".join([source.name, *parts])


def _read_schema(engine: Engine, schema: str | None,
                 progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, dict], int]:
    """Tables of one schema: columns (type, nullable, default, comment), primary key, foreign keys,
    unique constraints, row count; and how many tables there are in all."""
    insp = sa.inspect(engine)
    names = sorted(insp.get_table_names(schema=schema))
    out: dict[str, dict] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"SET statement_timeout = {COUNT_TIMEOUT_MS}"))
        for n, name in enumerate(names[:MAX_TABLES]):
            try:
                comment = (insp.get_table_comment(name, schema=schema) or {}).get("text")
            except NotImplementedError:
                comment = None
            pk = insp.get_pk_constraint(name, schema=schema).get("constrained_columns") or []
            fks = [{"columns": fk["constrained_columns"], "references":
                    ".".join(p for p in (fk.get("referred_schema"), fk["referred_table"]) if p) + "(" +
                    ",".join(fk["referred_columns"]) + ")"} for fk in insp.get_foreign_keys(name, schema=schema)]
            uniques = [u["column_names"] for u in insp.get_unique_constraints(name, schema=schema)]
            columns = {}
            for c in insp.get_columns(name, schema=schema):
                columns[c["name"]] = {
                    "data_type": str(c["type"]).lower(), "nullable": bool(c.get("nullable", True)),
                    "primary_key": c["name"] in pk, "default": None if c.get("default") is None else str(c["default"]),
                    "comment": c.get("comment"),
                }
            try:
                table = sa.table(name, schema=schema)
                rows = conn.execute(select(func.count()).select_from(table)).scalar_one()
            except SQLAlchemyError:
                conn.rollback()
                rows = None
            out[name] = {"comment": comment, "primary_key": pk, "foreign_keys": fks, "unique": uniques,
                         "row_count": rows, "columns": columns}
            if progress:
                progress(n + 1, min(len(names), MAX_TABLES))
    return out, len(names)


def _compare(old: dict[str, dict], new: dict[str, dict]) -> list[dict]:
    """What changed between two harvests: tables and columns added or removed, column and key changes.
    Row counts are shown but do not count as a change of structure."""
    changes: list[dict] = []
    for t in sorted(set(new) - set(old)):
        changes.append({"object": t, "change": "table_added"})
    for t in sorted(set(old) - set(new)):
        changes.append({"object": t, "change": "table_removed"})
    for t in sorted(set(old) & set(new)):
        a, b = old[t], new[t]
        for c in b["columns"]:
            if c not in a["columns"]:
                changes.append({"object": f"{t}.{c}", "change": "column_added", "after": b["columns"][c]["data_type"]})
        for c in a["columns"]:
            if c not in b["columns"]:
                changes.append({"object": f"{t}.{c}", "change": "column_removed", "before": a["columns"][c]["data_type"]})
            else:
                for f in ("data_type", "nullable", "primary_key"):
                    if a["columns"][c].get(f) != b["columns"][c].get(f):
                        changes.append({"object": f"{t}.{c}", "change": f"{f}_changed",
                                        "before": a["columns"][c].get(f), "after": b["columns"][c].get(f)})
        if a.get("foreign_keys") != b.get("foreign_keys"):
            changes.append({"object": t, "change": "foreign_keys_changed", "before": a.get("foreign_keys"),
                            "after": b.get("foreign_keys")})
        if a.get("row_count") != b.get("row_count"):
            changes.append({"object": t, "change": "row_count", "before": a.get("row_count"),
                            "after": b.get("row_count")})
    return changes


def _stored_schema(db: Session, source: DataSource) -> dict[str, dict]:
    objs = db.scalars(select(MetaObject).where(MetaObject.source_id == source.id, MetaObject.removed.is_(False),
                                               MetaObject.type_code.in_(["table", "column"]))).all()
    tables = {o.id: o for o in objs if o.type_code == "table"}
    out = {t.name: {**t.harvested, "columns": {}} for t in tables.values()}
    for o in objs:
        if o.type_code == "column" and o.parent_id in tables:
            out[tables[o.parent_id].name]["columns"][o.name] = dict(o.harvested)
    return out


def harvest(db: Session, *, source_id: str, data_dir: Path, principal: Principal | None = None,
            progress: Callable[[int, int], None] | None = None, platform: Sequence[str] = ()) -> Harvest:
    """Read the source's schema into the metadata store and record what changed since last time.
    A source that cannot be read gives a run with ``ok`` False and the reason in ``error``."""
    source = get_source(db, source_id=source_id)
    refuse_platform_database(make_url(source_url(db, source_id=source.id, data_dir=data_dir)), data_dir=data_dir,
                             platform=platform)
    run = Harvest(source_id=source.id, started_at=utcnow(), changes=[])
    db.add(run)
    db.flush()
    engine = get_source_engine(db, source_id=source.id, data_dir=data_dir, platform=platform)
    try:
        schema, found = _read_schema(engine, source.schema_name, progress)
    except SQLAlchemyError as exc:
        run.finished_at, run.ok, run.error = utcnow(), False, _error_text(exc)
        db.flush()
        audit.record(db, action="metadata.harvest", principal=principal, object_type="data_source",
                     object_id=source.id, result="failed", detail={"name": source.name})
        # Returned, not raised, so the failed run stays on record beside the successful ones.
        return run
    finally:
        engine.dispose()
    previous = _stored_schema(db, source)
    first = source.last_harvest_at is None
    run.changes = [] if first else _compare(previous, schema)
    now = utcnow()
    existing = {o.qualified_name: o for o in db.scalars(select(MetaObject).where(MetaObject.source_id == source.id))}
    seen: set[str] = set()

    def upsert(type_code: str, name: str, qname: str, parent_id: str | None, harvested: dict,
               comment: str | None) -> MetaObject:
        obj = existing.get(qname)
        if obj is None:
            obj = MetaObject(type_code=type_code, source_id=source.id, name=name, qualified_name=qname,
                             first_seen_at=now, attributes={})
            db.add(obj)
            existing[qname] = obj
        obj.parent_id, obj.harvested, obj.comment, obj.removed, obj.last_seen_at = \
            parent_id, harvested, comment, False, now
        seen.add(qname)
        return obj

    db_obj = upsert("database", source.name, _qualified(source), None,
                    {"dialect": source.dialect, "schema": source.schema_name, "tables": found,
                     "not_read": max(0, found - len(schema))}, source.description)
    db.flush()
    n_columns = 0
    for tname, t in schema.items():
        tobj = upsert("table", tname, _qualified(source, tname), db_obj.id,
                      {k: v for k, v in t.items() if k != "columns"}, t.get("comment"))
        db.flush()
        for cname, c in t["columns"].items():
            upsert("column", cname, _qualified(source, tname, cname), tobj.id, c, c.get("comment"))
            n_columns += 1
    for qname, obj in existing.items():
        if qname not in seen:
            obj.removed = True
    source.last_harvest_at = now
    run.finished_at, run.ok, run.tables, run.columns = utcnow(), True, len(schema), n_columns
    db.flush()
    audit.record(db, action="metadata.harvest", principal=principal, object_type="data_source", object_id=source.id,
                 detail={"name": source.name, "tables": len(schema), "changes": len(run.changes)})
    return run


def list_harvests(db: Session, *, source_id: str, limit: int = 20) -> list[Harvest]:
    source = get_source(db, source_id=source_id)
    return list(db.scalars(select(Harvest).where(Harvest.source_id == source.id)
                           .order_by(Harvest.started_at.desc()).limit(limit)))


def source_tables(db: Session, *, source_id: str) -> list[MetaObject]:
    source = get_source(db, source_id=source_id)
    return list(db.scalars(select(MetaObject).where(MetaObject.source_id == source.id, MetaObject.type_code == "table",
                                                    MetaObject.removed.is_(False)).order_by(MetaObject.name)))


def get_object(db: Session, *, object_id: str) -> MetaObject:
    return get_or_raise(db, MetaObject, object_id, T("元数据对象不存在", "The metadata object does not exist"))


def children(db: Session, *, object_id: str) -> list[MetaObject]:
    return list(db.scalars(select(MetaObject).where(MetaObject.parent_id == object_id, MetaObject.removed.is_(False))
                           .order_by(MetaObject.name)))


def search_dictionary(db: Session, *, q: str, type_code: str | None = None, limit: int = 200) -> list[dict]:
    """The data dictionary: harvested tables and columns (by name or comment), the tables imported into topic
    databases (registered in ``core.dictionary`` by the warehouse) and catalog info items."""
    # what the user typed is matched literally: "%" and "_" are not wildcards
    stmt = select(MetaObject).where(MetaObject.removed.is_(False),
                                    or_(MetaObject.name.contains(q, autoescape=True),
                                        MetaObject.comment.contains(q, autoescape=True),
                                        MetaObject.qualified_name.contains(q, autoescape=True)))
    if type_code:
        stmt = stmt.where(MetaObject.type_code == type_code)
    hits = [{"kind": o.type_code, "id": o.id, "name": o.name, "qualified_name": o.qualified_name,
             "comment": o.comment, "data_type": (o.harvested or {}).get("data_type"),
             "row_count": (o.harvested or {}).get("row_count")}
            for o in db.scalars(stmt.order_by(MetaObject.qualified_name).limit(limit))]
    hits.extend(dictionary.search_registered(db, q=q, kind=type_code, limit=limit))  # imported topic tables
    if type_code in (None, "item", "resource"):
        for i in catalog_service.search_items(db, q=q, limit=limit):
            hits.append({"kind": "item", "id": None, "name": i["code"], "qualified_name": f"{i['resource']}.{i['code']}",
                         "comment": f"{i['name']}（{i['resource_name']}）", "data_type": i["type"], "row_count": None,
                         "pii": i["pii"]})
    return hits[:limit]


# ---------------------------------------------------------------- metadata types


def ensure_builtin_types(db: Session) -> None:
    have = set(db.scalars(select(MetaType.code)))
    for code, zh, en in BUILTIN_TYPES:
        if code not in have:
            db.add(MetaType(code=code, name_zh=zh, name_en=en, builtin=True, attributes=[]))
    db.flush()


def list_types(db: Session) -> list[MetaType]:
    ensure_builtin_types(db)
    return list(db.scalars(select(MetaType).order_by(MetaType.builtin.desc(), MetaType.code)))


def _check_attributes(attributes: list[dict]) -> list[dict]:
    seen: set[str] = set()
    out = []
    for a in attributes:
        code = str(a.get("code", "")).strip()
        if not code or code in seen:
            raise Invalid(T("属性代码为空或重复：{c}", "An attribute code is empty or repeated: {c}", c=code),
                          code="bad_attribute")
        if a.get("type", "string") not in ("string", "text", "number", "date", "boolean", "enum"):
            raise Invalid(T("属性 {c} 的类型 {t} 不支持", "Attribute {c} has an unsupported type {t}", c=code,
                            t=a.get("type")), code="bad_attribute")
        if a.get("type") == "enum" and not a.get("options"):
            raise Invalid(T("枚举属性 {c} 须列出可选值", "The enum attribute {c} needs options", c=code),
                          code="bad_attribute")
        seen.add(code)
        out.append({"code": code, "label_zh": a.get("label_zh") or code, "label_en": a.get("label_en") or code,
                    "type": a.get("type", "string"), "required": bool(a.get("required")),
                    "options": list(a.get("options") or [])})
    return out


def save_type(db: Session, *, code: str, name_zh: str, name_en: str, attributes: list[dict],
              principal: Principal | None = None) -> MetaType:
    ensure_builtin_types(db)
    mt = db.scalar(select(MetaType).where(MetaType.code == code))
    created = mt is None
    if mt is None:
        mt = MetaType(code=code, builtin=False)
        db.add(mt)
    mt.name_zh, mt.name_en, mt.attributes = name_zh, name_en, _check_attributes(attributes)
    db.flush()
    audit.record(db, action="metadata.type.create" if created else "metadata.type.update", principal=principal,
                 object_type="metadata_type", object_id=code, detail={"attributes": len(mt.attributes)})
    return mt


def delete_type(db: Session, *, code: str, principal: Principal | None = None) -> None:
    mt = one_or_raise(db, select(MetaType).where(MetaType.code == code),
                      T("元数据类型 {c} 不存在", "The metadata type {c} does not exist", c=code))
    if mt.builtin:
        raise Conflict(T("内置类型不能删除", "A built-in type cannot be deleted"), code="builtin_type")
    if db.scalar(select(func.count()).select_from(MetaObject).where(MetaObject.type_code == code)):
        raise Conflict(T("仍有该类型的元数据对象", "Objects of this type still exist"), code="type_in_use")
    db.delete(mt)
    db.flush()
    audit.record(db, action="metadata.type.delete", principal=principal, object_type="metadata_type", object_id=code)


def set_object_attributes(db: Session, *, object_id: str, values: dict,
                          principal: Principal | None = None) -> MetaObject:
    """Fill the admin-defined attributes of one object (validated against its type)."""
    obj = get_object(db, object_id=object_id)
    ensure_builtin_types(db)
    mt = db.scalar(select(MetaType).where(MetaType.code == obj.type_code))
    defs = {a["code"]: a for a in (mt.attributes if mt else [])}
    clean: dict[str, Any] = {}
    for code, value in values.items():
        d = defs.get(code)
        if d is None:
            raise Invalid(T("类型“{t}”没有属性 {c}", "The type “{t}” has no attribute {c}", t=obj.type_code, c=code),
                          code="unknown_attribute")
        if value in (None, ""):
            continue
        if d["type"] == "number" and not isinstance(value, (int, float)):
            raise Invalid(T("属性 {c} 应为数字", "Attribute {c} must be a number", c=code), code="bad_value")
        if d["type"] == "enum" and value not in d["options"]:
            raise Invalid(T("属性 {c} 的值须为 {o} 之一", "Attribute {c} must be one of {o}", c=code, o=d["options"]),
                          code="bad_value")
        clean[code] = value
    for code, d in defs.items():
        if d["required"] and code not in clean:
            raise Invalid(T("必填属性 {c} 未填写", "The required attribute {c} is empty", c=d["label_zh"]),
                          code="required_attribute")
    obj.attributes = clean
    db.flush()
    audit.record(db, action="metadata.object.attributes", principal=principal, object_type="metadata_object",
                 object_id=obj.id, detail={"name": obj.qualified_name})
    return obj


# ---------------------------------------------------------------- lineage


def record_lineage(db: Session, *, target: str, sources: list[str], via_kind: str, via_id: str | None = None,
                   detail: dict | None = None) -> None:
    """Record that ``target`` was produced from ``sources`` by ``via_kind`` (``job``, ``import``,
    ``transform``, ``sql`` …) ``via_id``. Names are ``topic.table``, ``source:<name>.<table>``,
    ``file:<name>``, ``resource:<code>``. Recording the same edge again refreshes its time."""
    if not target or len(target) > 300 or not via_kind or len(via_kind) > 32:
        raise Invalid(T("血缘记录缺少目标或方式", "A lineage record needs a target and a kind"), code="bad_lineage")
    now = utcnow()
    for source in dict.fromkeys(sources):
        if not source or len(source) > 300:
            raise Invalid(T("血缘来源名称无效", "A lineage source name is not valid"), code="bad_lineage")
        edge = db.scalar(select(LineageEdge).where(LineageEdge.target == target, LineageEdge.source == source,
                                                   LineageEdge.via_kind == via_kind,
                                                   LineageEdge.via_id == (via_id or "")))
        if edge is None:
            db.add(LineageEdge(target=target, source=source, via_kind=via_kind, via_id=via_id or "",
                               detail=detail or {}, first_recorded_at=now, last_recorded_at=now))
        else:
            edge.last_recorded_at, edge.detail = now, detail or edge.detail
    db.flush()


def lineage_graph(db: Session, *, node: str | None = None, depth: int = 3, limit: int = 500) -> dict:
    """Nodes and edges around ``node`` (upstream and downstream up to ``depth`` steps), or everything."""
    if node is None:
        edges = list(db.scalars(select(LineageEdge).order_by(LineageEdge.target).limit(limit)))
    else:
        found: dict[str, LineageEdge] = {}
        up, down = {node}, {node}
        for _ in range(max(1, min(depth, 10))):
            new_up = list(db.scalars(select(LineageEdge).where(LineageEdge.target.in_(up))))
            new_down = list(db.scalars(select(LineageEdge).where(LineageEdge.source.in_(down))))
            up = {e.source for e in new_up if e.id not in found}
            down = {e.target for e in new_down if e.id not in found}
            for e in new_up + new_down:
                found[e.id] = e
            if (not up and not down) or len(found) > limit:
                break
        edges = list(found.values())[:limit]
    names: dict[str, None] = {}
    for e in edges:
        names[e.source] = None
        names[e.target] = None
    if node:
        names.setdefault(node, None)
    return {
        "nodes": [{"name": n, "kind": n.split(":", 1)[0] if ":" in n else "table"} for n in names],
        "edges": [{"source": e.source, "target": e.target, "via_kind": e.via_kind, "via_id": e.via_id or None,
                   "detail": e.detail, "last_recorded_at": e.last_recorded_at} for e in edges],
    }
