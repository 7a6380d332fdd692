"""Comparisons of deliveries and the history of every record they touched.

Row values may be personal (names, ID numbers), so they are stored sealed with the PII vault; a record's
key is sealed too and found through its blind index. Counts, field names and flags are never personal.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id

BIGID = BigInteger().with_variant(Integer, "sqlite")


class Delivery(Base):
    """One delivery of a (unit, target) that the history took in; the first has no comparison."""

    __tablename__ = "compare_delivery"
    __table_args__ = (Index("ix_compare_delivery_scope", "target", "scope", "received_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    scope: Mapped[str] = mapped_column(String(32), default="")  # the unit's code, "" when none
    target: Mapped[str] = mapped_column(String(130))
    resource_code: Mapped[str | None] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(64))
    delivery_kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[list] = mapped_column(JSON, default=list)
    incremental: Mapped[bool] = mapped_column(Boolean, default=False)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    comparison_id: Mapped[str | None] = mapped_column(String(36))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Comparison(Base):
    """A delivery against the state before it: counts, changes per field, suspicious-change flags."""

    __tablename__ = "compare_comparison"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    scope: Mapped[str] = mapped_column(String(32), default="", index=True)
    target: Mapped[str] = mapped_column(String(130), index=True)
    resource_code: Mapped[str | None] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(64))
    delivery_kind: Mapped[str] = mapped_column(String(16))
    previous_delivery_id: Mapped[str | None] = mapped_column(String(64))
    incremental: Mapped[bool] = mapped_column(Boolean, default=False)
    key: Mapped[list] = mapped_column(JSON, default=list)
    columns: Mapped[list] = mapped_column(JSON, default=list)  # [{name, title, pii, id_kind}]
    added: Mapped[int] = mapped_column(BigInteger, default=0)
    removed: Mapped[int] = mapped_column(BigInteger, default=0)
    changed: Mapped[int] = mapped_column(BigInteger, default=0)
    unchanged: Mapped[int] = mapped_column(BigInteger, default=0)
    previous_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    field_counts: Mapped[dict] = mapped_column(JSON, default=dict)
    flags: Mapped[list] = mapped_column(JSON, default=list)  # [{code, count, fields, share?}]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ComparisonRow(Base):
    """One added, removed or changed record of a comparison; its values sealed."""

    __tablename__ = "compare_row"

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    comparison_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # added | removed | changed
    fields: Mapped[str] = mapped_column(Text, default="")  # ",name,amount," — the changed fields
    flags: Mapped[str] = mapped_column(String(100), default="")  # ",id_change,flip,"
    row_sealed: Mapped[str] = mapped_column(Text)  # {"key", "values", "old"?, "changes"?}


class RecordVersion(Base):
    """One version of one record of a (unit, target): valid from a delivery until the next one changed or
    removed it (``valid_to`` null: the current version)."""

    __tablename__ = "compare_version"
    __table_args__ = (Index("ix_compare_version_record", "target", "scope", "key_index"),
                      Index("ix_compare_version_current", "target", "scope", "valid_to"))

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(32), default="")
    target: Mapped[str] = mapped_column(String(130))
    key_index: Mapped[str] = mapped_column(String(64))  # blind index of the key's values (in clear in values)
    values_sealed: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_id: Mapped[str] = mapped_column(String(64))
    delivery_kind: Mapped[str] = mapped_column(String(16))
    comparison_id: Mapped[str | None] = mapped_column(String(36))
    ended_by: Mapped[str | None] = mapped_column(String(64))  # the delivery that changed or removed it
