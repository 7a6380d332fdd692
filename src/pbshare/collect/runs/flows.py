"""An import run, phase by phase: begin → read → map and check → (create the target) → load, where each
batch is checked, sealed and bulk loaded → finish (quarantine, counts, watermark, lineage, audit); or
fail (drop a table the run created, record the error).

``execute_run`` is the one place that opens sessions; each phase gets the session it works in. The
source is read in batches in a second thread while this one loads the previous batch (COPY on
PostgreSQL, the raw driver on SQLite) inside one transaction: an error anywhere rolls the whole
delivery back, and a table the run creates is created by that transaction, so nothing is half-written.

On SQLite other programs write beside the run (the server's listeners, another import): the run's own
bookkeeping (begin, progress and heartbeat, finish, failure) goes in short immediate units of work
(``Database.write``) that wait their turn, retrying while the database stays locked; the load holds no
lock until its last short transaction (``collect.loaders``). Progress is written from the reporter's
thread, so the load never waits for it.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from pbshare.collect import readers
from pbshare.collect.deliveries.reader import PROVENANCE
from pbshare.collect.enums import RunStatus
from pbshare.collect.loaders import TableLoader
from pbshare.collect.mapping import YEARMONTH, FieldMap, convert
from pbshare.collect.profiles import service as profiles
from pbshare.collect.runs import service, sources
from pbshare.collect.runs.models import ImportRun
from pbshare.collect.runs.sources import Reader
from pbshare.collect.schemas import ImportSpec
from pbshare.compare import service as compare_service
from pbshare.core.clock import utcnow
from pbshare.core.db import LOCK_WAIT_SECONDS, Database, DatabaseLocked, is_locked, locked_error, retry_locked
from pbshare.core.errors import AppError
from pbshare.core.i18n import T
from pbshare.core.logs import scrub
from pbshare.metadata import service as metadata_service
from pbshare.quality import service as quality_service
from pbshare.quality.duplicates import CONFLICT, DuplicateGuard
from pbshare.quality.reports import service as quality_reports
from pbshare.security.audit import service as audit
from pbshare.security.crypto import pii
from pbshare.warehouse import service as warehouse
from pbshare.warehouse.enums import TableOrigin

log = logging.getLogger("pbshare.collect")
ProgressFn = Callable[[float | None, int], None]


@dataclass
class Head:
    """The source opened: its first batch (None for an empty source), the batches after it, the columns."""

    first: readers.Batch | None
    rest: Iterator[readers.Batch]
    columns: list[str]
    types: dict[str, dict[str, Any]] = field(default_factory=dict)  # a database source's declared types


@dataclass
class Plan:
    """How batches become rows of the target: the mapping, the business key, the stored columns and key; a
    table the run creates (``new``), made by the load's own transaction and registered when the run finishes."""

    mapping: list[FieldMap]
    key: list[str]
    load_columns: list[str]
    stored_key: list[str]
    new: warehouse.NewTable | None = None


@dataclass
class Tally:
    """What the load saw so far (the failure record keeps ``rows_read`` too)."""

    rows_read: int = 0
    loaded: int = 0
    inserted: int = 0  # what the target received and lost when the load committed (its row count moves by these)
    deleted: int | None = 0
    created: bool = False  # the run's load created the target table
    quarantined: int = 0
    duplicates: int = 0
    bad_frames: list[pl.DataFrame] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # blank, footer, title
    reasons: dict[str, int] = field(default_factory=dict)  # quarantined rows by the check they failed
    delivered: list[pl.DataFrame] = field(default_factory=list)  # loaded rows, for the comparison (keyed runs)
    quality: quality_reports.ImportGate | None = None  # the run's quality rules; it records the quality report

    def add(self, counts: dict[str, int], into: dict[str, int]) -> None:
        for k, n in counts.items():
            into[k] = into.get(k, 0) + n


@dataclass
class Sorted:
    """Where one batch's rows went: read, loaded, left out as exact duplicates, quarantined, skipped."""

    read: int
    skipped: dict[str, int]
    reasons: dict[str, int]
    loaded: int = 0
    duplicates: int = 0
    bad: list[pl.DataFrame] = field(default_factory=list)


RAGGED = "字段个数与表头不符 / number of fields differs from the header"


