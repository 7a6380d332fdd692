"""Imports: uploads, preview, runs (read → convert → quarantine bad rows → bulk load), profiles.

A run reads its source in batches in one thread while the calling thread loads the previous batch
(COPY on PostgreSQL, the raw driver on SQLite) inside one transaction: an error anywhere rolls the
whole delivery back, and a table the run created is dropped again, so nothing is half-written.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from pbshare.collect import readers
from pbshare.collect.loaders import TableLoader
from pbshare.collect.mapping import REASON, FieldMap, auto_mapping, convert, score
from pbshare.collect.models import ImportProfile, ImportRun, RunStatus, SourceKind
from pbshare.collect.schemas import ImportSpec, PreviewOut, ProfileIn, UploadOut
from pbshare.core.clock import utcnow
from pbshare.core.db import Database
from pbshare.core.dynamic import safe_identifier
from pbshare.core.errors import AppError, Conflict, Forbidden, Invalid, NotFound, TooLarge
from pbshare.core.i18n import T
from pbshare.core.ids import new_id
from pbshare.quality import service as quality_service
from pbshare.security.audit import service as audit
from pbshare.security.crypto import pii
from pbshare.warehouse import service as warehouse
from pbshare.warehouse.enums import TableOrigin

log = logging.getLogger("pbshare.collect")
ProgressFn = Callable[[float | None, int], None]
_UPLOAD_ID = re.compile(r"^[0-9a-f-]{36}$")


# --------------------------------------------------------------------------- uploads
def upload_root(database: Database) -> Path:
    return database.settings.resolved_data_dir / "uploads"


def file_kind(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return SourceKind.csv.value
    if suffix in readers.EXCEL_SUFFIXES:
        return SourceKind.excel.value
    raise Invalid(T("不支持的文件类型“{s}”：请上传 CSV（.csv/.txt）或 Excel（.xlsx/.xls）文件",
                    "Unsupported file type '{s}': upload a CSV (.csv/.txt) or Excel (.xlsx/.xls) file",
                    s=suffix or name), code="bad_file_type")


def describe_file(path: Path) -> dict:
    """What the wizard shows after an upload: detected encoding and delimiter, header line, sheets."""
    kind = file_kind(path.name)
    if kind == "csv":
        opts = readers.sniff_csv(path)
        return {"kind": kind, "encoding": opts.encoding, "delimiter": opts.delimiter, "header_row": opts.header_row}
    return {"kind": kind, "sheets": readers.excel_sheets(path)}


def save_upload(database: Database, *, file_name: str, stream: BinaryIO) -> UploadOut:
    """Store an uploaded file under the data dir (size-limited) and describe it; a bad file is removed."""
    name = Path(file_name or "upload.csv").name.replace("\x00", "")[:200] or "upload.csv"
    file_kind(name)
    limit = database.settings.max_upload_mb * 1024 * 1024
    upload_id = new_id()
    folder = upload_root(database) / upload_id
    folder.mkdir(parents=True)
    path = folder / name
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(T("文件超过 {mb} MB 的上传上限", "The file is larger than the {mb} MB upload limit",
                                     mb=database.settings.max_upload_mb), code="upload_too_large")
                out.write(chunk)
        info = describe_file(path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return UploadOut(upload_id=upload_id, file_name=name, size=size, **info)


def upload_path(database: Database, upload_id: str) -> Path:
    if not _UPLOAD_ID.match(upload_id or ""):
        raise Invalid(T("上传编号无效", "The upload id is not valid"), code="bad_upload")
    folder = upload_root(database) / upload_id
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    if not files:
        raise NotFound(T("上传的文件不存在或已过期，请重新上传", "The uploaded file is gone; upload it again"),
                       code="upload_not_found")
    return files[0]


def source_file(database: Database, source: dict, *, trusted: bool = False) -> Path:
    """The file a csv/excel source names: an upload, or a path (under the data dir unless trusted, i.e. the CLI)."""
    if source.get("upload_id"):
        return upload_path(database, source["upload_id"])
    if source.get("path"):
        path = Path(source["path"]).expanduser().resolve()
        if not trusted and not path.is_relative_to(database.settings.resolved_data_dir):
            raise Forbidden(T("只能导入上传的文件或数据目录中的文件", "Only uploaded files or files in the data "
                              "directory can be imported"), code="path_not_allowed")
        if not path.is_file():
            raise NotFound(T("文件不存在：{p}", "No such file: {p}", p=path.name), code="file_not_found")
        return path
    raise Invalid(T("请先上传文件", "Upload a file first"), code="no_file")


# --------------------------------------------------------------------------- readers
def _source_engine(db: Session, database: Database, source: dict, *, trusted: bool = False):
    if source.get("source_id"):
        from pbshare.metadata import service as metadata_service

        return metadata_service.get_source_engine(db, source_id=source["source_id"],
                                                  data_dir=database.settings.resolved_data_dir)
    if source.get("url"):
        # A bare URL (credentials in clear) is for the command line; the browser and API use a data
        # source registered in metadata, whose password is sealed.
        if not trusted:
            raise Forbidden(T("请先在元数据中登记数据源，再选择它导入", "Register the database as a data source in "
                              "metadata first, then import from it"), code="url_not_allowed")
        return create_engine(source["url"], pool_pre_ping=True)
    raise Invalid(T("请选择数据源", "Choose a data source"), code="no_data_source")


def open_reader(db: Session, database: Database, kind: str, source: dict, *, file: Path | None = None,
                watermark: dict | None = None, trusted: bool = False):
    if kind in ("csv", "excel") or file is not None:
        path = file or source_file(database, source, trusted=trusted)
        actual = file_kind(path.name)
        same = actual == kind
        if actual == "csv":
            opts = readers.sniff_csv(path, encoding=source.get("encoding") if same else None,
                                     delimiter=source.get("delimiter") if same else None,
                                     header_row=source.get("header_row") if same else None)
            return readers.CsvReader(path, opts)
        return readers.ExcelReader(path, sheet=source.get("sheet") if same else None,
                                   header_row=source.get("header_row") if same else None)
    if kind == "database":
        engine = _source_engine(db, database, source, trusted=trusted)
        wm = readers.Watermark.from_json(watermark, source["cursor_column"]) if source.get("cursor_column") else None
        label = source.get("table") or "query"
        return readers.DatabaseReader(engine, table=source.get("table"), query=source.get("query"),
                                      cursor_column=source.get("cursor_column"), watermark=wm, label=label)
    if kind == "api":
        allowed = {"records_path", "page_param", "size_param", "page_size", "start_page", "headers", "max_pages"}
        return readers.ApiReader(source.get("url", ""), **{k: v for k, v in source.items() if k in allowed})
    raise Invalid(T("不支持的数据来源：{k}", "Unsupported source kind: {k}", k=kind), code="bad_source_kind")


def _close_reader(reader: Any) -> None:
    engine = getattr(reader, "engine", None)
    if engine is not None:
        engine.dispose()


# --------------------------------------------------------------------------- targets and mapping
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


def resolve_mapping(spec: ImportSpec, columns: list[str], fields: list[dict] | None, exists: bool) -> list[FieldMap]:
    mapping = list(spec.mapping) or auto_mapping(columns, targets=fields)
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


def _key_for(spec: ImportSpec, table_key: list[str], mapping: list[FieldMap]) -> list[str]:
    key = list(spec.key) or list(table_key)
    if spec.mode == "upsert" and not key:
        raise Invalid(T("“更新或插入”方式需要业务主键", "Upsert needs a business key"), code="no_key")
    targets = {m.target for m in mapping}
    missing = [k for k in key if k not in targets]
    if missing and spec.mode == "upsert":
        raise Invalid(T("业务主键字段没有映射：{k}", "Business key fields are not mapped: {k}", k=", ".join(missing)),
                      code="bad_key")
    return [k for k in key if k in targets]


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- preview
def preview(db: Session, database: Database, spec: ImportSpec, *, file: Path | None = None, trusted: bool = False,
            limit: int = 200) -> PreviewOut:
    """The first rows after mapping with every problem flagged; nothing is written."""
    safe_identifier(spec.target_topic, what="topic")
    safe_identifier(spec.target_table, what="table")
    reader = open_reader(db, database, spec.source_kind, spec.source, file=file, trusted=trusted)
    try:
        first = next(iter(reader.batches()), None)
    finally:
        _close_reader(reader)
    frame = first.frame.head(limit) if first else pl.DataFrame()
    columns = [c for c in frame.columns if c != readers.LINE] or list(getattr(reader, "columns", []))
    fields, table_key, exists = target_fields(db, spec)
    mapping = resolve_mapping(spec, columns, fields, exists) if columns else list(spec.mapping)
    key = _key_for(spec, table_key, mapping) if columns else []
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
def _label(spec: ImportSpec, file: Path | None, database: Database, trusted: bool) -> str:
    if file is not None:
        return file.name
    if spec.source_kind in ("csv", "excel"):
        try:
            return source_file(database, spec.source, trusted=trusted).name
        except AppError:
            return spec.source_kind
    if spec.source_kind == "database":
        return str(spec.source.get("table") or "SELECT …")[:300]
    return str(spec.source.get("url", "api")).split("?")[0][:300]


def start_run(db: Session, database: Database, *, spec: ImportSpec, profile_id: str | None = None,
              file: Path | None = None, run_by: str | None = None, trusted: bool = False) -> ImportRun:
    safe_identifier(spec.target_topic, what="topic")
    safe_identifier(spec.target_table, what="table")
    warehouse.get_topic(db, name=spec.target_topic)
    run = ImportRun(profile_id=profile_id, source_kind=spec.source_kind, target=f"{spec.target_topic}.{spec.target_table}",
                    source_label=_label(spec, file, database, trusted), mode=spec.mode,
                    status=RunStatus.queued.value, run_by=run_by)
    db.add(run)
    db.flush()
    return run


def _lineage(db: Session, spec: ImportSpec, run: ImportRun, reader: Any) -> None:
    try:
        from pbshare.metadata import service as metadata_service
    except ImportError:  # pragma: no cover - the metadata domain is part of the platform
        return
    record = getattr(metadata_service, "record_lineage", None)
    if record is None:  # pragma: no cover
        return
    if spec.source_kind == "database":
        origin = spec.source.get("source_id") or "url"
        source = f"source:{origin}.{spec.source.get('table') or 'query'}"
    elif spec.source_kind == "api":
        source = "api:" + run.source_label
    else:
        source = f"file:{run.source_label}"
    sources = [source] + ([f"resource:{spec.resource_code}"] if spec.resource_code else [])
    record(db, target=run.target, sources=sources, via_kind="import", via_id=run.profile_id or run.id,
           detail={"run_id": run.id, "rows_loaded": run.rows_loaded})


def _seal(frame: pl.DataFrame, mapping: list[FieldMap], vault: pii.PiiVault) -> pl.DataFrame:
    """Seal personal identifiers and add their blind index. One cipher call per value: the cost is in the bench."""
    extra = []
    for m in mapping:
        if not m.pii:
            continue
        values = frame[m.target].cast(pl.String).to_list()
        kind = m.id_kind or ""
        extra.append(pl.Series(m.target, [None if v is None else vault.seal(v) for v in values], dtype=pl.String))
        extra.append(pl.Series(m.target + warehouse.BLIND_SUFFIX,
                               [None if v is None else vault.blind_index(v, kind=kind) for v in values],
                               dtype=pl.String))
    return frame.with_columns(extra) if extra else frame


def _pipeline(batches: Iterator[readers.Batch], work: Callable[[readers.Batch], Any], stop: threading.Event,
              depth: int = 2) -> Iterator[Any]:
    """Run ``work`` on each batch in a second thread, yielding results in order (bounded queue)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for batch in batches:
                item = work(batch)
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed to the consumer, which raises it
            q.put(exc)

    thread = threading.Thread(target=produce, name="pbshare-import-read", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                q.get(timeout=0.1)
        thread.join()


def execute_run(database: Database, *, run_id: str, spec: ImportSpec, file: Path | None = None,
                trusted: bool = False, progress: ProgressFn | None = None) -> ImportRun:
    """Do the import of a started run; never raises for bad input, the run records the error."""
    started = time.perf_counter()
    data_dir = database.settings.resolved_data_dir
    created = False
    loader: TableLoader | None = None
    reader: Any = None
    quarantined = 0
    rows_read = 0
    bad_frames: list[pl.DataFrame] = []
    with database.session() as db:
        run = db.get(ImportRun, run_id)
        run.status = RunStatus.running.value
        profile = db.get(ImportProfile, run.profile_id) if run.profile_id else None
        watermark = profile.watermark if profile else None
    try:
        with database.session() as db:
            reader = open_reader(db, database, spec.source_kind, spec.source, file=file, watermark=watermark,
                                 trusted=trusted)
            batches = iter(reader.batches())
            first = next(batches, None)
            columns = [c for c in first.frame.columns if c != readers.LINE] if first else list(reader.columns)
            fields, table_key, exists = target_fields(db, spec)
            mapping = resolve_mapping(spec, columns, fields, exists)
            key = _key_for(spec, table_key, mapping)
            if not exists:
                new_fields = [{"name": m.target, "type": m.type, "length": m.length, "title": m.title or m.source,
                               "pii": m.pii, "id_kind": m.id_kind} for m in mapping]
                warehouse.create_table(db, database, topic=spec.target_topic, name=spec.target_table,
                                       title=spec.target_title or spec.target_table, fields=new_fields, key=key,
                                       origin=TableOrigin.import_.value, origin_id=run.profile_id or run.id,
                                       resource_code=spec.resource_code)
                created = True
            table_row = warehouse.get_table(db, topic=spec.target_topic, name=spec.target_table)
            columns_meta = table_row.columns
        mapped = {m.target for m in mapping}
        load_columns = [c["name"] for c in columns_meta
                        if c["name"] in mapped or (c.get("blind_index_of") in mapped)]
        stored_key = warehouse.storage_key(columns_meta, key)
        loader = TableLoader(database.warehouse_engine, topic=spec.target_topic, table=spec.target_table,
                             columns=load_columns, mode=spec.mode, key=stored_key)
        vault = pii.vault_for(data_dir)

        def work(batch: readers.Batch):
            converted = convert(batch.frame, mapping, key=key)
            good = _seal(converted.good, mapping, vault)
            return batch.progress, batch.frame.height, converted.bad, loader.prepare(good)

        loader.begin()
        stop = threading.Event()
        for fraction, n, bad, payload in _pipeline(chain([first] if first else [], batches), work, stop):
            loader.write(payload)
            rows_read += n
            if bad.height:
                bad_frames.append(bad)
                quarantined += bad.height
            if progress:
                progress(fraction, rows_read)
        loader.commit()
    except Exception as exc:
        if loader is not None:
            loader.rollback()
            loader.close()
            loader = None
        if created:
            with database.session() as db:
                warehouse.drop_table(db, database, topic=spec.target_topic, name=spec.target_table)
        if isinstance(exc, AppError):
            code, message = exc.code, exc.message
        else:
            log.exception("import run failed")
            code, message = "import_failed", T("导入失败：{e}", "The import failed: {e}", e=type(exc).__name__)
        with database.session() as db:
            run = db.get(ImportRun, run_id)
            run.status, run.error_code = RunStatus.failed.value, code
            run.error = f"{message.render('zh-CN')}\n{message.render('en')}"[:4000]
            run.rows_read, run.seconds, run.finished_at = rows_read, time.perf_counter() - started, utcnow()
            audit.record(db, action="collect.import", actor_name=run.run_by, object_type="import_run", object_id=run_id,
                         result="error", detail={"target": run.target, "code": code})
            return run
    finally:
        if loader is not None:
            loader.close()
        if reader is not None:
            _close_reader(reader)
    with database.session() as db:
        run = db.get(ImportRun, run_id)
        for frame in bad_frames:
            quality_service.quarantine(db, data_dir=data_dir, run_id=run_id, profile_id=run.profile_id,
                                       target=run.target, frame=frame)
        run.status, run.progress = RunStatus.succeeded.value, 1.0
        run.rows_read, run.rows_quarantined = rows_read, quarantined
        run.rows_loaded = rows_read - quarantined
        run.seconds, run.finished_at = time.perf_counter() - started, utcnow()
        warehouse.refresh_count(db, database, topic=spec.target_topic, name=spec.target_table)
        state = getattr(reader, "state", None)
        if run.profile_id and state is not None and state.watermark is not None:
            profile = db.get(ImportProfile, run.profile_id)
            if profile is not None:
                profile.watermark = state.watermark.to_json()
        _lineage(db, spec, run, reader)
        audit.record(db, action="collect.import", actor_name=run.run_by, object_type="import_run", object_id=run_id,
                     detail={"target": run.target, "read": rows_read, "loaded": run.rows_loaded,
                             "quarantined": quarantined})
        return run


def progress_recorder(database: Database, run_id: str, every: float = 0.5) -> ProgressFn:
    """A progress callback that writes the run's progress at most every ``every`` seconds (for polling)."""
    last = [0.0]

    def record(fraction: float | None, rows: int) -> None:
        now = time.monotonic()
        if now - last[0] < every:
            return
        last[0] = now
        with database.session() as db:
            run = db.get(ImportRun, run_id)
            if run is not None:
                run.rows_read = rows
                if fraction is not None:
                    run.progress = round(min(fraction, 0.99), 3)

    return record


def get_run(db: Session, *, run_id: str) -> ImportRun:
    run = db.get(ImportRun, run_id)
    if run is None:
        raise NotFound(T("导入记录不存在", "There is no such import run"), code="run_not_found")
    return run


def list_runs(db: Session, *, profile_id: str | None = None, limit: int = 50, offset: int = 0) -> list[ImportRun]:
    stmt = select(ImportRun).order_by(ImportRun.started_at.desc()).limit(limit).offset(offset)
    if profile_id:
        stmt = stmt.where(ImportRun.profile_id == profile_id)
    return list(db.scalars(stmt))


# --------------------------------------------------------------------------- profiles
def _check_profile(db: Session, data: ProfileIn) -> None:
    safe_identifier(data.target_topic, what="topic")
    safe_identifier(data.target_table, what="table")
    warehouse.get_topic(db, name=data.target_topic)
    if data.mode == "upsert" and not data.key and data.resource_code is None and \
            warehouse.find_table(db, topic=data.target_topic, name=data.target_table) is None:
        raise Invalid(T("“更新或插入”方式需要业务主键", "Upsert needs a business key"), code="no_key")


def create_profile(db: Session, *, data: ProfileIn, principal: Any = None) -> ImportProfile:
    _check_profile(db, data)
    if find_profile(db, name=data.name) is not None:
        raise Conflict(T("导入配置 {n} 已存在", "Import profile {n} already exists", n=data.name), code="profile_exists")
    fields = data.model_dump(mode="json")
    profile = ImportProfile(name=fields.pop("name"), title=fields.pop("title"), source_kind=fields.pop("source_kind"),
                            source=fields.pop("source"), mapping=fields.pop("mapping"),
                            target_topic=fields.pop("target_topic"), target_table=fields.pop("target_table"),
                            mode=fields.pop("mode"), key=fields.pop("key"), resource_code=fields.pop("resource_code"),
                            created_by=getattr(principal, "username", None))
    db.add(profile)
    db.flush()
    audit.record(db, action="collect.profile.create", principal=principal, object_type="import_profile",
                 object_id=profile.id, detail={"name": profile.name})
    return profile


def update_profile(db: Session, *, profile_id: str, data: ProfileIn, principal: Any = None) -> ImportProfile:
    profile = get_profile(db, profile_id=profile_id)
    _check_profile(db, data)
    other = find_profile(db, name=data.name)
    if other is not None and other.id != profile.id:
        raise Conflict(T("导入配置 {n} 已存在", "Import profile {n} already exists", n=data.name), code="profile_exists")
    fields = data.model_dump(mode="json")
    fields.pop("target_title", None)
    for name, value in fields.items():
        setattr(profile, name, value)
    if profile.source.get("cursor_column") != (profile.watermark or {}).get("column"):
        profile.watermark = None
    audit.record(db, action="collect.profile.update", principal=principal, object_type="import_profile",
                 object_id=profile.id)
    return profile


def delete_profile(db: Session, *, profile_id: str, principal: Any = None) -> None:
    profile = get_profile(db, profile_id=profile_id)
    db.delete(profile)
    audit.record(db, action="collect.profile.delete", principal=principal, object_type="import_profile",
                 object_id=profile_id, detail={"name": profile.name})


def find_profile(db: Session, *, name: str) -> ImportProfile | None:
    return db.scalar(select(ImportProfile).where(ImportProfile.name == name))


def get_profile(db: Session, *, profile_id: str) -> ImportProfile:
    profile = db.get(ImportProfile, profile_id) or find_profile(db, name=profile_id)
    if profile is None:
        raise NotFound(T("导入配置 {n} 不存在", "There is no import profile {n}", n=profile_id[:64]),
                       code="profile_not_found")
    return profile


def list_profiles(db: Session) -> list[ImportProfile]:
    return list(db.scalars(select(ImportProfile).order_by(ImportProfile.name)))


def spec_of(profile: ImportProfile) -> ImportSpec:
    return ImportSpec(source_kind=profile.source_kind, source=profile.source, mapping=profile.mapping,
                      target_topic=profile.target_topic, target_table=profile.target_table, target_title=profile.title,
                      mode=profile.mode, key=profile.key, resource_code=profile.resource_code)


def run_now(database: Database, *, spec: ImportSpec, profile_id: str | None = None, file: Path | None = None,
            run_by: str | None = None, trusted: bool = False, progress: ProgressFn | None = None) -> ImportRun:
    """Start and execute a run in this thread (CLI, jobs, tests)."""
    with database.session() as db:
        run = start_run(db, database, spec=spec, profile_id=profile_id, file=file, run_by=run_by, trusted=trusted)
        run_id = run.id
    return execute_run(database, run_id=run_id, spec=spec, file=file, trusted=trusted, progress=progress)
