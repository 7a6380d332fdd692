"""Routes for topic databases and their tables (``/api/v1/warehouse``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from pbshare.core.http import DatabaseDep, DbSession
from pbshare.core.pagination import MAX_PAGE, MAX_SIZE
from pbshare.warehouse import service
from pbshare.warehouse.deps import WarehouseReader, WarehouseWriter
from pbshare.warehouse.schemas import TableIn, TableOut, TopicIn, TopicOut

# The session commits before the answer is sent (FastAPI runs yield dependencies' exit after it by
# default), so the page that reads right after a change sees it.
router = APIRouter(prefix="/warehouse", tags=["warehouse"])



@router.get("/topics", response_model=list[TopicOut], summary="专题库 / topic databases")
def list_topics(principal: WarehouseReader, db: DbSession) -> list[TopicOut]:
    counts = service.table_counts(db)
    return [TopicOut(id=t.id, name=t.name, title=t.title, description=t.description, tables=counts.get(t.name, 0),
                     created_by=t.created_by, created_at=t.created_at) for t in service.list_topics(db)]


@router.post("/topics", response_model=TopicOut, status_code=201, summary="新建专题库 / create a topic database")
def create_topic(body: TopicIn, principal: WarehouseWriter, db: DbSession, database: DatabaseDep) -> TopicOut:
    t = service.create_topic(db, database, name=body.name, title=body.title, description=body.description,
                             principal=principal)
    return TopicOut(id=t.id, name=t.name, title=t.title, description=t.description, created_by=t.created_by,
                    created_at=t.created_at)


@router.get("/tables", response_model=list[TableOut], summary="专题库中的表 / tables")
def list_tables(principal: WarehouseReader, db: DbSession,
                topic: Annotated[str | None, Query(max_length=63)] = None) -> list[TableOut]:
    return [TableOut.model_validate(t, from_attributes=True) for t in service.list_tables(db, topic=topic)]


@router.post("/topics/{topic}/tables", response_model=TableOut, status_code=201,
             summary="建表（按字段或目录资源的信息项） / create a table from fields or a catalog resource")
def create_table(topic: str, body: TableIn, principal: WarehouseWriter, db: DbSession,
                 database: DatabaseDep) -> TableOut:
    t = service.create_manual_table(db, database, topic=topic, name=body.name, title=body.title,
                                    fields=[f.model_dump() for f in body.fields], key=body.key,
                                    resource_code=body.resource_code, principal=principal)
    return TableOut.model_validate(t, from_attributes=True)


@router.get("/tables/{topic}/{name}/rows", summary="浏览表数据（个人标识已遮蔽） / browse rows, identifiers masked")
def table_rows(topic: str, name: str, principal: WarehouseReader, db: DbSession, database: DatabaseDep,
               page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
               size: Annotated[int, Query(ge=1, le=MAX_SIZE)] = 50) -> dict:
    return service.table_rows(db, database, topic=topic, name=name, page=page, size=size, principal=principal)


@router.delete("/tables/{topic}/{name}", status_code=204, summary="删除表 / drop a table")
def drop_table(topic: str, name: str, principal: WarehouseWriter, db: DbSession, database: DatabaseDep) -> Response:
    service.drop_table(db, database, topic=topic, name=name, principal=principal)
    return Response(status_code=204)