# --------------------------------------------------------------------------- the flow
def execute_run(database: Database, *, run_id: str, spec: ImportSpec, file: Path | None = None,
                trusted: bool = False, progress: ProgressFn | None = None) -> ImportRun:
    """Do the import of a started run; never raises for bad input, the run records the error."""
    started = time.perf_counter()
    reader: Reader | None = None
    tally = Tally()
    plan: Plan | None = None
    origin_id, watermark = database.write(lambda db: _begin(db, run_id=run_id))
    hashing = _Background(lambda: service.file_hash(database, spec, file, trusted))
    try:
        with _Reporter(database, run_id) as reporter:
            # Reads only: nothing here holds a write lock while the source is opened and read.
            with database.session() as db:
                reader = sources.open_reader(db, database, spec.source_kind, spec.source, file=file,
                                             watermark=watermark, trusted=trusted)
                head = _read_head(reader)
                mapping, key, exists = _map_and_check(db, spec, head.columns,
                                                      head.first.frame.head(200) if head.first else None, head.types)
                new = None if exists else _new_target(db, database, spec, mapping=mapping, key=key)
                plan = _plan(db, spec, mapping=mapping, key=key, new=new)
                tally.quality = quality_reports.import_gate(
                    db, database, profile_id=service.get_run(db, run_id=run_id).profile_id,
                    resource_code=spec.resource_code, topic=spec.target_topic, table=spec.target_table,
                    key=plan.key, mapping=plan.mapping)

            def both(fraction: float | None, rows: int) -> None:
                reporter.progress(fraction, rows)
                if progress:
                    progress(fraction, rows)

            _load(database, spec, plan, chain([head.first] if head.first else [], head.rest), tally, both)
        content_hash = hashing.result()
        finished = database.write(lambda db: _finish(db, database, run_id=run_id, spec=spec, reader=reader,
                                                     tally=tally, started=started, origin_id=origin_id, new=plan.new,
                                                     content_hash=content_hash))
    except Exception as exc:
        if tally.created:  # loaded, but the run could not be recorded: the table it made goes again
            retry_locked(lambda: warehouse.drop_created(database, topic=spec.target_topic, name=spec.target_table))
        return _failed(database, run_id=run_id, exc=exc, rows_read=tally.rows_read, started=started)
    finally:
        if reader is not None:
            sources.close_reader(reader)
    return finished


def run_now(database: Database, *, spec: ImportSpec, profile_id: str | None = None, file: Path | None = None,
            run_by: str | None = None, trusted: bool = False, progress: ProgressFn | None = None) -> ImportRun:
    """Start and execute a run in this thread (CLI, jobs, tests)."""
    run_id = database.write(lambda db: service.start_run(db, database, spec=spec, profile_id=profile_id, file=file,
                                                         run_by=run_by, trusted=trusted).id)
    return execute_run(database, run_id=run_id, spec=spec, file=file, trusted=trusted, progress=progress)


# --------------------------------------------------------------------------- phases
def _begin(db: Session, *, run_id: str) -> tuple[str, dict[str, Any] | None]:
    """Mark the run running; return what owns its table (the profile, else the run) and the watermark."""
    run = service.get_run(db, run_id=run_id)
    run.status = RunStatus.running.value
    run.worker, run.heartbeat_at = service.this_worker(), utcnow()
    return run.profile_id or run.id, profiles.watermark_of(db, profile_id=run.profile_id)


class _Reporter:
    """The run's sign of life and progress, written from a thread of its own: every ``tick`` seconds when the
    progress moved, else every ``every`` seconds (a run whose process died is told apart from a long one).
    Each write is a short immediate unit of work on the platform database; a busy database skips one."""

    def __init__(self, database: Database, run_id: str, *, every: float = service.HEARTBEAT_SECONDS,
                 tick: float = 0.5) -> None:
        self.database, self.run_id, self.every, self.tick = database, run_id, every, tick
        self.latest: tuple[float | None, int] | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"pbshare-run-{run_id[:8]}", daemon=True)

    def progress(self, fraction: float | None, rows: int) -> None:
        self.latest = (fraction, rows)  # the loading thread only sets this

    def _write(self, db: Session, latest: tuple[float | None, int] | None) -> None:
        run = db.get(ImportRun, self.run_id)
        if run is None:
            return
        run.heartbeat_at = utcnow()
        if latest is not None:
            fraction, rows = latest
            run.rows_read = rows
            if fraction is not None:
                run.progress = round(min(fraction, 0.99), 3)

    def _loop(self) -> None:
        written: tuple[float | None, int] | None = None
        beat = time.monotonic()
        while not self.stop.wait(self.tick):
            latest = self.latest
            if latest == written and time.monotonic() - beat < self.every:
                continue
            try:
                self.database.write(lambda db, latest=latest: self._write(db, latest), wait=self.every)
                written, beat = latest, time.monotonic()
            except Exception:  # a busy database skips one report; the next one counts
                log.debug("run progress not written", exc_info=True)

    def __enter__(self) -> _Reporter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=self.every + 2)


