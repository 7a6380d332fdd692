"""Resource shapes: the resource document (the YAML/JSON import-export shape) and the API's in/out models."""

from __future__ import annotations

import enum
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from pbshare.core.clock import UtcDateTime

if TYPE_CHECKING:
    from pbshare.catalog.resources.models import Resource, ResourceVersion


class Direction(enum.StrEnum):
    inbound = "inbound"  # 数源单位 → 管理署
    outbound = "outbound"  # 管理署 → 接收单位


class ShareType(enum.StrEnum):
    unconditional = "unconditional"  # 无条件共享
    conditional = "conditional"  # 有条件共享
    none = "none"  # 不予共享


class Method(enum.StrEnum):
    api = "api"
    subscription = "subscription"
    file = "file"
    portal = "portal"


class OpenScope(enum.StrEnum):
    public = "public"
    on_request = "on_request"
    not_public = "not_public"


class Frequency(enum.StrEnum):
    realtime = "realtime"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"


class ResourceFormat(enum.StrEnum):
    database = "database"
    file = "file"
    api = "api"


class ItemType(enum.StrEnum):
    string = "string"
    integer = "integer"
    decimal = "decimal"
    date = "date"
    datetime = "datetime"
    boolean = "boolean"
    enum = "enum"


class IdKind(enum.StrEnum):
    cn_ric = "cn_ric"  # 居民身份证号码
    uscc = "uscc"  # 统一社会信用代码
    phone = "phone"  # 手机号码


CODE_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._-]{2,31}$"
ITEM_CODE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class InfoItemDoc(BaseModel):
    """An info item (信息项). ``values`` are the allowed values of an ``enum`` item."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=ITEM_CODE_PATTERN, description="信息项代码 / item code (a column name)")
    name: str = Field(min_length=1, max_length=200)
    type: ItemType
    length: int | None = Field(None, ge=1, le=100000)
    description: str | None = Field(None, max_length=2000)
    pii: bool = False
    id_kind: IdKind | None = None
    values: list[str] | None = None

    @property
    def allowed_values(self) -> list[str] | None:
        return self.values


class ResourceDoc(BaseModel):
    """One resource in the shape of the sample catalog (see /work/shared/catalog/README.md)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    code: str = Field(pattern=CODE_PATTERN, description="资源代码：分类代码 + 顺序号 / classification + sequence")
    name: str = Field(min_length=1, max_length=200)
    classification: str | None = Field(None, max_length=32, description="默认取代码去掉末 3 位 / default: code "
                                                                          "without its last 3 characters")
    abstract: str | None = Field(None, max_length=2000)
    provider: str = Field(min_length=1, max_length=32, description="提供单位代码 / provider unit code")
    direction: Direction
    receivers: list[str] = Field(default_factory=list)
    share_type: ShareType
    share_condition: str | None = Field(None, max_length=1000)
    method: list[Method] = Field(min_length=1)
    open_scope: OpenScope
    frequency: Frequency
    format: ResourceFormat
    key: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict, description="管理员自定义元数据 / custom attributes")
    items: list[InfoItemDoc] = Field(default_factory=list)


class ResourceSpec(ResourceDoc):
    """What other domains read: the current published version (or the working copy if never published)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    state: str
    version: int
    provider_unit_id: str
    publish_date: date | None = None
    from_version: int | None = Field(None, description="None: the working copy")

    def item(self, code: str) -> InfoItemDoc | None:
        return next((i for i in self.items if i.code == code), None)


class ResourceRow(BaseModel):
    id: str
    code: str
    name: str
    classification: str
    provider: str
    provider_name: str
    direction: str
    share_type: str
    frequency: str
    open_scope: str
    method: list[str]
    state: str
    version: int
    publish_date: date | None
    items: int
    updated_at: UtcDateTime

    @classmethod
    def of(cls, res: Resource) -> ResourceRow:
        return cls(id=res.id, code=res.code, name=res.name, classification=res.classification,
                   provider=res.provider.code, provider_name=res.provider.name, direction=res.direction,
                   share_type=res.share_type, frequency=res.frequency, open_scope=res.open_scope,
                   method=res.methods or [], state=res.state, version=res.version, publish_date=res.publish_date,
                   items=len(res.items), updated_at=res.updated_at)


class ConsentOut(BaseModel):
    unit_code: str
    unit_name: str
    role: str
    agreed: bool | None = None
    decided_on: date | None = None
    comment: str | None = None
    recorded_by: str | None = None
    on_behalf: bool = False  # recorded by the office for the unit, with the evidence
    evidence: str | None = None
    evidence_name: str | None = None  # a file is attached: GET …/consents/{round}/{unit_code}/evidence


class RoundOut(BaseModel):
    round: int
    consents: list[ConsentOut]


class ResourceOut(BaseModel):
    id: str
    state: str
    version: int
    consultation_round: int
    publish_date: date | None
    provider_name: str
    document: ResourceDoc
    published: ResourceDoc | None = None
    consents: list[ConsentOut] = Field(default_factory=list)
    earlier_rounds: list[RoundOut] = Field(default_factory=list)  # newest first, with their opinions
    can_publish: bool = False
    updated_at: UtcDateTime


class ConsentIn(BaseModel):
    unit_code: str = Field(max_length=32)
    agreed: bool
    decided_on: date
    comment: str | None = Field(None, max_length=2000)
    evidence: str | None = Field(None, max_length=2000, description="代为登记时的依据 / what the opinion came in, "
                                 "when the office records it on the unit's behalf")
    evidence_name: str | None = Field(None, max_length=200)
    evidence_base64: str | None = Field(None, max_length=1_000_000, description="依据文件（Base64） / the scanned "
                                        "document, base64")


class PublishIn(BaseModel):
    note: str | None = Field(None, max_length=2000)


class WithdrawIn(BaseModel):
    reason: str = Field(min_length=2, max_length=2000)


class VersionOut(BaseModel):
    version: int
    published_at: UtcDateTime
    published_by: str | None
    note: str | None
    consents: list[dict]
    document: ResourceDoc

    @classmethod
    def of(cls, v: ResourceVersion) -> VersionOut:
        return cls(version=v.version, published_at=v.published_at, published_by=v.published_by, note=v.note,
                   consents=v.consents or [], document=ResourceDoc(**v.document))


class VersionRow(BaseModel):
    version: int
    published_at: UtcDateTime
    published_by: str | None
    note: str | None

    @classmethod
    def of(cls, v: ResourceVersion) -> VersionRow:
        return cls(version=v.version, published_at=v.published_at, published_by=v.published_by, note=v.note)
