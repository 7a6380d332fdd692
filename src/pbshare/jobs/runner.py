"""Execute one run: the same code under the local executor (a thread of the server) and under Celery (a worker).

The platform database is the record: the run is claimed with a conditional UPDATE (never two workers at once),
a heartbeat thread keeps it alive and reads cancel requests, each step is logged with its rows and duration,
retried with a doubling back-off and cut off at its time-out. A run taken up again after its worker died
continues at the first step that has not succeeded.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import httpx

from pbshare.core.clock import LOCAL_TZ, as_utc, utcnow
from pbshare.core.db import Database
from pbshare.core.errors import AppError
from pbshare.core.i18n import T
from pbshare.jobs import service, steps
from pbshare.jobs.models import Alert, Run, RunStep
from pbshare.security.audit import service as audit

log = logging.getLogger("pbshare.jobs")
HEARTBEAT_S = 2.0
SLOW_FACTOR = 3.0  # a run this many times its usual duration (and a minute longer) is "far slower than usual"
SLOW_MARGIN_S = 60.0
MAX_LOG = 200_000
PROGRESS_EVERY_S = 0.5


@dataclass
class _Live:
    run_id: str
    worker: str
    cancel: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)


def _heartbeat(database: Database, live: _Live) -> None:
    every = min(HEARTBEAT_S, database.settings.jobs_stale_s / 4)
    while not live.stop.wait(every):
        try:
            ours, cancel = database.write(lambda db: service.beat(db, run_id=live.run_id, worker=live.worker))
        except Exception:
            log.warning("job heartbeat not written", exc_info=True)
            continue
        if cancel:
            live.cancel.set()
        if not ours:  # taken over (we were thought dead): stop at once, leave the run to its new worker
            live.lost.set()
            live.cancel.set()
            return


def _append_log(database: Database, step_id: str, line: str) -> None:
    stamp = utcnow().astimezone(LOCAL_TZ).strftime("%H:%M:%S")  # the office's time, as on every page

    def write(db) -> None:
        st = db.get(RunStep, step_id)
        if st is not None and len(st.log or "") < MAX_LOG:
            st.log = (st.log or "") + f"[{stamp}] {line}\n"

    database.write(write)


class _Progress:
    """The step's ``ctx.progress(done, total, unit)``: written on the run step at most every ``every`` seconds
    (and always when done reaches total), in a short unit of work of its own, so the run page can show a bar."""

    def __init__(self, database: Database, step_id: str, *, every: float = PROGRESS_EVERY_S) -> None:
        self.database, self.step_id, self.every = database, step_id, every
        self.last = 0.0

    def __call__(self, done: int, total: int | None = None, unit: str = "rows") -> None:
        now = time.monotonic()
        if now - self.last < self.every and (total is None or done < total):
            return
        self.last = now
        done, total = max(int(done), 0), None if total is None else max(int(total), 0)

        def write(db) -> None:
            st = db.get(RunStep, self.step_id)
            if st is not None:
                st.progress_done, st.progress_total, st.progress_unit = done, total, unit[:16]

        try:
            self.database.write(write)
        except Exception:  # progress is a courtesy: a busy database skips one report, the step goes on
            log.debug("step progress not written", exc_info=True)


def _message(exc: BaseException) -> str:
    if isinstance(exc, AppError):
        return exc.message.render("zh-CN") + " / " + exc.message.render("en")
    return f"{type(exc).__name__}: {str(exc)[:500]}"


def _run_step(database: Database, run: Run, st: RunStep, spec: dict, previous: str | None, live: _Live,
              actor: str) -> tuple[bool, steps.StepResult | None, str | None]:
    """Attempts with back-off; returns (ok, result, error)."""
    kind = steps.get_kind(spec["kind"])
    retries, delay, timeout = int(spec.get("retries", 0)), float(spec.get("retry_delay_s", 5)), float(
        spec.get("timeout_s", 3600))
    error: str | None = None
    for attempt in range(retries + 1):
        if live.cancel.is_set():
            return False, None, "cancelled"
        database.write(lambda db, a=attempt: _mark_step(db, st.id, state="running", attempts=a + 1))
        ctx = steps.StepContext(database=database, run_id=run.id, pipeline=run.pipeline_name,
                                params=dict(spec.get("params") or {}), previous_output=previous,
                                log=lambda line: _append_log(database, st.id, line), cancel=live.cancel, actor=actor,
                                progress=_Progress(database, st.id), step_id=st.id)
        box: dict[str, object] = {}

        def work(ctx: steps.StepContext = ctx, box: dict[str, object] = box) -> None:
            try:
                with audit.acting_as(actor):
                    box["result"] = kind.run(ctx)
            except BaseException as exc:
                box["error"] = exc

        thread = threading.Thread(target=work, name=f"job-step-{run.id[:8]}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            live.cancel.set()  # a step that looks at it stops; the run ends here either way
            error = f"超时：超过 {timeout:g} 秒 / timed out after {timeout:g} s"
            _append_log(database, st.id, error)
            return False, None, error
        if "error" not in box:
            result = box.get("result")
            return True, result if isinstance(result, steps.StepResult) else steps.StepResult(), None
        if live.cancel.is_set():
            return False, None, "cancelled"
        error = _message(box["error"])  # type: ignore[arg-type]
        _append_log(database, st.id, f"attempt {attempt + 1} failed: {error}")
        if attempt < retries:
            wait = delay * (2 ** attempt)
            _append_log(database, st.id, f"retrying in {wait:g} s")
            if live.cancel.wait(wait):
                return False, None, "cancelled"
    return False, None, error


def _mark_step(db, step_id: str, **values) -> None:
    st = db.get(RunStep, step_id)
    if st is None:
        return
    for k, v in values.items():
        setattr(st, k, v)
    if values.get("state") == "running" and st.started_at is None:
        st.started_at = utcnow()
    if values.get("state") in ("succeeded", "failed", "skipped", "cancelled"):
        st.finished_at = utcnow()
        if st.started_at is not None:
            st.seconds = (st.finished_at - as_utc(st.started_at)).total_seconds()


def execute(database: Database, *, run_id: str, worker: str | None = None) -> str:
    """Execute the run if it is ours to run; returns the run's state afterwards (or ``busy``)."""
    steps.load_plugins()
    worker = worker or service.this_worker()
    stale = database.settings.jobs_stale_s
    outcome = database.write(lambda db: service.claim(db, run_id=run_id, worker=worker, stale_after=stale))
    if outcome != "go":
        if outcome == "failed":
            _notify(database, run_id)
        return outcome
    live = _Live(run_id=run_id, worker=worker)
    beat = threading.Thread(target=_heartbeat, args=(database, live), name=f"job-beat-{run_id[:8]}", daemon=True)
    beat.start()
    try:
        state = _execute(database, live)
    finally:
        live.stop.set()
        beat.join(timeout=5)
    _notify(database, run_id)
    return state


