"""``pbshare import …``, ``pbshare topic …``, ``pbshare dataset …``, ``pbshare transform …``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pbshare.collect.deliveries import cli as deliveries_cli
from pbshare.core.commands import command_session, fail, open_database
from pbshare.security.audit.service import cli_actor

if TYPE_CHECKING:  # the CLI starts fast: polars and the rest load when a command runs
    from pbshare.collect.schemas import ImportSpec
    from pbshare.core.db import Database

import_app = typer.Typer(help="数据导入 / imports (CSV, Excel, database, API)", no_args_is_help=True)
topic_app = typer.Typer(help="专题库 / topic databases", no_args_is_help=True)
dataset_app = typer.Typer(help="SQL 数据集 / SQL datasets", no_args_is_help=True)
transform_app = typer.Typer(help="数据加工 / no-code transforms", no_args_is_help=True)
console = Console()


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(topic_app, name="topic")
    app.add_typer(dataset_app, name="dataset")
    app.add_typer(transform_app, name="transform")
    app.add_typer(deliveries_cli.app, name="delivery")


def _run_with_bar(database: Database, spec: ImportSpec, *, profile_id: str | None = None,
                  file: Path | None = None) -> None:
    from pbshare.collect.runs import flows
    from pbshare.core.errors import AppError

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rows]:,} 行/rows"), TimeElapsedColumn()]
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("导入 / importing", total=100, rows=0)

            def progress(fraction: float | None, rows: int) -> None:
                bar.update(task, completed=100 * fraction if fraction is not None else None, rows=rows)

            run = flows.run_now(database, spec=spec, profile_id=profile_id, file=file, run_by=cli_actor(),
                                  trusted=True, progress=progress)
            if run.status == "succeeded":
                bar.update(task, completed=100, rows=run.rows_read)
    except AppError as exc:
        fail(exc)
    if run.status != "succeeded":
        console.print(f"[red]导入失败 / import failed[/red] \\[{run.error_code}]")
        console.print(escape(run.error or ""))
        raise typer.Exit(2)
    console.print(f"[green]完成 / done[/green] {run.target}: 读取 read {run.rows_read:,}, 装载 loaded "
                  f"{run.rows_loaded:,}, 隔离 quarantined {run.rows_quarantined:,} ({run.seconds:.1f} s)")
    if run.rows_skipped:  # blank lines, footers, titles; rows an incremental load had already loaded
        kinds = ", ".join(f"{k} {n:,}" for k, n in ((run.counts or {}).get("skipped") or {}).items())
        console.print(f"跳过 / skipped {run.rows_skipped:,} ({kinds})")
    if run.rows_quarantined:
        console.print(f"隔离数据 / quarantine: pbshare import quarantine {run.id} --out quarantine.xlsx")


def _save_profile(database: Database, spec: ImportSpec, *, name: str | None, title: str | None) -> str | None:
    """``--save-as``: keep the spec as a named profile (``pbshare import run NAME`` re-runs it)."""
    from pbshare.collect.profiles import service as profiles
    from pbshare.collect.profiles.schemas import ProfileIn

    if not name:
        return None
    # Immediate and retried: a running server writes the same database (its check reads, then it writes).
    profile_id = database.write(lambda db: profiles.create_profile(db, data=ProfileIn(**spec.model_dump(), name=name,
                                                                                      title=title or name)).id)
    console.print(f"已保存导入配置 / profile saved: {name}")
    return profile_id


@import_app.command("run")
def import_run(profile: str = typer.Argument(..., help="导入配置名称或编号 / profile name or id"),
               file: Path = typer.Argument(None, exists=True, dir_okay=False,
                                           help="本次交付的文件（可选） / this delivery's file (optional)"),
               yes: bool = typer.Option(False, "--yes", "-y",
                                        help="同一文件已导入过时不再询问 / import a file already imported without asking")) -> None:
    """按导入配置一键导入 / run a saved import profile."""
    from pbshare.collect.profiles import service as profiles
    from pbshare.collect.runs import service as runs
    from pbshare.core.errors import AppError, Conflict

    database = open_database()
    try:
        with database.session() as db:
            p = profiles.get_profile(db, profile_id=profile)
            spec, pid = profiles.spec_of(p), p.id
            delivered = file.resolve() if file else None
            try:
                runs.check_not_imported(db, database, profile_id=pid, spec=spec, file=delivered)
            except Conflict as exc:  # the same file again: say so, and go on only when the user says yes
                err = Console(stderr=True)
                err.print(f"[yellow]{escape(exc.message.render('zh-CN'))}[/yellow]")
                err.print(f"[yellow]{escape(exc.message.render('en'))}[/yellow]")
                if not yes and not typer.confirm("再次导入？/ Import again?", default=False):
                    raise typer.Exit(code=1) from None
        _run_with_bar(database, spec, profile_id=pid, file=delivered)
    except AppError as exc:
        fail(exc)
    finally:
        database.dispose()


@import_app.command("file")
def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV 或 Excel 文件 / CSV or Excel file"),
    topic: str = typer.Option(..., "--topic", help="专题库 / topic database"),
    table: str = typer.Option(..., "--table", help="目标表 / target table"),
    mode: str = typer.Option("append", help="append | replace | upsert"),
    key: list[str] = typer.Option([], "--key", help="业务主键，可多次 / business key column, repeatable"),
    encoding: str = typer.Option(None, help="字符编码（默认自动识别） / encoding (default: detected)"),
    delimiter: str = typer.Option(None, help="分隔符 / delimiter"),
    sheet: str = typer.Option(None, help="工作表 / Excel sheet"),
    header_row: int = typer.Option(None, "--header-row", help="表头所在行 / header line (1-based)"),
    mapping: Path = typer.Option(None, exists=True, help="字段映射 JSON 文件 / mapping JSON file"),
    resource: str = typer.Option(None, help="按目录资源建表 / create the table from this catalog resource"),
    save_as: str = typer.Option(None, "--save-as", help="另存为导入配置 / also save as a profile"),
    title: str = typer.Option(None, help="配置或表的中文名 / title"),
) -> None:
    """导入一个文件（可另存为配置） / import one file (optionally saving a profile)."""
    from pbshare.collect.schemas import ImportSpec
    from pbshare.collect.uploads import service as uploads
    from pbshare.core.errors import AppError

    path = file.resolve()
    source: dict[str, str | int] = {"path": str(path)}
    for name, value in (("encoding", encoding), ("delimiter", delimiter), ("sheet", sheet),
                        ("header_row", header_row)):
        if value is not None:
            source[name] = value
    database = open_database()
    try:
        spec = ImportSpec(source_kind=uploads.file_kind(path.name), source=source,
                          mapping=json.loads(mapping.read_text(encoding="utf-8")) if mapping else [],
                          target_topic=topic, target_table=table, target_title=title, mode=mode, key=key,
                          resource_code=resource)
        profile_id = _save_profile(database, spec, name=save_as, title=title)
        _run_with_bar(database, spec, profile_id=profile_id, file=path)
    except AppError as exc:
        fail(exc)
    finally:
        database.dispose()


@import_app.command("db")
def import_db(
    source: str = typer.Argument(..., help="已登记的数据源名称或编号（pbshare metadata source list） / registered "
                                           "data source name or id (pbshare metadata source list)"),
    topic: str = typer.Option(..., "--topic", help="专题库（须已存在：pbshare topic create） / topic database "
                                                   "(must exist: pbshare topic create)"),
    table: str = typer.Option(..., "--table", help="目标表 / target table"),
    from_table: str = typer.Option(None, "--from-table", help="源表 / the source's table"),
    query: str = typer.Option(None, "--query", help="或一条只读 SELECT / or one read-only SELECT"),
    cursor_column: str = typer.Option(None, "--cursor-column",
                                      help="增量字段（如 updated_at），只读新增或更新的行 / incremental by this column"),
    mode: str = typer.Option("append", help="append | replace | upsert"),
    key: list[str] = typer.Option([], "--key", help="业务主键，可多次 / business key column, repeatable"),
    mapping: Path = typer.Option(None, exists=True, help="字段映射 JSON 文件 / mapping JSON file"),
    save_as: str = typer.Option(None, "--save-as", help="另存为导入配置，之后 pbshare import run NAME / also save as "
                                                       "a profile, then pbshare import run NAME"),
    title: str = typer.Option(None, help="配置或表的中文名 / title"),
    run: bool = typer.Option(True, help="保存后立即导入 / import now (--no-run with --save-as only saves)"),
) -> None:
    """从已登记的数据源导入表或查询（可另存为配置） / import a table or SELECT from a registered data source."""
    from pbshare.collect.schemas import ImportSpec
    from pbshare.core.errors import AppError, Invalid
    from pbshare.core.i18n import T
    from pbshare.metadata import service as metadata_service

    database = open_database()
    try:
        if bool(from_table) == bool(query):
            raise Invalid(T("请给出 --from-table 或 --query 之一", "Give one of --from-table or --query"),
                          code="table_or_query")
        if not run and not save_as:
            raise Invalid(T("--no-run 须与 --save-as 一起使用", "--no-run needs --save-as"), code="nothing_to_do")
        with database.session() as db:
            source_id = metadata_service.get_source(db, source_id=source).id
        spec_source: dict[str, str] = {"source_id": source_id}
        for name, value in (("table", from_table), ("query", query), ("cursor_column", cursor_column)):
            if value:
                spec_source[name] = value
        spec = ImportSpec(source_kind="database", source=spec_source,
                          mapping=json.loads(mapping.read_text(encoding="utf-8")) if mapping else [],
                          target_topic=topic, target_table=table, target_title=title, mode=mode, key=key)
        profile_id = _save_profile(database, spec, name=save_as, title=title)
        if run:
            _run_with_bar(database, spec, profile_id=profile_id)
    except AppError as exc:
        fail(exc)
    finally:
        database.dispose()


@import_app.command("profiles")
def import_profiles() -> None:
    """导入配置列表 / list saved profiles."""
    from pbshare.collect.profiles import service as profiles
    from pbshare.collect.runs import service as runs

    database = open_database()
    table = Table("name", "title", "source", "target", "mode", "last run")
    with database.session() as db:
        for p in profiles.list_profiles(db):
            last = runs.last_run(db, profile_id=p.id)
            table.add_row(p.name, p.title, p.source_kind, f"{p.target_topic}.{p.target_table}", p.mode,
                          f"{last.status} {last.rows_loaded}/{last.rows_read}" if last else "-")
    database.dispose()
    console.print(table)


@import_app.command("runs")
def import_runs(profile: str = typer.Option(None, help="导入配置 / profile"),
                limit: int = typer.Option(20, min=1, max=500)) -> None:
    """导入记录 / run history."""
    from pbshare.collect.profiles import service as profiles
    from pbshare.collect.runs import service as runs

    database = open_database()
    table = Table("id", "started", "source", "target", "status", "read", "loaded", "quarantined", "s", "by")
    with database.session() as db:
        pid = profiles.get_profile(db, profile_id=profile).id if profile else None
        for r in runs.list_runs(db, profile_id=pid, limit=limit):
            table.add_row(r.id, str(r.started_at)[:19], r.source_label, r.target, r.status, str(r.rows_read),
                          str(r.rows_loaded), str(r.rows_quarantined), f"{r.seconds or 0:.1f}", r.run_by or "")
    database.dispose()
    console.print(table)


@import_app.command("quarantine")
def import_quarantine(run_id: str, out: Path = typer.Option(..., "--out", help="导出的 .xlsx / output .xlsx"),
                      purpose: str = typer.Option(None, "--purpose",
                                                  help="完整导出证件号码等的用途（审计） / why identifiers are needed "
                                                       "in full (audited); without it they are masked")) -> None:
    """导出隔离数据（含原因列），修正后可再次导入 / export the quarantine to fix and re-import."""
    from pbshare.collect.runs import service as runs
    from pbshare.security.audit import service as audit

    # The command line is the operator at the machine: in clear with a stated purpose, audited in their name.
    with command_session() as (database, db), audit.acting_as(cli_actor()):
        data = runs.quarantine_workbook(db, data_dir=database.settings.resolved_data_dir, run_id=run_id,
                                        unmask=bool(purpose), purpose=purpose)
    out.write_bytes(data)
    console.print(f"[green]已导出 / written[/green] {out}")


# ---------------------------------------------------------------- topics
@topic_app.command("create")
def topic_create(name: str, title: str = typer.Option(..., help="中文名称 / title"),
                 description: str = typer.Option(None)) -> None:
    """新建专题库 / create a topic database."""
    from pbshare.warehouse import service as warehouse

    with command_session() as (database, db):
        warehouse.create_topic(db, database, name=name, title=title, description=description)
    console.print(f"[green]已创建 / created[/green] {name}")


@topic_app.command("list")
def topic_list() -> None:
    """专题库及其表 / topic databases and their tables."""
    from pbshare.warehouse import service as warehouse

    database = open_database()
    table = Table("topic", "title", "table", "origin", "rows")
    with database.session() as db:
        for t in warehouse.list_topics(db):
            tables = warehouse.list_tables(db, topic=t.name)
            if not tables:
                table.add_row(t.name, t.title, "-", "", "")
            for tb in tables:
                table.add_row(t.name, t.title, f"{tb.name} ({tb.title})", tb.origin, str(tb.row_count or 0))
    database.dispose()
    console.print(table)


# ---------------------------------------------------------------- datasets and transforms
@dataset_app.command("create")
def dataset_create(name: str, sql: str = typer.Option(..., help="SELECT 语句 / the SELECT"),
                   topic: str = typer.Option(..., "--topic"), title: str = typer.Option(None),
                   dialect: str = typer.Option("postgres", help="postgres | sqlite | mysql"),
                   refresh: bool = typer.Option(True, help="立即生成 / materialise now")) -> None:
    """保存 SQL 数据集并生成表 / save a SQL dataset and materialise it."""
    from pbshare.collect.derived import datasets
    from pbshare.collect.derived.schemas import DatasetIn

    with command_session() as (database, db):
        ds = datasets.save_dataset(db, data=DatasetIn(name=name, title=title or name, sql=sql, sql_dialect=dialect,
                                                      target_topic=topic))
        if refresh:
            datasets.refresh_dataset(db, database, dataset_id=ds.id)
        rows = ds.row_count
    console.print(f"[green]已保存 / saved[/green] {name}" + (f": {rows} 行/rows" if refresh else ""))


@dataset_app.command("refresh")
def dataset_refresh(name: str) -> None:
    """刷新数据集表 / refresh a dataset's table."""
    from pbshare.collect.derived import datasets

    with command_session() as (database, db):
        ds = datasets.refresh_dataset(db, database, dataset_id=name)
        rows, target = ds.row_count, f"{ds.target_topic}.{ds.target_table}"
    console.print(f"[green]已刷新 / refreshed[/green] {target}: {rows} 行/rows")


