"""Reports and dashboards: run a query spec, save reports and dashboards, share them with roles.

Who may do what: ``reports:read`` opens reports and dashboards shared with one of the person's roles (their
sources are granted with them); ad hoc queries on warehouse tables and datasets also need
``warehouse:read``; building and sharing needs ``reports:write``. Every query of a warehouse table or dataset
is audited (object, masked columns, page), since it may read people's data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.core.db import Database
from pbshare.core.errors import Forbidden, Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.core.userquery import QueryLimits
from pbshare.reports import query as query_mod
from pbshare.reports.models import Dashboard, Report, ReportUpload
from pbshare.reports.schemas import (
    Condition,
    DashboardIn,
    GlobalValues,
    Group,
    QueryResult,
    QuerySpec,
    ReportIn,
    RunIn,
)
from pbshare.reports.sources import (
    MAX_UPLOAD_BYTES,
    SourceContext,
    frame_columns,
    list_sources,
    open_source,
    read_file,
    uploads_dir,
)
from pbshare.security.audit import service as audit
from pbshare.security.crypto import pii
from pbshare.security.enums import Role
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

_REPORT_NOT_FOUND = T("报表不存在或未分享给您", "No such report, or it is not shared with you")
_DASH_NOT_FOUND = T("仪表板不存在或未分享给您", "No such dashboard, or it is not shared with you")


def _ctx(db: Session, database: Database, principal: Principal | None, *, trusted: bool = False) -> SourceContext:
    return SourceContext(db=db, database=database, principal=principal, trusted=trusted)


# --------------------------------------------------------------------------- queries
def run_query(db: Session, database: Database, *, spec: QuerySpec, principal: Principal | None,
              trusted: bool = False, report_id: str | None = None, audit_apart: bool = False) -> QueryResult:
    """Run a query spec. ``audit_apart``: the audit record is written in a short write of its own, for a
    request whose session only read (POST /query): on SQLite a transaction that read cannot take the write
    lock once another connection committed, and the query would be answered ``database_busy`` whenever
    listeners or imports write meanwhile (bench/soak.py). Not for a caller already holding the lock."""
    src = open_source(_ctx(db, database, principal, trusted=trusted), spec.source.model_dump())
    try:
        vault = pii.vault_for(database.settings.resolved_data_dir) if any(f.pii for f in src.fields) else None
        result = query_mod.run(src, spec, limits=QueryLimits.from_settings(database.settings), vault=vault)
    finally:
        src.dispose()
    if src.label.startswith(("table:", "dataset:")):
        def note(adb: Session) -> None:
            audit.record(adb, action="reports.query", principal=principal, object_type="report_source",
                         object_id=src.label[:200], detail={"report": report_id, "masked": result.masked,
                                                            "page": spec.page, "grouped": bool(spec.group_by)})

        if audit_apart:
            database.write(note)
        else:
            note(db)
    return result


def sources(db: Session, database: Database, *, principal: Principal | None) -> list[dict[str, Any]]:
    return list_sources(_ctx(db, database, principal))


def source_fields(db: Session, database: Database, *, ref: dict[str, Any], principal: Principal | None) -> list[dict]:
    src = open_source(_ctx(db, database, principal), ref)
    try:
        return [{"name": f.name, "title": f.title, "type": f.type, "pii": f.pii} for f in src.fields]
    finally:
        src.dispose()


# --------------------------------------------------------------------------- sharing
def _roles_checked(roles: list[str]) -> list[str]:
    known = {r.value for r in Role}
    bad = [r for r in roles if r not in known]
    if bad:
        raise Invalid(T("未知的角色：{r}，可选：{a}", "Unknown roles: {r}; choose from {a}", r=", ".join(bad)[:200],
                        a=", ".join(sorted(known))), code="bad_roles")
    return sorted(set(roles))


def _may_open(principal: Principal | None, created_by: str, roles: list[str]) -> bool:
    if principal is None:
        return True
    return (created_by == principal.username or principal.has(Perm.reports_write.value)
            or bool(set(roles) & set(principal.roles)))


def _may_change(principal: Principal | None, created_by: str) -> None:
    if principal is not None and created_by != principal.username and not principal.has(Perm.reports_write.value):
        raise Forbidden(T("只有作者或报表编辑人员可以修改", "Only its author or a report editor may change it"),
                        code="not_author")


# --------------------------------------------------------------------------- reports
def list_reports(db: Session, *, principal: Principal | None) -> list[Report]:
    rows = db.scalars(select(Report).order_by(Report.updated_at.desc()))
    return [r for r in rows if _may_open(principal, r.created_by, r.roles or [])]


def get_report(db: Session, *, report_id: str, principal: Principal | None) -> Report:
    r = db.get(Report, report_id)
    if r is None or not _may_open(principal, r.created_by, r.roles or []):
        raise NotFound(_REPORT_NOT_FOUND, code="report_not_found")
    return r


def save_report(db: Session, database: Database, *, data: ReportIn, principal: Principal,
                report_id: str | None = None) -> Report:
    roles = _roles_checked(data.roles)
    # The author must be able to run it now: the source exists and every column is right.
    run_query(db, database, spec=data.spec.model_copy(update={"page": 1, "size": 1}), principal=principal)
    if report_id:
        r = get_report(db, report_id=report_id, principal=principal)
        _may_change(principal, r.created_by)
    else:
        r = Report(created_by=principal.username)
        db.add(r)
    r.title, r.description, r.chart = data.title, data.description, data.chart
    r.spec, r.options, r.roles = data.spec.model_dump(mode="json", by_alias=True), data.options, roles
    db.flush()
    audit.record(db, action="reports.report.save", principal=principal, object_type="report", object_id=r.id,
                 detail={"roles": roles})
    return r


def delete_report(db: Session, *, report_id: str, principal: Principal) -> None:
    r = get_report(db, report_id=report_id, principal=principal)
    _may_change(principal, r.created_by)
    db.delete(r)
    audit.record(db, action="reports.report.delete", principal=principal, object_type="report", object_id=report_id)


def _global_conditions(options: dict[str, Any], g: GlobalValues | None) -> list[Condition]:
    """The dashboard's global filters on the columns the report names for them (others are ignored)."""
    if g is None:
        return []
    cols = options.get("globals") or {}
    out: list[Condition] = []
    if cols.get("date") and (g.date_from or g.date_to):
        out.append(Condition(column=cols["date"], op="between", value=[g.date_from.isoformat() if g.date_from else None,
                                                                        g.date_to.isoformat() if g.date_to else None]))
    if cols.get("unit") and g.unit:
        out.append(Condition(column=cols["unit"], op="eq", value=g.unit))
    if cols.get("district") and g.district:
        out.append(Condition(column=cols["district"], op="eq", value=g.district))
    return out


