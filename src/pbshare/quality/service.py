"""Quarantine: keep every rejected row with its line number and reason; show it masked; export it
as an Excel workbook (reason column first) that the user fixes and imports again."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from pbshare.core.clock import utcnow
from pbshare.quality.models import QuarantineRow
from pbshare.security.audit import service as audit
from pbshare.security.crypto import pii
from pbshare.units.principal import Principal

LINE = "__line"
REASON = "__reason"
_LOOKS_PERSONAL = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{15}|1[3-9][0-9]{9}")
LINE_HEADER = "行号/line"
REASON_HEADER = "原因/reason"


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
                        "source_sealed": vault.seal(json.dumps(source, ensure_ascii=False))})
    for start in range(0, len(records), 5000):
        db.execute(insert(QuarantineRow), records[start:start + 5000])
    return len(records)


def count_for_run(db: Session, *, run_id: str) -> int:
    return int(db.scalar(select(func.count()).select_from(QuarantineRow).where(QuarantineRow.run_id == run_id)) or 0)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str) and _LOOKS_PERSONAL.search(value):
        return _LOOKS_PERSONAL.sub(lambda m: pii.mask(m.group(0)) or "", value)
    return value


def rows_for_run(db: Session, *, data_dir: Path, run_id: str, page: int = 1, size: int = 50,
                 masked: bool = True) -> dict:
    vault = pii.vault_for(data_dir)
    stmt = select(QuarantineRow).where(QuarantineRow.run_id == run_id).order_by(QuarantineRow.line_no)
    total = count_for_run(db, run_id=run_id)
    items = []
    columns: list[str] = []
    for row in db.scalars(stmt.limit(size).offset((page - 1) * size)):
        source = json.loads(vault.open(row.source_sealed) or "{}")
        for c in source:
            if c not in columns:
                columns.append(c)
        if masked:
            source = {k: _mask_value(v) for k, v in source.items()}
        items.append({"line": row.line_no, "reason": row.reason, "row": source})
    return {"columns": columns, "items": items, "total": total, "page": page, "size": size}


def export_excel(db: Session, *, data_dir: Path, run_id: str, principal: Principal | None = None) -> bytes:
    """The run's quarantine in clear as .xlsx: line, reason, then the source columns as delivered."""
    from openpyxl import Workbook

    vault = pii.vault_for(data_dir)
    rows = []
    columns: list[str] = []
    stmt = select(QuarantineRow).where(QuarantineRow.run_id == run_id).order_by(QuarantineRow.line_no)
    for row in db.scalars(stmt):
        source = json.loads(vault.open(row.source_sealed) or "{}")
        for c in source:
            if c not in columns:
                columns.append(c)
        rows.append((row.line_no, row.reason, source))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("隔离数据")
    ws.append([LINE_HEADER, REASON_HEADER, *columns])
    for line, reason, source in rows:
        ws.append([line, reason, *[source.get(c) for c in columns]])
    buf = io.BytesIO()
    wb.save(buf)
    audit.record(db, action="quality.quarantine.export", principal=principal, object_type="import_run",
                 object_id=run_id, detail={"rows": len(rows)})
    return buf.getvalue()