class _Background:
    """A function run in a daemon thread beside the import; ``result`` waits for it. Used for the delivered
    file's SHA-256 (hashlib releases the GIL: on 1,000,000 rows it took a tenth of the run before the load)."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn()
            except BaseException as exc:  # handed to whoever asks for the result
                self._error = exc

        self._thread = threading.Thread(target=run, name="pbshare-import-hash", daemon=True)
        self._thread.start()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _read_head(reader: Reader) -> Head:
    """Read the first batch: its columns are what the mapping is checked against."""
    batches = iter(reader.batches())
    first = next(batches, None)
    columns = [c for c in first.frame.columns if c != readers.LINE] if first else list(reader.columns)
    return Head(first=first, rest=batches, columns=columns, types=getattr(reader, "column_types", {}))


def _map_and_check(db: Session, spec: ImportSpec, columns: list[str], sample: pl.DataFrame | None,
                   types: dict[str, dict[str, Any]]) -> tuple[list[FieldMap], list[str], bool]:
    """The mapping and business key, checked against the target; whether the target exists yet."""
    fields, table_key, exists = service.target_fields(db, spec)
    mapping = service.resolve_mapping(spec, columns, fields, exists, sample, types)
    return mapping, service.key_for(spec, table_key, mapping), exists


def _new_target(db: Session, database: Database, spec: ImportSpec, *, mapping: list[FieldMap],
                key: list[str]) -> warehouse.NewTable:
    """The target table a first run creates, defined from the mapping; the load's transaction creates it."""
    # A year-month is stored as its text, 2023-01.
    new_fields = [{"name": m.target, "type": "string" if m.type == YEARMONTH else m.type,
                   "length": 7 if m.type == YEARMONTH else m.length, "title": m.title or m.source,
                   "pii": m.pii, "id_kind": m.id_kind} for m in mapping]
    return warehouse.plan_table(db, database, topic=spec.target_topic, name=spec.target_table, fields=new_fields,
                                key=key)


def _plan(db: Session, spec: ImportSpec, *, mapping: list[FieldMap], key: list[str],
          new: warehouse.NewTable | None = None) -> Plan:
    """The stored columns to fill (a sealed column brings its blind index) and the key as stored."""
    columns_meta = new.columns if new is not None else \
        warehouse.get_table(db, topic=spec.target_topic, name=spec.target_table).columns
    mapped = {m.target for m in mapping}
    load_columns = [c["name"] for c in columns_meta if c["name"] in mapped or (c.get("blind_index_of") in mapped)]
    return Plan(mapping=mapping, key=key, load_columns=load_columns,
                stored_key=warehouse.storage_key(columns_meta, key), new=new)


