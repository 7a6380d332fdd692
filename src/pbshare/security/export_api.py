"""Routes under /api/v1/exports: a list on screen saved as Excel (the browser's list tables, app/tables.js).

The browser sends the rows it shows under the current search and order; the server writes the workbook so every
export goes through ``masked_workbook`` (identifier columns masked again, the export in the audit log)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from pbshare.core.http import DbSession
from pbshare.security.deps import CurrentPrincipal
from pbshare.security.exports import ExportColumn, masked_workbook

router = APIRouter(prefix="/exports", tags=["exports"])


class ListColumnIn(BaseModel):
    key: str = Field(max_length=100)
    title: str = Field(max_length=200)
    pii_kind: str | None = Field(None, max_length=20)


class ListExportIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="文件与工作表名 / file and sheet name")
    columns: list[ListColumnIn] = Field(min_length=1, max_length=200)
    rows: list[dict[str, Any]] = Field(max_length=50_000)


@router.post("/xlsx", summary="将列表导出为 Excel / save a list as an Excel file")
def list_xlsx(body: ListExportIn, request: Request, principal: CurrentPrincipal, db: DbSession) -> Response:
    columns = [ExportColumn(key=c.key, title=c.title, pii_kind=c.pii_kind) for c in body.columns]
    sheet = re.sub(r"[\[\]:*?/\\]", " ", body.name).strip() or "sheet"
    data, _ = masked_workbook(db, principal=principal, sheet=sheet, columns=columns, rows=body.rows,
                              object_type="list", action="list.export",
                              ip=request.client.host if request.client else None)
    filename = quote(f"{body.name}.xlsx")
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})
