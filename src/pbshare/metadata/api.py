"""Routes under /api/v1/metadata: data sources, harvests, the data dictionary, metadata types, lineage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from pbshare.core.errors import Invalid
from pbshare.core.http import DataDir, DbSession, SettingsDep
from pbshare.core.i18n import T
from pbshare.metadata import service
from pbshare.metadata.schemas import (
    HarvestOut,
    LineageIn,
    ObjectOut,
    SourceIn,
    SourceOut,
    SourceUpdate,
    TestResult,
    TypeIn,
    TypeOut,
)
from pbshare.security.audit import service as audit
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

if TYPE_CHECKING:  # annotations only: routes reach tables through the service
    from pbshare.metadata.models import DataSource, Harvest, MetaObject, MetaType

router = APIRouter(prefix="/metadata", tags=["metadata"])

MetadataReader = Annotated[Principal, Depends(require(Perm.metadata_read))]
MetadataWriter = Annotated[Principal, Depends(require(Perm.metadata_write))]


def _source_out(db: Session, s: DataSource) -> SourceOut:
    tables = service.count_tables(db, source_id=s.id)
    return SourceOut(id=s.id, name=s.name, dialect=s.dialect, url=s.url_display, schema_name=s.schema_name,
                     description=s.description, last_tested_at=s.last_tested_at, last_test_ok=s.last_test_ok,
                     last_test_message=s.last_test_message, last_harvest_at=s.last_harvest_at, tables=tables)


def _harvest_out(h: Harvest) -> HarvestOut:
    return HarvestOut(id=h.id, source_id=h.source_id, started_at=h.started_at, finished_at=h.finished_at, ok=h.ok,
                      tables=h.tables, columns=h.columns, changes=h.changes or [], error=h.error)


def _object_out(o: MetaObject) -> ObjectOut:
    return ObjectOut(id=o.id, type_code=o.type_code, name=o.name, qualified_name=o.qualified_name, comment=o.comment,
                     harvested=o.harvested or {}, attributes=o.attributes or {}, removed=o.removed,
                     first_seen_at=o.first_seen_at, last_seen_at=o.last_seen_at)


# ---------------------------------------------------------------- sources


@router.get("/sources", response_model=list[SourceOut], summary="数据源 / data sources (passwords hidden)")
def list_sources(principal: MetadataReader, db: DbSession) -> list[SourceOut]:
    return [_source_out(db, s) for s in service.list_sources(db)]


@router.post("/sources", response_model=SourceOut, status_code=201, summary="登记数据源 / add a data source")
def add_source(body: SourceIn, principal: MetadataWriter, db: DbSession, data_dir: DataDir,
               settings: SettingsDep) -> SourceOut:
    s = service.add_source(db, data_dir=data_dir, name=body.name, url=body.url, schema_name=body.schema_name,
                           description=body.description, principal=principal,
                           platform=service.platform_databases(settings))
    return _source_out(db, s)


@router.get("/sources/{source_id}", response_model=SourceOut, summary="数据源详情 / one data source")
def get_source(source_id: str, principal: MetadataReader, db: DbSession) -> SourceOut:
    return _source_out(db, service.get_source(db, source_id=source_id))


@router.put("/sources/{source_id}", response_model=SourceOut, summary="修改数据源 / change a data source")
def update_source(source_id: str, body: SourceUpdate, principal: MetadataWriter, db: DbSession,
                  data_dir: DataDir, settings: SettingsDep) -> SourceOut:
    s = service.update_source(db, data_dir=data_dir, source_id=source_id, url=body.url,
                              schema_name=body.schema_name, description=body.description, principal=principal,
                              platform=service.platform_databases(settings))
    return _source_out(db, s)


@router.delete("/sources/{source_id}", status_code=204, summary="删除数据源 / delete a data source")
def delete_source(source_id: str, principal: MetadataWriter, db: DbSession) -> Response:
    service.delete_source(db, source_id=source_id, principal=principal)
    return Response(status_code=204)


@router.post("/sources/{source_id}/test", response_model=TestResult, summary="测试连接 / test the connection")
def test_source(source_id: str, principal: MetadataWriter, db: DbSession, data_dir: DataDir,
                settings: SettingsDep) -> dict:
    return service.test_source(db, source_id=source_id, data_dir=data_dir, principal=principal,
                               platform=service.platform_databases(settings))


@router.post("/sources/{source_id}/harvest", response_model=HarvestOut,
             summary="采集表、字段、键和行数 / harvest tables, columns, keys and row counts")
def harvest(source_id: str, principal: MetadataWriter, db: DbSession, data_dir: DataDir,
            settings: SettingsDep) -> HarvestOut:
    with audit.refusals_recorded(db, action="metadata.harvest", codes={"source_is_platform"}, principal=principal,
                                 object_type="data_source", object_id=source_id):
        return _harvest_out(service.harvest(db, source_id=source_id, data_dir=data_dir, principal=principal,
                                            platform=service.platform_databases(settings)))


@router.get("/sources/{source_id}/harvests", response_model=list[HarvestOut], summary="采集记录及变化 / harvests")
def harvests(source_id: str, principal: MetadataReader, db: DbSession) -> list[HarvestOut]:
    return [_harvest_out(h) for h in service.list_harvests(db, source_id=source_id)]


@router.get("/sources/{source_id}/tables", response_model=list[ObjectOut], summary="已采集的表 / harvested tables")
def tables(source_id: str, principal: MetadataReader, db: DbSession) -> list[ObjectOut]:
    return [_object_out(o) for o in service.source_tables(db, source_id=source_id)]


# ---------------------------------------------------------------- objects and dictionary


@router.get("/objects/{object_id}", summary="元数据对象及其下级 / one object and its children")
def get_object(object_id: str, principal: MetadataReader, db: DbSession) -> dict:
    o = service.get_object(db, object_id=object_id)
    return {**_object_out(o).model_dump(), "children": [_object_out(c).model_dump()
                                                        for c in service.children(db, object_id=o.id)]}


@router.put("/objects/{object_id}/attributes", response_model=ObjectOut,
            summary="填写自定义属性 / fill the admin-defined attributes")
def set_attributes(object_id: str, body: dict, principal: MetadataWriter, db: DbSession) -> ObjectOut:
    return _object_out(service.set_object_attributes(db, object_id=object_id, values=body, principal=principal))


@router.get("/dictionary", summary="数据字典检索 / search the data dictionary (tables, columns, info items)")
def dictionary(q: Annotated[str, Query(min_length=1, max_length=100)], principal: MetadataReader, db: DbSession,
               kind: Annotated[str | None, Query(max_length=32)] = None) -> list:
    return service.search_dictionary(db, q=q, type_code=kind)


# ---------------------------------------------------------------- types


def _type_out(t: MetaType) -> TypeOut:
    return TypeOut(id=t.id, code=t.code, name_zh=t.name_zh, name_en=t.name_en, builtin=t.builtin,
                   attributes=t.attributes or [])


@router.get("/types", response_model=list[TypeOut], summary="元数据类型 / metadata types")
def types(principal: MetadataReader, db: DbSession) -> list[TypeOut]:
    return [_type_out(t) for t in service.list_types(db)]


@router.put("/types/{code}", response_model=TypeOut, summary="定义类型及属性 / define a type and its attributes")
def save_type(code: str, body: TypeIn, principal: MetadataWriter, db: DbSession) -> TypeOut:
    if not code.replace("_", "").isalnum() or len(code) > 32:
        raise Invalid(T("类型代码只能含字母、数字和下划线", "A type code has letters, digits and underscores only"),
                      code="bad_code")
    return _type_out(service.save_type(db, code=code, name_zh=body.name_zh, name_en=body.name_en,
                                       attributes=[a.model_dump() for a in body.attributes], principal=principal))


@router.delete("/types/{code}", status_code=204, summary="删除自定义类型 / delete a custom type")
def delete_type(code: str, principal: MetadataWriter, db: DbSession) -> Response:
    service.delete_type(db, code=code, principal=principal)
    return Response(status_code=204)


# ---------------------------------------------------------------- lineage


@router.post("/lineage", status_code=204, summary="登记血缘 / record lineage (target produced from sources)")
def record_lineage(body: LineageIn, principal: MetadataWriter, db: DbSession) -> Response:
    service.record_lineage(db, target=body.target, sources=body.sources, via_kind=body.via_kind, via_id=body.via_id,
                           detail=body.detail)
    return Response(status_code=204)


@router.get("/lineage", summary="血缘图 / lineage graph (around one node, or all)")
def lineage(principal: MetadataReader, db: DbSession,
            node: Annotated[str | None, Query(max_length=300)] = None,
            depth: Annotated[int, Query(ge=1, le=10)] = 3) -> dict:
    return service.lineage_graph(db, node=node, depth=depth)
