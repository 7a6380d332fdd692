"""``pbshare delivery list|land``: received deliveries, and landing them by hand (no server needed)."""

from __future__ import annotations

import typer
from rich.table import Table

from pbshare.core.commands import command_session, console

app = typer.Typer(help="接收的交付数据 / deliveries received from units", no_args_is_help=True)


@app.command("list")
def list_deliveries(state: str = typer.Option(None, help="received | processed | failed"),
                    limit: int = typer.Option(20, min=1, max=200)) -> None:
    """接收的交付数据及其入库结果 / received deliveries and how they landed."""
    from pbshare.collect.deliveries import service

    with command_session() as (_, db):
        page = service.deliveries(db, state=state, size=limit)
    table = Table("envelope", "received", "sender", "resource", "state", "result", "rows", "loaded", "quarantined",
                  title=f"{page['total']}")
    for d in page["items"]:
        r = d["result"] or {}
        table.add_row(d["envelope_id"], str(d["received_at"])[:19], d["sender"], d["resource"] or "", d["state"],
                      str(r.get("status", "")), str(r.get("rows", "")), str(r.get("loaded", "")),
                      str(r.get("quarantined", "")))
    console.print(table)


@app.command("land")
def land(envelope_id: str = typer.Argument(None, help="再次入库这一条 / land this one again"),
         limit: int = typer.Option(100, min=1, max=10_000)) -> None:
    """把等待中的交付数据入库（服务运行时会自动进行） / land waiting deliveries (the server does it by itself)."""
    from pbshare.collect.deliveries import service

    if envelope_id:
        with command_session() as (_, db):
            service.land_again(db, envelope_id=envelope_id)
    with command_session() as (database, _):
        n = service.land_pending(database, limit=limit)
    console.print(f"[green]已处理 / handled[/green] {n}")