def _execute(database: Database, live: _Live) -> str:
    with database.session() as db:
        run = service.get_run(db, run_id=live.run_id)
        db.expunge(run)
        step_rows = service.run_steps(db, run_id=live.run_id)
        for s in step_rows:
            db.expunge(s)
    actor = f"job:{run.pipeline_name}"[:64]
    if run.attempt > 1 and step_rows:
        first = next((s for s in step_rows if s.state != "succeeded"), step_rows[0])
        _append_log(database, first.id, f"taken up again (attempt {run.attempt}) after the worker before it stopped")
    previous: str | None = None
    failed: list[str] = []
    rows = 0
    done = 0
    for st, spec in zip(step_rows, run.steps, strict=False):
        if st.state == "succeeded":  # done before a worker was lost
            previous = st.output or previous
            rows += st.rows or 0
            done += 1
            continue
        if live.cancel.is_set():
            break
        ok, result, error = _run_step(database, run, st, spec, previous, live, actor)
        if live.lost.is_set():
            return "busy"
        if ok and result is not None:
            previous = result.output or previous
            rows += result.rows or 0
            database.write(lambda db, st=st, r=result: _mark_step(db, st.id, state="succeeded", rows=r.rows,
                                                                  output=r.output, summary=r.summary))
        elif error == "cancelled":
            database.write(lambda db, st=st: _mark_step(db, st.id, state="cancelled"))
            break
        else:
            failed.append(f"{st.position + 1}. {st.name}: {error}")
            database.write(lambda db, st=st, e=error: _mark_step(db, st.id, state="failed", error=e))
            if spec.get("on_error", "stop") == "stop":
                break
        done += 1
        database.write(lambda db, d=done, r=rows: _progress(db, live, d, r))
    return database.write(lambda db: _close(db, live, failed=failed, rows=rows))


