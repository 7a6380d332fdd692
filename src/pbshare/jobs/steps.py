"""Step kinds: what a pipeline step can do. A registry, so a domain above jobs (ops: backup, retention) adds its
own kinds without jobs importing it: ``register(StepKind(...))`` from a module named in the ``pbshare.job_steps``
entry-point group (see pyproject.toml), loaded by ``load_plugins()`` in every process that runs steps.

A step gets a ``StepContext`` (the database, its parameters, the table the step before it produced, a log
function, a progress function and a cancel check) and returns a ``StepResult`` (rows, the table it produced, a
summary for the run page); it raises ``StepFailed`` (or any ``AppError``) with a message a data admin can act on.
A long step reports ``ctx.progress(done, total)`` (rows, or seconds for a wait) as it goes; the run page shows it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import polars as pl
import sqlglot
from sqlalchemy.orm import Session
from sqlglot import exp

from pbshare.collect.derived import datasets as datasets_service
from pbshare.collect.derived import transforms as transforms_service
from pbshare.collect.profiles import service as profiles_service
from pbshare.collect.runs import flows as run_flows
from pbshare.compare import service as compare_service
from pbshare.core.clock import LOCAL_TZ
from pbshare.core.db import Database
from pbshare.core.dynamic import safe_identifier
from pbshare.core.errors import AppError, Forbidden, Invalid
from pbshare.core.i18n import T
from pbshare.exchange.subscriptions import service as subscriptions_service
from pbshare.metadata import service as metadata_service
from pbshare.quality.rules import engine as rules_engine
from pbshare.quality.rules import service as rules_service
from pbshare.security.audit import service as audit
from pbshare.security.crypto import pii
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse

log = logging.getLogger("pbshare.jobs")
ENTRY_POINT_GROUP = "pbshare.job_steps"


class StepFailed(AppError):
    status = 422
    code = "step_failed"


@dataclass
class StepContext:
    database: Database
    run_id: str
    pipeline: str
    params: dict[str, Any]
    previous_output: str | None
    log: Callable[[str], None]
    cancel: threading.Event
    actor: str
    # progress(done, total, unit="rows"): how far the step is; total None when not known yet. It writes in a unit
    # of work of its own: never call it inside ``database.write`` (on SQLite it would wait for its own lock)
    progress: Callable[..., None] = field(default=lambda done, total=None, unit="rows": None)
    step_id: str = ""

    @property
    def data_dir(self) -> Path:
        return self.database.settings.resolved_data_dir

    def cancelled(self) -> bool:
        return self.cancel.is_set()


@dataclass
class StepResult:
    rows: int | None = None
    output: str | None = None  # "topic.table", handed to the next step
    summary: dict[str, Any] | None = None  # shown on the run page (ids and counts, never personal values)


@dataclass
class Param:
    name: str
    label: T
    kind: str = "text"  # text | number | textarea | choice | bool
    required: bool = True
    choices: list[str] = field(default_factory=list)
    default: Any = None


@dataclass
class StepKind:
    code: str
    label: T
    params: list[Param]
    run: Callable[[StepContext], StepResult]
    # check(params, principal) at save time: refuse what this person may not do, or what cannot run
    check: Callable[[dict[str, Any], Principal | None], None] | None = None


REGISTRY: dict[str, StepKind] = {}
_loaded = False
_load_lock = threading.Lock()


def register(kind: StepKind) -> None:
    REGISTRY[kind.code] = kind


def load_plugins() -> None:
    """Import the step kinds that other packages register (``pbshare.job_steps`` entry points), once."""
    global _loaded
    with _load_lock:
        if _loaded:
            return
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                hook = ep.load()
                if callable(hook):
                    hook()
            except Exception:  # one broken plugin must not stop the others
                log.exception("job step plugin %s did not load", ep.name)
        _loaded = True


def get_kind(code: str) -> StepKind:
    load_plugins()
    kind = REGISTRY.get(code)
    if kind is None:
        raise Invalid(T("未知的步骤类型“{k}”，可选：{all}", "Unknown step kind “{k}”; choose one of {all}",
                        k=code, all=", ".join(sorted(REGISTRY))), code="unknown_step_kind")
    return kind


def kinds_out() -> list[dict[str, Any]]:
    load_plugins()
    return [{"code": k.code, "label_zh": k.label.zh, "label_en": k.label.en,
             "params": [{"name": p.name, "label_zh": p.label.zh, "label_en": p.label.en, "kind": p.kind,
                         "required": p.required, "choices": p.choices, "default": p.default} for p in k.params]}
            for k in REGISTRY.values()]


def _need(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise Invalid(T("步骤缺少参数“{p}”", "The step needs its parameter “{p}”", p=name), code="step_param_missing")
    return value


def _table(ctx: StepContext, db: Session, name: str = "table") -> tuple[str, str]:
    """The step's table: its own parameter, else the table the step before produced."""
    ref = ctx.params.get(name) or ctx.previous_output
    if not ref or "." not in str(ref):
        raise StepFailed(T("请填写表（主题库.表名），或把它放在产出表的步骤之后",
                           "Name the table (topic.table), or put this step after a step that produces one"))
    topic, table = str(ref).split(".", 1)
    safe_identifier(topic, what="topic")
    safe_identifier(table, what="table")
    warehouse.get_table(db, topic=topic, name=table)
    return topic, table


