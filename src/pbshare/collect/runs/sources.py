"""Which reader a spec's source needs: a delivered file (an upload, or a path), a table or SELECT on a
data source registered in metadata, or a paged JSON API. Used by the preview and by the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from pbshare.collect import readers
from pbshare.collect.deliveries.reader import DeliveryReader
from pbshare.collect.schemas import ImportSpec
from pbshare.collect.uploads import service as uploads
from pbshare.config import Settings
from pbshare.core.db import Database
from pbshare.core.errors import AppError, Forbidden, Invalid
from pbshare.core.i18n import T
from pbshare.core.userquery import QueryLimits
from pbshare.exchange.messaging import service as messaging
from pbshare.metadata import service as metadata_service
from pbshare.security.crypto import pii

Reader = readers.CsvReader | readers.ExcelReader | readers.DatabaseReader | readers.ApiReader | DeliveryReader
_API_OPTIONS = {"records_path", "page_param", "size_param", "page_size", "start_page", "headers", "max_pages"}


def source_engine(db: Session, database: Database, source: dict[str, Any], *, trusted: bool = False) -> Engine:
    if source.get("source_id"):
        return metadata_service.get_source_engine(
            db, source_id=source["source_id"], data_dir=database.settings.resolved_data_dir,
            platform=metadata_service.platform_databases(database.settings))
    if source.get("url"):
        # A bare URL (credentials in clear) is for the command line; the browser and API use a data
        # source registered in metadata, whose password is sealed.
        if not trusted:
            raise Forbidden(T("请先在元数据中登记数据源，再选择它导入", "Register the database as a data source in "
                              "metadata first, then import from it"), code="url_not_allowed")
        url = make_url(source["url"])
        metadata_service.refuse_platform_database(url, data_dir=database.settings.resolved_data_dir,
                                                  platform=metadata_service.platform_databases(database.settings))
        return create_engine(url, pool_pre_ping=True)
    raise Invalid(T("请选择数据源", "Choose a data source"), code="no_data_source")


def source_name(db: Session, source: dict[str, Any]) -> str:
    """The registered source's name, as messages name it (a bare URL: its host and database, no password)."""
    if source.get("source_id"):
        try:
            return str(metadata_service.get_source(db, source_id=source["source_id"]).name)
        except AppError:
            return str(source["source_id"])[:64]
    try:
        url = make_url(str(source.get("url") or ""))
        return f"{url.host or ''}/{url.database or ''}"
    except ArgumentError:
        return "url"


def open_reader(db: Session, database: Database, kind: str, source: dict[str, Any], *, file: Path | None = None,
                watermark: dict[str, Any] | None = None, trusted: bool = False) -> Reader:
    """The reader for ``source``; a new delivery ``file`` replaces a file source (its options kept if same kind)."""
    if kind in ("csv", "excel") or file is not None:
        path = file or uploads.source_file(database.settings, source, trusted=trusted)
        actual = uploads.file_kind(path.name)
        same = actual == kind
        if actual == "csv":
            opts = readers.sniff_csv(path, encoding=source.get("encoding") if same else None,
                                     delimiter=source.get("delimiter") if same else None,
                                     header_row=source.get("header_row") if same else None)
            return readers.CsvReader(path, opts)
        return readers.ExcelReader(path, sheet=source.get("sheet") if same else None,
                                   header_row=source.get("header_row") if same else None)
    if kind == "database":
        engine = source_engine(db, database, source, trusted=trusted)
        wm = readers.Watermark.from_json(watermark, source["cursor_column"]) if source.get("cursor_column") else None
        label = source.get("table") or "query"
        vault = pii.vault_for(database.settings.resolved_data_dir)

        def fingerprint(texts: list[str]) -> list[str]:  # keyed: a stored fingerprint reveals no row
            return [(h or "")[:32] for h in vault.blind_index_many(texts)]

        try:
            return readers.DatabaseReader(engine, table=source.get("table"), query=source.get("query"),
                                          cursor_column=source.get("cursor_column"), watermark=wm, label=label,
                                          limits=QueryLimits.from_settings(database.settings),
                                          source_name=source_name(db, source), fingerprint=fingerprint)
        except BaseException:
            engine.dispose()
            raise
    if kind == "delivery":
        return _delivery_reader(db, database, source, trusted=trusted)
    if kind == "api":
        return readers.ApiReader(source.get("url", ""), **{k: v for k, v in source.items() if k in _API_OPTIONS})
    raise Invalid(T("不支持的数据来源：{k}", "Unsupported source kind: {k}", k=kind), code="bad_source_kind")


def _delivery_reader(db: Session, database: Database, source: dict[str, Any], *, trusted: bool) -> DeliveryReader:
    """A received envelope's rows; only the platform's own lander may name an envelope as a source."""
    if not trusted:
        raise Forbidden(T("接收的交付数据由平台自动入库，不能作为导入来源", "Received deliveries are landed by the platform; "
                          "they cannot be chosen as an import source"), code="delivery_source")
    envelope = messaging.inbox_envelope(db, envelope_id=str(source.get("envelope_id")),
                                        data_dir=database.settings.resolved_data_dir)
    return DeliveryReader(envelope, received_at=str(source.get("received_at") or ""))


def close_reader(reader: Reader) -> None:
    """A database reader holds an engine of its own; files and APIs hold nothing between batches."""
    if isinstance(reader, readers.DatabaseReader):
        reader.engine.dispose()


def source_label(settings: Settings, spec: ImportSpec, *, file: Path | None = None, trusted: bool = False) -> str:
    """What the run history shows as the source: the file's name, the table, or the API's address."""
    if file is not None:
        return file.name
    if spec.source_kind in ("csv", "excel"):
        try:
            return uploads.source_file(settings, spec.source, trusted=trusted).name
        except AppError:
            return spec.source_kind
    if spec.source_kind == "database":
        return str(spec.source.get("table") or "SELECT …")[:300]
    if spec.source_kind == "delivery":
        return f"delivery:{spec.source.get('envelope_id')}"[:300]
    return str(spec.source.get("url", "api")).split("?")[0][:300]
