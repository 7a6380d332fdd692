"""``pbshare metadata …``: data sources and harvesting."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from pbshare.core.commands import fail, open_database, progress_bar

app = typer.Typer(help="元数据 / metadata", no_args_is_help=True)
source_app = typer.Typer(help="数据源 / data sources", no_args_is_help=True)
app.add_typer(source_app, name="source")
console = Console()


@source_app.command("add")
def source_add(
    name: str = typer.Argument(..., help="数据源名称 / name"),
    url: str = typer.Argument(..., help="SQLAlchemy URL，如 postgresql+psycopg://user:pw@host:5432/db"),
    schema: str = typer.Option(None, help="PostgreSQL schema"),
    test: bool = typer.Option(True, help="登记后测试连接 / test the connection after adding"),
) -> None:
    """登记数据源（密码加密保存） / add a data source (credentials stored encrypted)."""
    from pbshare.config import get_settings
    from pbshare.core.errors import AppError
    from pbshare.metadata import service

    settings = get_settings()
    data_dir, platform = settings.resolved_data_dir, service.platform_databases(settings)
    database = open_database()
    try:
        with database.session() as session:
            source = service.add_source(session, data_dir=data_dir, name=name, url=url, schema_name=schema,
                                        platform=platform)
            result = service.test_source(session, source_id=source.id, data_dir=data_dir,
                                         platform=platform) if test else None
            shown = source.url_display
    except AppError as exc:
        fail(exc)
    finally:
        database.dispose()
    console.print(f"[green]已登记 / added[/green] {name}: {shown}")
    if result is not None:
        colour = "green" if result["ok"] else "red"
        console.print(f"连接测试 / connection test: [{colour}]{result['message']}[/{colour}] ({result['ms']} ms)")


@source_app.command("list")
def source_list() -> None:
    """数据源列表 / list data sources."""
    from pbshare.metadata import service

    database = open_database()
    with database.session() as session:
        table = Table("name", "id (source_id)", "url", "last test", "last harvest")
        # The id is what profiles and the API take: never cut, however narrow the terminal.
        table.columns[1].no_wrap, table.columns[1].min_width = True, 36
        for s in service.list_sources(session):
            table.add_row(s.name, s.id, s.url_display, "-" if s.last_test_ok is None else ("ok" if s.last_test_ok else "failed"),
                          str(s.last_harvest_at or "-"))
    database.dispose()
    console.print(table)


@app.command("harvest")
def harvest(source: str = typer.Argument(..., help="数据源名称或编号 / source name or id")) -> None:
    """采集表、字段、键和行数，并列出变化 / harvest tables, columns, keys, row counts; show what changed."""
    from pbshare.config import get_settings
    from pbshare.core.errors import AppError
    from pbshare.metadata import service

    database = open_database()
    try:
        with database.session() as session, progress_bar() as bar:
            task = bar.add_task("采集 / harvest", total=None)
            run = service.harvest(session, source_id=source, data_dir=get_settings().resolved_data_dir,
                                  platform=service.platform_databases(get_settings()),
                                  progress=lambda n, total: bar.update(task, completed=n, total=total))
            changes = list(run.changes)
            tables, columns, ok, error = run.tables, run.columns, run.ok, run.error
    except AppError as exc:
        fail(exc)
    finally:
        database.dispose()
    if not ok:
        console.print(f"[red]采集失败 / harvest failed[/red]: {error}")
        console.print("请先测试连接，检查地址、账号和网络 / check the URL, account and network (source add --test)")
        raise typer.Exit(2)
    console.print(f"[green]采集完成 / harvested[/green]: {tables} 表 tables, {columns} 字段 columns")
    if changes:
        table = Table("对象 object", "变化 change", "原 before", "新 after", title="自上次采集以来的变化 / changes")
        for c in changes:
            table.add_row(c["object"], c["change"], str(c.get("before", "")), str(c.get("after", "")))
        console.print(table)
    else:
        console.print("与上次采集相比无变化（或首次采集） / no changes since the last harvest (or first harvest)")
