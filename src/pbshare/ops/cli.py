"""``pbshare backup|retention``: backup, restore, retention and destruction, run on the server."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pbshare.config import get_settings
from pbshare.core.commands import fail, open_database
from pbshare.core.errors import AppError
from pbshare.ops import backup, retention
from pbshare.security.audit import service as audit
from pbshare.security.audit.service import cli_actor

backup_app = typer.Typer(help="备份与恢复 / backup and restore", no_args_is_help=True)
retention_app = typer.Typer(help="保存期限与销毁 / retention and destruction", no_args_is_help=True)

console = Console()
err = Console(stderr=True)
PASSPHRASE_ENV = "PBSHARE_BACKUP_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")
    app.add_typer(retention_app, name="retention")


def _passphrase(confirm: bool) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    return typer.prompt("备份口令 / backup passphrase", hide_input=True, confirmation_prompt=confirm)


# backup ----------------------------------------------------------------------------------------------
@backup_app.command("create")
def backup_create(out: Path = typer.Option(None, "--out", help="放备份的目录 / parent folder (default data_dir/backups)")
                  ) -> None:
    """一致性备份：数据库 + 加密的密钥文件 + SM3 清单 / consistent backup with encrypted keys and SM3 manifest.

    口令取自环境变量 PBSHARE_BACKUP_PASSPHRASE 或交互输入 / the passphrase comes from
    PBSHARE_BACKUP_PASSPHRASE or a prompt; it encrypts the key files: keep it apart from the backup.
    """
    passphrase = _passphrase(confirm=True)
    database = open_database()
    try:
        with console.status("备份中 / backing up…") as status:
            folder = backup.create(database, passphrase=passphrase, out_dir=out,
                                   progress=lambda step: status.update(f"备份中 / backing up: {step}"))
        with database.session() as s:
            audit.record(s, action="backup.create", actor_name=cli_actor(), object_type="backup", object_id=folder.name,
                         detail={"folder": str(folder)})
    except AppError as exc:
        fail(exc)
    finally:
        database.dispose()
    console.print(f"[green]备份完成 / backup written[/green]: {folder}")


@backup_app.command("verify")
def backup_verify(folder: Path) -> None:
    """校验备份（SM3 清单；有口令时再验 MAC 和密钥） / check a backup's files (and MAC and keys with the passphrase)."""
    passphrase = os.environ.get(PASSPHRASE_ENV)
    report = backup.verify(folder, passphrase=passphrase)
    table = Table("file", "sm3", "size")
    for name, info in report.manifest.get("files", {}).items():
        table.add_row(name, info["sm3"][:16] + "…", str(info["size"]))
    console.print(table)
    if passphrase is None:
        console.print("未提供口令，仅校验 SM3 / no passphrase given: checked the SM3 sums only")
    if report.ok:
        console.print("[green]备份完好 / backup verified[/green]")
        return
    for p in report.problems:
        err.print(f"[red]✗[/red] {p}")
    raise typer.Exit(code=1)


@backup_app.command("restore")
def backup_restore(folder: Path) -> None:
    """恢复到空实例（PBSHARE_DATABASE_URL / PBSHARE_DATA_DIR 指向的） / restore onto the configured empty instance."""
    passphrase = _passphrase(confirm=False)
    settings = get_settings()
    try:
        with console.status("恢复中 / restoring…") as status:
            counts = backup.restore(folder, settings=settings, passphrase=passphrase,
                                    progress=lambda step: status.update(f"恢复中 / restoring: {step}"))
    except AppError as exc:
        fail(exc)
    database = open_database()
    with database.session() as s:
        audit.record(s, action="backup.restore", actor_name=cli_actor(), object_type="backup", object_id=folder.name,
                     detail={"rows": counts})
    database.dispose()
    for table, n in counts.items():
        console.print(f"  {table}: {n}")
    console.print("[green]恢复完成 / restored[/green]; run `pbshare audit verify` to check the chain")


# retention -------------------------------------------------------------------------------------------
@retention_app.command("run")
def retention_run(dry_run: bool = typer.Option(False, "--dry-run", help="只统计不删除 / count only")) -> None:
    """删除到期的个人信息并留下销毁记录；归档超期审计记录 / destroy expired personal data with a record."""
    settings = get_settings()
    database = open_database()
    try:
        with database.session() as s:
            result = retention.run(s, data_dir=settings.resolved_data_dir, actor=cli_actor(), dry_run=dry_run)
    except AppError as exc:
        fail(exc)
    finally:
        database.dispose()
    table = Table("policy", "cutoff", "expired", "destroyed")
    for o in result.outcomes:
        table.add_row(o.policy_code, f"{o.cutoff:%Y-%m-%d}", str(o.found),
                      ", ".join(f"{k}={v}" for k, v in o.destroyed.items()) or "-")
    console.print(table)
    if dry_run:
        console.print("仅统计，未删除 / dry run: nothing deleted")
    else:
        console.print(f"审计记录归档 / audit records archived: {result.audit_archived}"
                      + (f" → {result.audit_file}" if result.audit_file else ""))


@retention_app.command("list")
def retention_list() -> None:
    """列出保存策略 / list the retention policies."""
    database = open_database()
    with database.session() as s:
        rows = [(p.code, str(p.keep_days), "yes" if p.is_active else "no", p.label_zh)
                for p in retention.ensure_defaults(s)]
    database.dispose()
    table = Table("code", "keep days", "active", "rule")
    for row in rows:
        table.add_row(*row)
    console.print(table)
