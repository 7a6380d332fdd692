"""Import runs: the run row, the preview, the target a spec maps onto, run history and quarantine.

The run itself (read → map/check → seal → load → finish) is ``flows.execute_run``; browser runs go to
a background thread through ``tasks``.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.collect import readers
from pbshare.collect.enums import RunStatus
from pbshare.collect.loaders import TableLoader
from pbshare.collect.mapping import REASON, FieldMap, auto_mapping, convert, score
from pbshare.collect.profiles import service as profiles
from pbshare.collect.profiles.schemas import ProfileIn
from pbshare.collect.runs import sources
from pbshare.collect.runs.models import ImportRun
from pbshare.collect.runs.schemas import (
    PreviewOut,
    QuarantineChecked,
    QuarantineEdit,
    QuarantineLoaded,
    RowCheck,
    RunIn,
)
from pbshare.collect.schemas import ImportSpec, RunOut
from pbshare.collect.uploads import service as uploads
from pbshare.core.clock import as_utc, utcnow
from pbshare.core.db import Database
from pbshare.core.dynamic import safe_identifier
from pbshare.core.errors import AppError, Conflict, Forbidden, Invalid
from pbshare.core.i18n import T
from pbshare.core.lookup import get_or_raise
from pbshare.quality import service as quality_service
from pbshare.quality.duplicates import DuplicateGuard
from pbshare.security.audit import service as audit
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
    """The run's row, queued; ``flows.execute_run`` does the work (and records the file's content hash, read
    beside the load rather than before it)."""
    safe_identifier(spec.target_topic, what="topic")
    safe_identifier(spec.target_table, what="table")
    warehouse.get_topic(db, name=spec.target_topic)
    run = ImportRun(profile_id=profile_id, source_kind=spec.source_kind, target=f"{spec.target_topic}.{spec.target_table}",
                    source_label=sources.source_label(database.settings, spec, file=file, trusted=trusted),
                    mode=spec.mode, status=RunStatus.queued.value, run_by=run_by)
    db.add(run)
    db.flush()
    return run


def file_hash(database: Database, spec: ImportSpec, file: Path | None, trusted: bool) -> str | None:
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
    digest = file_hash(database, spec, file, False)
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
def quarantine_rows(db: Session, *, data_dir: Path, run_id: str, page: int = 1, size: int = 50,
                    principal: Principal | None = None, unmask: bool = False, purpose: str | None = None) -> dict:
    """The run's open quarantine, identifiers masked unless the principal may unmask and states a purpose
    (audited either way). ``columns`` lists the profile's source columns first, so a row kept as raw text
    (wrong number of fields) can be filled in cell by cell."""
    purpose = quality_service.check_unmask(principal, unmask=unmask, purpose=purpose)
    run = get_run(db, run_id=run_id)
    fix = _fix_plan(db, run, required=False)
    out = quality_service.rows_for_run(db, data_dir=data_dir, run_id=run_id, page=page, size=size,
                                       masked=purpose is None, kinds=fix.kinds if fix else _table_kinds(db, run),
                                       principal=principal, purpose=purpose)
    sources = [m.source for m in fix.mapping if m.source] if fix else []
    out["columns"] = list(dict.fromkeys([*sources, *out["columns"]]))
    return out


def quarantine_workbook(db: Session, *, data_dir: Path, run_id: str, principal: Principal | None = None,
                        unmask: bool = False, purpose: str | None = None) -> bytes:
    """The run's open quarantine as .xlsx (line, reason, the source columns), to fix and import again;
    identifiers masked unless unmasked with a purpose. Audited."""
    purpose = quality_service.check_unmask(principal, unmask=unmask, purpose=purpose)
    run = get_run(db, run_id=run_id)
    fix = _fix_plan(db, run, required=False)
    return quality_service.export_excel(db, data_dir=data_dir, run_id=run_id, principal=principal,
                                        masked=purpose is None, kinds=fix.kinds if fix else _table_kinds(db, run),
                                        purpose=purpose)


@dataclass
class FixPlan:
    """How a run's quarantined rows are checked again: the spec (the profile's, else one naming the run's
    target), the mapping and business key, and which source columns hold identifiers (masked when shown)."""

    spec: ImportSpec
    mapping: list[FieldMap]
    key: list[str]
    kinds: dict[str, str]


def _target_spec(db: Session, run: ImportRun) -> ImportSpec:
    if run.profile_id:
        profile = _profile_or_none(db, run.profile_id)
        if profile is not None:
            return profiles.spec_of(profile)
    topic, _, table = run.target.partition(".")
    return ImportSpec(source_kind=run.source_kind, source={}, target_topic=topic, target_table=table, mode=run.mode)


def _profile_or_none(db: Session, profile_id: str) -> Any:
    try:
        return profiles.get_profile(db, profile_id=profile_id)
    except AppError:
        return None  # the profile was deleted since: match the target table's fields by name


def _fix_plan(db: Session, run: ImportRun, *, columns: list[str] | None = None, required: bool = True) -> FixPlan | None:
    """The run's profile mapping (or one matched by name against the target table) for ``columns``."""
    spec = _target_spec(db, run)
    try:
        fields, table_key, exists = target_fields(db, spec)
        if not exists:
            raise Invalid(T("目标表 {t} 已不存在，无法装载修正后的行；请重新导入修正后的文件",
                            "The target table {t} no longer exists, so fixed rows cannot be loaded; import the "
                            "fixed file again instead", t=run.target), code="target_gone")
        names = columns if columns is not None else \
            ([m.source for m in spec.mapping if m.source] or [c for f in fields or [] for c in (f.get("title") or f["name"],)])
        mapping = resolve_mapping(spec, names, fields, exists)
        key = key_for(spec, table_key, mapping)
    except AppError:
        if required:
            raise
        return None
    kinds = {m.source: m.id_kind or "" for m in mapping if m.pii and m.source}
    return FixPlan(spec=spec, mapping=mapping, key=key, kinds=kinds)


