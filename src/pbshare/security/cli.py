"""``pbshare keys|audit``: the security commands an operator runs on the server."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console

from pbshare.config import get_settings
from pbshare.core.commands import fail, open_database
from pbshare.core.errors import AppError
from pbshare.security.audit.service import cli_actor

keys_app = typer.Typer(help="密钥 / master key and data keys", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志 / the audit log", no_args_is_help=True)

console = Console()
err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")




# keys ------------------------------------------------------------------------------------------------
@keys_app.command("rotate")
def keys_rotate() -> None:
    """轮换主密钥并重新封装所有数据密钥 / new master key; every data key is re-wrapped (data untouched)."""
    from pbshare.security.audit import service as audit
    from pbshare.security.crypto.keys import keyring_for

    settings = get_settings()
    settings.ensure_dirs()
    out = keyring_for(settings.resolved_data_dir).rotate_master()
    database = open_database()
    with database.session() as s:
        audit.record(s, action="keys.rotate", actor_name=cli_actor(), object_type="master_key",
                     object_id=out["new_master_id"], detail=out)
    database.dispose()
    console.print(f"[green]主密钥已轮换 / master key rotated[/green]: {out['old_master_id']} → {out['new_master_id']}")
    console.print(f"重新封装 / re-wrapped: {', '.join(out['rewrapped']) or '-'}")


@keys_app.command("status")
def keys_status() -> None:
    """显示主密钥编号与数据密钥 / show the master key id and the wrapped data keys."""
    from pbshare.security.crypto.keys import keyring_for

    settings = get_settings()
    settings.ensure_dirs()
    out = keyring_for(settings.resolved_data_dir).status()
    console.print(f"master key id: {out['master_id']} (mode {out['master_mode']})")
    console.print(f"data keys: {', '.join(out['data_keys']) or '-'}")


# audit -----------------------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify() -> None:
    """校验审计链，指出第一条被篡改、删除或插入的记录 / verify the chain; name the first bad record."""
    from pbshare.security.audit import log as audit_log
    from pbshare.security.audit import service as audit

    settings = get_settings()
    database = open_database()
    with database.session() as s:
        report = audit.verify(s, data_dir=settings.resolved_data_dir)
        archives = audit_log.verify_archives(s, data_dir=settings.resolved_data_dir)
        bad = None
        if not report.ok and report.first_bad_seq is not None:
            bad = s.query(audit.AuditRecord).filter(audit.AuditRecord.seq == report.first_bad_seq).first()
        audit.record(s, action="audit.verify", actor_name=cli_actor(), result="ok" if report.ok else "error",
                     detail={"checked": report.checked, "first_bad_seq": report.first_bad_seq})
        bad_text = f" ({bad.action}, {bad.at:%Y-%m-%d %H:%M:%S} UTC, {bad.actor_name})" if bad else ""
    database.dispose()
    for a in archives:
        mark = "[green]ok[/green]" if a["ok"] else f"[red]{a['problem']}[/red]"
        console.print(f"归档 / archive {a['file']} ({a['from_seq']}–{a['to_seq']}): {mark}")
    if report.ok and all(a["ok"] for a in archives):
        console.print(f"[green]审计链完整 / chain intact[/green]: {report.checked} records checked"
                      + (f", archived up to #{report.archived_up_to}" if report.archived_up_to else ""))
        return
    if not report.ok:
        err.print(f"[red]审计链断裂 / chain broken[/red]: first bad record #{report.first_bad_seq}: "
                  f"{report.problem}{bad_text}")
    raise typer.Exit(code=1)


@audit_app.command("export")
def audit_export(
    out: Path = typer.Option(..., "--out", help="Excel 文件 / the .xlsx file to write"),
    user: str = typer.Option(None, help="用户名 / user name"),
    action: str = typer.Option(None, help="操作或前缀 / action or prefix, e.g. auth"),
    since: datetime = typer.Option(None, help="起始 / from (YYYY-MM-DD)"),
    until: datetime = typer.Option(None, help="截止 / until (YYYY-MM-DD, exclusive)"),
) -> None:
    """导出审计日志到 Excel（导出本身被审计） / export records to Excel (the export is audited)."""
    from pbshare.security.audit import log as audit_log
    from pbshare.security.audit import service as audit

    database = open_database()
    f = audit_log.AuditFilter(user=user, action=action, since=since, until=until)
    try:
        with database.session() as s:
            body, count = audit_log.export_xlsx(s, f=f)
            audit.record(s, action="audit.export", actor_name=cli_actor(), object_type="audit_record",
                         detail={"filter": f.as_detail(), "rows": count, "file": out.name})
    except AppError as exc:
        fail(exc)
    finally:
        database.dispose()
    out.write_bytes(body)
    os.chmod(out, 0o600)
    console.print(f"[green]已导出 / exported[/green] {count} records → {out}")
