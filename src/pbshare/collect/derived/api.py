"""Routes for SQL datasets and no-code transforms (``/api/v1/collect``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response

from pbshare.collect.deps import CollectManager, DerivedRefresher, DerivedWriter, SqlChecker
from pbshare.collect.derived import datasets, transforms
from pbshare.collect.derived.schemas import DatasetIn, DatasetOut, SqlCheckIn, TransformIn, TransformOut
from pbshare.collect.sqlcheck import REFUSALS
from pbshare.core.http import DatabaseDep, DbSession
from pbshare.security.audit import service as audit
from pbshare.warehouse import service as warehouse
from pbshare.warehouse.deps import WarehouseReader

if TYPE_CHECKING:
    from pbshare.collect.derived.models import Dataset, Transform

router = APIRouter(prefix="/collect", tags=["collect"])


# ---------------------------------------------------------------- datasets
@router.post("/sql/check", summary="检查并预览 SQL / check and preview a SELECT")
def check_sql(body: SqlCheckIn, principal: SqlChecker, db: DbSession, database: DatabaseDep) -> dict:
    with audit.refusals_recorded(db, action="sql.refused", codes=REFUSALS, principal=principal,
                                 detail={"sql": body.sql[:1000]}):
        return datasets.run_preview(db, database, sql=body.sql, dialect=body.sql_dialect)



def _label(db: DbSession, derived: Dataset | Transform) -> str:
    """The built table as a person calls it (its topic's and its own title), not ``topic.table``."""
    return warehouse.table_label(db, topic=derived.target_topic, name=derived.target_table)

@router.get("/datasets", response_model=list[DatasetOut], summary="SQL 数据集 / SQL datasets")
def list_datasets(principal: WarehouseReader, db: DbSession) -> list[DatasetOut]:
    return [DatasetOut.model_validate(d, from_attributes=True).model_copy(update={"target_label": _label(db, d)})
            for d in datasets.list_datasets(db)]


@router.post("/datasets", response_model=DatasetOut, status_code=201, summary="保存 SQL 数据集 / save a dataset")
def create_dataset(body: DatasetIn, principal: DerivedWriter, db: DbSession) -> DatasetOut:
    with audit.refusals_recorded(db, action="sql.refused", codes=REFUSALS, principal=principal,
                                 detail={"sql": body.sql[:1000]}):
        ds = datasets.save_dataset(db, data=body, principal=principal)
    return DatasetOut.model_validate(ds, from_attributes=True)


@router.put("/datasets/{dataset_id}", response_model=DatasetOut, summary="修改 SQL 数据集 / update a dataset")
def update_dataset(dataset_id: str, body: DatasetIn, principal: DerivedWriter, db: DbSession) -> DatasetOut:
    with audit.refusals_recorded(db, action="sql.refused", codes=REFUSALS, principal=principal,
                                 detail={"sql": body.sql[:1000]}):
        ds = datasets.save_dataset(db, data=body, principal=principal, dataset_id=dataset_id)
    return DatasetOut.model_validate(ds, from_attributes=True)


@router.post("/datasets/{dataset_id}/refresh", response_model=DatasetOut,
             summary="生成或刷新数据集表 / materialise or refresh")
def refresh_dataset(dataset_id: str, principal: DerivedRefresher, db: DbSession, database: DatabaseDep) -> DatasetOut:
    ds = datasets.refresh_dataset(db, database, dataset_id=dataset_id, principal=principal)
    return DatasetOut.model_validate(ds, from_attributes=True)


@router.post("/datasets/{dataset_id}/cancel", summary="取消正在进行的生成 / cancel a running refresh")
def cancel_dataset(dataset_id: str, principal: DerivedRefresher, db: DbSession) -> dict:
    return {"cancelled": datasets.cancel_refresh(db, dataset_id=dataset_id)}


@router.delete("/datasets/{dataset_id}", status_code=204, summary="删除数据集定义 / delete a dataset definition")
def delete_dataset(dataset_id: str, principal: CollectManager, db: DbSession) -> Response:
    datasets.delete_dataset(db, dataset_id=dataset_id, principal=principal)
    return Response(status_code=204)


# ---------------------------------------------------------------- transforms
@router.post("/transforms/preview", summary="预览加工结果 / preview a transform")
def preview_transform(body: dict, principal: WarehouseReader, db: DbSession, database: DatabaseDep) -> dict:
    return transforms.preview(db, database, spec=body)


@router.get("/transforms", response_model=list[TransformOut], summary="数据加工 / transforms")
def list_transforms(principal: WarehouseReader, db: DbSession) -> list[TransformOut]:
    return [TransformOut.model_validate(t, from_attributes=True).model_copy(update={"target_label": _label(db, t)})
            for t in transforms.list_transforms(db)]


@router.post("/transforms", response_model=TransformOut, status_code=201, summary="保存数据加工 / save a transform")
def create_transform(body: TransformIn, principal: DerivedWriter, db: DbSession,
                     database: DatabaseDep) -> TransformOut:
    tf = transforms.save_transform(db, database, data=body, principal=principal)
    return TransformOut.model_validate(tf, from_attributes=True)


@router.put("/transforms/{transform_id}", response_model=TransformOut, summary="修改数据加工 / update a transform")
def update_transform(transform_id: str, body: TransformIn, principal: DerivedWriter, db: DbSession,
                     database: DatabaseDep) -> TransformOut:
    tf = transforms.save_transform(db, database, data=body, principal=principal, transform_id=transform_id)
    return TransformOut.model_validate(tf, from_attributes=True)


@router.post("/transforms/{transform_id}/refresh", response_model=TransformOut,
             summary="运行加工并写入新表 / run the transform into its table")
def refresh_transform(transform_id: str, principal: DerivedRefresher, db: DbSession,
                      database: DatabaseDep) -> TransformOut:
    tf = transforms.refresh_transform(db, database, transform_id=transform_id, principal=principal)
    return TransformOut.model_validate(tf, from_attributes=True)


@router.post("/transforms/{transform_id}/cancel", summary="取消正在进行的加工 / cancel a running transform run")
def cancel_transform(transform_id: str, principal: DerivedRefresher, db: DbSession) -> dict:
    return {"cancelled": transforms.cancel_refresh(db, transform_id=transform_id)}


@router.delete("/transforms/{transform_id}", status_code=204, summary="删除数据加工 / delete a transform")
def delete_transform(transform_id: str, principal: CollectManager, db: DbSession) -> Response:
    transforms.delete_transform(db, transform_id=transform_id, principal=principal)
    return Response(status_code=204)