def _table_kinds(db: Session, run: ImportRun) -> dict[str, str]:
    """Personal columns of the target table by name and title, when no mapping can be resolved."""
    topic, _, table = run.target.partition(".")
    row = warehouse.find_table(db, topic=topic, name=table)
    kinds: dict[str, str] = {}
    for c in row.columns if row is not None else []:
        if c.get("pii") and not c.get("blind_index_of"):
            for label in (c["name"], c.get("title")):
                if label:
                    kinds[label] = c.get("id_kind") or ""
    return kinds


@dataclass
class _Checked:
    """Edited quarantine rows after conversion: what passes (to load), what does not (with the new reason)."""

    plan: FixPlan
    rows: list[quality_service.OpenRow]  # edits merged
    edited: set[int]
    results: list[RowCheck]
    load: pl.DataFrame  # converted target columns (``__line`` kept)
    ok_ids: list[int]
    duplicates: int


def _masked_refusal(line: int, column: str) -> Invalid:
    return Invalid(T("第 {line} 行“{c}”填入的是遮蔽后的值（含 *），不能写回；请输入完整的新值，"
                     "或先说明用途“显示完整值”后再修改",
                     "Line {line}, {c}: this is the masked value (with *), which cannot be saved; type the full new "
                     "value, or show the values in full (with a purpose) first", line=line, c=column),
                   code="masked_value", detail={"line": line, "column": column})


