"""Saved import profiles: source, options, mapping, target and mode, re-run in one step, and the
incremental watermark a database profile carries from one run to the next."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from pbshare.collect.profiles.models import ImportProfile
from pbshare.collect.profiles.schemas import ProfileIn, ProfileOut
from pbshare.collect.schemas import ImportSpec, RunOut
from pbshare.core.dynamic import safe_identifier
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T
from pbshare.core.lookup import one_or_raise
from pbshare.security.audit import service as audit
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse


def _check_profile(db: Session, data: ProfileIn) -> None:
    safe_identifier(data.target_topic, what="topic")
    if data.source_kind == "database" and data.source.get("url"):
        # A profile is stored and listed: a bare URL would keep its password in clear. A registered data
        # source keeps it sealed, and the profile names it by source_id.
        raise Invalid(T("导入配置不能保存数据库地址（其中的密码会明文保存）。请先在“目录与元数据管理 → 数据源”中登记该数据库"
                        "（pbshare metadata source add），再在配置中用它的 source_id",
                        "A profile cannot keep a database URL (its password would be stored in clear). Register "
                        "the database as a data source first (Catalog & metadata admin → Data sources, or pbshare metadata source "
                        "add) and give its source_id in the profile"),
                      code="url_not_allowed", detail={"field": "source.url"})
    safe_identifier(data.target_table, what="table")
    warehouse.get_topic(db, name=data.target_topic)
    if data.mode == "upsert" and not data.key and data.resource_code is None and \
            warehouse.find_table(db, topic=data.target_topic, name=data.target_table) is None:
        raise Invalid(T("“更新或插入”方式需要业务主键", "Upsert needs a business key"), code="no_key")


def _taken(name: str) -> Conflict:
    return Conflict(T("导入配置 {n} 已存在", "Import profile {n} already exists", n=name), code="profile_exists")


def create_profile(db: Session, *, data: ProfileIn, principal: Principal | None = None) -> ImportProfile:
    _check_profile(db, data)
    if find_profile(db, name=data.name) is not None:
        raise _taken(data.name)
    fields = data.model_dump(mode="json")
    profile = ImportProfile(name=fields.pop("name"), title=fields.pop("title"), source_kind=fields.pop("source_kind"),
                            source=fields.pop("source"), mapping=fields.pop("mapping"),
                            target_topic=fields.pop("target_topic"), target_table=fields.pop("target_table"),
                            mode=fields.pop("mode"), key=fields.pop("key"), resource_code=fields.pop("resource_code"),
                            created_by=principal.username if principal else None)
    db.add(profile)
    db.flush()
    audit.record(db, action="collect.profile.create", principal=principal, object_type="import_profile",
                 object_id=profile.id, detail={"name": profile.name})
    return profile


def update_profile(db: Session, *, profile_id: str, data: ProfileIn,
                   principal: Principal | None = None) -> ImportProfile:
    profile = get_profile(db, profile_id=profile_id)
    _check_profile(db, data)
    other = find_profile(db, name=data.name)
    if other is not None and other.id != profile.id:
        raise _taken(data.name)
    fields = data.model_dump(mode="json")
    fields.pop("target_title", None)
    for name, value in fields.items():
        setattr(profile, name, value)
    # A new cursor column starts from nothing: the old watermark measured another column.
    if profile.source.get("cursor_column") != (profile.watermark or {}).get("column"):
        profile.watermark = None
    audit.record(db, action="collect.profile.update", principal=principal, object_type="import_profile",
                 object_id=profile.id)
    return profile


def delete_profile(db: Session, *, profile_id: str, principal: Principal | None = None) -> None:
    profile = get_profile(db, profile_id=profile_id)
    db.delete(profile)
    audit.record(db, action="collect.profile.delete", principal=principal, object_type="import_profile",
                 object_id=profile_id, detail={"name": profile.name})


def find_profile(db: Session, *, name: str) -> ImportProfile | None:
    return db.scalar(select(ImportProfile).where(ImportProfile.name == name))


def get_profile(db: Session, *, profile_id: str) -> ImportProfile:
    """By id, or by name (the command line and the page both use either)."""
    return db.get(ImportProfile, profile_id) or one_or_raise(
        db, select(ImportProfile).where(ImportProfile.name == profile_id),
        T("导入配置 {n} 不存在", "There is no import profile {n}", n=profile_id[:64]), code="profile_not_found")


def list_profiles(db: Session) -> list[ImportProfile]:
    return list(db.scalars(select(ImportProfile).order_by(ImportProfile.name)))


def profile_out(profile: ImportProfile, *, last_run: RunOut | None) -> ProfileOut:
    """A profile as the page lists it, with its latest run (which the caller looks up in runs)."""
    return ProfileOut(id=profile.id, name=profile.name, title=profile.title, source_kind=profile.source_kind,
                      source=shown_source(profile.source_kind, profile.source), mapping=profile.mapping, target_topic=profile.target_topic,
                      target_table=profile.target_table, mode=profile.mode, key=profile.key,
                      resource_code=profile.resource_code, watermark=shown_watermark(profile.watermark),
                      created_by=profile.created_by, created_at=profile.created_at, updated_at=profile.updated_at,
                      last_run=last_run)


def shown_source(kind: str, source: dict[str, Any]) -> dict[str, Any]:
    """A profile's source as any response shows it: a database URL saved before URLs were refused
    keeps its password hidden (``***``)."""
    url = source.get("url")
    if kind != "database" or not url:
        return source
    try:
        shown = make_url(str(url)).render_as_string(hide_password=True)
    except ArgumentError:
        shown = "***"
    return {**source, "url": shown}


def shown_watermark(watermark: dict[str, Any] | None) -> dict[str, Any] | None:
    """The watermark as responses show it: the rows' fingerprints only counted (up to 10,000 of them)."""
    if not watermark or "seen" not in watermark:
        return watermark
    shown = {k: v for k, v in watermark.items() if k != "seen"}
    shown["rows_at_value"] = len(watermark.get("seen") or [])
    return shown


def spec_of(profile: ImportProfile) -> ImportSpec:
    return ImportSpec(source_kind=profile.source_kind, source=profile.source, mapping=profile.mapping,
                      target_topic=profile.target_topic, target_table=profile.target_table, target_title=profile.title,
                      mode=profile.mode, key=profile.key, resource_code=profile.resource_code)


def watermark_of(db: Session, *, profile_id: str | None) -> dict[str, Any] | None:
    """Where the profile's last incremental load stopped (None: read everything)."""
    profile = db.get(ImportProfile, profile_id) if profile_id else None
    return profile.watermark if profile else None


def keep_watermark(db: Session, *, profile_id: str, watermark: dict[str, Any]) -> None:
    """Remember where this run stopped, for the next one; a profile deleted meanwhile keeps nothing."""
    profile = db.get(ImportProfile, profile_id)
    if profile is not None:
        profile.watermark = watermark
