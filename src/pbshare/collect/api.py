"""Routes for imports, profiles, quarantine, SQL datasets and transforms (``/api/v1/collect``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from pbshare.collect import datasets, service, tasks, transforms
from pbshare.collect.models import ImportRun
from pbshare.collect.schemas import (
    DatasetIn,
    DatasetOut,
    ImportSpec,
    PreviewOut,
    ProfileIn,
    ProfileOut,
    RunIn,
    RunOut,
    SqlCheckIn,
    TransformIn,
    TransformOut,
    UploadOut,
)
from pbshare.core.errors import Forbidden, Invalid
from pbshare.core.http import UNIT_OF_WORK
from pbshare.core.i18n import T
from pbshare.quality import service as quality_service
from pbshare.security.deps import require
from pbshare.security.permissions import Perm
from pbshare.units.principal import Principal

# The session commits before the answer is sent (FastAPI runs yield dependencies' exit after it by
# default), so the page that reads right after a change sees it.
router = APIRouter(prefix="/collect", tags=["collect"])


def _database(request: Request):
    return request.app.state.db


def _profile_out(db: Session, profile) -> ProfileOut:
    runs = service.list_runs(db, profile_id=profile.id, limit=1)
    return ProfileOut(id=profile.id, name=profile.name, title=profile.title, source_kind=profile.source_kind,
                      source=profile.source, mapping=profile.mapping, target_topic=profile.target_topic,
                      target_table=profile.target_table, mode=profile.mode, key=profile.key,
                      resource_code=profile.resource_code, watermark=profile.watermark,
                      created_by=profile.created_by, created_at=profile.created_at, updated_at=profile.updated_at,
                      last_run=RunOut.model_validate(runs[0], from_attributes=True) if runs else None)


def _run_out(run: ImportRun) -> RunOut:
    return RunOut.model_validate(run, from_attributes=True)


# ---------------------------------------------------------------- uploads and preview
@router.post("/uploads", response_model=UploadOut, summary="上传待导入文件 / upload a CSV or Excel file")
def upload(request: Request, file: UploadFile = File(...),
           principal: Principal = Depends(require(Perm.collect_run))) -> UploadOut:
    return service.save_upload(_database(request), file_name=file.filename or "upload.csv", stream=file.file)


@router.post("/preview", response_model=PreviewOut, summary="映射后预览并标出问题 / preview after mapping")
def preview(spec: ImportSpec, request: Request, principal: Principal = Depends(require(Perm.collect_run)),
            db: Session = UNIT_OF_WORK) -> PreviewOut:
    return service.preview(db, _database(request), spec)


# ---------------------------------------------------------------- runs
@router.post("/runs", response_model=RunOut, status_code=202,
             summary="开始导入（后台运行，轮询进度） / start an import in the background; poll its progress")
def start_run(body: RunIn, request: Request, principal: Principal = Depends(require(Perm.collect_run)),
              db: Session = UNIT_OF_WORK) -> RunOut:
    database = _database(request)
    profile_id = None
    if body.profile_id:
        profile = service.get_profile(db, profile_id=body.profile_id)
        spec, profile_id = service.spec_of(profile), profile.id
    elif body.spec is not None:
        spec = body.spec
    else:
        raise Invalid(T("请给出导入设置或导入配置", "Give an import spec or a profile"), code="no_spec")
    file = service.upload_path(database, body.upload_id) if body.upload_id else None
    if body.save_as is not None:
        if not principal.has(Perm.collect_manage):
            raise Forbidden(T("保存导入配置需要管理权限", "Saving a profile needs the manage permission"),
                            code="forbidden")
        data = ProfileIn(**{**spec.model_dump(), "name": body.save_as.name, "title": body.save_as.title})
        profile_id = service.create_profile(db, data=data, principal=principal).id
    run = service.start_run(db, database, spec=spec, profile_id=profile_id, file=file, run_by=principal.username)
    db.commit()
    tasks.start(database, run_id=run.id, spec=spec, file=file)
    return _run_out(run)


@router.get("/runs", response_model=list[RunOut], summary="导入记录 / run history")
def list_runs(profile_id: str | None = Query(None, max_length=64), limit: int = Query(50, ge=1, le=500),
              principal: Principal = Depends(require(Perm.collect_run)), db: Session = UNIT_OF_WORK) -> list[RunOut]:
    return [_run_out(r) for r in service.list_runs(db, profile_id=profile_id, limit=limit)]


@router.get("/runs/{run_id}", response_model=RunOut, summary="一次导入的状态和进度 / one run's state and progress")
def get_run(run_id: str, principal: Principal = Depends(require(Perm.collect_run)),
            db: Session = UNIT_OF_WORK) -> RunOut:
    return _run_out(service.get_run(db, run_id=run_id))


@router.get("/runs/{run_id}/quarantine", summary="隔离数据（证件号码已遮蔽） / quarantined rows, identifiers masked")
def quarantine(run_id: str, request: Request, page: int = Query(1, ge=1), size: int = Query(50, ge=1, le=500),
               principal: Principal = Depends(require(Perm.collect_run)), db: Session = UNIT_OF_WORK) -> dict:
    service.get_run(db, run_id=run_id)
    return quality_service.rows_for_run(db, data_dir=request.app.state.settings.resolved_data_dir, run_id=run_id,
                                        page=page, size=size)


@router.get("/runs/{run_id}/quarantine.xlsx", summary="下载隔离数据 Excel（含原因列） / quarantine as Excel with reasons")
def quarantine_excel(run_id: str, request: Request,
                     principal: Principal = Depends(require(Perm.collect_run, Perm.quality_manage)),
                     db: Session = UNIT_OF_WORK) -> Response:
    service.get_run(db, run_id=run_id)
    data = quality_service.export_excel(db, data_dir=request.app.state.settings.resolved_data_dir, run_id=run_id,
                                        principal=principal)
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="quarantine-{run_id[:8]}.xlsx"'})


# ---------------------------------------------------------------- profiles
@router.get("/profiles", response_model=list[ProfileOut], summary="导入配置 / saved import profiles")
def list_profiles(principal: Principal = Depends(require(Perm.collect_run)),
                  db: Session = UNIT_OF_WORK) -> list[ProfileOut]:
    return [_profile_out(db, p) for p in service.list_profiles(db)]


@router.post("/profiles", response_model=ProfileOut, status_code=201, summary="保存导入配置 / save a profile")
def create_profile(body: ProfileIn, principal: Principal = Depends(require(Perm.collect_manage)),
                   db: Session = UNIT_OF_WORK) -> ProfileOut:
    return _profile_out(db, service.create_profile(db, data=body, principal=principal))


@router.get("/profiles/{profile_id}", response_model=ProfileOut, summary="一个导入配置 / one profile")
def get_profile(profile_id: str, principal: Principal = Depends(require(Perm.collect_run)),
                db: Session = UNIT_OF_WORK) -> ProfileOut:
    return _profile_out(db, service.get_profile(db, profile_id=profile_id))


@router.put("/profiles/{profile_id}", response_model=ProfileOut, summary="修改导入配置 / update a profile")
def update_profile(profile_id: str, body: ProfileIn, principal: Principal = Depends(require(Perm.collect_manage)),
                   db: Session = UNIT_OF_WORK) -> ProfileOut:
    return _profile_out(db, service.update_profile(db, profile_id=profile_id, data=body, principal=principal))


@router.delete("/profiles/{profile_id}", status_code=204, summary="删除导入配置 / delete a profile")
def delete_profile(profile_id: str, principal: Principal = Depends(require(Perm.collect_manage)),
                   db: Session = UNIT_OF_WORK) -> Response:
    service.delete_profile(db, profile_id=profile_id, principal=principal)
    return Response(status_code=204)


@router.post("/profiles/{profile_id}/run", response_model=RunOut, status_code=202,
             summary="一键重新导入（可换新文件） / re-run a profile, optionally with a new file")
def run_profile(profile_id: str, request: Request, upload_id: str | None = Query(None, max_length=64),
                principal: Principal = Depends(require(Perm.collect_run)), db: Session = UNIT_OF_WORK) -> RunOut:
    return start_run(RunIn(profile_id=profile_id, upload_id=upload_id), request, principal, db)


# ---------------------------------------------------------------- datasets
def _dataset_out(ds) -> DatasetOut:
    return DatasetOut(id=ds.id, name=ds.name, title=ds.title, sql=ds.sql, sql_dialect=ds.sql_dialect,
                      target_topic=ds.target_topic, target_table=ds.target_table, row_count=ds.row_count,
                      refreshed_at=ds.refreshed_at, created_by=ds.created_by)


@router.post("/sql/check", summary="检查并预览 SQL / check and preview a SELECT")
def check_sql(body: SqlCheckIn, request: Request,
              principal: Principal = Depends(require(Perm.warehouse_read, Perm.collect_run)),
              db: Session = UNIT_OF_WORK) -> dict:
    return datasets.run_preview(db, _database(request), sql=body.sql, dialect=body.sql_dialect)


@router.get("/datasets", response_model=list[DatasetOut], summary="SQL 数据集 / SQL datasets")
def list_datasets(principal: Principal = Depends(require(Perm.warehouse_read)),
                  db: Session = UNIT_OF_WORK) -> list[DatasetOut]:
    return [_dataset_out(d) for d in datasets.list_datasets(db)]


@router.post("/datasets", response_model=DatasetOut, status_code=201, summary="保存 SQL 数据集 / save a dataset")
def create_dataset(body: DatasetIn, principal: Principal = Depends(require(Perm.collect_manage, Perm.warehouse_write)),
                   db: Session = UNIT_OF_WORK) -> DatasetOut:
    return _dataset_out(datasets.save_dataset(db, data=body, principal=principal))


@router.put("/datasets/{dataset_id}", response_model=DatasetOut, summary="修改 SQL 数据集 / update a dataset")
def update_dataset(dataset_id: str, body: DatasetIn,
                   principal: Principal = Depends(require(Perm.collect_manage, Perm.warehouse_write)),
                   db: Session = UNIT_OF_WORK) -> DatasetOut:
    return _dataset_out(datasets.save_dataset(db, data=body, principal=principal, dataset_id=dataset_id))


@router.post("/datasets/{dataset_id}/refresh", response_model=DatasetOut,
             summary="生成或刷新数据集表 / materialise or refresh")
def refresh_dataset(dataset_id: str, request: Request,
                    principal: Principal = Depends(require(Perm.collect_run, Perm.warehouse_write)),
                    db: Session = UNIT_OF_WORK) -> DatasetOut:
    return _dataset_out(datasets.refresh_dataset(db, _database(request), dataset_id=dataset_id, principal=principal))


@router.delete("/datasets/{dataset_id}", status_code=204, summary="删除数据集定义 / delete a dataset definition")
def delete_dataset(dataset_id: str, principal: Principal = Depends(require(Perm.collect_manage)),
                   db: Session = UNIT_OF_WORK) -> Response:
    datasets.delete_dataset(db, dataset_id=dataset_id, principal=principal)
    return Response(status_code=204)


# ---------------------------------------------------------------- transforms
def _transform_out(tf) -> TransformOut:
    return TransformOut(id=tf.id, name=tf.name, title=tf.title, spec=tf.spec, target_topic=tf.target_topic,
                        target_table=tf.target_table, row_count=tf.row_count, refreshed_at=tf.refreshed_at,
                        created_by=tf.created_by)


@router.post("/transforms/preview", summary="预览加工结果 / preview a transform")
def preview_transform(body: dict, request: Request, principal: Principal = Depends(require(Perm.warehouse_read)),
                      db: Session = UNIT_OF_WORK) -> dict:
    return transforms.preview(db, _database(request), spec=body)


@router.get("/transforms", response_model=list[TransformOut], summary="数据加工 / transforms")
def list_transforms(principal: Principal = Depends(require(Perm.warehouse_read)),
                    db: Session = UNIT_OF_WORK) -> list[TransformOut]:
    return [_transform_out(t) for t in transforms.list_transforms(db)]


@router.post("/transforms", response_model=TransformOut, status_code=201, summary="保存数据加工 / save a transform")
def create_transform(body: TransformIn, request: Request,
                     principal: Principal = Depends(require(Perm.collect_manage, Perm.warehouse_write)),
                     db: Session = UNIT_OF_WORK) -> TransformOut:
    return _transform_out(transforms.save_transform(db, _database(request), data=body, principal=principal))


@router.put("/transforms/{transform_id}", response_model=TransformOut, summary="修改数据加工 / update a transform")
def update_transform(transform_id: str, body: TransformIn, request: Request,
                     principal: Principal = Depends(require(Perm.collect_manage, Perm.warehouse_write)),
                     db: Session = UNIT_OF_WORK) -> TransformOut:
    return _transform_out(transforms.save_transform(db, _database(request), data=body, principal=principal,
                                                    transform_id=transform_id))


@router.post("/transforms/{transform_id}/refresh", response_model=TransformOut,
             summary="运行加工并写入新表 / run the transform into its table")
def refresh_transform(transform_id: str, request: Request,
                      principal: Principal = Depends(require(Perm.collect_run, Perm.warehouse_write)),
                      db: Session = UNIT_OF_WORK) -> TransformOut:
    return _transform_out(transforms.refresh_transform(db, _database(request), transform_id=transform_id,
                                                       principal=principal))


@router.delete("/transforms/{transform_id}", status_code=204, summary="删除数据加工 / delete a transform")
def delete_transform(transform_id: str, principal: Principal = Depends(require(Perm.collect_manage)),
                     db: Session = UNIT_OF_WORK) -> Response:
    transforms.delete_transform(db, transform_id=transform_id, principal=principal)
    return Response(status_code=204)