def _merge(row: quality_service.OpenRow, values: dict[str, str | None], allowed: set[str],
           kinds: dict[str, str]) -> dict[str, Any]:
    """The row's stored values with the person's edits; refused: unknown columns, masked values, huge cells."""
    merged = dict(row.source)
    for column, value in values.items():
        if column not in allowed and column not in row.source:
            raise Invalid(T("第 {line} 行：没有“{c}”这一列，请刷新页面后再改", "Line {line}: there is no column {c}; "
                            "reload the page and edit again", line=row.line, c=column[:60]),
                          code="unknown_column", detail={"line": row.line})
        if value is not None and len(value) > quality_service.MAX_VALUE:
            raise Invalid(T("第 {line} 行“{c}”太长（超过 {n} 个字符）", "Line {line}, {c}: longer than {n} characters",
                            line=row.line, c=column, n=quality_service.MAX_VALUE), code="value_too_long")
        old = row.source.get(column)
        shown = quality_service.mask_value(old, kinds.get(column))
        if value is not None and value != old and ((shown != old and value == shown)
                                                   or (column in kinds and "*" in value)):
            raise _masked_refusal(row.line, column)
        merged[column] = value
    return merged


def _check(db: Session, *, data_dir: Path, run: ImportRun, edits: list[QuarantineEdit]) -> _Checked:
    """Convert and check edited rows with the import's own code (``mapping.convert``) and duplicate guard."""
    if run.status != RunStatus.succeeded.value:
        raise Conflict(T("只有成功结束的导入才能修正隔离数据", "Only a finished, successful import's quarantine can "
                         "be fixed"), code="run_not_finished")
    opened = quality_service.open_rows(db, data_dir=data_dir, run_id=run.id, ids=[e.id for e in edits])
    values = {e.id: e.values for e in edits}
    seen = list(dict.fromkeys(c for r in opened for c in r.source))
    probe = _fix_plan(db, run)
    assert probe is not None
    columns = list(dict.fromkeys([*(m.source for m in probe.mapping if m.source), *seen]))
    plan = _fix_plan(db, run, columns=columns)
    assert plan is not None
    allowed = {m.source for m in plan.mapping if m.source}
    rows = [quality_service.OpenRow(id=r.id, line=r.line, reason=r.reason,
                                    source=_merge(r, values.get(r.id) or {}, allowed, plan.kinds)) for r in opened]
    edited = {r.id for r, o in zip(rows, opened, strict=True) if r.source != o.source}
    lines = [r.line for r in rows]
    if len(set(lines)) != len(lines):  # never in one run; numbered apart so each result finds its row
        lines = list(range(1, len(rows) + 1))
    by_line = dict(zip(lines, rows, strict=True))
    sources = [c for c in columns if c in allowed]
    frame = pl.DataFrame({c: [_text(r.source.get(c)) for r in rows] for c in sources} | {readers.LINE: lines},
                         schema={**{c: pl.String for c in sources}, readers.LINE: pl.Int64})
    converted = convert(frame, plan.mapping, key=plan.key)
    good, duplicates = converted.good, 0
    bad_reason = dict(zip(converted.bad[readers.LINE].to_list(), converted.bad[readers.REASON].to_list(), strict=True))
    if plan.key and good.height:
        labels = {m.target: m.title or m.source or m.target for m in plan.mapping}
        sifted = DuplicateGuard(plan.key, [m.target for m in plan.mapping], labels).sift(good)
        duplicates = sifted.exact
        bad_reason.update(zip(sifted.conflicts[readers.LINE].to_list(), sifted.conflicts[readers.REASON].to_list(),
                              strict=True))
        good = sifted.load
    results = [RowCheck(id=by_line[n].id, line=by_line[n].line, ok=n not in bad_reason, reason=bad_reason.get(n))
               for n in lines]
    for n, r in zip(lines, rows, strict=True):
        r.reason = bad_reason.get(n, r.reason)
    return _Checked(plan=plan, rows=rows, edited=edited, results=results, load=good,
                    ok_ids=[x.id for x in results if x.ok], duplicates=duplicates)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def check_quarantine(db: Session, *, data_dir: Path, run_id: str, rows: list[QuarantineEdit]) -> QuarantineChecked:
    """Re-check edited rows: each is OK, or still bad with its new reason. Nothing is written."""
    checked = _check(db, data_dir=data_dir, run=get_run(db, run_id=run_id), edits=rows)
    ok = len(checked.ok_ids)
    return QuarantineChecked(items=checked.results, ok=ok, bad=len(checked.results) - ok)


