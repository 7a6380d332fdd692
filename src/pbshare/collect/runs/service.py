"""Import runs: the run row, the preview, the target a spec maps onto, run history and quarantine.

The run itself (read → map/check → seal → load → finish) is ``flows.execute_run``; browser runs go to
a background thread through ``tasks``.
"""

from __future__ import annotations

import os
import socket
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.collect import readers
from pbshare.collect.enums import RunStatus
from pbshare.collect.mapping import REASON, FieldMap, auto_mapping, score
from pbshare.collect.profiles import service as profiles
from pbshare.collect.profiles.schemas import ProfileIn
from pbshare.collect.runs import sources
from pbshare.collect.runs.models import ImportRun
from pbshare.collect.runs.schemas import PreviewOut, RunIn
from pbshare.collect.schemas import ImportSpec, RunOut
from pbshare.collect.uploads import service as uploads
from pbshare.core.clock import as_utc, utcnow
from pbshare.core.db import Database
from pbshare.core.dynamic import safe_identifier
from pbshare.core.errors import AppError, Conflict, Forbidden, Invalid
from pbshare.core.i18n import T
from pbshare.core.lookup import get_or_raise
from pbshare.quality import service as quality_service
from pbshare.security.crypto import pii
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse


# --------------------------------------------------------------------------- the target and the mapping
def target_fields(db: Session, spec: ImportSpec) -> tuple[list[dict] | None, list[str], bool]:
    """Fields of the target: the existing table's, else (without a mapping) the catalog resource's, else None."""
    row = warehouse.find_table(db, topic=spec.target_topic, name=spec.target_table)
    if row is not None:
        fields = [{"name": c["name"], "title": c.get("title"), "type": c.get("value_type") or c["type"],
                   "length": c.get("length"), "pii": c.get("pii", False), "id_kind": c.get("id_kind")}
                  for c in row.columns if not c.get("blind_index_of")]
        return fields, list(row.key or []), True
    if spec.resource_code and not spec.mapping:
        fields, key = warehouse.resource_fields(db, code=spec.resource_code)
        return fields, key, False
    return None, [], False


def resolve_mapping(spec: ImportSpec, columns: list[str], fields: list[dict] | None, exists: bool,
                    sample: pl.DataFrame | None = None, types: dict[str, dict] | None = None) -> list[FieldMap]:
    """The spec's mapping, or one matched by name (and guessed from the first rows); refused if it maps
    nothing or names unknown columns."""
    mapping = list(spec.mapping) or auto_mapping(columns, targets=fields, sample=sample, types=types)
    if exists and fields is not None:
        known = {f["name"] for f in fields}
        unknown = [m.target for m in mapping if m.target not in known]
        if unknown:
            raise Invalid(T("目标表中没有这些字段：{c}", "The target table has no columns {c}", c=", ".join(unknown)),
                          code="unknown_target_columns")
    if not any(m.source and m.source in columns for m in mapping):
        raise Invalid(T("没有任何源字段与目标字段对应，请检查表头行或字段映射",
                        "No source column maps to a target field; check the header line or the mapping"),
                      code="nothing_mapped", detail={"columns": columns[:50]})
    targets = [m.target for m in mapping]
    if len(set(targets)) != len(targets):
        raise Invalid(T("目标字段重复", "A target field is mapped twice"), code="duplicate_targets")
    return mapping


def key_for(spec: ImportSpec, table_key: list[str], mapping: list[FieldMap]) -> list[str]:
    """The business key: the spec's, else the table's; upsert refuses a key it cannot fill."""
    key = list(spec.key) or list(table_key)
    if spec.mode == "upsert" and not key:
        raise Invalid(T("“更新或插入”方式需要业务主键", "Upsert needs a business key"), code="no_key")
    targets = {m.target for m in mapping}
    missing = [k for k in key if k not in targets]
    if missing and spec.mode == "upsert":
        raise Invalid(T("业务主键字段没有映射：{k}", "Business key fields are not mapped: {k}", k=", ".join(missing)),
                      code="bad_key")
    return [k for k in key if k in targets]