def _progress(db, live: _Live, done: int, rows: int) -> None:
    run = db.get(Run, live.run_id)
    if run is not None and run.worker == live.worker:
        run.steps_done, run.rows = done, rows


def _close(db, live: _Live, *, failed: list[str], rows: int) -> str:
    run = db.get(Run, live.run_id)
    if run is None or run.worker != live.worker or run.state != "running":
        return run.state if run is not None else "finished"
    run.rows = rows
    for st in service.run_steps(db, run_id=run.id):
        if st.state in ("pending", "running"):
            st.state = "cancelled" if live.cancel.is_set() and not failed else "skipped"
    if live.cancel.is_set() and not failed:
        service._finish(run, "cancelled", error=T("已取消", "cancelled"))
    elif failed:
        service._finish(run, "failed", error="; ".join(failed)[:4000])
        service.raise_alert(db, run=run, kind="failed")
    else:
        service._finish(run, "succeeded")
        usual = service.usual_seconds(db, pipeline_id=run.pipeline_id, before=run.id)
        if usual is not None and run.seconds is not None and run.seconds > usual * SLOW_FACTOR and \
                run.seconds - usual > SLOW_MARGIN_S:
            service.raise_alert(db, run=run, kind="slow", message=(
                f"流水线“{run.pipeline_name}”本次用时 {run.seconds:.0f} 秒，通常约 {usual:.0f} 秒 / "
                f"pipeline “{run.pipeline_name}” took {run.seconds:.0f} s, usually about {usual:.0f} s"))
    audit.record(db, action="jobs.run.finish", actor_name=f"job:{run.pipeline_name}"[:64], object_type="run",
                 object_id=run.id, result="ok" if run.state == "succeeded" else run.state,
                 detail={"pipeline": run.pipeline_name, "rows": rows, "seconds": run.seconds})
    return run.state


def _notify(database: Database, run_id: str) -> None:
    """Post new alerts of the run to the webhook, when one is set."""
    url = database.settings.jobs_alert_webhook
    if not url:
        return
    with database.session() as db:
        alerts = [a for a in service.list_alerts(db) if a.run_id == run_id and a.webhook_status is None]
        payload = [{"alert_id": a.id, "run_id": a.run_id, "kind": a.kind, "message": a.message,
                    "at": a.created_at.isoformat()} for a in alerts]
    for item in payload:
        try:
            status = str(httpx.post(url, json=item, timeout=5).status_code)
        except httpx.HTTPError as exc:
            status = f"error: {type(exc).__name__}"

        def keep(db, alert_id: str = str(item["alert_id"]), status: str = status) -> None:
            a = db.get(Alert, alert_id)
            if a is not None:
                a.webhook_status = status[:80]

        database.write(keep)


def wait_for(database: Database, run_id: str, *, timeout: float = 60.0, poll: float = 0.2) -> str:
    """Block until the run has finished (CLI, tests); returns its state."""
    end = time.monotonic() + timeout
    while True:
        with database.session() as db:
            state = service.get_run(db, run_id=run_id).state
        if state in service.FINISHED or time.monotonic() > end:
            return state
        time.sleep(poll)

