"""The attribute table: extra metadata fields an admin defines for resources."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pbshare.core.clock import utcnow
from pbshare.core.db import Base
from pbshare.core.ids import new_id


class AttributeDef(Base):
    """An extra metadata field on resources that an admin adds without code changes (e.g. 法律依据)."""

    __tablename__ = "catalog_attribute"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    label_zh: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16), default="string")  # string text number date boolean enum
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    options: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
