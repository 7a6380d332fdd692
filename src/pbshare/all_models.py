"""Imports every domain's tables so Alembic and metadata checks see the whole schema."""

from pbshare.catalog.attributes import models as catalog_attributes_models  # noqa: F401
from pbshare.catalog.editions import models as catalog_editions_models  # noqa: F401
from pbshare.catalog.resources import models as catalog_resources_models  # noqa: F401
from pbshare.collect.derived import models as collect_derived_models  # noqa: F401
from pbshare.collect.profiles import models as collect_profiles_models  # noqa: F401
from pbshare.collect.runs import models as collect_runs_models  # noqa: F401
from pbshare.compare import models as compare_models  # noqa: F401
from pbshare.exchange.cases import models as exchange_cases_models  # noqa: F401
from pbshare.exchange.connections import models as exchange_connections_models  # noqa: F401
from pbshare.exchange.govhub import models as exchange_govhub_models  # noqa: F401
from pbshare.exchange.messaging import models as exchange_messaging_models  # noqa: F401
from pbshare.exchange.requests import models as exchange_requests_models  # noqa: F401
from pbshare.exchange.subscriptions import models as exchange_subscriptions_models  # noqa: F401
from pbshare.forms import models as forms_models  # noqa: F401
from pbshare.jobs import models as jobs_models  # noqa: F401
from pbshare.metadata import models as metadata_models  # noqa: F401
from pbshare.ops import models as ops_models  # noqa: F401
from pbshare.quality import models as quality_models  # noqa: F401
from pbshare.quality.reports import models as quality_reports_models  # noqa: F401
from pbshare.quality.rules import models as quality_rules_models  # noqa: F401
from pbshare.security.audit import models as security_audit_models  # noqa: F401
from pbshare.security.clients import models as security_clients_models  # noqa: F401
from pbshare.security.identity import models as security_models  # noqa: F401
from pbshare.units import models as units_models  # noqa: F401
from pbshare.warehouse import models as warehouse_models  # noqa: F401
