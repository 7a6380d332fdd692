"""Exports of personal data: the same masking as on screen, and an audit record for every export.

Any domain that lets a user download rows (Excel, CSV) builds them through ``masked_workbook`` so
identifiers leave the platform masked (``440301********1234``) and the export is in the audit log
with who, what, how many rows and the stated purpose.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from pbshare.core.sheets import sheet_title, worksheet_value
from pbshare.security.audit import service as audit
from pbshare.security.crypto.pii import mask
from pbshare.units.principal import Principal


@dataclass(frozen=True)
class ExportColumn:
    key: str  # key in each row dict
    title: str  # header shown in the file ("证件号码 / ID number")
    pii_kind: str | None = None  # "cn_ric", "phone", "address", "uscc", "name", ...: masked on export


def mask_row(row: dict[str, Any], columns: list[ExportColumn]) -> list[Any]:
    out = []
    for col in columns:
        value = row.get(col.key)
        if col.pii_kind and isinstance(value, str):
            value = mask(value, col.pii_kind)
        elif isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        out.append(value)
    return out


def masked_workbook(
    db: Session, *, principal: Principal | None, sheet: str, columns: list[ExportColumn],
    rows: Iterable[dict[str, Any]], object_type: str, purpose: str | None = None, ip: str | None = None,
    action: str = "data.export",
) -> tuple[bytes, int]:
    """An .xlsx of ``rows`` with every PII column masked; records ``action`` in the audit log."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title(sheet))
    ws.append([worksheet_value(c.title) for c in columns])
    count = 0
    for row in rows:
        ws.append([worksheet_value(v) for v in mask_row(row, columns)])
        count += 1
    buf = io.BytesIO()
    wb.save(buf)
    audit.record(db, action=action, principal=principal, object_type=object_type, purpose=purpose, ip=ip,
                 detail={"rows": count, "columns": [c.key for c in columns],
                         "masked": [c.key for c in columns if c.pii_kind]})
    return buf.getvalue(), count
