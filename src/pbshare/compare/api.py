"""Routes for delivery comparisons and record history (``/api/v1/compare``). Values are masked unless
``unmask=true`` with a ``purpose`` (needs ``pii:unmask``); every read is audited in the service."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from pbshare.compare import service
from pbshare.compare.deps import CompareReader
from pbshare.compare.schemas import AsOfOut, ComparisonOut, ComparisonPage, HistoryOut, RowPage, TargetOut
from pbshare.core.errors import Invalid
from pbshare.core.http import DataDir, DbSession
from pbshare.core.i18n import T
from pbshare.core.pagination import MAX_PAGE, MAX_SIZE
from pbshare.warehouse import service as warehouse

router = APIRouter(prefix="/compare", tags=["compare"])

Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="页码 / page number")]
Size = Annotated[int, Query(ge=1, le=MAX_SIZE, description="每页条数 / page size")]
Unmask = Annotated[bool, Query(description="显示完整个人信息（需 pii:unmask 与用途） / show in full")]
Purpose = Annotated[str | None, Query(max_length=200, description="查看完整信息的用途 / why, when unmasking")]
Target = Annotated[str, Query(min_length=3, max_length=130, description="专题库.表 / topic.table")]
Unit = Annotated[str | None, Query(max_length=32, description="数源单位代码 / unit code")]


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _key(raw: str | None) -> Any:
    """A key as a JSON object ``{"col": "value"}``, a JSON list, or one plain value for a one-column key."""
    if raw is None or raw == "":
        return None
    text = raw.strip()
    if text.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise Invalid(T("主键格式不对：请给出 JSON 对象，如 {\"id_no\": \"…\"}，或单个值",
                            "The key is not valid: give a JSON object such as {\"id_no\": \"…\"} or one value"),
                          code="compare_bad_key") from exc
        if isinstance(value, dict):
            return {str(k): None if v is None else str(v) for k, v in value.items()}
        if isinstance(value, list):
            return [None if v is None else str(v) for v in value]
    return text


@router.get("/comparisons", response_model=ComparisonPage, summary="交付比对列表 / comparisons of deliveries")
def list_comparisons(principal: CompareReader, db: DbSession,
                     target: Annotated[str | None, Query(max_length=130)] = None, unit: Unit = None,
                     delivery_id: Annotated[str | None, Query(max_length=64)] = None,
                     page: Page = 1, size: Size = 20) -> ComparisonPage:
    items, total = service.list_comparisons(db, principal=principal, target=target, unit_code=unit,
                                            delivery_id=delivery_id, page=page, size=size)
    labels = {c.target: _label(db, c.target) for c in items}
    return ComparisonPage(items=[service.comparison_out(c).model_copy(update={"target_label": labels[c.target]})
                                 for c in items], total=total, page=page, size=size)


@router.get("/comparisons/{comparison_id}", response_model=ComparisonOut, summary="一次比对 / one comparison")
def get_comparison(comparison_id: str, principal: CompareReader, db: DbSession) -> ComparisonOut:
    c = service.get_comparison(db, comparison_id=comparison_id, principal=principal)
    return service.comparison_out(c).model_copy(update={"target_label": _label(db, c.target)})


def _label(db: DbSession, target: str) -> str:
    topic, _, name = target.partition(".")
    return warehouse.table_label(db, topic=topic, name=name)


@router.get("/comparisons/{comparison_id}/rows", response_model=RowPage,
            summary="比对明细（按变化类型、字段筛选） / the records, by change kind and field")
def comparison_rows(comparison_id: str, request: Request, principal: CompareReader, db: DbSession,
                    data_dir: DataDir,
                    kind: Annotated[str | None, Query(pattern="^(added|removed|changed)$")] = None,
                    field: Annotated[str | None, Query(max_length=63)] = None,
                    page: Page = 1, size: Size = 50, unmask: Unmask = False, purpose: Purpose = None) -> dict:
    return service.comparison_rows(db, comparison_id=comparison_id, data_dir=data_dir, principal=principal, kind=kind,
                                   field=field, page=page, size=size, unmask=unmask, purpose=purpose, ip=_ip(request))


@router.get("/comparisons/{comparison_id}/export.xlsx", summary="导出比对 Excel / the comparison as Excel")
def export_excel(comparison_id: str, request: Request, principal: CompareReader, db: DbSession, data_dir: DataDir,
                 kind: Annotated[str | None, Query(pattern="^(added|removed|changed)$")] = None,
                 field: Annotated[str | None, Query(max_length=63)] = None,
                 unmask: Unmask = False, purpose: Purpose = None) -> Response:
    data = service.export_excel(db, comparison_id=comparison_id, data_dir=data_dir, principal=principal, kind=kind,
                                field=field, unmask=unmask, purpose=purpose, ip=_ip(request))
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="comparison-{comparison_id[:8]}.xlsx"'})


@router.get("/targets", response_model=list[TargetOut], summary="有交付历史的表 / tables with delivery history")
def list_targets(principal: CompareReader, db: DbSession) -> list[TargetOut]:
    return service.list_targets(db, principal=principal)


@router.get("/history", response_model=HistoryOut, summary="一条记录的历史版本 / one record's versions")
def record_history(request: Request, principal: CompareReader, db: DbSession, data_dir: DataDir, target: Target,
                   key: Annotated[str, Query(min_length=1, max_length=2000,
                                             description='JSON 对象或单个值 / {"col": "value"} or one value')],
                   unit: Unit = None, unmask: Unmask = False, purpose: Purpose = None) -> dict:
    return service.record_history(db, target=target, key=_key(key), data_dir=data_dir, unit_code=unit,
                                  principal=principal, unmask=unmask, purpose=purpose, ip=_ip(request))


@router.get("/as-of", response_model=AsOfOut, summary="某一时刻的数据状态 / the state as of a date")
def as_of(request: Request, principal: CompareReader, db: DbSession, data_dir: DataDir, target: Target,
          at: Annotated[datetime, Query(description="ISO 日期时间 / ISO date-time")],
          key: Annotated[str | None, Query(max_length=2000)] = None, unit: Unit = None,
          page: Page = 1, size: Size = 50, unmask: Unmask = False, purpose: Purpose = None) -> dict:
    return service.as_of_page(db, target=target, at=at, data_dir=data_dir, key=_key(key), unit_code=unit,
                              principal=principal, page=page, size=size, unmask=unmask, purpose=purpose,
                              ip=_ip(request))