def _frame(ctx: StepContext, topic: str, table: str) -> pl.DataFrame:
    with ctx.database.warehouse_engine.connect() as conn:
        return pl.read_database(f'SELECT * FROM "{topic}"."{table}"', connection=conn)


def _clear_frame(ctx: StepContext, db: Session, topic: str, table: str) -> pl.DataFrame:
    """The table's rows with sealed identifiers opened and blind indexes left out: what a comparison (which seals
    them again) and a subscriber (who receives them through a signed, sealed envelope) need."""
    row = warehouse.get_table(db, topic=topic, name=table)
    frame = _frame(ctx, topic, table)
    frame = frame.drop([c["name"] for c in row.columns if c.get("blind_index_of") and c["name"] in frame.columns])
    sealed = [c["name"] for c in row.columns if c.get("pii") and c["name"] in frame.columns]
    if sealed:
        vault = pii.vault_for(ctx.data_dir)
        frame = frame.with_columns(pl.col(c).cast(pl.String).map_elements(vault.open, return_dtype=pl.String)
                                   for c in sealed)
    return frame


def _names(value: Any) -> list[str]:
    """A comma-separated list of column names (key columns)."""
    names = [n.strip() for n in str(value or "").replace("，", ",").split(",") if n.strip()]
    for n in names:
        safe_identifier(n, what="column")
    return names


# --------------------------------------------------------------------------- built-in kinds
def _import_profile(ctx: StepContext) -> StepResult:
    ref = str(_need(ctx.params, "profile"))
    with ctx.database.session() as db:
        profile = profiles_service.find_profile(db, name=ref) or profiles_service.get_profile(db, profile_id=ref)
        spec, profile_id, name = profiles_service.spec_of(profile), profile.id, profile.name
    file = None
    if ctx.params.get("file"):
        file = Path(str(ctx.params["file"]))
        if not file.is_absolute():
            file = ctx.data_dir / "inbox" / file
        if not file.is_file():
            raise StepFailed(T("找不到要导入的文件 {f}：请把文件放进该目录后重试",
                               "The file to import, {f}, is not there: put it in the folder and run again", f=str(file)))
    ctx.log(f"import profile {name}")

    def progress(fraction: float | None, rows: int) -> None:  # the reader's share of the source, rows read
        ctx.progress(rows, round(rows / fraction) if fraction else None)

    run = run_flows.run_now(ctx.database, spec=spec, profile_id=profile_id, file=file, run_by=ctx.actor, trusted=True,
                            progress=progress)
    ctx.log(f"import run {run.id}: {run.status}, read {run.rows_read}, loaded {run.rows_loaded}, "
            f"quarantined {run.rows_quarantined}")
    if run.status != "succeeded":
        raise StepFailed(T("导入失败：{e}", "The import failed: {e}", e=run.error or run.status))
    return StepResult(rows=run.rows_loaded, output=f"{spec.target_topic}.{spec.target_table}")


