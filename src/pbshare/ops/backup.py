"""Backup, verification and restore onto an empty instance.

A backup is a folder:

  ``database.sqlite`` (+ ``topics/*.db``)  SQLite's online backup API: a consistent copy while serving
  ``database.pgdump``                      PostgreSQL: ``pg_dump --format=custom`` (one snapshot)
  ``keys.enc``                             the key directory (master key and wrapped data keys) as a tar,
                                           encrypted with SM4-GCM under a key derived from a *passphrase*
                                           (scrypt); never the master key, which is itself inside
  ``archive.tar.gz``                       signed audit archive files
  ``manifest.json``                        SM3 and size of every file, schema heads, row counts
  ``manifest.mac``                         HMAC-SM3 of the manifest under the passphrase-derived key

Without the passphrase a backup cannot be restored (the personal data in it stays sealed) and its
manifest cannot be authenticated, only checked for accidental damage.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from pbshare import __version__
from pbshare.config import Settings
from pbshare.core.clock import utcnow
from pbshare.core.db import Database
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T
from pbshare.security.crypto import algorithms as crypto

FORMAT = "pbshare-backup/1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSPHRASE = 12
COUNTED_TABLES = ("user_account", "unit", "debtor", "bankruptcy_case", "audit_record", "api_client")


def _check_passphrase(passphrase: str | None) -> str:
    if not passphrase or len(passphrase) < MIN_PASSPHRASE:
        raise Invalid(T("备份口令至少 {n} 个字符（用于加密密钥文件，请另行妥善保管）",
                        "The backup passphrase needs at least {n} characters (it encrypts the key files; keep it "
                        "apart from the backup)", n=MIN_PASSPHRASE), code="weak_passphrase")
    return passphrase


def _derive(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode("utf-8"))


def _tar_dir(folder: Path, *, skip_suffixes: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.endswith(skip_suffixes):
                    tar.add(path, arcname=str(path.relative_to(folder)))
    return buf.getvalue()


def _untar(data: bytes, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(target, filter="data")  # no absolute paths, links or devices


def _tool(name: str) -> str:
    """The PostgreSQL client program, by absolute path (PATH first, then Debian's /usr/bin)."""
    found = shutil.which(name) or f"/usr/bin/{name}"
    if not Path(found).exists():
        raise Conflict(T("找不到 {n}：请安装 PostgreSQL 客户端（postgresql-client）", "{n} was not found; install the "
                         "PostgreSQL client (postgresql-client)", n=name), code="pg_tools_missing")
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (which goes in PGPASSWORD, not on the command line)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _sqlite_file(url: str) -> Path:
    """The file behind a SQLite URL; an in-memory database has none to copy."""
    path = make_url(url).database
    if not path or path == ":memory:":
        raise Invalid(T("内存数据库无法备份或恢复", "An in-memory database cannot be backed up or restored"),
                      code="backup_no_file")
    return Path(path)


def _row_counts(database: Database) -> dict[str, int]:
    names = set(inspect(database.engine).get_table_names())
    out = {}
    with database.engine.connect() as conn:
        for table in COUNTED_TABLES:
            if table in names:
                out[table] = conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
    return out


def _heads(database: Database) -> list[str]:
    from pbshare.core import migrate

    return sorted(migrate.current_heads(database.engine))


@dataclass
class BackupReport:
    folder: Path
    ok: bool
    problems: list[str] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)


def create(database: Database, *, passphrase: str, out_dir: Path | None = None,
           progress=lambda step: None) -> Path:
    """Make a backup folder; returns its path."""
    _check_passphrase(passphrase)
    settings = database.settings
    data_dir = settings.resolved_data_dir
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    folder = (out_dir or data_dir / "backups") / f"pbshare-{stamp}"
    if folder.exists():
        raise Conflict(T("备份目录 {p} 已存在", "The backup folder {p} exists already", p=str(folder)))
    folder.mkdir(parents=True)
    os.chmod(folder, 0o700)
    try:
        _fill(folder, database, passphrase=passphrase, progress=progress)
    except (OSError, sqlite3.Error) as exc:
        # A full disk (or a file-size limit) mid-way: no half-written backup is left to be mistaken for one.
        shutil.rmtree(folder, ignore_errors=True)
        raise Conflict(T("备份未能写完（{e}），不完整的备份目录已删除。请为 {d} 腾出空间（或用 --out 换一个位置）后重试",
                         "The backup could not be written completely ({e}); the incomplete folder was removed. Free "
                         "space for {d} (or choose another place with --out) and try again",
                         e=str(exc)[:200] or type(exc).__name__, d=str(folder.parent)), code="backup_failed") from None
    progress("done")
    return folder


