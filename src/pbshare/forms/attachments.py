"""Attachments of records: kept in the data dir under their SHA-256 hash (the same file is kept once), with a
size limit and a type check (an allowed extension, and the file's first bytes must agree with it)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pbshare.core.db import Database
from pbshare.core.errors import Invalid, NotFound, TooLarge
from pbshare.core.i18n import T
from pbshare.forms import service, store
from pbshare.forms.models import DataModel
from pbshare.security.audit import service as audit
from pbshare.units.principal import Principal

MAX_BYTES = 10 * 1024 * 1024
# extension -> (media type, accepted first bytes)
KINDS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "ofd": ("application/ofd", (b"PK\x03\x04",)),
}
_HASH = re.compile(r"^[0-9a-f]{64}$")


def _dir(data_dir: Path) -> Path:
    return data_dir / "forms" / "attachments"


def path_of(data_dir: Path, digest: str) -> Path:
    if not _HASH.match(digest or ""):
        raise Invalid(T("附件编号无效", "The attachment id is not valid"), code="forms_bad_attachment")
    return _dir(data_dir) / digest[:2] / digest


def exists(data_dir: Path, digest: str) -> bool:
    return path_of(data_dir, digest).is_file()


def keep(db: Session, *, model: DataModel, data_dir: Path, name: str, content: bytes,
          principal: Principal) -> dict[str, Any]:
    """Check and keep an uploaded file; the answer is the value an attachment field takes."""
    service.check_may(principal, model, "enter")
    if len(content) > MAX_BYTES:
        raise TooLarge(T("附件超过 {n} MB，请压缩或拆分后再上传", "The attachment is over {n} MB; compress or split it",
                         n=MAX_BYTES // (1024 * 1024)), code="forms_attachment_too_large")
    if not content:
        raise Invalid(T("附件是空文件", "The attachment is empty"), code="forms_bad_attachment")
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in KINDS:
        raise Invalid(T("不接受 .{e} 文件，可上传：{all}", "Files of type .{e} are not accepted; upload one of {all}",
                        e=ext[:10], all=", ".join(KINDS)), code="forms_attachment_type")
    media, magics = KINDS[ext]
    if not content.startswith(magics):
        raise Invalid(T("文件内容与扩展名 .{e} 不符，请上传真实的 {e} 文件", "The file's content is not a .{e} file; "
                        "upload a real {e} file", e=ext), code="forms_attachment_type")
    digest = hashlib.sha256(content).hexdigest()
    target = path_of(data_dir, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(content)
        tmp.replace(target)
    audit.record(db, action="forms.attachment.upload", principal=principal, object_type="form_model",
                 object_id=model.code, detail={"sha256": digest, "size": len(content), "type": media})
    return {"id": digest, "name": Path(name).name[:200], "size": len(content), "type": media}


def read(db: Session, database: Database, *, model: DataModel, digest: str, principal: Principal) -> bytes:
    """An attachment one of the model's records holds (another model's files are not reachable here)."""
    service.check_may(principal, model, "read")
    path = path_of(database.settings.resolved_data_dir, digest)
    columns = [f["column"] for f in service.published_fields(db, model) if f["type"] == "attachment"]
    table = store.table(db, database, model)
    held = False
    if columns:
        with store.reading(db, database) as conn:
            held = bool(conn.scalar(select(func.count()).select_from(table).where(
                or_(*[table.c[c].like(f'%"{digest}"%') for c in columns]))))
    if not held or not path.is_file():
        raise NotFound(T("附件不存在", "The attachment does not exist"), code="forms_attachment_not_found")
    audit.record(db, action="forms.attachment.read", principal=principal, object_type="form_model",
                 object_id=model.code, detail={"sha256": digest})
    return path.read_bytes()