def _harvest(ctx: StepContext) -> StepResult:
    ref = str(_need(ctx.params, "source"))
    with ctx.database.session() as db:
        source = next((s for s in metadata_service.list_sources(db) if s.name == ref), None) or \
            metadata_service.get_source(db, source_id=ref)
        source_id = source.id
    with ctx.database.session() as db:
        run = metadata_service.harvest(db, source_id=source_id, data_dir=ctx.data_dir)
        ok, error, changes = run.ok, run.error, len(run.changes or [])
    ctx.log(f"harvest of {ref}: {'ok' if ok else 'failed'}, {changes} change(s)")
    if not ok:
        raise StepFailed(T("元数据采集失败：{e}", "The metadata harvest failed: {e}", e=error or ""))
    return StepResult(rows=changes)


def _dataset(ctx: StepContext) -> StepResult:
    ref = str(_need(ctx.params, "dataset"))
    with ctx.database.session() as db:
        ds = next((d for d in datasets_service.list_datasets(db) if d.name == ref), None) or \
            datasets_service.get_dataset(db, dataset_id=ref)
        ds_id = ds.id
    with ctx.database.session() as db:
        ds = datasets_service.refresh_dataset(db, ctx.database, dataset_id=ds_id)
        out = f"{ds.target_topic}.{ds.target_table}"
    rows = _count(ctx, out)
    ctx.log(f"dataset {ref} rebuilt: {out}, {rows} rows")
    return StepResult(rows=rows, output=out)


def _transform(ctx: StepContext) -> StepResult:
    ref = str(_need(ctx.params, "transform"))
    with ctx.database.session() as db:
        tf = transforms_service.find_transform(db, name=ref) or transforms_service.get_transform(db, transform_id=ref)
        tf_id = tf.id
    with ctx.database.session() as db:
        tf = transforms_service.refresh_transform(db, ctx.database, transform_id=tf_id)
        out = f"{tf.target_topic}.{tf.target_table}"
    rows = _count(ctx, out)
    ctx.log(f"transform {ref} rebuilt: {out}, {rows} rows")
    return StepResult(rows=rows, output=out)


def _count(ctx: StepContext, ref: str) -> int:
    topic, table = ref.split(".", 1)
    return warehouse.count_rows(ctx.database, topic=topic, name=table)


def _quality(ctx: StepContext) -> StepResult:
    code = str(_need(ctx.params, "resource"))
    with ctx.database.session() as db:
        topic, table = _table(ctx, db)
        rules = rules_service.rules_for_resource(db, resource_code=code)
    if not rules:
        raise StepFailed(T("资源 {c} 没有质量规则：请先在 质量规则 页设置", "Resource {c} has no quality rules: set them on "
                           "the quality rules page first", c=code))
    frame = _frame(ctx, topic, table)
    result = rules_engine.evaluate(frame, rules)
    ctx.log(f"{len(rules)} rule(s) on {topic}.{table}: {frame.height} rows, {result.error_rows} with errors, "
            f"{result.warning_rows} with warnings")
    if result.error_rows and ctx.params.get("fail_on_errors"):
        raise StepFailed(T("{n} 行未通过质量规则", "{n} rows failed the quality rules", n=result.error_rows))
    return StepResult(rows=frame.height, output=f"{topic}.{table}")