def _load(database: Database, spec: ImportSpec, plan: Plan, batches: Iterator[readers.Batch], tally: Tally,
          progress: ProgressFn | None) -> None:
    """Check, seal and prepare each batch in the reading thread; bulk load it here; commit once at the end."""
    loader = TableLoader(database.warehouse_engine, topic=spec.target_topic, table=spec.target_table,
                         columns=plan.load_columns, mode=spec.mode, key=plan.stored_key,
                         create=plan.new.table if plan.new is not None else None, lock_wait=LOCK_WAIT_SECONDS)
    try:
        vault = pii.vault_for(database.settings.resolved_data_dir)

        labels = {m.target: m.title or m.source or m.target for m in plan.mapping}
        guard = DuplicateGuard(plan.key, [m.target for m in plan.mapping], labels) if plan.key else None

        def work(batch: readers.Batch) -> tuple[float | None, Sorted, Any]:
            converted = convert(batch.frame, plan.mapping, key=plan.key)
            sorted_ = Sorted(read=batch.frame.height, skipped=batch.skipped, reasons=dict(converted.reasons))
            good = converted.good
            bad = [converted.bad] if converted.bad.height else []
            if guard is not None:
                sifted = guard.sift(good)
                good, sorted_.duplicates = sifted.load, sifted.exact
                if sifted.conflicts.height:
                    source = [c for c in batch.frame.columns if c != readers.LINE]
                    bad.append(batch.frame.join(sifted.conflicts, on=readers.LINE).select(
                        [*source, readers.LINE, readers.REASON]))
                    sorted_.reasons[CONFLICT] = sifted.conflicts.height
            if tally.quality is not None:  # the quality rules: error rows kept out, warning rows counted
                good, flagged, by_rule = tally.quality.sift(good, batch.frame)
                if flagged.height:
                    bad.append(flagged)
                    tally.add(by_rule, sorted_.reasons)
            if batch.rejected is not None and batch.rejected.height:
                bad.append(batch.rejected)
                sorted_.read += batch.rejected.height
                sorted_.reasons[RAGGED] = sorted_.reasons.get(RAGGED, 0) + batch.rejected.height
            sorted_.bad, sorted_.loaded = bad, good.height
            if plan.key:  # compared with the previous delivery when the run finishes
                tally.delivered.append(good)
            return batch.progress, sorted_, loader.prepare(_seal(good.drop(readers.LINE), plan.mapping, vault))

        loader.begin()
        stop = threading.Event()
        for fraction, sorted_, payload in _read_ahead(batches, work, stop):
            loader.write(payload)
            tally.rows_read += sorted_.read
            tally.loaded += sorted_.loaded
            tally.duplicates += sorted_.duplicates
            for frame in sorted_.bad:
                tally.bad_frames.append(frame)
                tally.quarantined += frame.height
            tally.add(sorted_.skipped, tally.skipped)
            tally.add(sorted_.reasons, tally.reasons)
            if progress:
                progress(fraction, tally.rows_read)
        loader.commit()
        tally.inserted, tally.deleted, tally.created = loader.inserted, loader.deleted, plan.new is not None
    except Exception:
        loader.rollback()
        raise
    finally:
        loader.close()


def _seal(frame: pl.DataFrame, mapping: list[FieldMap], vault: pii.PiiVault) -> pl.DataFrame:
    """Seal personal identifiers and add their blind index, a whole column per vault call (equal values in a
    batch share one ciphertext: the blind index beside it already shows them equal). The cost is in the bench."""
    extra = []
    for m in mapping:
        if not m.pii:
            continue
        values = frame[m.target].cast(pl.String).to_list()
        extra.append(pl.Series(m.target, vault.seal_many(values, indexed=True), dtype=pl.String))
        extra.append(pl.Series(m.target + warehouse.BLIND_SUFFIX, vault.blind_index_many(values, kind=m.id_kind or ""),
                               dtype=pl.String))
    return frame.with_columns(extra) if extra else frame


