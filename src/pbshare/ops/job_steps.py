"""Backup and retention as pipeline steps. ops sits above jobs, so it registers its step kinds into jobs' registry
(the ``pbshare.job_steps`` entry point in pyproject.toml names ``register``); jobs never imports ops."""

from __future__ import annotations

import os

from pbshare.core.i18n import T
from pbshare.jobs.steps import Param, StepContext, StepFailed, StepKind, StepResult
from pbshare.jobs.steps import register as register_kind
from pbshare.ops import backup, retention
from pbshare.security.audit import service as audit

PASSPHRASE_ENV = "PBSHARE_BACKUP_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
PASSPHRASE_FILE = "backup-passphrase"  # noqa: S105 - a file name under data_dir/keys (mode 0600)


def _passphrase(ctx: StepContext) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    path = ctx.data_dir / "keys" / PASSPHRASE_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    raise StepFailed(T("未设置备份口令：请设置环境变量 {e}，或写入 {f}（权限 0600）",
                       "No backup passphrase: set the environment variable {e} or write it to {f} (mode 0600)",
                       e=PASSPHRASE_ENV, f=str(path)), code="backup_passphrase_missing")


def _backup(ctx: StepContext) -> StepResult:
    passphrase = _passphrase(ctx)
    folder = backup.create(ctx.database, passphrase=passphrase, progress=lambda step: ctx.log(f"backup: {step}"))
    with ctx.database.session() as db:
        audit.record(db, action="backup.create", actor_name=ctx.actor, object_type="backup", object_id=folder.name,
                     detail={"folder": str(folder)})
    ctx.log(f"backup written: {folder}")
    if ctx.params.get("verify", True):
        report = backup.verify(folder, passphrase=passphrase)
        if not report.ok:
            raise StepFailed(T("备份校验失败：{p}", "The backup did not verify: {p}", p="; ".join(report.problems)[:500]))
        ctx.log(f"backup verified: {len(report.manifest.get('files', {}))} file(s), SM3 and MAC match")
    return StepResult(output=ctx.previous_output)


def _retention(ctx: StepContext) -> StepResult:
    dry = bool(ctx.params.get("dry_run", False))
    with ctx.database.session(immediate=True) as db:
        outcome = retention.run(db, data_dir=ctx.data_dir, actor=ctx.actor, dry_run=dry)
        found = sum(o.found for o in outcome.outcomes)
        archived = outcome.audit_archived
    ctx.log(f"retention{' (dry run)' if dry else ''}: {found} expired case(s), {archived} audit record(s) archived")
    return StepResult(rows=found, output=ctx.previous_output)


def register() -> None:
    register_kind(StepKind("backup", T("备份（并校验）", "Back up (and verify)"),
                           [Param("verify", T("备份后校验", "verify after writing"), kind="bool", required=False,
                                  default=True)], _backup))
    register_kind(StepKind("retention", T("执行保存期限（销毁到期数据）", "Apply retention (destroy what expired)"),
                           [Param("dry_run", T("只统计不销毁", "count only, destroy nothing"), kind="bool",
                                  required=False, default=False)], _retention))