def load_quarantine(db: Session, database: Database, *, run_id: str, rows: list[QuarantineEdit],
                    principal: Principal | None = None) -> QuarantineLoaded:
    """Load the rows that now pass into the run's target (upsert by the business key when there is one, else
    append; a replace run's table is not emptied again), mark them resolved with who and when, keep edited
    rows that are still bad with their edits and new reason, update the run's counts, audit.

    The rows are marked first and the target is written through its own connection before this session
    commits: a failed load leaves the quarantine as it was, and two people cannot load one row twice.
    """
    from pbshare.collect.runs import flows  # flows imports this module

    data_dir = database.settings.resolved_data_dir
    run = get_run(db, run_id=run_id)
    checked = _check(db, data_dir=data_dir, run=run, edits=rows)
    # SQLite: end the reading snapshot, so the first write below waits for the lock instead of failing.
    db.commit()
    kept = [r for r in checked.rows if r.id in checked.edited and r.id not in checked.ok_ids]
    quality_service.resolve(db, run_id=run_id, ids=checked.ok_ids, how=quality_service.LOADED, principal=principal)
    quality_service.keep_edits(db, data_dir=data_dir, run_id=run_id, rows=kept)
    spec, plan = checked.plan.spec, checked.plan
    loaded = 0
    if checked.load.height:
        stored = flows._plan(db, spec, mapping=plan.mapping, key=plan.key)
        vault = pii.vault_for(data_dir)
        frame = flows._seal(checked.load.drop(readers.LINE), plan.mapping, vault)
        loader = TableLoader(database.warehouse_engine, topic=spec.target_topic, table=spec.target_table,
                             columns=stored.load_columns, mode="upsert" if stored.stored_key else "append",
                             key=stored.stored_key)
        try:
            loader.begin()
            loaded = loader.write(loader.prepare(frame))
            loader.commit()
        except Exception:
            loader.rollback()
            raise
        finally:
            loader.close()
        warehouse.refresh_count(db, database, topic=spec.target_topic, name=spec.target_table)
    run = get_run(db, run_id=run_id)
    remaining = quality_service.count_for_run(db, run_id=run_id)
    run.rows_loaded += loaded
    run.rows_duplicate += checked.duplicates
    run.rows_quarantined = remaining
    counts = dict(run.counts or {})
    counts["fixed"] = int(counts.get("fixed") or 0) + len(checked.ok_ids)
    run.counts = counts
    audit.record(db, action="collect.quarantine.load", principal=principal, object_type="import_run",
                 object_id=run_id, detail={"target": run.target, "loaded": loaded, "fixed": len(checked.ok_ids),
                                           "still_bad": len(checked.results) - len(checked.ok_ids),
                                           "kept_edits": len(kept), "remaining": remaining})
    ok = len(checked.ok_ids)
    return QuarantineLoaded(items=checked.results, ok=ok, bad=len(checked.results) - ok, loaded=loaded,
                            duplicates=checked.duplicates, kept=len(kept), remaining=remaining)


def discard_quarantine(db: Session, *, run_id: str, ids: list[int], principal: Principal | None = None) -> int:
    """Leave rows out for good (e.g. the wrong one of a conflicting duplicate): resolved as discarded, audited."""
    get_run(db, run_id=run_id)
    db.commit()  # SQLite: the write below then waits for the lock instead of failing
    n = quality_service.resolve(db, run_id=run_id, ids=ids, how=quality_service.DISCARDED, principal=principal)
    run = get_run(db, run_id=run_id)
    run.rows_quarantined = quality_service.count_for_run(db, run_id=run_id)
    counts = dict(run.counts or {})
    counts["discarded"] = int(counts.get("discarded") or 0) + n
    run.counts = counts
    audit.record(db, action="collect.quarantine.discard", principal=principal, object_type="import_run",
                 object_id=run_id, detail={"rows": n, "remaining": run.rows_quarantined})
    return n


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
