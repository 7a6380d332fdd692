"""Routes for data models, their form designer and their records (``/api/v1/forms``).

Every model's records are served by the same routes under ``/forms/models/{code}/records``; the fields a
model takes are in ``GET /forms/models/{code}`` (``published.fields``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response

from pbshare.core.errors import Invalid, TooLarge
from pbshare.core.http import DatabaseDep, DataDir, DbSession
from pbshare.core.i18n import T
from pbshare.core.pagination import MAX_PAGE, MAX_SIZE
from pbshare.forms import attachments, excel, records, service
from pbshare.forms.deps import FormDesigner, FormUser
from pbshare.forms.schemas import (
    DraftIn,
    ModelIn,
    ModelOut,
    PublishIn,
    PurgeIn,
    RecordIn,
    RecordOut,
    RecordPage,
    TypeChangeIn,
    TypeCheckOut,
    VersionOut,
)

router = APIRouter(prefix="/forms", tags=["forms"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 20 * 1024 * 1024
Unmask = Annotated[bool, Query(description="显示完整个人信息（需 pii:unmask 与用途） / show in full")]
Purpose = Annotated[str | None, Query(max_length=200, description="查看完整信息的用途 / why, when unmasking")]
Filters = Annotated[str | None, Query(max_length=4000, description='JSON：[{"field","op","value"}]，op 为 eq ne gt ge lt '
                                      'le between contains starts in empty not_empty')]
# the platform's OpenAPI points every generic record route at the model's own document
PER_MODEL = ("这些路由对所有数据模型通用；某个模型的字段（类型、选项、必填、个人信息）见它自己的 OpenAPI 文档 "
             "`GET /api/v1/forms/models/{code}/openapi.json`。 / These routes serve every data model; one model's "
             "fields (types, options, required, personal) are in its own OpenAPI document, "
             "`GET /api/v1/forms/models/{code}/openapi.json`.")
Sort = Annotated[str | None, Query(max_length=70, description="字段名，前加 - 为倒序 / field, -field for descending")]


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _filters(raw: str | None) -> list[dict]:
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise Invalid(T("筛选条件须是 JSON 列表，如 [{\"field\":\"name\",\"op\":\"eq\",\"value\":\"张三\"}]",
                        "Filters must be a JSON list such as [{\"field\":\"name\",\"op\":\"eq\",\"value\":\"x\"}]"),
                      code="forms_bad_filter") from exc
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise Invalid(T("筛选条件须是 JSON 列表", "Filters must be a JSON list"), code="forms_bad_filter")
    return value


def _xlsx(data: bytes, name: str) -> Response:
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --------------------------------------------------------------------------- models
@router.get("/types", summary="字段类型 / field types")
def field_types(principal: FormUser) -> list[dict[str, Any]]:
    return service.types_out()


@router.get("/models", response_model=list[ModelOut], summary="数据模型列表 / data models")
def list_models(principal: FormUser, db: DbSession) -> list[dict]:
    return [service.model_out(db, m) for m in service.list_models(db, principal=principal)]


@router.post("/models", response_model=ModelOut, status_code=201, summary="新建数据模型 / new data model")
def create_model(body: ModelIn, principal: FormDesigner, db: DbSession) -> dict:
    model = service.create_model(db, code=body.code, title=body.title, description=body.description,
                                 fields=[f.model_dump() for f in body.fields], layout=body.layout,
                                 access=body.access, principal=principal)
    return service.model_out(db, model)


@router.get("/models/{code}", response_model=ModelOut, summary="一个数据模型 / one data model")
def get_model(code: str, principal: FormUser, db: DbSession) -> dict:
    model = service.get_model(db, code=code)
    service.check_may(principal, model, "read")
    return service.model_out(db, model)


@router.put("/models/{code}/draft", response_model=ModelOut, summary="保存草稿 / save the draft")
def save_draft(code: str, body: DraftIn, principal: FormDesigner, db: DbSession) -> dict:
    model = service.save_draft(db, model=service.get_model(db, code=code), title=body.title,
                               description=body.description, fields=[f.model_dump() for f in body.fields],
                               layout=body.layout, access=body.access, principal=principal)
    return service.model_out(db, model)


@router.get("/models/{code}/draft-diff", summary="草稿与已发布版本的差异 / the draft against the published version")
def draft_diff(code: str, principal: FormDesigner, db: DbSession) -> dict[str, Any]:
    return service.draft_diff(db, model=service.get_model(db, code=code))


@router.post("/models/{code}/publish", response_model=VersionOut, summary="发布草稿 / publish the draft")
def publish(code: str, body: PublishIn, principal: FormDesigner, db: DbSession, database: DatabaseDep) -> Any:
    return service.publish(db, database, model=service.get_model(db, code=code), note=body.note, principal=principal)


@router.get("/models/{code}/openapi.json", summary="这个模型的记录 API（OpenAPI） / this model's records API as OpenAPI",
            description="OpenAPI 3.1：该模型已发布版本的字段作为记录 values 的 JSON Schema，以及记录的增删改查路由。 / "
                        "OpenAPI 3.1: the published fields as the JSON Schema of a record's values, and the record routes.")
def model_openapi(code: str, principal: FormUser, db: DbSession) -> dict[str, Any]:
    model = service.get_model(db, code=code)
    service.check_may(principal, model, "read")
    return service.openapi_for(db, model=model)


@router.get("/models/{code}/versions", response_model=list[VersionOut], summary="已发布版本 / published versions")
def versions(code: str, principal: FormUser, db: DbSession) -> Any:
    model = service.get_model(db, code=code)
    service.check_may(principal, model, "read")
    return service.list_versions(db, model=model)


@router.get("/models/{code}/versions/diff", summary="两个版本的差异 / what changed between two versions")
def versions_diff(code: str, principal: FormDesigner, db: DbSession, a: Annotated[int, Query(ge=1, le=100_000)],
                  b: Annotated[int, Query(ge=1, le=100_000)]) -> dict[str, Any]:
    return service.versions_diff(db, model=service.get_model(db, code=code), a=a, b=b)


@router.post("/models/{code}/fields/{name}/type-check", response_model=TypeCheckOut,
             summary="检查改类型：哪些值不能转换 / which values would not convert to a new type")
def type_check(code: str, name: str, body: TypeChangeIn, principal: FormDesigner, db: DbSession,
               database: DatabaseDep) -> dict[str, Any]:
    return service.check_type_change(db, database, model=service.get_model(db, code=code), name=name,
                                     new_type=body.type, settings=body.settings)


@router.post("/models/{code}/fields/{name}/type", response_model=VersionOut,
             summary="更改字段类型（所有值都能转换时） / change a field's type when every value converts")
def change_type(code: str, name: str, body: TypeChangeIn, principal: FormDesigner, db: DbSession,
                database: DatabaseDep) -> Any:
    return service.change_type(db, database, model=service.get_model(db, code=code), name=name, new_type=body.type,
                               settings=body.settings, principal=principal)


@router.get("/models/{code}/purgeable", summary="可清除的旧数据列 / columns of deleted fields and old types")
def purgeable(code: str, principal: FormDesigner, db: DbSession) -> list[dict[str, Any]]:
    return service.purgeable(db, model=service.get_model(db, code=code))


@router.post("/models/{code}/purge", status_code=204, summary="清除已删除字段的数据 / purge a deleted field's data")
def purge(code: str, body: PurgeIn, principal: FormDesigner, db: DbSession, database: DatabaseDep) -> Response:
    service.purge(db, database, model=service.get_model(db, code=code), column=body.column, principal=principal)
    return Response(status_code=204)


# --------------------------------------------------------------------------- records
@router.get("/models/{code}/records", response_model=RecordPage, summary="记录列表 / records", description=PER_MODEL)
def list_records(code: str, request: Request, principal: FormUser, db: DbSession, database: DatabaseDep,
                 filters: Filters = None, sort: Sort = None,
                 page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
                 size: Annotated[int, Query(ge=1, le=MAX_SIZE)] = 20,
                 columns: Annotated[str | None, Query(max_length=4000, description="逗号分隔的字段名 / fields")] = None,
                 deleted: Annotated[bool, Query(description="回收站 / deleted records")] = False,
                 q: Annotated[str | None, Query(max_length=100, description="搜索可搜索字段 / search the searchable "
                                                "fields")] = None,
                 unmask: Unmask = False, purpose: Purpose = None) -> dict[str, Any]:
    return records.list_records(db, database, model=service.get_model(db, code=code), principal=principal,
                                filters=_filters(filters), sort=sort, page=page, size=size,
                                columns=[c for c in columns.split(",") if c] if columns else None, deleted=deleted,
                                unmask=unmask, purpose=purpose, ip=_ip(request), q=q)


@router.post("/models/{code}/records", response_model=RecordOut, status_code=201, summary="新增记录 / new record",
             description=PER_MODEL)
def create_record(code: str, body: RecordIn, principal: FormUser, db: DbSession, database: DatabaseDep) -> Any:
    return records.create(db, database, model=service.get_model(db, code=code), values=body.values,
                          principal=principal)


@router.get("/models/{code}/records/{record_id}", response_model=RecordOut, summary="一条记录 / one record",
            description=PER_MODEL)
def get_record(code: str, record_id: str, request: Request, principal: FormUser, db: DbSession,
               database: DatabaseDep, unmask: Unmask = False, purpose: Purpose = None) -> Any:
    return records.get(db, database, model=service.get_model(db, code=code), record_id=record_id,
                       principal=principal, unmask=unmask, purpose=purpose, ip=_ip(request))


@router.patch("/models/{code}/records/{record_id}", response_model=RecordOut,
              summary="修改记录（只改给出的字段） / change the fields given")
def update_record(code: str, record_id: str, body: RecordIn, principal: FormUser, db: DbSession,
                  database: DatabaseDep) -> Any:
    return records.update_record(db, database, model=service.get_model(db, code=code), record_id=record_id,
                                 values=body.values, principal=principal)


@router.delete("/models/{code}/records/{record_id}", response_model=RecordOut, summary="删除（可恢复） / soft delete")
def delete_record(code: str, record_id: str, principal: FormUser, db: DbSession, database: DatabaseDep) -> Any:
    return records.set_deleted(db, database, model=service.get_model(db, code=code), record_id=record_id,
                               deleted=True, principal=principal)


@router.post("/models/{code}/records/{record_id}/restore", response_model=RecordOut, summary="恢复 / restore")
def restore_record(code: str, record_id: str, principal: FormUser, db: DbSession, database: DatabaseDep) -> Any:
    return records.set_deleted(db, database, model=service.get_model(db, code=code), record_id=record_id,
                               deleted=False, principal=principal)


@router.get("/models/{code}/records/{record_id}/history", summary="修改历史 / who changed what, when")
def record_history(code: str, record_id: str, principal: FormUser, db: DbSession, database: DatabaseDep,
                   unmask: Unmask = False, purpose: Purpose = None) -> list[dict[str, Any]]:
    return records.history(db, database, model=service.get_model(db, code=code), record_id=record_id,
                           principal=principal, unmask=unmask, purpose=purpose)


@router.get("/models/{code}/choices", summary="关联字段可选的记录 / records to pick for a reference")
def choices(code: str, principal: FormUser, db: DbSession, database: DatabaseDep,
            q: Annotated[str | None, Query(max_length=100)] = None) -> list[dict[str, str]]:
    return records.choices(db, database, model=service.get_model(db, code=code), principal=principal, q=q)


@router.post("/models/{code}/attachments", status_code=201,
             summary="上传附件（≤10 MB，pdf/png/jpg/gif/docx/xlsx/ofd） / upload an attachment")
def upload_attachment(code: str, principal: FormUser, db: DbSession, data_dir: DataDir,
                      file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    content = file.file.read(attachments.MAX_BYTES + 1)
    return attachments.keep(db, model=service.get_model(db, code=code), data_dir=data_dir,
                            name=file.filename or "file", content=content, principal=principal)


@router.get("/models/{code}/attachments/{digest}", summary="下载附件 / download an attachment")
def download_attachment(code: str, digest: str, principal: FormUser, db: DbSession, database: DatabaseDep,
                        name: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    data = attachments.read(db, database, model=service.get_model(db, code=code), digest=digest, principal=principal)
    ext = (name or "").rsplit(".", 1)[-1].lower() if name and "." in name else ""
    media = attachments.KINDS.get(ext, ("application/octet-stream", ()))[0]
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{digest[:12]}.{ext or "bin"}"',
                                                     "X-Content-Type-Options": "nosniff"})


@router.get("/models/{code}/template.xlsx", summary="Excel 导入模板 / the Excel template")
def template(code: str, principal: FormUser, db: DbSession) -> Response:
    return _xlsx(excel.template(db, model=service.get_model(db, code=code), principal=principal),
                 f"{code}-template.xlsx")


@router.post("/models/{code}/import", summary="导入 Excel（有错则一行不写） / import Excel, all or nothing")
def import_excel(code: str, principal: FormUser, db: DbSession, database: DatabaseDep,
                 file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    content = file.file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise TooLarge(T("文件超过 20 MB，请分批导入", "The file is over 20 MB; import it in parts"), code="forms_too_large")
    return excel.import_rows(db, database, model=service.get_model(db, code=code), content=content,
                             principal=principal)


@router.get("/models/{code}/export.xlsx", summary="导出 Excel（个人信息遮蔽） / export to Excel, masked")
def export_excel(code: str, principal: FormUser, db: DbSession, database: DatabaseDep, filters: Filters = None,
                 sort: Sort = None) -> Response:
    return _xlsx(excel.export(db, database, model=service.get_model(db, code=code), principal=principal,
                              filters=_filters(filters), sort=sort), f"{code}.xlsx")
