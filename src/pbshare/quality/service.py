"""Quarantine: keep every rejected row with its line number and reason; show it masked (in clear only to a
holder of ``pii:unmask`` who states a purpose, audited); let a person fix rows where they see them
(edited rows are re-checked and loaded by collect, then marked resolved here); export it as an Excel
workbook (reason column first) that the user fixes and imports again, masked unless unmasked likewise."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from pbshare.core.clock import utcnow
from pbshare.core.errors import Conflict, Forbidden, Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.core.sheets import worksheet_value
from pbshare.quality.models import QuarantineRow
from pbshare.security.audit import service as audit
from pbshare.security.crypto import pii
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

LINE = "__line"
REASON = "__reason"
# Resident IDs (18 or 15 digits), mobile numbers, and unified social credit codes (18 characters with a
# letter) found anywhere in a value, e.g. in a ragged row's raw text.
_LOOKS_PERSONAL = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{15}|1[3-9][0-9]{9}|"
                             r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])")
LINE_HEADER = "行号/line"
REASON_HEADER = "原因/reason"
LOADED, DISCARDED = "loaded", "discarded"
MAX_VALUE = 4000  # characters in one edited cell


@dataclass
class OpenRow:
    """A quarantined row still waiting to be fixed, its source values in clear (server side only)."""

    id: int
    line: int
    reason: str
    source: dict[str, Any]


def quarantine(db: Session, *, data_dir: Path, run_id: str, profile_id: str | None, target: str,
               frame: pl.DataFrame) -> int:
    """Store a batch of bad rows (source columns, ``__line``, ``__reason``); values sealed, they may be personal."""
    if frame.height == 0:
        return 0
    vault = pii.vault_for(data_dir)
    columns = [c for c in frame.columns if c not in (LINE, REASON)]
    now = utcnow()
    records = []
    for rec in frame.iter_rows(named=True):
        source = {c: rec[c] for c in columns}
        records.append({"run_id": run_id, "profile_id": profile_id, "target": target, "line_no": int(rec[LINE]),
                        "reason": rec[REASON], "created_at": now,
                        "source_sealed": vault.seal(json.dumps(source, ensure_ascii=False, default=str))})
    for start in range(0, len(records), 5000):
        db.execute(insert(QuarantineRow), records[start:start + 5000])
    return len(records)


def _open(run_id: str) -> Any:
    return select(QuarantineRow).where(QuarantineRow.run_id == run_id, QuarantineRow.resolution.is_(None))


def count_for_run(db: Session, *, run_id: str) -> int:
    """Rows still in quarantine (not yet fixed and loaded, nor discarded)."""
    stmt = select(func.count()).select_from(QuarantineRow).where(QuarantineRow.run_id == run_id,
                                                                 QuarantineRow.resolution.is_(None))
    return int(db.scalar(stmt) or 0)


# --------------------------------------------------------------------------- masking
def _mask_found(m: re.Match[str]) -> str:
    text = m.group(0)
    kind = "uscc" if re.search(r"[A-Z]", text[:17]) else ""
    return pii.mask(text, kind) or ""


def mask_value(value: Any, kind: str | None = None) -> Any:
    """A value as shown without ``pii:unmask``: a personal column's whole value masked by its kind, any
    identifier or phone found in other text masked where it stands."""
    if not isinstance(value, str) or not value.strip():
        return value
    if kind is not None:  # "" for a personal column of no particular kind: half of it hidden
        return pii.mask(value, kind)
    return _LOOKS_PERSONAL.sub(_mask_found, value)


def mask_row(source: dict[str, Any], kinds: dict[str, str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The row masked, and the columns whose shown value differs from the stored one (not to be written back)."""
    shown, masked = {}, []
    for column, value in source.items():
        shown[column] = mask_value(value, (kinds or {}).get(column))
        if shown[column] != value:
            masked.append(column)
    return shown, masked


