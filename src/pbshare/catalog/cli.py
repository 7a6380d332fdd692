"""``pbshare catalog …``: import and export the sharing catalog, list resources, publish."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pbshare.core.commands import fail, open_database

app = typer.Typer(help="共享目录 / sharing catalog", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _print_problems(detail) -> None:
    if not isinstance(detail, list):
        return
    table = Table("工作表 sheet", "行 row", "列 column", "原因 reason", title="问题 / problems")
    for p in detail[:200]:
        if isinstance(p, dict):
            table.add_row(str(p.get("sheet", "")), str(p.get("row", "")), str(p.get("column", p.get("field", ""))),
                          str(p.get("reason", "")))
    err.print(table)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="目录文件 .yaml/.json/.xlsx / catalog file"),
    publish: bool = typer.Option(False, "--publish", help="作为已商定的正式目录直接发布 / publish as an agreed "
                                                          "official catalog"),
) -> None:
    """导入目录（出错则全部不导入） / import a catalog file (all or nothing)."""
    from pbshare.catalog.transfer import service as transfer
    from pbshare.core.errors import AppError

    database = open_database()
    try:
        with database.session() as session:
            report = transfer.import_file(session, content=file.read_bytes(), filename=file.name, publish=publish)
    except AppError as exc:
        _print_problems(exc.detail)
        fail(exc)
    finally:
        database.dispose()
    console.print(f"[green]已导入 / imported[/green] {file.name}: 单位 units {report.units}, 新建 created "
                  f"{report.created}, 更新 updated {report.updated}, 未变 unchanged {report.unchanged}, "
                  f"发布 published {report.published}")


@app.command("export")
def export(
    fmt: str = typer.Option("yaml", "--format", help="yaml | json | excel | dcat"),
    output: Path = typer.Option(None, "--output", "-o", help="输出文件，缺省为标准输出（excel 必填） / output file"),
    published: bool = typer.Option(False, "--published", help="只导出生效版本 / versions in effect only"),
) -> None:
    """导出目录 / export the catalog."""
    from pbshare.catalog.transfer import service as transfer
    from pbshare.core.errors import AppError

    if fmt not in transfer.EXTENSIONS:
        err.print("[red]--format 须为 yaml、json、excel 或 dcat / must be yaml, json, excel or dcat[/red]")
        raise typer.Exit(2)
    if fmt == "excel" and output is None:
        err.print("[red]Excel 须用 --output 指定文件 / give --output FILE for excel[/red]")
        raise typer.Exit(2)
    database = open_database()
    try:
        with database.session() as session:
            body, _ = transfer.export_catalog(session, fmt=fmt, published_only=published)
    except AppError as exc:
        fail(exc)
    finally:
        database.dispose()
    if output is None:
        typer.echo(body.decode("utf-8"), nl=False)
    else:
        output.write_bytes(body)
        err.print(f"[green]已导出 / exported[/green] {output} ({len(body)} bytes)")


@app.command("list")
def list_(state: str = typer.Option(None, help="状态 / state"), q: str = typer.Option(None, help="搜索 / search")) -> None:
    """列出目录资源 / list resources."""
    from pbshare.catalog.resources import service

    database = open_database()
    with database.session() as session:
        table = Table("code", "name", "provider", "state", "version", "items")
        for r in service.list_resources(session, state=state, q=q):
            table.add_row(r.code, r.name, r.provider, r.state, str(r.version), str(len(r.items)))
    database.dispose()
    console.print(table)