@dataset_app.command("list")
def dataset_list() -> None:
    """SQL 数据集 / list datasets."""
    from pbshare.collect.derived import datasets

    database = open_database()
    table = Table("name", "title", "target", "rows", "refreshed", "sql")
    with database.session() as db:
        for d in datasets.list_datasets(db):
            table.add_row(d.name, d.title, f"{d.target_topic}.{d.target_table}", str(d.row_count or "-"),
                          str(d.refreshed_at or "-")[:19], d.sql[:60])
    database.dispose()
    console.print(table)


@dataset_app.command("check")
def dataset_check(sql: str, dialect: str = typer.Option("postgres")) -> None:
    """检查并预览 SELECT / check and preview a SELECT."""
    from pbshare.collect.derived import datasets

    with command_session() as (database, db):
        out = datasets.run_preview(db, database, sql=sql, dialect=dialect, limit=20)
    table = Table(*out["columns"])
    for r in out["rows"]:
        table.add_row(*[str(v) for v in r])
    console.print(table)


@transform_app.command("save")
def transform_save(name: str, spec: Path = typer.Option(..., exists=True, help="加工定义 JSON / spec JSON"),
                   topic: str = typer.Option(..., "--topic"), title: str = typer.Option(None),
                   refresh: bool = typer.Option(True, help="立即运行 / run now")) -> None:
    """保存数据加工并运行 / save a transform and run it."""
    from pbshare.collect.derived import transforms
    from pbshare.collect.derived.schemas import TransformIn

    with command_session() as (database, db):
        existing = transforms.find_transform(db, name=name)
        tf = transforms.save_transform(db, database, data=TransformIn(
            name=name, title=title or name, spec=json.loads(spec.read_text(encoding="utf-8")), target_topic=topic),
            transform_id=existing.id if existing else None)
        if refresh:
            transforms.refresh_transform(db, database, transform_id=tf.id)
        rows = tf.row_count
    console.print(f"[green]已保存 / saved[/green] {name}" + (f": {rows} 行/rows" if refresh else ""))


@transform_app.command("refresh")
def transform_refresh(name: str) -> None:
    """运行数据加工 / run a transform."""
    from pbshare.collect.derived import transforms

    with command_session() as (database, db):
        tf = transforms.refresh_transform(db, database, transform_id=name)
        rows, target = tf.row_count, f"{tf.target_topic}.{tf.target_table}"
    console.print(f"[green]已运行 / done[/green] {target}: {rows} 行/rows")