def check_unmask(principal: Principal | None, *, unmask: bool, purpose: str | None) -> str | None:
    """The stated purpose when identifiers are to be shown in clear; refused without the permission or a purpose."""
    if not unmask:
        return None
    if principal is not None and not principal.has(Perm.pii_unmask):
        raise Forbidden(T("查看完整证件号码需要“查看完整个人标识”权限（pii:unmask），请联系安全管理员",
                          "Showing identifiers in full needs the pii:unmask permission; ask the security administrator"),
                        code="unmask_forbidden")
    text = (purpose or "").strip()
    if len(text) < 4:
        raise Invalid(T("查看或下载完整证件号码须说明用途（至少 4 个字，将被审计记录），请在 purpose 参数中填写；"
                        "不需要完整号码时去掉 unmask 参数即可看到遮蔽后的数据",
                        "Showing or downloading identifiers in full needs a purpose (at least 4 characters; it is "
                        "audited): give it in the purpose parameter, or leave out unmask to see the data masked"),
                      code="purpose_required")
    return text[:200]


# --------------------------------------------------------------------------- reading
def rows_for_run(db: Session, *, data_dir: Path, run_id: str, page: int = 1, size: int = 50, masked: bool = True,
                 kinds: dict[str, str] | None = None, principal: Principal | None = None,
                 purpose: str | None = None) -> dict:
    """One page of the run's open quarantine: each row's id, line, reason and values (masked unless
    ``masked`` is false), and which cells are masked. Every reading is audited, with its purpose."""
    vault = pii.vault_for(data_dir)
    total = count_for_run(db, run_id=run_id)
    items = []
    columns: list[str] = []
    stmt = _open(run_id).order_by(QuarantineRow.line_no, QuarantineRow.id)
    for row in db.scalars(stmt.limit(size).offset((page - 1) * size)):
        source = json.loads(vault.open(row.source_sealed) or "{}")
        for c in source:
            if c not in columns:
                columns.append(c)
        hidden: list[str] = []
        if masked:
            source, hidden = mask_row(source, kinds)
        items.append({"id": row.id, "line": row.line_no, "reason": row.reason, "row": source, "masked": hidden})
    audit.record(db, action="quality.quarantine.view", principal=principal, object_type="import_run",
                 object_id=run_id, purpose=purpose, detail={"rows": len(items), "masked": masked})
    return {"columns": columns, "items": items, "total": total, "page": page, "size": size, "masked": masked}


def open_rows(db: Session, *, data_dir: Path, run_id: str, ids: list[int]) -> list[OpenRow]:
    """The named rows of the run's open quarantine, in clear; refused if one is gone (fixed meanwhile)."""
    vault = pii.vault_for(data_dir)
    wanted = list(dict.fromkeys(ids))
    rows = list(db.scalars(_open(run_id).where(QuarantineRow.id.in_(wanted)).order_by(QuarantineRow.line_no)))
    if len(rows) != len(wanted):
        raise NotFound(T("有的行已不在本次导入的隔离区中（可能已被修正装载或放弃），请刷新页面",
                         "Some rows are no longer in this run's quarantine (fixed, loaded or discarded meanwhile); "
                         "reload the page"), code="quarantine_row_gone",
                       detail={"missing": sorted(set(wanted) - {r.id for r in rows})[:50]})
    return [OpenRow(id=r.id, line=r.line_no, reason=r.reason, source=json.loads(vault.open(r.source_sealed) or "{}"))
            for r in rows]