def _export(ctx: StepContext) -> StepResult:
    fmt = str(ctx.params.get("format") or "csv")
    if fmt not in ("csv", "xlsx"):
        raise StepFailed(T("导出格式须为 csv 或 xlsx", "The export format must be csv or xlsx"))
    with ctx.database.session() as db:
        topic, table = _table(ctx, db)
    folder_name = str(ctx.params.get("folder") or "exports")
    folder = (ctx.data_dir / folder_name).resolve()
    if not folder.is_relative_to(ctx.data_dir):
        raise StepFailed(T("导出目录须在数据目录之内", "The export folder must be inside the data folder"))
    folder.mkdir(parents=True, exist_ok=True)
    frame = _frame(ctx, topic, table)
    stamp = datetime.now(LOCAL_TZ).strftime("%Y%m%d-%H%M%S")
    path = folder / f"{topic}.{table}-{stamp}.{fmt}"
    if fmt == "csv":
        frame.write_csv(path)
    else:
        frame.write_excel(path)
    with ctx.database.session() as db:
        audit.record(db, action="jobs.export", actor_name=ctx.actor, object_type="table", object_id=f"{topic}.{table}",
                     detail={"file": path.name, "rows": frame.height})
    ctx.log(f"wrote {frame.height} rows to {path}")
    return StepResult(rows=frame.height, output=f"{topic}.{table}")


def _compare_check(params: dict[str, Any], principal: Principal | None) -> None:
    _names(params.get("key"))
    ref = params.get("table")
    if ref and "." not in str(ref):
        raise Invalid(T("表须写成 主题库.表名", "Write the table as topic.table"), code="step_param_invalid")


def _compare(ctx: StepContext) -> StepResult:
    """Compare the table (a full snapshot) with its previous snapshot through the compare domain: added, removed,
    changed, unchanged by business key, suspicious changes flagged; the first snapshot only starts the history."""
    unit = str(ctx.params.get("unit") or "").strip() or None
    with ctx.database.session() as db:
        topic, table = _table(ctx, db)
        row = warehouse.get_table(db, topic=topic, name=table)
        key = _names(ctx.params.get("key")) or list(row.key or [])
        resource = str(ctx.params.get("resource") or "").strip() or row.resource_code
        frame = _clear_frame(ctx, db, topic, table)
    if not key:
        raise StepFailed(T("表 {t} 没有业务主键：请在步骤里填写主键字段（逗号分隔）",
                           "Table {t} has no business key: name the key columns in the step (comma-separated)",
                           t=f"{topic}.{table}"), code="compare_no_key")
    ctx.progress(0, frame.height)
    target = f"{topic}.{table}"
    ctx.log(f"comparing {frame.height} rows of {target} by {', '.join(key)} with its previous snapshot")

    def compare(db: Session) -> dict[str, Any] | None:
        c = compare_service.compare_delivery(db, resource_code=resource, unit_code=unit, target=target,
                                             delivery_id=f"job:{ctx.step_id or ctx.run_id}"[:64],
                                             delivery_kind="job_run", frame=frame, key=key, data_dir=ctx.data_dir)
        if c is None:
            return None
        return {"comparison_id": c.id, "added": c.added, "removed": c.removed, "changed": c.changed,
                "unchanged": c.unchanged, "flags": [f.get("code") for f in (c.flags or [])]}

    summary = ctx.database.write(compare)
    ctx.progress(frame.height, frame.height)
    if summary is None:
        ctx.log(f"first snapshot of {target}: its history starts here, nothing to compare with yet")
        return StepResult(rows=frame.height, output=target, summary={"first": True, "rows": frame.height})
    ctx.log(f"comparison {summary['comparison_id']}: added {summary['added']}, removed {summary['removed']}, "
            f"changed {summary['changed']}, unchanged {summary['unchanged']}"
            + (f"; flagged: {', '.join(summary['flags'])}" if summary["flags"] else ""))
    return StepResult(rows=summary["added"] + summary["removed"] + summary["changed"], output=target, summary=summary)


def _push_check(params: dict[str, Any], principal: Principal | None) -> None:
    code = str(params.get("resource") or "").strip()
    if not code.isalnum():
        raise Invalid(T("资源代码只能是字母和数字，例如 801002", "A resource code is letters and digits, e.g. 801002"),
                      code="step_param_invalid")
    ref = params.get("table")
    if ref and "." not in str(ref):
        raise Invalid(T("表须写成 主题库.表名", "Write the table as topic.table"), code="step_param_invalid")