def _fill(folder: Path, database: Database, *, passphrase: str, progress) -> None:
    """Write the backup's files into ``folder``: the database, the sealed keys, the archive, the manifest."""
    settings = database.settings
    data_dir = settings.resolved_data_dir
    files: list[Path] = []
    progress("database")
    if database.dialect == "sqlite":
        files.append(_sqlite_copy(_sqlite_file(settings.resolved_database_url), folder / "database.sqlite"))
        for topic in sorted((data_dir / "topics").glob("*.db")):
            (folder / "topics").mkdir(exist_ok=True)
            files.append(_sqlite_copy(topic, folder / "topics" / topic.name))
    elif database.dialect == "postgresql":
        uri, env = _libpq(settings.resolved_database_url)
        target = folder / "database.pgdump"
        done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", f"--dbname={uri}"],  # noqa: S603 - list argv, no shell
                              env=env, capture_output=True, text=True, timeout=6 * 3600, check=False)
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            raise Conflict(T("pg_dump 失败：{e}", "pg_dump failed: {e}",
                             e=done.stderr.strip()[-500:] or _exit_text(done.returncode)), code="backup_failed")
        files.append(target)
    else:
        raise Invalid(T("不支持备份此数据库：{d}", "Backing up {d} is not supported", d=database.dialect))
    progress("keys")
    salt = os.urandom(16)
    key = _derive(passphrase, salt)
    sealed = crypto.encrypt(crypto.SM4_GCM, key, _tar_dir(data_dir / "keys", skip_suffixes=(".tmp",)),
                            aad=FORMAT.encode())
    keys_file = folder / "keys.enc"
    keys_file.write_text(json.dumps({"format": FORMAT, "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                                     "salt": crypto.b64e(salt), "sealed": sealed.to_text()}), encoding="utf-8")
    files.append(keys_file)
    progress("archive")
    archive_file = folder / "archive.tar.gz"
    archive_file.write_bytes(_tar_dir(data_dir / "archive"))
    files.append(archive_file)
    manifest = {
        "format": FORMAT, "created_at": utcnow().isoformat(), "pbshare_version": __version__,
        "dialect": database.dialect, "schema_heads": _heads(database), "row_counts": _row_counts(database),
        "salt": crypto.b64e(salt),
        "files": {str(p.relative_to(folder)): {"sm3": crypto.sm3_hex(p.read_bytes()), "size": p.stat().st_size}
                  for p in files},
    }
    body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    (folder / "manifest.json").write_bytes(body)
    (folder / "manifest.mac").write_text(crypto.hmac_sm3(key, body).hex(), encoding="ascii")


def _exit_text(code: int) -> str:
    """How a tool that printed nothing ended: a full disk or file-size limit kills it with SIGXFSZ."""
    if code < 0:
        name = signal.Signals(-code).name
        hint = " (file too large / disk full)" if name == "SIGXFSZ" else ""
        return f"killed by {name}{hint}"
    return f"exit status {code}"


def _sqlite_copy(src: Path, dst: Path) -> Path:
    """SQLite's online backup API: a consistent snapshot even while the platform writes."""
    source = sqlite3.connect(str(src))
    target = sqlite3.connect(str(dst))
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    return dst


def verify(folder: Path, *, passphrase: str | None = None) -> BackupReport:
    """SM3 of every file; with the passphrase also the manifest's MAC and that the keys decrypt."""
    folder = Path(folder)
    report = BackupReport(folder=folder, ok=False)
    try:
        body = (folder / "manifest.json").read_bytes()
        manifest = json.loads(body)
    except (OSError, ValueError):
        report.problems.append("manifest.json missing or unreadable")
        return report
    report.manifest = manifest
    if manifest.get("format") != FORMAT:
        report.problems.append(f"unknown format {manifest.get('format')}")
    for name, info in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            report.problems.append(f"{name}: missing")
        elif crypto.sm3_hex(path.read_bytes()) != info["sm3"]:
            report.problems.append(f"{name}: SM3 differs (damaged or changed)")
    if passphrase is not None:
        key = _derive(passphrase, crypto.b64d(manifest["salt"]))
        mac = (folder / "manifest.mac").read_text(encoding="ascii").strip() if (folder / "manifest.mac").exists() else ""
        if not crypto.mac_verify(crypto.HMAC_SM3, key, body, bytes.fromhex(mac or "00")):
            report.problems.append("manifest.mac does not verify: wrong passphrase or a changed manifest")
        else:
            try:
                _open_keys(folder, passphrase)
            except crypto.CryptoError:
                report.problems.append("keys.enc does not decrypt")
    if "database.sqlite" in manifest.get("files", {}) and (folder / "database.sqlite").is_file():
        conn = sqlite3.connect(f"file:{folder / 'database.sqlite'}?mode=ro", uri=True)
        try:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                report.problems.append("database.sqlite: integrity_check failed")
        except sqlite3.DatabaseError as exc:  # damage in the header or the schema: SQLite cannot even check
            report.problems.append(f"database.sqlite: damaged ({exc})")
        finally:
            conn.close()
    if "database.pgdump" in manifest.get("files", {}) and (folder / "database.pgdump").is_file():
        listed = subprocess.run([_tool("pg_restore"), "--list", str(folder / "database.pgdump")], capture_output=True,  # noqa: S603 - list argv, no shell
                                timeout=600, check=False)
        if listed.returncode != 0:
            report.problems.append("database.pgdump: pg_restore cannot read it")
    report.ok = not report.problems
    return report


def _open_keys(folder: Path, passphrase: str) -> bytes:
    doc = json.loads((folder / "keys.enc").read_text(encoding="utf-8"))
    key = _derive(passphrase, crypto.b64d(doc["salt"]))
    return crypto.decrypt(key, crypto.Sealed.from_text(doc["sealed"]), aad=FORMAT.encode())


def _is_empty(database: Database) -> bool:
    names = set(inspect(database.engine).get_table_names())
    if not names or names == {"alembic_version"}:
        return True
    if "user_account" in names:
        with database.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM user_account")).scalar_one() == 0 and \
                conn.execute(text("SELECT count(*) FROM audit_record")).scalar_one() == 0
    return False


def restore(folder: Path, *, settings: Settings, passphrase: str, progress=lambda step: None) -> dict:
    """Restore onto an empty instance (no users, no audit records); returns the manifest's row counts."""
    folder = Path(folder)
    report = verify(folder, passphrase=passphrase)
    if not report.ok:
        raise Invalid(T("备份校验未通过，未做任何恢复：{p}", "The backup did not verify; nothing was restored: {p}",
                        p="; ".join(report.problems)[:500]), code="backup_invalid")
    manifest = report.manifest
    target = Database.from_settings(settings)
    try:
        if target.dialect != manifest["dialect"]:
            raise Invalid(T("备份来自 {a}，目标是 {b}：请恢复到同类数据库", "The backup is from {a} but the target is {b}; "
                            "restore onto the same kind of database", a=manifest["dialect"], b=target.dialect),
                          code="backup_dialect_mismatch")
        if not _is_empty(target):
            raise Conflict(T("目标实例不是空的（已有用户或审计记录），为防止覆盖已停止；请准备一个空数据库",
                             "The target instance is not empty (it has users or audit records); stopped to avoid "
                             "overwriting it. Prepare an empty database"), code="restore_target_not_empty")
        data_dir = settings.resolved_data_dir
        progress("database")
        if target.dialect == "sqlite":
            target.dispose()
            db_path = _sqlite_file(settings.resolved_database_url)
            for suffix in ("", "-wal", "-shm"):
                Path(str(db_path) + suffix).unlink(missing_ok=True)
            _sqlite_copy(folder / "database.sqlite", db_path)
            for topic in sorted((folder / "topics").glob("*.db")):
                (data_dir / "topics").mkdir(parents=True, exist_ok=True)
                _sqlite_copy(topic, data_dir / "topics" / topic.name)
        else:
            uri, env = _libpq(settings.resolved_database_url)
            with target.engine.begin() as conn:  # a migrated-but-empty target: clear it for pg_restore
                for table in inspect(target.engine).get_table_names():
                    conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
                conn.execute(text("DROP FUNCTION IF EXISTS audit_record_append_only() CASCADE"))
            target.dispose()
            done = subprocess.run([_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction",  # noqa: S603 - list argv, no shell
                                   f"--dbname={uri}", str(folder / "database.pgdump")], env=env, capture_output=True,
                                  text=True, timeout=6 * 3600, check=False)
            if done.returncode != 0:
                raise Conflict(T("pg_restore 失败：{e}", "pg_restore failed: {e}", e=done.stderr.strip()[-500:]),
                               code="restore_failed")
        progress("keys")
        keys_dir = data_dir / "keys"
        if keys_dir.exists() and any(keys_dir.iterdir()):
            aside = data_dir / f"keys.before-restore-{utcnow().strftime('%Y%m%d%H%M%S')}"
            keys_dir.rename(aside)
        _untar(_open_keys(folder, passphrase), keys_dir)
        os.chmod(keys_dir, 0o700)
        for path in keys_dir.rglob("*"):
            if path.is_file():
                os.chmod(path, 0o600)
        _untar((folder / "archive.tar.gz").read_bytes(), data_dir / "archive")
        from pbshare.security.crypto.pii import vault_for

        vault_for.cache_clear()
        progress("migrate")
        fresh = Database.from_settings(settings)
        try:
            from pbshare.core import migrate

            migrate.upgrade(fresh.engine)
            counts = _row_counts(fresh)
        finally:
            fresh.dispose()
    finally:
        target.dispose()
    return counts
