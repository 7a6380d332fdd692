"""Routes for requests to units: the handler's (on a case) and the unit portal's (数源单位门户)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response

from pbshare.core.http import DatabaseDep, DataDir, DbSession, takes_write_lock
from pbshare.core.pagination import Page, PageParams, page_params
from pbshare.exchange.cases.schemas import UnmaskIn
from pbshare.exchange.deps import RequestUnmasker, RequestWriter, UnitAnswerer
from pbshare.exchange.requests import service
from pbshare.exchange.requests.schemas import (
    AnswerIn,
    CaseRequestsOut,
    CountsOut,
    DueOut,
    ItemDetailOut,
    ItemOut,
    RejectIn,
    RequestIn,
    RequestOut,
    UploadOut,
)

router = APIRouter(tags=["requests"])


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# the case handler -------------------------------------------------------------------------------
@router.get("/cases/{case_id}/requests", response_model=CaseRequestsOut,
            summary="案件的查询核查请求 / a case's requests with their items and reminders")
@takes_write_lock
def case_requests(case_id: str, principal: RequestWriter, db: DbSession, data_dir: DataDir) -> CaseRequestsOut:
    return service.case_requests(db, case_id=case_id, data_dir=data_dir, principal=principal)


@router.post("/cases/{case_id}/requests", response_model=RequestOut, status_code=201,
             summary="发起查询或核查 / ask units about the case's debtor (one item per unit × resource)")
@takes_write_lock
def create_request(case_id: str, body: RequestIn, principal: RequestWriter, db: DbSession, data_dir: DataDir,
                   database: DatabaseDep) -> RequestOut:
    req = service.create_request(db, case_id=case_id, body=body, principal=principal, data_dir=data_dir,
                                 database=database)
    return service.request_out(db, req, data_dir=data_dir)


@router.get("/requests/due", response_model=DueOut, summary="默认答复期限 / the default due date for a resource")
def due(principal: RequestWriter, db: DbSession,
        resource: str = Query(..., min_length=1, max_length=32)) -> DueOut:
    return service.due_for(db, resource_code=resource)


@router.get("/requests/counts", response_model=CountsOut, summary="经办人待办 / the handler's to-do counts")
@takes_write_lock
def handler_counts(principal: RequestWriter, db: DbSession) -> CountsOut:
    return service.handler_counts(db, principal=principal)


@router.get("/requests/{request_id}", response_model=RequestOut, summary="一个请求 / one request")
def get_request(request_id: str, principal: RequestWriter, db: DbSession, data_dir: DataDir) -> RequestOut:
    return service.request_out(db, service.get_request_row(db, request_id=request_id), data_dir=data_dir)


@router.post("/requests/{request_id}/submit", response_model=RequestOut,
             summary="提交并发送草稿 / submit and send a draft request")
@takes_write_lock
def submit_request(request_id: str, principal: RequestWriter, db: DbSession, data_dir: DataDir,
                   database: DatabaseDep) -> RequestOut:
    req = service.submit_request(db, request_id=request_id, principal=principal, data_dir=data_dir,
                                 database=database)
    return service.request_out(db, req, data_dir=data_dir)


@router.get("/requests/items/{item_id}", response_model=ItemDetailOut,
            summary="一个事项及其历史 / one item with its history (identifiers masked)")
@takes_write_lock
def get_item(item_id: str, principal: RequestWriter, db: DbSession, data_dir: DataDir) -> ItemDetailOut:
    return service.read_item(db, item_id=item_id, principal=principal, data_dir=data_dir)


@router.post("/requests/items/{item_id}/unmask", response_model=ItemDetailOut,
             summary="完整查看事项（证件号码与答复，须说明用途，留痕）/ the item in clear, with a purpose (audited)")
def unmask_item(item_id: str, body: UnmaskIn, request: Request, principal: RequestUnmasker, db: DbSession,
                data_dir: DataDir) -> ItemDetailOut:
    return service.read_item_in_full(db, item_id=item_id, purpose=body.purpose, principal=principal,
                                     data_dir=data_dir, ip=_ip(request))


@router.post("/requests/items/{item_id}/withdraw", response_model=ItemOut, summary="撤回 / withdraw an item")
@takes_write_lock
def withdraw(item_id: str, principal: RequestWriter, db: DbSession) -> ItemOut:
    return service.item_out(db, service.withdraw_item(db, item_id=item_id, principal=principal))


@router.post("/requests/items/{item_id}/check", response_model=ItemOut,
             summary="核验答复 / mark an answer as checked")
@takes_write_lock
def check(item_id: str, principal: RequestWriter, db: DbSession) -> ItemOut:
    return service.item_out(db, service.check_item(db, item_id=item_id, principal=principal))


@router.post("/requests/items/{item_id}/close", response_model=ItemOut, summary="办结 / close an item")
@takes_write_lock
def close(item_id: str, principal: RequestWriter, db: DbSession) -> ItemOut:
    return service.item_out(db, service.close_item(db, item_id=item_id, principal=principal))


# the unit portal -------------------------------------------------------------------------------
@router.get("/portal/counts", response_model=CountsOut, summary="本单位待办数 / the unit's to-do counts")
@takes_write_lock
def portal_counts(principal: UnitAnswerer, db: DbSession) -> CountsOut:
    return service.unit_counts(db, principal=principal)


@router.get("/portal/items", response_model=Page[ItemOut], summary="本单位的事项 / the unit's items")
@takes_write_lock
def portal_items(principal: UnitAnswerer, db: DbSession,
                 view: str = Query("todo", max_length=16, description="todo | overdue | answered | rejected | all"),
                 params: PageParams = Depends(page_params)) -> Page[ItemOut]:
    items, total = service.unit_items(db, principal=principal, view=view, params=params)
    return Page(items=items, total=total, page=params.page, size=params.size)


@router.get("/portal/items/{item_id}", response_model=ItemDetailOut,
            summary="一个事项（证件号码脱敏）/ one item (identifiers masked)")
@takes_write_lock
def portal_item(item_id: str, request: Request, principal: UnitAnswerer, db: DbSession,
                data_dir: DataDir) -> ItemDetailOut:
    return service.read_unit_item(db, item_id=item_id, principal=principal, data_dir=data_dir, ip=_ip(request))


@router.post("/portal/items/{item_id}/unmask", response_model=ItemDetailOut,
             summary="查看完整证件号码（须说明用途，留痕）/ the person's ID number in full, with a purpose (audited)")
def portal_unmask(item_id: str, body: UnmaskIn, request: Request, principal: UnitAnswerer, db: DbSession,
                  data_dir: DataDir) -> ItemDetailOut:
    return service.read_unit_item(db, item_id=item_id, principal=principal, data_dir=data_dir,
                                  purpose=body.purpose, ip=_ip(request))


@router.post("/portal/items/{item_id}/accept", response_model=ItemOut, summary="受理 / accept an item")
@takes_write_lock
def portal_accept(item_id: str, principal: UnitAnswerer, db: DbSession) -> ItemOut:
    return service.item_out(db, service.accept_item(db, item_id=item_id, principal=principal))


@router.post("/portal/items/{item_id}/reject", response_model=ItemOut, summary="退回（须说明理由）/ reject with a reason")
@takes_write_lock
def portal_reject(item_id: str, body: RejectIn, principal: UnitAnswerer, db: DbSession) -> ItemOut:
    return service.item_out(db, service.reject_item(db, item_id=item_id, reason=body.reason, principal=principal))


@router.post("/portal/items/{item_id}/answer", response_model=ItemDetailOut,
             summary="按表单答复 / answer by the form built from the resource's info items")
@takes_write_lock
def portal_answer(item_id: str, body: AnswerIn, principal: UnitAnswerer, db: DbSession,
                  data_dir: DataDir) -> ItemDetailOut:
    item = service.answer_item(db, item_id=item_id, answer=body, principal=principal, data_dir=data_dir)
    return service.item_detail(db, item, data_dir=data_dir)


@router.get("/portal/items/{item_id}/template", summary="下载答复模板（Excel）/ the answer template (.xlsx)",
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def portal_template(item_id: str, principal: UnitAnswerer, db: DbSession, data_dir: DataDir) -> Response:
    data, name = service.template_for(db, item_id=item_id, principal=principal, data_dir=data_dir)
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=\"answer.xlsx\"; "
                                                    f"filename*=UTF-8''{quote(name)}"})


@router.post("/portal/items/{item_id}/upload", response_model=UploadOut,
             summary="上传 Excel/CSV 答复（按模板格式）/ answer by uploading the filled template (.xlsx or .csv)")
@takes_write_lock
async def portal_upload(item_id: str, principal: UnitAnswerer, db: DbSession, data_dir: DataDir,
                        file: UploadFile = File(...)) -> UploadOut:
    data = await file.read()
    item, rows = service.answer_from_sheet(db, item_id=item_id, data=data, filename=file.filename or "",
                                           principal=principal, data_dir=data_dir)
    return UploadOut(item=service.item_detail(db, item, data_dir=data_dir), rows=rows)
