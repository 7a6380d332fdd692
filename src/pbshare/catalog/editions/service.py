"""Editions: the versions in effect frozen under a name such as "2022 年版"; and the catalog's header
(name, version, publisher), kept so an export gives back what was imported."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.catalog.editions.models import CatalogInfo, Edition
from pbshare.catalog.resources import service as resource_service
from pbshare.core.errors import Conflict
from pbshare.core.i18n import T
from pbshare.core.lookup import one_or_raise
from pbshare.security.audit import service as audit
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

DEFAULT_CATALOG_NAME = "个人破产信息共享目录"


def create_edition(db: Session, *, name: str, edition_date: date, description: str | None = None,
                   principal: Principal | None = None) -> Edition:
    """Freeze the versions in effect now (published or being revised) under a name such as "2022 年版"."""
    if db.scalar(select(Edition.id).where(Edition.name == name)):
        raise Conflict(T("目录版本“{n}”已存在", "The catalog edition “{n}” already exists", n=name), code="edition_exists")
    rows = resource_service.version_ids_in_effect(db)
    if not rows:
        raise Conflict(T("还没有已发布的资源，无法形成目录版本", "Nothing is published yet; an edition needs published "
                         "resources"), code="nothing_published")
    edition = Edition(name=name, edition_date=edition_date, description=description, version_ids=list(rows),
                      created_by=(principal.username if principal is not None else None) or "system")
    db.add(edition)
    db.flush()
    audit.record(db, action="catalog.edition.create", principal=principal, object_type="edition",
                 object_id=edition.id, detail={"name": name, "resources": len(rows)})
    return edition


def list_editions(db: Session) -> list[Edition]:
    return list(db.scalars(select(Edition).order_by(Edition.edition_date.desc(), Edition.name)))


def get_edition(db: Session, *, edition_id: str) -> Edition:
    """By id, or else by name."""
    return db.get(Edition, edition_id) or one_or_raise(
        db, select(Edition).where(Edition.name == edition_id),
        T("目录版本不存在", "The catalog edition does not exist"), code="edition_not_found")


def edition_documents(db: Session, edition: Edition) -> list[dict]:
    return resource_service.version_documents(db, version_ids=edition.version_ids)


def catalog_header(db: Session) -> dict[str, str]:
    """The catalog's name, version (when known) and publisher, with defaults before any import."""
    info = db.get(CatalogInfo, 1)
    header = {"name": info.name if info else DEFAULT_CATALOG_NAME}
    if info and info.version:
        header["version"] = info.version
    header["publisher"] = (info.publisher if info else None) or unit_service.OFFICE_CODE
    return header


def save_catalog_header(db: Session, header: dict) -> None:
    """Keep an imported catalog's header (a file without a name keeps the stored one)."""
    info = db.get(CatalogInfo, 1) or CatalogInfo(id=1)
    info.name = str(header.get("name") or info.name or DEFAULT_CATALOG_NAME)
    info.version = str(header["version"]) if header.get("version") is not None else None
    info.publisher = str(header.get("publisher") or unit_service.OFFICE_CODE)
    db.add(info)