def run_report(db: Session, database: Database, *, report_id: str, body: RunIn,
               principal: Principal | None) -> QueryResult:
    r = get_report(db, report_id=report_id, principal=principal)
    spec = QuerySpec.model_validate(r.spec)
    extra = _global_conditions(r.options or {}, body.globals)
    update: dict[str, Any] = {"page": body.page}
    if body.size:
        update["size"] = body.size
    if body.drill:
        # the rows behind one point: the group keys become equality filters, the rows are listed
        keys = {(g if isinstance(g, str) else g.column) for g in spec.group_by}
        for col, value in body.drill.items():
            if col not in keys:
                raise Invalid(T("只能按报表的分组字段下钻：{a}", "Drill only by the report's group columns: {a}",
                                a=", ".join(sorted(keys))), code="bad_drill")
            extra.append(Condition(column=col, op="eq", value=value) if value is not None
                         else Condition(column=col, op="is_empty"))
        update |= {"group_by": [], "aggregates": [], "sort": [], "totals": False, "columns": []}
    if extra:
        items: list[Condition | Group] = list(extra)
        if spec.filters is not None:
            items.append(spec.filters)
        update["filters"] = Group(op="and", items=items)
    return run_query(db, database, spec=spec.model_copy(update=update), principal=principal, trusted=True,
                     report_id=r.id)


# --------------------------------------------------------------------------- dashboards
def list_dashboards(db: Session, *, principal: Principal | None) -> list[Dashboard]:
    rows = db.scalars(select(Dashboard).order_by(Dashboard.updated_at.desc()))
    return [d for d in rows if _may_open(principal, d.created_by, d.roles or [])]