# --------------------------------------------------------------------------- fixing
def resolve(db: Session, *, run_id: str, ids: list[int], how: str, principal: Principal | None) -> int:
    """Mark rows resolved (``loaded`` or ``discarded``) with who and when; refused if another person got
    there first, so no row is loaded twice."""
    if not ids:
        return 0
    done = db.execute(update(QuarantineRow).where(QuarantineRow.run_id == run_id, QuarantineRow.id.in_(ids),
                                                  QuarantineRow.resolution.is_(None))
                      .values(resolution=how, resolved_at=utcnow(),
                              resolved_by=principal.username if principal else None)
                      .execution_options(synchronize_session=False))
    if done.rowcount != len(set(ids)):  # type: ignore[attr-defined]
        raise Conflict(T("有的行刚被其他人处理过，本次未做任何修改，请刷新页面后重试",
                         "Someone else has just handled some of these rows; nothing was changed. Reload the page "
                         "and try again"), code="quarantine_changed")
    return len(set(ids))


def keep_edits(db: Session, *, data_dir: Path, run_id: str, rows: list[OpenRow]) -> int:
    """Store edited rows that are still bad with their values and new reason, so the work is not lost."""
    vault = pii.vault_for(data_dir)
    for row in rows:
        db.execute(update(QuarantineRow).where(QuarantineRow.run_id == run_id, QuarantineRow.id == row.id)
                   .values(reason=row.reason,
                           source_sealed=vault.seal(json.dumps(row.source, ensure_ascii=False, default=str)))
                   .execution_options(synchronize_session=False))
    return len(rows)


def resolved_rows(db: Session, *, run_id: str) -> dict[str, int]:
    """How many of the run's quarantined rows were resolved, by how."""
    stmt = select(QuarantineRow.resolution, func.count()).where(QuarantineRow.run_id == run_id,
                                                               QuarantineRow.resolution.is_not(None)) \
        .group_by(QuarantineRow.resolution)
    return {str(how): int(n) for how, n in db.execute(stmt).all()}


# --------------------------------------------------------------------------- the workbook
def export_excel(db: Session, *, data_dir: Path, run_id: str, principal: Principal | None = None,
                 masked: bool = True, kinds: dict[str, str] | None = None, purpose: str | None = None) -> bytes:
    """The run's open quarantine as .xlsx: line, reason, then the source columns as delivered; identifiers
    masked unless ``masked`` is false (the caller checked the permission and the purpose). Audited."""
    from openpyxl import Workbook

    vault = pii.vault_for(data_dir)
    rows = []
    columns: list[str] = []
    for row in db.scalars(_open(run_id).order_by(QuarantineRow.line_no, QuarantineRow.id)):
        source = json.loads(vault.open(row.source_sealed) or "{}")
        for c in source:
            if c not in columns:
                columns.append(c)
        if masked:
            source, _ = mask_row(source, kinds)
        rows.append((row.line_no, row.reason, source))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("隔离数据")
    ws.append([LINE_HEADER, REASON_HEADER, *columns])
    for line, reason, source in rows:
        ws.append([line, worksheet_value(reason), *[worksheet_value(source.get(c)) for c in columns]])
    buf = io.BytesIO()
    wb.save(buf)
    audit.record(db, action="quality.quarantine.export", principal=principal, object_type="import_run",
                 object_id=run_id, purpose=purpose, detail={"rows": len(rows), "masked": masked})
    return buf.getvalue()


def quarantined_lines(db: Session, *, run_id: str) -> set[int]:
    """Line numbers of the run's rows in quarantine (open or fixed since), without reading their values."""
    return {int(n) for n in db.scalars(select(QuarantineRow.line_no).where(QuarantineRow.run_id == run_id))}


def open_by_run(db: Session, *, limit: int = 10) -> list[dict[str, Any]]:
    """Runs with rows still waiting in quarantine (most waiting first): run id, target, how many."""
    stmt = (select(QuarantineRow.run_id, QuarantineRow.target, func.count()).where(QuarantineRow.resolution.is_(None))
            .group_by(QuarantineRow.run_id, QuarantineRow.target).order_by(func.count().desc()).limit(limit))
    return [{"run_id": r, "target": t, "rows": int(n)} for r, t, n in db.execute(stmt).all()]