def _read_ahead(batches: Iterator[readers.Batch], work: Callable[[readers.Batch], Any], stop: threading.Event,
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


def _failed(database: Database, *, run_id: str, exc: Exception, rows_read: int, started: float) -> ImportRun:
    """Record the failure, waiting while the database stays locked (the run must not stay "running")."""
    code, message = _cause(exc)
    return database.write(lambda db: _fail(db, run_id=run_id, code=code, message=message, rows_read=rows_read,
                                           started=started))


def _cause(exc: BaseException) -> tuple[str, T]:
    """The failure in words: our own errors as they are, a lock held too long as such, any other database error
    with the database's own message (never just its class name)."""
    if isinstance(exc, AppError):
        return exc.code, exc.message
    if is_locked(exc):
        locked: DatabaseLocked = locked_error(LOCK_WAIT_SECONDS, exc)
        return locked.code, locked.message
    own = str(getattr(exc, "orig", None) or exc).strip()
    own = own.split("\n[SQL:")[0].strip()[:1000] or type(exc).__name__
    log.warning("import run failed: %s: %s", type(exc).__name__, scrub(own))
    if _is_database_error(exc):
        return "database_error", T(
            "数据库拒绝了这次导入：{own}。本次未写入任何数据；请按数据库的提示修正目标表或数据后重新导入",
            "The database refused the import: {own}. Nothing was written; fix the target table or the data as it "
            "says and run the import again", own=own)
    log.debug("import run failed", exc_info=exc)
    return "import_failed", T("导入失败（{e}）：{own}。本次未写入任何数据", "The import failed ({e}): {own}. Nothing was written",
                              e=type(exc).__name__, own=own)


def _is_database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        return True
    module = type(exc).__module__
    return module.startswith(("sqlite3", "psycopg"))


def _fail(db: Session, *, run_id: str, code: str, message: T, rows_read: int, started: float) -> ImportRun:
    """Record why the run failed, in both languages."""
    run = service.get_run(db, run_id=run_id)
    run.status, run.error_code = RunStatus.failed.value, code
    run.error = f"{message.render('zh-CN')}\n{message.render('en')}"[:4000]
    run.rows_read, run.seconds, run.finished_at = rows_read, time.perf_counter() - started, utcnow()
    audit.record(db, action="collect.import", actor_name=run.run_by, object_type="import_run", object_id=run_id,
                 result="error", detail={"target": run.target, "code": code})
    return run


def _finish(db: Session, database: Database, *, run_id: str, spec: ImportSpec, reader: Reader | None, tally: Tally,
            started: float, origin_id: str | None = None, new: warehouse.NewTable | None = None,
            content_hash: str | None = None) -> ImportRun:
    """Register a table the run created, keep the bad rows in quarantine, count, move the watermark on, record
    lineage and audit. One immediate unit of work, repeated whole if the database stays locked."""
    data_dir = database.settings.resolved_data_dir
    run = service.get_run(db, run_id=run_id)
    if new is not None:
        warehouse.register_table(db, new, title=spec.target_title or spec.target_table,
                                 origin=TableOrigin.import_.value, origin_id=origin_id or run.id,
                                 resource_code=spec.resource_code)
    for frame in tally.bad_frames:
        quality_service.quarantine(db, data_dir=data_dir, run_id=run_id, profile_id=run.profile_id,
                                   target=run.target, frame=frame)
    run.status, run.progress = RunStatus.succeeded.value, 1.0
    run.content_hash = content_hash or run.content_hash
    run.rows_read, run.rows_quarantined = tally.rows_read, tally.quarantined
    # What the table gained (upsert: rows written): exact duplicates and quarantined rows are not in it.
    run.rows_loaded, run.rows_duplicate = tally.loaded, tally.duplicates
    run.rows_skipped = sum(tally.skipped.values())
    run.counts = {"skipped": tally.skipped, "quarantined": tally.reasons, "duplicates": tally.duplicates}
    run.seconds, run.finished_at = time.perf_counter() - started, utcnow()
    if tally.quality is not None:
        tally.quality.record(db, run_id=run_id, rows=tally.rows_read, reasons=tally.reasons, bad_frames=tally.bad_frames)
    warehouse.count_loaded(db, database, topic=spec.target_topic, name=spec.target_table, inserted=tally.inserted,
                           deleted=tally.deleted, replaced=spec.mode == "replace")
    if run.profile_id and isinstance(reader, readers.DatabaseReader) and reader.state.watermark is not None:
        profiles.keep_watermark(db, profile_id=run.profile_id, watermark=reader.state.watermark.to_json())
    _record_lineage(db, spec, run)
    # A unit's delivery over a channel carries new and changed rows (an increment) unless it says it is a
    # full snapshot; it is compared with what the same unit sent before.
    delivered = spec.source_kind == "delivery"
    compare_service.compare_import_run(
        db, data_dir=data_dir, run_id=run_id, target=run.target,
        mode="append" if delivered and not spec.source.get("snapshot") else spec.mode,
        resource_code=spec.resource_code, key=spec.key, frames=tally.delivered,
        unit_code=spec.source.get("unit") if delivered else None, ignore=list(PROVENANCE) if delivered else ())
    audit.record(db, action="collect.import", actor_name=run.run_by, object_type="import_run", object_id=run_id,
                 detail={"target": run.target, "read": tally.rows_read, "loaded": run.rows_loaded,
                         "quarantined": tally.quarantined, "duplicates": tally.duplicates,
                         "skipped": run.rows_skipped})
    return run


def _record_lineage(db: Session, spec: ImportSpec, run: ImportRun) -> None:
    """``file:…`` / ``source:…`` / ``api:…`` (and the catalog resource) → ``topic.table``."""
    if spec.source_kind == "database":
        origin = spec.source.get("source_id") or "url"
        source = f"source:{origin}.{spec.source.get('table') or 'query'}"
    elif spec.source_kind == "api":
        source = "api:" + run.source_label
    else:
        source = f"file:{run.source_label}"
    origins = [source] + ([f"resource:{spec.resource_code}"] if spec.resource_code else [])
    metadata_service.record_lineage(db, target=run.target, sources=origins, via_kind="import",
                                    via_id=run.profile_id or run.id,
                                    detail={"run_id": run.id, "rows_loaded": run.rows_loaded})
