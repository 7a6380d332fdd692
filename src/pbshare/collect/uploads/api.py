"""Route for uploading a delivery file (``/api/v1/collect/uploads``)."""

from __future__ import annotations

from fastapi import APIRouter, File, UploadFile

from pbshare.collect.deps import CollectRunner
from pbshare.collect.uploads import service
from pbshare.collect.uploads.schemas import UploadOut
from pbshare.core.http import DatabaseDep

router = APIRouter(prefix="/collect", tags=["collect"])


@router.post("/uploads", response_model=UploadOut, summary="上传待导入文件 / upload a CSV or Excel file")
def upload(database: DatabaseDep, principal: CollectRunner, file: UploadFile = File(...)) -> UploadOut:
    return service.save_upload(database.settings, file_name=file.filename or "upload.csv", stream=file.file)
