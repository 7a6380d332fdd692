"""Routes for topic databases and their tables (``/api/v1/warehouse``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from pbshare.core.errors import Invalid
from pbshare.core.http import UNIT_OF_WORK
from pbshare.core.i18n import T
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal
from pbshare.warehouse import service
from pbshare.warehouse.models import TableOrigin
from pbshare.warehouse.schemas import TableIn, TableOut, TopicIn, TopicOut

# The session commits before the answer is sent (FastAPI runs yield dependencies' exit after it by
# default), so the page that reads right after a change sees it.
router = APIRouter(prefix="/warehouse", tags=["warehouse"])


@router.get("/topics", response_model=list[TopicOut], summary="专题库 / topic databases")
def list_topics(principal: Principal = Depends(require(Perm.warehouse_read)),
                db: Session = UNIT_OF_WORK) -> list[TopicOut]:
    counts = service.table_counts(db)
    return [TopicOut(id=t.id, name=t.name, title=t.title, description=t.description, tables=counts.get(t.name, 0),
                     created_by=t.created_by, created_at=t.created_at) for t in service.list_topics(db)]


@router.post("/topics", response_model=TopicOut, status_code=201, summary="新建专题库 / create a topic database")
def create_topic(body: TopicIn, request: Request, principal: Principal = Depends(require(Perm.warehouse_write)),
                 db: Session = UNIT_OF_WORK) -> TopicOut:
    t = service.create_topic(db, request.app.state.db, name=body.name, title=body.title,
                             description=body.description, principal=principal)
    return TopicOut(id=t.id, name=t.name, title=t.title, description=t.description, created_by=t.created_by,
                    created_at=t.created_at)


@router.get("/tables", response_model=list[TableOut], summary="专题库中的表 / tables")
def list_tables(topic: str | None = Query(None, max_length=63),
                principal: Principal = Depends(require(Perm.warehouse_read)),
                db: Session = UNIT_OF_WORK) -> list[TableOut]:
    return [TableOut.model_validate(t, from_attributes=True) for t in service.list_tables(db, topic=topic)]


@router.post("/topics/{topic}/tables", response_model=TableOut, status_code=201,
             summary="建表（按字段或目录资源的信息项） / create a table from fields or a catalog resource")
def create_table(topic: str, body: TableIn, request: Request,
                 principal: Principal = Depends(require(Perm.warehouse_write)),
                 db: Session = UNIT_OF_WORK) -> TableOut:
    fields = [f.model_dump() for f in body.fields]
    key = body.key
    if body.resource_code:
        fields, key = service.resource_fields(db, code=body.resource_code)
    if not fields:
        raise Invalid(T("请填写字段或选择目录资源", "Give fields or a catalog resource"), code="no_columns")
    t = service.create_table(db, request.app.state.db, topic=topic, name=body.name, title=body.title, fields=fields,
                             key=key, origin=TableOrigin.manual.value, resource_code=body.resource_code,
                             principal=principal)
    return TableOut.model_validate(t, from_attributes=True)


@router.get("/tables/{topic}/{name}/rows", summary="浏览表数据（个人标识已遮蔽） / browse rows, identifiers masked")
def table_rows(topic: str, name: str, request: Request, page: int = Query(1, ge=1),
               size: int = Query(50, ge=1, le=500), principal: Principal = Depends(require(Perm.warehouse_read)),
               db: Session = UNIT_OF_WORK) -> dict:
    return service.table_rows(db, request.app.state.db, topic=topic, name=name, page=page, size=size,
                              principal=principal)


@router.delete("/tables/{topic}/{name}", status_code=204, summary="删除表 / drop a table")
def drop_table(topic: str, name: str, request: Request, principal: Principal = Depends(require(Perm.warehouse_write)),
               db: Session = UNIT_OF_WORK) -> Response:
    service.drop_table(db, request.app.state.db, topic=topic, name=name, principal=principal)
    return Response(status_code=204)