def _push(ctx: StepContext) -> StepResult:
    """Push the table's rows (its own parameter, else the step before's output) to the resource's subscribers,
    through the exchange subscriptions service (outbox: retried, dead-lettered, replayable)."""
    code = str(_need(ctx.params, "resource")).strip()
    with ctx.database.session() as db:
        topic, table = _table(ctx, db)
        frame = _clear_frame(ctx, db, topic, table)
    ctx.log(f"pushing {frame.height} rows of {topic}.{table} to the subscribers of {code}")
    ctx.progress(0, frame.height)
    counts = ctx.database.write(lambda db: subscriptions_service.push_rows(
        db, resource_code=code, rows=frame.to_dicts(), data_dir=ctx.data_dir, actor=ctx.actor))
    ctx.progress(frame.height, frame.height)
    ctx.log(f"{counts['queued']} deliveries queued for {counts['subscriptions']} subscription(s), "
            f"{counts['rows']} rows in them" + (f"; {counts['not_sent']} not sent (the connection cannot send)"
                                               if counts["not_sent"] else ""))
    if counts["subscriptions"] == 0:
        ctx.log(f"resource {code} has no active subscription: nothing was sent")
    return StepResult(rows=counts["rows"], output=f"{topic}.{table}", summary={"resource": code, **counts})


_READ = (exp.Select, exp.Union, exp.Intersect, exp.Except)
_WRITE = (exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Merge, exp.TruncateTable)


