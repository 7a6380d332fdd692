"""Imports every domain's tables so Alembic and metadata checks see the whole schema."""

from pbshare.catalog import models as catalog_models  # noqa: F401
from pbshare.exchange import models as exchange_models  # noqa: F401
from pbshare.security import audit as security_audit  # noqa: F401
from pbshare.security import models as security_models  # noqa: F401