def get_dashboard(db: Session, *, dashboard_id: str, principal: Principal | None) -> Dashboard:
    d = db.get(Dashboard, dashboard_id)
    if d is None or not _may_open(principal, d.created_by, d.roles or []):
        raise NotFound(_DASH_NOT_FOUND, code="dashboard_not_found")
    return d


def save_dashboard(db: Session, *, data: DashboardIn, principal: Principal, dashboard_id: str | None = None) -> Dashboard:
    roles = _roles_checked(data.roles)
    if 0 < data.refresh_seconds < 10:
        raise Invalid(T("自动刷新间隔至少 10 秒（0 表示不刷新）", "Auto-refresh is every 10 s at least (0: never)"),
                      code="bad_refresh")
    for tile in data.tiles:
        get_report(db, report_id=tile.report_id, principal=principal)
        if tile.x + tile.w > 12:
            raise Invalid(T("图块超出了 12 列的网格", "A tile runs past the 12-column grid"), code="bad_tile")
    if dashboard_id:
        d = get_dashboard(db, dashboard_id=dashboard_id, principal=principal)
        _may_change(principal, d.created_by)
    else:
        d = Dashboard(created_by=principal.username)
        db.add(d)
    d.title, d.description, d.refresh_seconds = data.title, data.description, data.refresh_seconds
    d.tiles = [t.model_dump() for t in data.tiles]
    d.filters, d.roles = list(data.filters), roles
    db.flush()
    audit.record(db, action="reports.dashboard.save", principal=principal, object_type="dashboard", object_id=d.id,
                 detail={"roles": roles, "tiles": len(d.tiles)})
    return d


def delete_dashboard(db: Session, *, dashboard_id: str, principal: Principal) -> None:
    d = get_dashboard(db, dashboard_id=dashboard_id, principal=principal)
    _may_change(principal, d.created_by)
    db.delete(d)
    audit.record(db, action="reports.dashboard.delete", principal=principal, object_type="dashboard",
                 object_id=dashboard_id)


def dashboard_data(db: Session, database: Database, *, dashboard_id: str, globals_: GlobalValues | None,
                   principal: Principal | None) -> list[dict[str, Any]]:
    """Every tile's report and its figures (first page, up to 500 groups), for the viewer and the exports."""
    d = get_dashboard(db, dashboard_id=dashboard_id, principal=principal)
    out = []
    for tile in d.tiles:
        r = db.get(Report, tile["report_id"])
        if r is None:
            out.append({"tile": tile, "report": None, "error": T("报表已被删除", "The report was deleted").render()})
            continue
        try:
            res = run_report(db, database, report_id=r.id, body=RunIn(size=500, globals=globals_), principal=principal)
            out.append({"tile": tile, "report": r, "result": res})
        except (Invalid, NotFound, Forbidden) as exc:
            out.append({"tile": tile, "report": r, "error": exc.message.render()})
    return out


# --------------------------------------------------------------------------- uploads
def list_uploads(db: Session) -> list[ReportUpload]:
    return list(db.scalars(select(ReportUpload).order_by(ReportUpload.created_at.desc())))


def get_upload(db: Session, *, upload_id: str) -> ReportUpload:
    up = db.get(ReportUpload, upload_id)
    if up is None:
        raise NotFound(T("上传的文件不存在", "No such uploaded file"), code="upload_not_found")
    return up


def upload(db: Session, database: Database, *, data: bytes, filename: str, title: str | None,
           principal: Principal) -> ReportUpload:
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid(T("文件超过 20 MB；请先导入专题库再做报表", "The file is over 20 MB; import it into the warehouse "
                        "first"), code="file_too_big")
    frame = read_file(data, filename)
    cols = frame_columns(frame)
    frame = frame.rename({raw: c["name"] for c, raw in zip(cols, frame.columns, strict=True)})
    up = ReportUpload(title=(title or filename)[:200], filename=filename[:255], columns=cols, rows=frame.height,
                      created_by=principal.username)
    db.add(up)
    db.flush()
    folder = uploads_dir(database)
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / f"{up.id}.parquet")
    audit.record(db, action="reports.upload", principal=principal, object_type="report_upload", object_id=up.id,
                 detail={"rows": frame.height})
    return up