# --------------------------------------------------------------------------- preview
def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def preview(db: Session, database: Database, spec: ImportSpec, *, file: Path | None = None, trusted: bool = False,
            limit: int = 200) -> PreviewOut:
    """The first rows after mapping with every problem flagged; nothing is written."""
    safe_identifier(spec.target_topic, what="topic")
    safe_identifier(spec.target_table, what="table")
    reader = sources.open_reader(db, database, spec.source_kind, spec.source, file=file, trusted=trusted)
    try:
        first = next(iter(reader.batches()), None)
    finally:
        sources.close_reader(reader)
    frame = first.frame.head(limit) if first else pl.DataFrame()
    columns = [c for c in frame.columns if c != readers.LINE] or list(reader.columns)
    fields, table_key, exists = target_fields(db, spec)
    mapping = resolve_mapping(spec, columns, fields, exists, frame, getattr(reader, "column_types", None)) \
        if columns else list(spec.mapping)
    key = key_for(spec, table_key, mapping) if columns else []
    scored = score(frame, mapping, key=key) if frame.height else pl.DataFrame()
    rows, problems = [], []
    for rec in scored.iter_rows(named=True) if frame.height else []:
        row = {"__line": rec[readers.LINE], "__reason": rec[REASON]}
        for i, m in enumerate(mapping):
            value = _json_value(rec[f"__v{i}"])
            row[m.target] = pii.mask(value, m.id_kind or "") if m.pii and isinstance(value, str) else value
        rows.append(row)
        if rec[REASON]:
            problems.append({"line": rec[readers.LINE], "reason": rec[REASON]})
    options: dict[str, Any] = {"label": reader.label}
    if isinstance(reader, readers.CsvReader):
        options.update(encoding=reader.options.encoding, delimiter=reader.options.delimiter,
                       header_row=reader.options.header_row)
    elif isinstance(reader, readers.ExcelReader):
        options.update(sheet=reader.sheet, header_row=reader.header_row, sheets=readers.excel_sheets(reader.path))
    return PreviewOut(columns=columns, mapping=mapping, rows=rows, problems=problems, rows_checked=len(rows),
                      rows_bad=len(problems), target_exists=exists, options=options)


# --------------------------------------------------------------------------- runs
def start_run(db: Session, database: Database, *, spec: ImportSpec, profile_id: str | None = None,
              file: Path | None = None, run_by: str | None = None, trusted: bool = False) -> ImportRun:
    """The run's row, queued; ``flows.execute_run`` does the work."""
    safe_identifier(spec.target_topic, what="topic")
    safe_identifier(spec.target_table, what="table")
    warehouse.get_topic(db, name=spec.target_topic)
    run = ImportRun(profile_id=profile_id, source_kind=spec.source_kind, target=f"{spec.target_topic}.{spec.target_table}",
                    source_label=sources.source_label(database.settings, spec, file=file, trusted=trusted),
                    mode=spec.mode, status=RunStatus.queued.value, run_by=run_by,
                    content_hash=_file_hash(database, spec, file, trusted))
    db.add(run)
    db.flush()
    return run


def _file_hash(database: Database, spec: ImportSpec, file: Path | None, trusted: bool) -> str | None:
    """The delivered file's content hash (file sources only; a missing file fails later, with its own message)."""
    if spec.source_kind not in ("csv", "excel"):
        return None
    try:
        path = file or uploads.source_file(database.settings, spec.source, trusted=trusted)
        return uploads.content_hash(path)
    except (AppError, OSError):
        return None


def check_not_imported(db: Session, database: Database, *, profile_id: str, spec: ImportSpec,
                       file: Path | None) -> None:
    """Refuse, until confirmed, to run a profile on a file whose content it already imported.

    An append profile would add the same rows again; the message says so and offers upsert.
    """
    digest = _file_hash(database, spec, file, False)
    if digest is None:
        return
    before = db.scalar(select(ImportRun).where(ImportRun.profile_id == profile_id, ImportRun.content_hash == digest,
                                               ImportRun.status == RunStatus.succeeded.value)
                       .order_by(ImportRun.started_at.desc()).limit(1))
    if before is None:
        return
    when = (before.finished_at or before.started_at).strftime("%Y-%m-%d %H:%M")
    message = T("这个文件（内容相同）已于 {when} 用此配置导入过（装载 {n} 行）。确认要再次导入吗？",
                "This file (same content) was already imported with this profile on {when} ({n} rows loaded). "
                "Import it again?", when=when, n=before.rows_loaded)
    if spec.mode == "append":
        message = T("这个文件（内容相同）已于 {when} 用此配置导入过（装载 {n} 行）。本配置是“追加”方式，再次导入会把这些行"
                    "再追加一遍；若只想更新已有的行，请把导入方式改为“更新或插入”（upsert）并设置业务主键。确认要再次追加吗？",
                    "This file (same content) was already imported with this profile on {when} ({n} rows loaded). "
                    "The profile appends, so importing it again adds these rows a second time; to update the rows "
                    "instead, change the mode to upsert with a business key. Append them again?",
                    when=when, n=before.rows_loaded)
    raise Conflict(message, code="already_imported",
                   detail={"run_id": before.id, "mode": spec.mode, "rows_loaded": before.rows_loaded})


