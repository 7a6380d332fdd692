"""A full disk during ``pbshare backup create``, on SQLite and PostgreSQL.

No small tmpfs without root, so the disk "fills" through the process's file-size limit
(``RLIMIT_FSIZE``): a write past it fails with EFBIG (Python ignores SIGXFSZ; pg_dump, a child, is
killed by it), the way a full disk fails a write. The command must say what went wrong and what to
do, and leave no half-written backup behind; with room again the same command makes a good backup.
"""

from __future__ import annotations

import os
import resource
import subprocess

from tests.channels.faults_kit import PBSHARE, ROOT, process_env, report

LIMIT = 16 * 1024  # bytes any one file of the backup may reach: less than the smallest database file


def backup(settings, prefix: str, *, limit: int | None) -> subprocess.CompletedProcess[str]:
    def cap() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = process_env(settings, prefix=prefix, PBSHARE_BACKUP_PASSPHRASE="Backup#pass2026-fault", COLUMNS="200")
    return subprocess.run([PBSHARE, "backup", "create"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120, preexec_fn=cap, check=False)


def test_backup_on_a_full_disk_fails_clearly_and_leaves_nothing_half_written(settings, database, prefix):
    backups = settings.resolved_data_dir / "backups"
    full = backup(settings, prefix, limit=LIMIT)
    said = full.stdout + full.stderr
    left = sorted(p.name for p in backups.glob("pbshare-*")) if backups.exists() else []
    report("backup with the disk full", backend=(settings.database_url and "postgresql") or "sqlite",
           file_limit_bytes=LIMIT, exit=full.returncode, folders_left=len(left),
           message=" ".join(said.split())[:160])
    assert full.returncode == 2, said
    assert "备份未能写完" in said or "pg_dump 失败" in said, said
    assert "Traceback" not in said
    assert left == [], "no half-written backup folder"
    ok = backup(settings, prefix, limit=None)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    [folder] = list(backups.glob("pbshare-*"))
    check = subprocess.run([PBSHARE, "backup", "verify", str(folder)], cwd=ROOT, capture_output=True, text=True,
                           timeout=120, env=process_env(settings, prefix=prefix), check=False)
    assert check.returncode == 0 and "backup verified" in check.stdout, check.stdout + check.stderr
    assert os.stat(folder).st_mode & 0o777 == 0o700
