"""Uploaded delivery files: stored under the data directory, size-limited, described for the wizard.

A csv/excel source names its file by ``upload_id`` (the browser) or by path (inside the data
directory; anywhere for the trusted command line).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any, BinaryIO

from pbshare.collect import readers
from pbshare.collect.enums import SourceKind
from pbshare.collect.uploads.schemas import UploadOut
from pbshare.config import Settings
from pbshare.core.errors import Forbidden, Invalid, NotFound, TooLarge
from pbshare.core.i18n import T
from pbshare.core.ids import new_id

_UPLOAD_ID = re.compile(r"^[0-9a-f-]{36}$")


def upload_root(settings: Settings) -> Path:
    return settings.resolved_data_dir / "uploads"


def file_kind(name: str) -> str:
    """csv or excel, from the file name; anything else is refused before a byte is stored."""
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return SourceKind.csv.value
    if suffix in readers.EXCEL_SUFFIXES:
        return SourceKind.excel.value
    raise Invalid(T("不支持的文件类型“{s}”：请上传 CSV（.csv/.txt）或 Excel（.xlsx/.xls）文件",
                    "Unsupported file type '{s}': upload a CSV (.csv/.txt) or Excel (.xlsx/.xls) file",
                    s=suffix or name), code="bad_file_type")


def describe_file(path: Path) -> dict[str, Any]:
    """What the wizard shows after an upload: detected encoding and delimiter, header line, sheets."""
    kind = file_kind(path.name)
    if kind == "csv":
        opts = readers.sniff_csv(path)
        return {"kind": kind, "encoding": opts.encoding, "delimiter": opts.delimiter, "header_row": opts.header_row}
    return {"kind": kind, "sheets": readers.excel_sheets(path)}


def save_upload(settings: Settings, *, file_name: str, stream: BinaryIO) -> UploadOut:
    """Store an uploaded file under the data dir (size-limited) and describe it; a bad file is removed."""
    name = Path(file_name or "upload.csv").name.replace("\x00", "")[:200] or "upload.csv"
    file_kind(name)
    limit = settings.max_upload_mb * 1024 * 1024
    upload_id = new_id()
    folder = upload_root(settings) / upload_id
    folder.mkdir(parents=True)
    path = folder / name
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(T("文件超过 {mb} MB 的上传上限", "The file is larger than the {mb} MB upload limit",
                                     mb=settings.max_upload_mb), code="upload_too_large")
                out.write(chunk)
        info = describe_file(path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return UploadOut(upload_id=upload_id, file_name=name, size=size, **info)


def content_hash(path: Path) -> str:
    """SHA-256 of a delivery file: the same content under another name is the same delivery."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def upload_path(settings: Settings, upload_id: str) -> Path:
    if not _UPLOAD_ID.match(upload_id or ""):
        raise Invalid(T("上传编号无效", "The upload id is not valid"), code="bad_upload")
    folder = upload_root(settings) / upload_id
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    if not files:
        raise NotFound(T("上传的文件不存在或已过期，请重新上传", "The uploaded file is gone; upload it again"),
                       code="upload_not_found")
    return files[0]


def source_file(settings: Settings, source: dict[str, Any], *, trusted: bool = False) -> Path:
    """The file a csv/excel source names: an upload, or a path (under the data dir unless trusted, i.e. the CLI)."""
    if source.get("upload_id"):
        return upload_path(settings, source["upload_id"])
    if source.get("path"):
        path = Path(source["path"]).expanduser().resolve()
        if not trusted and not path.is_relative_to(settings.resolved_data_dir):
            raise Forbidden(T("只能导入上传的文件或数据目录中的文件", "Only uploaded files or files in the data "
                              "directory can be imported"), code="path_not_allowed")
        if not path.is_file():
            raise NotFound(T("文件不存在：{p}", "No such file: {p}", p=path.name), code="file_not_found")
        return path
    raise Invalid(T("请先上传文件", "Upload a file first"), code="no_file")