def requested(db: Session, database: Database, *, request: RunIn,
              principal: Principal) -> tuple[ImportSpec, str | None, Path | None]:
    """What a run request from the page names: the spec (given, or a profile's), the profile, a new file.

    Saving the spec as a profile on the way needs the manage permission as well.
    """
    profile_id = None
    if request.profile_id:
        profile = profiles.get_profile(db, profile_id=request.profile_id)
        spec, profile_id = profiles.spec_of(profile), profile.id
    elif request.spec is not None:
        spec = request.spec
    else:
        raise Invalid(T("请给出导入设置或导入配置", "Give an import spec or a profile"), code="no_spec")
    file = uploads.upload_path(database.settings, request.upload_id) if request.upload_id else None
    if profile_id and not request.confirm:
        check_not_imported(db, database, profile_id=profile_id, spec=spec, file=file)
    if request.save_as is not None:
        if not principal.has(Perm.collect_manage):
            raise Forbidden(T("保存导入配置需要管理权限", "Saving a profile needs the manage permission"),
                            code="forbidden")
        data = ProfileIn(**{**spec.model_dump(), "name": request.save_as.name, "title": request.save_as.title})
        profile_id = profiles.create_profile(db, data=data, principal=principal).id
    return spec, profile_id, file


def get_run(db: Session, *, run_id: str) -> ImportRun:
    run = get_or_raise(db, ImportRun, run_id, T("导入记录不存在", "There is no such import run"), code="run_not_found")
    _fail_if_abandoned(run, utcnow())
    return run


def list_runs(db: Session, *, profile_id: str | None = None, limit: int = 50, offset: int = 0) -> list[ImportRun]:
    fail_abandoned(db)
    stmt = select(ImportRun).order_by(ImportRun.started_at.desc()).limit(limit).offset(offset)
    if profile_id:
        stmt = stmt.where(ImportRun.profile_id == profile_id)
    return list(db.scalars(stmt))


def last_run(db: Session, *, profile_id: str) -> RunOut | None:
    """A profile's latest run, shown beside it."""
    runs = list_runs(db, profile_id=profile_id, limit=1)
    return RunOut.model_validate(runs[0], from_attributes=True) if runs else None


# --------------------------------------------------------------------------- quarantine
def quarantine_rows(db: Session, *, data_dir: Path, run_id: str, page: int = 1, size: int = 50) -> dict:
    """The run's quarantined rows, identifiers masked (quality keeps them)."""
    get_run(db, run_id=run_id)
    return quality_service.rows_for_run(db, data_dir=data_dir, run_id=run_id, page=page, size=size)


def quarantine_workbook(db: Session, *, data_dir: Path, run_id: str, principal: Principal | None = None) -> bytes:
    """The run's quarantine in clear as .xlsx (line, reason, the source columns), to fix and import again."""
    get_run(db, run_id=run_id)
    return quality_service.export_excel(db, data_dir=data_dir, run_id=run_id, principal=principal)


# --------------------------------------------------------------------------- liveness
# A run's process writes a heartbeat every HEARTBEAT_SECONDS; a run on this machine whose process is
# gone is failed at once, one elsewhere (a cluster node) once its heartbeat is older than STALE_AFTER.
HEARTBEAT_SECONDS = 15.0
STALE_AFTER = timedelta(minutes=10)
_ACTIVE = (RunStatus.queued.value, RunStatus.running.value)
_HOST = socket.gethostname()


def this_worker() -> str:
    return f"{_HOST}:{os.getpid()}"


def _process_alive(worker: str) -> bool | None:
    """Whether the process named by ``worker`` lives; None when it ran on another machine."""
    host, _, pid = worker.rpartition(":")
    if host != _HOST or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def beat(db: Session, *, run_id: str) -> None:
    run = db.get(ImportRun, run_id)
    if run is not None:
        run.heartbeat_at = utcnow()


def mark_interrupted(db: Session, *, run_id: str, message: T) -> None:
    run = db.get(ImportRun, run_id)
    if run is not None and run.status in _ACTIVE:
        _mark_failed(run, code="interrupted", message=message)


def _mark_failed(run: ImportRun, *, code: str, message: T) -> None:
    run.status, run.error_code = RunStatus.failed.value, code
    run.error = f"{message.render('zh-CN')} / {message.render('en')}"
    run.finished_at = utcnow()


def _fail_if_abandoned(run: ImportRun, now: datetime) -> bool:
    if run.status not in _ACTIVE:
        return False
    alive = _process_alive(run.worker) if run.worker else None
    last = as_utc(run.heartbeat_at or run.started_at)
    if alive is False or (alive is None and last is not None and now - last > STALE_AFTER):
        _mark_failed(run, code="worker_gone", message=T(
            "导入进程已停止（服务重启或进程退出），本次未写入任何数据，请重新导入",
            "The process doing this import stopped (a restart or exit); nothing of it was written. "
            "Run the import again"))
        return True
    return False


def fail_abandoned(db: Session) -> int:
    """Mark failed every queued or running run whose process is gone; how many. Called when the platform
    starts and whenever runs are listed or looked at."""
    now = utcnow()
    return sum(_fail_if_abandoned(run, now) for run in db.scalars(select(ImportRun).where(ImportRun.status.in_(_ACTIVE))))
