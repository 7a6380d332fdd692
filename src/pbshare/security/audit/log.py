"""The auditor's side of the audit log: search, Excel export, and archiving old records to signed files.

Archiving never drops a record silently: the records older than the online period (at least 180
days) are written to ``<data_dir>/archive/audit/audit-<from>-<to>.jsonl.gz``, the file's SM3 and an
HMAC-SM3 over the checkpoint (keyed by the wrapped data key ``audit.key``) are stored beside it and
in ``audit_archive``, and only then are the rows removed, in the same transaction that records the
checkpoint (on PostgreSQL the append-only trigger lets exactly that transaction delete).
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, func, select, text
from sqlalchemy.orm import Session

from pbshare.core.clock import LOCAL_TZ, as_utc, utcnow
from pbshare.core.errors import Conflict, Invalid, TooLarge
from pbshare.core.i18n import T
from pbshare.core.jcs import jcs
from pbshare.core.pagination import PageParams, paginate
from pbshare.security.audit.models import AuditArchive, AuditRefusalTally
from pbshare.security.audit.service import (
    GENESIS,
    AuditRecord,
    audit_key,
    canonical,
    checkpoint_bytes,
    checkpoint_mac_ok,
    record,
)
from pbshare.security.crypto import algorithms as crypto

EXPORT_MAX_ROWS = 100_000
MIN_ONLINE_DAYS = 180


@dataclass
class AuditFilter:
    user: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    result: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_detail(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items() if v}


def _query(f: AuditFilter) -> Select:
    stmt = select(AuditRecord).order_by(AuditRecord.seq.desc())
    if f.user:
        stmt = stmt.where(AuditRecord.actor_name == f.user)
    if f.action:
        # "auth" finds auth.login, auth.totp_enrol, ...; "auth.login" finds exactly that
        stmt = stmt.where((AuditRecord.action == f.action) | AuditRecord.action.startswith(f.action + ".",
                                                                                           autoescape=True))
    if f.object_type:
        stmt = stmt.where(AuditRecord.object_type == f.object_type)
    if f.object_id:
        stmt = stmt.where(AuditRecord.object_id == f.object_id)
    if f.result:
        stmt = stmt.where(AuditRecord.result == f.result)
    if f.since:
        stmt = stmt.where(AuditRecord.at >= f.since)
    if f.until:
        stmt = stmt.where(AuditRecord.at < f.until)
    return stmt


def search(db: Session, *, f: AuditFilter, params: PageParams) -> tuple[list[AuditRecord], int]:
    return paginate(db, _query(f), params)


def _local(value: datetime) -> str:
    return as_utc(value).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


EXPORT_COLUMNS = [
    ("seq", "序号", "Seq"), ("at", "时间（北京时间）", "Time (Beijing)"), ("actor_name", "用户", "User"),
    ("unit_code", "单位", "Unit"), ("ip", "来源地址", "From"), ("action", "操作", "Action"),
    ("object_type", "对象类型", "Object type"), ("object_id", "对象", "Object"), ("result", "结果", "Result"),
    ("purpose", "用途", "Purpose"), ("detail", "详情", "Detail"), ("hash", "SM3 链哈希", "SM3 chain hash"),
]


def export_xlsx(db: Session, *, f: AuditFilter) -> tuple[bytes, int]:
    """An Excel file of the matching records (identifiers already scrubbed when recorded)."""
    from openpyxl import Workbook

    total = db.scalar(select(func.count()).select_from(_query(f).order_by(None).subquery())) or 0
    if total > EXPORT_MAX_ROWS:
        raise TooLarge(T("匹配 {n} 条，超过导出上限 {m} 条，请缩小时间范围", "{n} records match, more than the export "
                         "limit of {m}; narrow the time range", n=total, m=EXPORT_MAX_ROWS), code="export_too_large")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("审计日志 audit log")
    ws.append([f"{zh} / {en}" for _, zh, en in EXPORT_COLUMNS])
    count = 0
    for rec in db.scalars(_query(f).execution_options(yield_per=1000)):
        row = []
        for name, _, _ in EXPORT_COLUMNS:
            value = getattr(rec, name)
            if name == "at":
                value = _local(value)
            elif name == "detail":
                value = json.dumps(value, ensure_ascii=False)[:30000]
            row.append(value)
        ws.append(row)
        count += 1
    info = wb.create_sheet("导出说明 about")
    info.append(["导出时间 / exported at", _local(utcnow())])
    info.append(["条件 / filter", json.dumps(f.as_detail(), ensure_ascii=False)])
    info.append(["条数 / rows", count])
    info.append([None])
    info.append(["个人标识已在记录时脱敏 / identifiers were masked when recorded"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), count


# archive --------------------------------------------------------------------------------------------
def _record_dict(rec: AuditRecord) -> dict:
    out = json.loads(canonical(rec))
    out["hash"] = rec.hash
    return out


@dataclass
class ArchiveResult:
    count: int
    from_seq: int | None = None
    to_seq: int | None = None
    file: str | None = None


def archive(db: Session, *, data_dir: Path, older_than_days: int, actor: str = "system",
            now: datetime | None = None) -> ArchiveResult:
    """Move records older than ``older_than_days`` (at least 180) to a signed file; the chain stays verifiable."""
    if older_than_days < MIN_ONLINE_DAYS:
        raise Invalid(T("审计日志至少在线保存 {n} 天", "Audit records stay online for at least {n} days",
                        n=MIN_ONLINE_DAYS), code="audit_retention_too_short")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    last = db.scalars(select(AuditArchive).order_by(AuditArchive.to_seq.desc()).limit(1)).first()
    start_seq, prev_hash = (last.to_seq + 1, last.last_hash) if last else (1, GENESIS)
    to_seq = db.scalar(select(func.max(AuditRecord.seq)).where(AuditRecord.at < cutoff, AuditRecord.seq >= start_seq))
    if to_seq is None:
        return ArchiveResult(count=0)
    rows = list(db.scalars(select(AuditRecord).where(AuditRecord.seq >= start_seq, AuditRecord.seq <= to_seq)
                           .order_by(AuditRecord.seq)))
    # Never archive a chain that is already broken: the auditor must see the break first.
    expected = start_seq
    for rec in rows:
        if rec.seq != expected or rec.prev_hash != prev_hash or crypto.sm3_hex(canonical(rec)) != rec.hash:
            raise Conflict(T("审计链在第 {s} 条处不完整，已停止归档；请先运行 pbshare audit verify 查明原因",
                             "The audit chain is broken at record {s}; archiving stopped. Run `pbshare audit verify` "
                             "first", s=expected), code="audit_chain_broken")
        prev_hash, expected = rec.hash, rec.seq + 1
    lines = "".join(json.dumps(_record_dict(r), ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    body = gzip.compress(lines.encode("utf-8"), mtime=0)
    folder = Path(data_dir) / "archive" / "audit"
    folder.mkdir(parents=True, exist_ok=True)
    file_name = f"audit-{start_seq:012d}-{to_seq:012d}.jsonl.gz"
    file_sm3 = crypto.sm3_hex(body)
    fields: dict[str, Any] = {"file_name": file_name, "file_sm3": file_sm3, "from_seq": start_seq,
                              "to_seq": to_seq, "count": len(rows), "last_hash": prev_hash}
    mac = crypto.hmac_sm3(audit_key(Path(data_dir)), checkpoint_bytes(**fields)).hex()
    (folder / file_name).write_bytes(body)
    (folder / (file_name + ".sig.json")).write_text(json.dumps({**fields, "alg": "HMAC-SM3", "key": "audit",
                                                                "mac": mac}, indent=2), encoding="utf-8")
    db.add(AuditArchive(**fields, mac=mac, created_by=actor))
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL pbshare.audit_archiving = 'on'"))
    db.execute(delete(AuditRecord).where(AuditRecord.seq >= start_seq, AuditRecord.seq <= to_seq)
               .execution_options(synchronize_session=False))
    for rec in rows:
        db.expunge(rec)  # gone from the table; SQLite may even reuse their row ids
    # their repeat counts go with them (the archive keeps the records; counts beside the chain are not kept)
    db.execute(delete(AuditRefusalTally).where(AuditRefusalTally.record_seq <= to_seq))
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL pbshare.audit_archiving = 'off'"))
    record(db, action="audit.archive", actor_name=actor, object_type="audit_archive", object_id=file_name,
           detail={"from_seq": start_seq, "to_seq": to_seq, "count": len(rows), "sm3": file_sm3})
    db.flush()
    return ArchiveResult(count=len(rows), from_seq=start_seq, to_seq=to_seq, file=str(folder / file_name))


def verify_archives(db: Session, *, data_dir: Path) -> list[dict]:
    """Check every archive file: present, SM3 matches, checkpoint MAC good, records chained inside."""
    out = []
    prev_hash = GENESIS
    for row in db.scalars(select(AuditArchive).order_by(AuditArchive.from_seq)):
        path = Path(data_dir) / "archive" / "audit" / row.file_name
        problem = None
        if not path.exists():
            problem = "file missing"
        elif crypto.sm3_hex(path.read_bytes()) != row.file_sm3:
            problem = "file changed (SM3 differs)"
        elif not checkpoint_mac_ok(data_dir, row):
            problem = "checkpoint signature does not verify"
        else:
            for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
                rec = json.loads(line)
                stored = rec.pop("hash")
                if rec["prev_hash"] != prev_hash or crypto.sm3_hex(jcs(rec)) != stored:
                    problem = f"record {rec['seq']} inside the file does not chain"
                    break
                prev_hash = stored
        if problem:
            prev_hash = row.last_hash
        out.append({"file": row.file_name, "from_seq": row.from_seq, "to_seq": row.to_seq, "ok": problem is None,
                    "problem": problem})
    return out
