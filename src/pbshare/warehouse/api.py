"""Routes for topic databases and their tables (``/api/v1/warehouse``)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from pbshare.core.errors import Invalid
from pbshare.core.http import DatabaseDep, DbSession
from pbshare.core.i18n import T
from pbshare.core.pagination import MAX_PAGE, MAX_SIZE
from pbshare.warehouse import service
from pbshare.warehouse.deps import WarehouseReader, WarehouseWriter
from pbshare.warehouse.schemas import TableIn, TableOut, TopicIn, TopicOut

# The session commits before the answer is sent (FastAPI runs yield dependencies' exit after it by
# default), so the page that reads right after a change sees it.
router = APIRouter(prefix="/warehouse", tags=["warehouse"])



@router.get("/topics", response_model=list[TopicOut], summary="专题库 / topic databases")
def list_topics(principal: WarehouseReader, db: DbSession,
                q: Annotated[str | None, Query(max_length=100, description="名称或代码中包含 / part of the name or code")] = None) -> list[TopicOut]:
    counts = service.table_counts(db)
    return [TopicOut(id=t.id, name=t.name, title=t.title, description=t.description, tables=counts.get(t.name, 0),
                     created_by=t.created_by, created_at=t.created_at) for t in service.list_topics(db, q=q)]


@router.post("/topics", response_model=TopicOut, status_code=201, summary="新建专题库 / create a topic database")
def create_topic(body: TopicIn, principal: WarehouseWriter, db: DbSession, database: DatabaseDep) -> TopicOut:
    t = service.create_topic(db, database, name=body.name, title=body.title, description=body.description,
                             principal=principal)
    return TopicOut(id=t.id, name=t.name, title=t.title, description=t.description, created_by=t.created_by,
                    created_at=t.created_at)


@router.get("/tables", response_model=list[TableOut], summary="专题库中的表 / tables")
def list_tables(principal: WarehouseReader, db: DbSession,
                topic: Annotated[str | None, Query(max_length=63)] = None,
                q: Annotated[str | None, Query(max_length=100, description="名称或代码中包含 / part of the name or code")] = None) -> list[TableOut]:
    return [TableOut.model_validate(t, from_attributes=True) for t in service.list_tables(db, topic=topic, q=q)]


@router.post("/topics/{topic}/tables", response_model=TableOut, status_code=201,
             summary="建表（按字段或目录资源的信息项） / create a table from fields or a catalog resource")
def create_table(topic: str, body: TableIn, principal: WarehouseWriter, db: DbSession,
                 database: DatabaseDep) -> TableOut:
    t = service.create_manual_table(db, database, topic=topic, name=body.name, title=body.title,
                                    fields=[f.model_dump() for f in body.fields], key=body.key,
                                    resource_code=body.resource_code, principal=principal)
    return TableOut.model_validate(t, from_attributes=True)


def row_query(
    q: Annotated[str | None, Query(max_length=200, description="任一列包含 / text in any column")] = None,
    where: Annotated[list[str] | None, Query(max_length=20,
                                             description="列=包含的文字 / column=text it contains")] = None,
    sort: Annotated[str | None, Query(max_length=63, description="排序列 / order by this column")] = None,
    order: Annotated[Literal["asc", "desc"], Query(description="升序或降序 / ascending or descending")] = "asc",
) -> service.RowQuery:
    filters = []
    for item in where or []:
        column, sep, text = item.partition("=")
        if not sep or not column:
            raise Invalid(T("筛选条件应写成“列=文字”：{w}", "A filter is written column=text: {w}", w=item), code="bad_filter")
        filters.append((column, text))
    return service.RowQuery(q=q, filters=tuple(filters), sort=sort, desc=order == "desc")


RowQueryDep = Annotated[service.RowQuery, Depends(row_query)]


@router.get("/tables/{topic}/{name}/rows", summary="浏览表数据（个人标识已遮蔽） / browse rows, identifiers masked")
def table_rows(topic: str, name: str, principal: WarehouseReader, db: DbSession, database: DatabaseDep,
               query: RowQueryDep,
               page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
               size: Annotated[int, Query(ge=1, le=MAX_SIZE)] = 50) -> dict:
    return service.table_rows(db, database, topic=topic, name=name, page=page, size=size, principal=principal,
                              query=query)


@router.get("/tables/{topic}/{name}/export.xlsx", summary="导出表数据为 Excel（当前搜索与筛选，个人标识已遮蔽） / "
            "export the searched and filtered rows to Excel, identifiers masked")
def export_rows(topic: str, name: str, principal: WarehouseReader, db: DbSession, database: DatabaseDep,
                query: RowQueryDep) -> Response:
    data, _ = service.export_rows(db, database, topic=topic, name=name, principal=principal, query=query)
    filename = quote(f"{topic}.{name}.xlsx")
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})


@router.delete("/tables/{topic}/{name}", status_code=204, summary="删除表 / drop a table")
def drop_table(topic: str, name: str, principal: WarehouseWriter, db: DbSession, database: DatabaseDep) -> Response:
    service.drop_table(db, database, topic=topic, name=name, principal=principal)
    return Response(status_code=204)
