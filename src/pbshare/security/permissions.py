"""What each role may do. Routes ask for a permission, never for a role, so roles can change."""

from __future__ import annotations

import enum

from pbshare.security.enums import Role


class Perm(enum.StrEnum):
    # identity and security
    users_read = "users:read"
    users_write = "users:write"
    security_manage = "security:manage"  # policies, unlock, force logout, API clients
    audit_read = "audit:read"
    system_manage = "system:manage"  # settings, backup, keys, channels
    api_clients_read = "api_clients:read"  # see API clients (a unit operator: only its own unit's)
    # catalog and metadata
    catalog_read = "catalog:read"
    catalog_write = "catalog:write"
    catalog_consent = "catalog:consent"  # a unit's or the data authority's consent
    units_write = "units:write"
    metadata_read = "metadata:read"
    metadata_write = "metadata:write"
    # data
    collect_run = "collect:run"
    collect_manage = "collect:manage"
    quality_manage = "quality:manage"
    warehouse_read = "warehouse:read"
    warehouse_write = "warehouse:write"
    pii_unmask = "pii:unmask"  # see identifiers in clear, with a stated purpose
    forms_design = "forms:design"  # design data models and their forms
    forms_enter = "forms:enter"  # enter records into published forms (each model also names its roles)
    # exchange
    cases_read = "cases:read"
    cases_write = "cases:write"
    requests_write = "requests:write"
    requests_answer = "requests:answer"  # a unit operator answers its own unit's items
    exchange_manage = "exchange:manage"  # connections, dead letters, replay
    exchange_send = "exchange:send"  # a unit's system sends envelopes
    # ETL pipelines and schedules
    jobs_read = "jobs:read"  # see pipelines, schedules, runs and their logs
    jobs_manage = "jobs:manage"  # build pipelines, schedule, run now, cancel
    # reports
    reports_read = "reports:read"
    reports_write = "reports:write"


ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.sys_admin: frozenset(
        {Perm.system_manage, Perm.users_read, Perm.catalog_read, Perm.metadata_read, Perm.metadata_write,
         Perm.exchange_manage, Perm.units_write, Perm.reports_read, Perm.jobs_read}
    ),
    Role.security_admin: frozenset({Perm.users_read, Perm.users_write, Perm.security_manage, Perm.api_clients_read}),
    Role.auditor: frozenset({Perm.audit_read, Perm.users_read}),
    Role.data_admin: frozenset(
        {Perm.catalog_read, Perm.catalog_write, Perm.catalog_consent, Perm.units_write, Perm.metadata_read,
         Perm.metadata_write, Perm.collect_run, Perm.collect_manage, Perm.quality_manage, Perm.warehouse_read,
         Perm.warehouse_write, Perm.reports_read, Perm.reports_write, Perm.cases_read, Perm.forms_design,
         Perm.forms_enter, Perm.jobs_read, Perm.jobs_manage}
    ),
    Role.case_handler: frozenset(
        {Perm.catalog_read, Perm.cases_read, Perm.cases_write, Perm.requests_write, Perm.warehouse_read,
         Perm.pii_unmask, Perm.reports_read, Perm.forms_enter}
    ),
    Role.report_viewer: frozenset({Perm.reports_read, Perm.catalog_read}),
    Role.unit_operator: frozenset({Perm.catalog_read, Perm.catalog_consent, Perm.requests_answer,
                                Perm.api_clients_read}),
    Role.api_client: frozenset({Perm.exchange_send}),
}


def permissions_for(roles: set[str] | frozenset[str]) -> frozenset[Perm]:
    perms: set[Perm] = set()
    for role in roles:
        try:
            perms |= ROLE_PERMISSIONS[Role(role)]
        except ValueError:
            continue
    return frozenset(perms)
