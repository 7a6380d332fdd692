"""``pbshare worker``, ``pbshare scheduler`` and ``pbshare job …``: the distributed executor's processes and
pipelines from the command line."""

from __future__ import annotations

import os
import signal
import threading
from datetime import timedelta

import typer
from rich.table import Table

from pbshare.config import get_settings
from pbshare.core.commands import command_session, console, err, fail, open_database
from pbshare.core.errors import AppError
from pbshare.jobs import executors, runner, service
from pbshare.jobs.scheduler import GRACE, Scheduler, clock_from

job_app = typer.Typer(help="ETL 流水线与调度 / pipelines, schedules and runs", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    app.add_typer(job_app, name="job")


def worker(concurrency: int = typer.Option(None, "--concurrency", "-c", help="同时运行数 / runs at once"),
           loglevel: str = typer.Option("INFO", "--loglevel")) -> None:
    """启动 Celery 工作进程，执行流水线运行（PBSHARE_EXECUTOR=distributed） / start a Celery worker for pipeline runs."""
    from pbshare.jobs import tasks

    settings = get_settings()
    n = concurrency or settings.jobs_workers
    console.print(f"pbshare worker: broker {_safe(settings.celery_broker_url or settings.amqp_url)}, "
                  f"queue {tasks.queue_name(settings)}, {n} at once")
    # Each worker its own node name (several may run on one host) and no remote control queue to share.
    tasks.celery_app.conf.worker_enable_remote_control = False
    tasks.celery_app.worker_main(["worker", f"--loglevel={loglevel}", "--pool=threads", f"--concurrency={n}",
                                  f"--hostname=pbshare-{os.getpid()}@%h",
                                  "-Q", tasks.queue_name(settings), "--without-gossip", "--without-mingle",
                                  "--without-heartbeat"])


def _safe(url: str) -> str:
    """A broker URL without its password, for the console."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def scheduler(interval: float = typer.Option(5.0, "--interval", help="检查间隔秒 / seconds between checks")) -> None:
    """启动调度循环：到点生成运行并交给执行器；可运行多个，每个触发时间只运行一次 / run the scheduling loop."""
    database = open_database()
    executor = executors.executor_for(database)
    speed = database.settings.jobs_clock_speed
    loop = Scheduler(database, executor, interval=interval, clock=clock_from(database.settings),
                     grace=max(GRACE, timedelta(seconds=30 * speed)))  # a drill clock: 30 real seconds
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print(f"pbshare scheduler: executor {executor.name}, every {interval:g} s")
    loop.start()
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        loop.stop()
        executor.stop()
        database.dispose()


@job_app.command("list")
def job_list() -> None:
    """流水线与调度 / pipelines and their schedules."""
    with command_session() as (_database, db):
        table = Table("pipeline", "steps", "schedules")
        for p in service.list_pipelines(db):
            scheds = [service.schedule_out(db, s, upcoming=0) for s in service.list_schedules(db, pipeline_id=p.id)]
            table.add_row(p.name, " → ".join(s["kind"] for s in p.steps),
                          "; ".join(f"{s.description}{'' if s.enabled else ' (off)'}" for s in scheds))
        console.print(table)


@job_app.command("run")
def job_run(name: str = typer.Argument(..., help="流水线名称 / pipeline name"),
            wait: bool = typer.Option(True, help="等待结束并打印日志 / wait and print the logs")) -> None:
    """立即运行一条流水线（本进程内执行） / run a pipeline now, in this process."""
    database = open_database()
    try:
        with database.session() as db:
            p = service.find_pipeline(db, name=name)
            if p is None:
                err.print(f"没有流水线“{name}” / no pipeline named “{name}”: pbshare job list")
                raise typer.Exit(code=2)
            pipeline_id = p.id
        executor = executors.LocalExecutor(database, workers=1)
        run_id = executors.run_now(database, executor, pipeline_id=pipeline_id)
        if not wait:
            console.print(run_id)
            return
        state = runner.wait_for(database, run_id, timeout=7 * 24 * 3600)
        with database.session() as db:
            detail = service.run_detail(db, run_id=run_id)
        for st in detail.step_runs:
            rows = "" if st.rows is None else f", rows {st.rows}"
            console.print(f"[bold]{st.position + 1}. {st.name}[/bold] ({st.kind}): {st.state}{rows}")
            if st.log:
                console.print(st.log.rstrip())
        console.print(f"run {run_id}: {state}")
        if state != "succeeded":
            raise typer.Exit(code=1)
    except AppError as exc:
        fail(exc)
    finally:
        database.dispose()