def parse_script(sql: str, dialect: str = "postgres") -> list[exp.Expr]:
    """The script's statements, each a SELECT or a write on a topic table; anything else is refused."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise Invalid(T("SQL 无法解析：{e}", "The SQL does not parse: {e}", e=str(exc)[:300]), code="sql_invalid") from None
    if not statements:
        raise Invalid(T("SQL 脚本为空", "The SQL script is empty"), code="sql_invalid")
    for s in statements:
        if not isinstance(s, _READ + _WRITE):
            raise Invalid(T("不允许的语句：{s}（只可 SELECT、INSERT、UPDATE、DELETE、CREATE/DROP TABLE）",
                            "Statement not allowed: {s} (only SELECT, INSERT, UPDATE, DELETE, CREATE/DROP TABLE)",
                            s=s.sql()[:80]), code="sql_not_allowed")
        if isinstance(s, exp.Create | exp.Drop) and str(s.args.get("kind", "")).upper() not in ("TABLE", "VIEW"):
            raise Invalid(T("只可 CREATE/DROP TABLE 或 VIEW", "Only CREATE/DROP TABLE or VIEW"), code="sql_not_allowed")
        for t in s.find_all(exp.Table):
            if not t.db:
                cte_names = {c.alias for c in s.find_all(exp.CTE)}
                if t.name in cte_names:
                    continue
                raise Invalid(T("表 {t} 须写成 主题库.表名", "Write the table {t} as topic.table", t=t.name),
                              code="sql_unqualified")
            safe_identifier(t.db, what="topic")
            safe_identifier(t.name, what="table")
    return statements


def is_write(statements: list[exp.Expr]) -> bool:
    return any(isinstance(s, _WRITE) for s in statements)


def _sql_check(params: dict[str, Any], principal: Principal | None) -> None:
    statements = parse_script(str(_need(params, "sql")))
    if is_write(statements) and principal is not None and not principal.has(Perm.warehouse_write.value):
        raise Forbidden(T("写数据的 SQL 步骤只有数据管理员可以保存", "Only a data admin may save an SQL step that writes data"),
                        code="sql_write_forbidden")


def _sql(ctx: StepContext) -> StepResult:
    engine = ctx.database.warehouse_engine
    dialect = "sqlite" if engine.dialect.name == "sqlite" else "postgres"
    statements = parse_script(str(_need(ctx.params, "sql")))
    rows = 0
    with engine.begin() as conn:
        for s in statements:
            text_sql = s.sql(dialect=dialect)
            ctx.log(f"SQL: {text_sql}")
            result = conn.exec_driver_sql(text_sql)
            n = len(result.fetchall()) if result.returns_rows else max(result.rowcount, 0)
            ctx.log(f"  -> {n} row(s)")
            rows += n
    with ctx.database.session() as db:
        audit.record(db, action="jobs.sql", actor_name=ctx.actor, object_type="pipeline", object_id=ctx.pipeline,
                     detail={"statements": len(statements), "rows": rows, "write": is_write(statements)})
    return StepResult(rows=rows, output=ctx.previous_output)


def _wait(ctx: StepContext) -> StepResult:
    seconds = float(ctx.params.get("seconds") or 1)
    if not 0 < seconds <= 24 * 3600:
        raise StepFailed(T("等待秒数须在 0–86400 之间", "The wait must be 0–86400 seconds"))
    start = time.monotonic()
    end = start + seconds
    while time.monotonic() < end and not ctx.cancelled():
        ctx.progress(round(min(time.monotonic() - start, seconds)), round(seconds), "seconds")
        ctx.cancel.wait(min(0.2, max(end - time.monotonic(), 0)))
    if ctx.cancelled():
        raise StepFailed(T("等待被取消", "The wait was cancelled"), code="cancelled")
    ctx.log(f"waited {seconds:g} s")
    return StepResult(output=ctx.previous_output)


def _label(zh: str, en: str) -> T:
    return T(zh, en)


register(StepKind("import_profile", _label("运行导入配置", "Run an import profile"),
                  [Param("profile", _label("导入配置（名称）", "import profile (name)")),
                   Param("file", _label("文件（数据目录 inbox/ 下，文件类配置用）", "file (under data dir inbox/, "
                                        "for file profiles)"), required=False)], _import_profile))
register(StepKind("harvest", _label("采集数据源元数据", "Harvest a data source's metadata"),
                  [Param("source", _label("数据源（名称）", "data source (name)"))], _harvest))
register(StepKind("dataset", _label("刷新 SQL 数据集", "Refresh an SQL dataset"),
                  [Param("dataset", _label("数据集（名称）", "dataset (name)"))], _dataset))
register(StepKind("transform", _label("运行数据加工", "Run a transform"),
                  [Param("transform", _label("数据加工（名称）", "transform (name)"))], _transform))
register(StepKind("sql", _label("运行 SQL 脚本", "Run an SQL script"),
                  [Param("sql", _label("SQL（表写成 主题库.表名）", "SQL (tables as topic.table)"), kind="textarea")],
                  _sql, check=_sql_check))
register(StepKind("quality", _label("运行质量规则集", "Run a quality rule set"),
                  [Param("resource", _label("目录资源代码", "catalog resource code")),
                   Param("table", _label("表（空：上一步的产出）", "table (empty: the step before's)"), required=False),
                   Param("fail_on_errors", _label("有错误行则失败", "fail when rows have errors"), kind="bool",
                         required=False, default=False)], _quality))
register(StepKind("compare", _label("与上次交付比对", "Compare with the last delivery"),
                  [Param("table", _label("表（空：上一步的产出）", "table (empty: the step before's)"), required=False),
                   Param("key", _label("业务主键（逗号分隔；空：表的主键）", "business key (comma-separated; empty: the "
                                       "table's)"), required=False),
                   Param("unit", _label("数源单位代码（空：本署）", "unit code (empty: the office)"), required=False),
                   Param("resource", _label("目录资源代码（可空）", "catalog resource code (optional)"), required=False)],
                  _compare, check=_compare_check))
register(StepKind("push", _label("推送给订阅方", "Push to subscribers"),
                  [Param("resource", _label("目录资源代码（推送给它的订阅方）", "catalog resource code (its subscribers "
                                            "get the rows)")),
                   Param("table", _label("表（空：上一步的产出）", "table (empty: the step before's)"), required=False)],
                  _push, check=_push_check))
register(StepKind("export", _label("导出文件", "Export a file"),
                  [Param("table", _label("表（空：上一步的产出）", "table (empty: the step before's)"), required=False),
                   Param("format", _label("格式", "format"), kind="choice", choices=["csv", "xlsx"], default="csv"),
                   Param("folder", _label("目录（数据目录下）", "folder (under the data dir)"), required=False,
                         default="exports")], _export))
register(StepKind("wait", _label("等待", "Wait"),
                  [Param("seconds", _label("秒", "seconds"), kind="number", default=5)], _wait))

