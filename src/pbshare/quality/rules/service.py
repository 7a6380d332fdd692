"""Rule sets: stored per catalog resource or import profile, derived from a resource's info items until saved.

Callers (quality reports, collect, exchange) ask ``rules_for_resource`` / ``rules_for_profile`` for the
engine's ``Rule`` objects and ``context_for`` for what set-level rules need; people manage the sets
through the routes in ``rules.api``. Column names are the info item codes in lower case, as the
warehouse names a resource's columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import polars as pl
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pbshare.catalog.resources import service as catalog_service
from pbshare.core.db import Database
from pbshare.core.errors import Invalid, NotFound
from pbshare.core.i18n import T
from pbshare.core.sqlcheck import parse_read_only
from pbshare.core.userquery import QueryLimits, explain, limited
from pbshare.quality.rules import builtins, engine, expressions
from pbshare.quality.rules.engine import Dimension, Rule, RuleContext, Severity
from pbshare.quality.rules.models import RuleSet, StoredRule
from pbshare.security.audit import service as audit
from pbshare.units.principal import Principal
from pbshare.warehouse import service as warehouse

# catalog update frequency -> how often a delivery is expected (realtime: at least daily)
FREQUENCY_EVERY = {"realtime": timedelta(days=1), "daily": timedelta(days=1), "weekly": timedelta(days=7),
                   "monthly": timedelta(days=31), "quarterly": timedelta(days=92), "yearly": timedelta(days=366)}
NUMBER_PATTERNS = {"integer": r"^-?[0-9]+$", "decimal": r"^-?[0-9]+(\.[0-9]+)?$",
                   "datetime": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"
                               r"(Z|[+-][0-9]{2}:?[0-9]{2})?$"}
BOOLEAN_VALUES = ["true", "false", "1", "0", "是", "否", "Y", "N"]


def _user(principal: Principal | None) -> str | None:
    return getattr(principal, "username", None) if principal is not None else None


# ------------------------------------------------------------------ derivation

def column_name(item_code: str) -> str:
    return item_code.lower()


def derive_rules(spec: Any) -> list[Rule]:
    """Rules a resource's info items imply: business key unique and filled, built-in formats by id_kind,
    numbers and dates well formed, text within its length, enum values from the allowed list."""
    rules: list[Rule] = []
    key = [column_name(k) for k in spec.key or []]
    if key:
        rules.append(Rule("not_null", tuple(key), {}, Severity.error))
        rules.append(Rule("unique", tuple(key), {}, Severity.error))
    for item in spec.items:
        c = column_name(item.code)
        kind = str(item.type.value if hasattr(item.type, "value") else item.type)
        id_kind = str(item.id_kind.value if hasattr(item.id_kind, "value") else item.id_kind) if item.id_kind else None
        if id_kind in builtins.ID_KIND_BUILTIN:
            rules.append(Rule("format", (c,), {"builtin": builtins.ID_KIND_BUILTIN[id_kind], "pii": True}))
        elif kind in NUMBER_PATTERNS:
            rules.append(Rule("format", (c,), {"pattern": NUMBER_PATTERNS[kind]}))
        elif kind == "date":
            rules.append(Rule("format", (c,), {"builtin": "date"}))
        elif kind == "boolean":
            rules.append(Rule("allowed", (c,), {"values": BOOLEAN_VALUES}))
        if kind == "enum" and item.values:
            rules.append(Rule("allowed", (c,), {"values": list(item.values)}))
        if item.length and kind in ("string", "enum") and id_kind not in builtins.ID_KIND_BUILTIN:
            rules.append(Rule("length", (c,), {"max": int(item.length)}, Severity.warning))
    return rules


def resource_columns(db: Session, *, resource_code: str) -> list[str]:
    spec = catalog_service.get_resource(db, code=resource_code)
    return [column_name(i.code) for i in spec.items]


def personal_columns(db: Session, *, resource_code: str) -> list[str]:
    """Columns whose values are masked wherever a rule shows them (pii items and identifiers)."""
    spec = catalog_service.get_resource(db, code=resource_code)
    return [column_name(i.code) for i in spec.items if i.pii or i.id_kind]


# ------------------------------------------------------------------ reading

def to_rule(row: StoredRule) -> Rule:
    return Rule(kind=row.kind, columns=tuple(row.columns or ()), params=dict(row.params or {}),
                severity=Severity(row.severity), dimension=Dimension(row.dimension) if row.dimension else None,
                name=row.name or "", id=row.id)


def _find_set(db: Session, *, resource_code: str | None = None, profile_id: str | None = None) -> RuleSet | None:
    if resource_code is not None:
        return db.scalar(select(RuleSet).where(RuleSet.resource_code == resource_code))
    return db.scalar(select(RuleSet).where(RuleSet.profile_id == profile_id))


def rules_for_resource(db: Session, *, resource_code: str) -> list[Rule]:
    """The resource's stored set (enabled rules), else the one derived from its info items."""
    stored = _find_set(db, resource_code=resource_code)
    if stored is not None:
        return [to_rule(r) for r in stored.rules if r.enabled]
    return derive_rules(catalog_service.get_resource(db, code=resource_code))


def rules_for_profile(db: Session, *, profile_id: str) -> list[Rule]:
    """The import profile's own set (may be empty)."""
    stored = _find_set(db, profile_id=profile_id)
    return [to_rule(r) for r in stored.rules if r.enabled] if stored is not None else []


def rule_out(rule: Rule, *, enabled: bool = True) -> dict:
    return {"id": rule.id, "kind": rule.kind, "columns": list(rule.columns), "params": rule.params,
            "severity": rule.severity.value, "dimension": rule.dimension.value if rule.dimension else None,
            "name": rule.name, "enabled": enabled, "label": rule.label,
            "effective_dimension": rule.effective_dimension.value}


def rule_set(db: Session, *, resource_code: str | None = None, profile_id: str | None = None) -> dict:
    """The set as the rule-set page shows it: stored rules (disabled ones too) or the derived ones."""
    columns = resource_columns(db, resource_code=resource_code) if resource_code else []
    stored = _find_set(db, resource_code=resource_code, profile_id=profile_id)
    if stored is not None:
        rules = [rule_out(to_rule(r), enabled=r.enabled) for r in stored.rules]
    elif resource_code:
        rules = [rule_out(r) for r in derive_rules(catalog_service.get_resource(db, code=resource_code))]
    else:
        rules = []
    return {"owner": "resource" if resource_code else "profile", "resource_code": resource_code,
            "profile_id": profile_id, "stored": stored is not None, "columns": columns, "rules": rules}


def derived_set(db: Session, *, resource_code: str) -> dict:
    spec = catalog_service.get_resource(db, code=resource_code)
    return {"owner": "resource", "resource_code": resource_code, "profile_id": None, "stored": False,
            "columns": [column_name(i.code) for i in spec.items], "rules": [rule_out(r) for r in derive_rules(spec)]}


# ------------------------------------------------------------------ changing

def _checked(doc: dict, columns: Sequence[str] | None) -> Rule:
    rule = Rule(kind=doc["kind"], columns=tuple(doc.get("columns") or ()), params=dict(doc.get("params") or {}),
                severity=Severity(doc.get("severity") or "error"),
                dimension=Dimension(doc["dimension"]) if doc.get("dimension") else None, name=doc.get("name") or "")
    engine.validate_rule(rule, list(columns) if columns else None)
    return rule


def _owner(db: Session, resource_code: str | None, profile_id: str | None) -> tuple[list[str] | None, dict]:
    if bool(resource_code) == bool(profile_id):
        raise Invalid(T("规则集须属于一个目录资源或一个导入配置", "A rule set belongs to one catalog resource or one "
                        "import profile"), code="rule_set_owner")
    if resource_code:
        return resource_columns(db, resource_code=resource_code), {"resource_code": resource_code}
    return None, {"profile_id": profile_id}


def _row(doc: dict, rule: Rule, position: int) -> StoredRule:
    return StoredRule(position=position, kind=rule.kind, columns=list(rule.columns), params=rule.params,
                      severity=rule.severity.value, dimension=rule.dimension.value if rule.dimension else None,
                      name=rule.name, enabled=bool(doc.get("enabled", True)))


def save_rule_set(db: Session, *, rules: list[dict], resource_code: str | None = None, profile_id: str | None = None,
                  principal: Principal | None = None) -> dict:
    """Replace the whole set (each rule checked first; nothing is saved if one is wrong)."""
    columns, owner = _owner(db, resource_code, profile_id)
    checked = []
    for n, doc in enumerate(rules, start=1):
        try:
            checked.append(_checked(doc, columns))
        except Invalid as exc:
            exc.detail = {"rule": n, **(exc.detail or {})} if isinstance(exc.detail, dict | None) else exc.detail
            raise
    stored = _find_set(db, **owner)
    if stored is None:
        stored = RuleSet(**owner)
        db.add(stored)
    stored.updated_by = _user(principal)
    stored.rules.clear()
    db.flush()
    for n, (doc, rule) in enumerate(zip(rules, checked, strict=True)):
        stored.rules.append(_row(doc, rule, n))
    db.flush()
    audit.record(db, action="quality.rules.save", principal=principal, object_type="rule_set",
                 object_id=resource_code or profile_id, detail={"rules": len(checked)})
    return rule_set(db, **owner)


def _materialised(db: Session, owner: dict, principal: Principal | None) -> RuleSet:
    stored = _find_set(db, **owner)
    if stored is not None:
        return stored
    derived = [rule_out(r) for r in derive_rules(catalog_service.get_resource(db, code=owner["resource_code"]))] \
        if owner.get("resource_code") else []
    save_rule_set(db, rules=derived, principal=principal, **owner)
    stored = _find_set(db, **owner)
    assert stored is not None
    return stored


def add_rule(db: Session, *, rule: dict, resource_code: str | None = None, profile_id: str | None = None,
             principal: Principal | None = None) -> dict:
    """Add one rule; a resource whose set was only derived gets it stored first (derived rules kept)."""
    columns, owner = _owner(db, resource_code, profile_id)
    checked = _checked(rule, columns)
    stored = _materialised(db, owner, principal)
    row = _row(rule, checked, len(stored.rules))
    stored.rules.append(row)
    stored.updated_by = _user(principal)
    db.flush()
    audit.record(db, action="quality.rules.add", principal=principal, object_type="rule_set",
                 object_id=resource_code or profile_id, detail={"kind": checked.kind, "rule": row.id})
    return rule_out(to_rule(row), enabled=row.enabled)


def get_rule(db: Session, *, rule_id: str) -> StoredRule:
    row = db.get(StoredRule, rule_id)
    if row is None:
        raise NotFound(T("找不到规则 {i}，它可能已被删除；请刷新规则集", "Rule {i} was not found; it may have been "
                         "deleted. Reload the rule set", i=rule_id), code="rule_not_found")
    return row


def update_rule(db: Session, *, rule_id: str, rule: dict, principal: Principal | None = None) -> dict:
    row = get_rule(db, rule_id=rule_id)
    owner = row.rule_set
    columns = resource_columns(db, resource_code=owner.resource_code) if owner.resource_code else None
    checked = _checked(rule, columns)
    row.kind, row.columns, row.params = checked.kind, list(checked.columns), checked.params
    row.severity, row.name = checked.severity.value, checked.name
    row.dimension = checked.dimension.value if checked.dimension else None
    row.enabled = bool(rule.get("enabled", True))
    owner.updated_by = _user(principal)
    db.flush()
    audit.record(db, action="quality.rules.update", principal=principal, object_type="rule", object_id=row.id,
                 detail={"kind": row.kind, "severity": row.severity})
    return rule_out(to_rule(row), enabled=row.enabled)


def delete_rule(db: Session, *, rule_id: str, principal: Principal | None = None) -> None:
    row = get_rule(db, rule_id=rule_id)
    owner = row.rule_set
    owner.rules.remove(row)
    owner.updated_by = _user(principal)
    db.flush()
    audit.record(db, action="quality.rules.delete", principal=principal, object_type="rule", object_id=rule_id,
                 detail={"kind": row.kind})


def reset_rule_set(db: Session, *, resource_code: str | None = None, profile_id: str | None = None,
                   principal: Principal | None = None) -> None:
    """Forget the stored set: a resource goes back to rules derived from its info items, a profile to none."""
    _, owner = _owner(db, resource_code, profile_id)
    stored = _find_set(db, **owner)
    if stored is not None:
        db.delete(stored)
        db.flush()
        audit.record(db, action="quality.rules.reset", principal=principal, object_type="rule_set",
                     object_id=resource_code or profile_id)


# ------------------------------------------------------------------ context for set-level rules

def _split(table: str) -> tuple[str, str]:
    if "." not in table:
        raise Invalid(T("引用的表要写成 专题库.表名：{t}", "Name the referenced table as topic.table: {t}", t=table),
                      code="rule_table")
    topic, name = table.split(".", 1)
    return topic, name


def context_for(db: Session, *, resource_code: str | None, unit_code: str | None, target: str | None,
                database: Database | None = None) -> RuleContext:
    """What set-level rules need: the resource's update frequency; with ``database``, lookups of
    warehouse columns (referential, code tables, another unit's data) and read-only custom SQL.

    ``previous_rows`` and ``last_delivery_at`` are the caller's to fill (the reports know the deliveries).
    """
    expected = None
    if resource_code:
        spec = catalog_service.get_resource(db, code=resource_code)
        freq = str(spec.frequency.value if hasattr(spec.frequency, "value") else spec.frequency)
        expected = FREQUENCY_EVERY.get(freq)
    ctx = RuleContext(expected_every=expected)
    if database is None:
        return ctx
    readable = warehouse.readable_tables(db)
    store = warehouse.topic_store(database)

    def _table(table: str) -> Any:
        if table not in readable:
            raise Invalid(T("规则引用的表 {t} 不在数据仓库中", "The table {t} named by a rule is not in the warehouse",
                            t=table), code="rule_table")
        topic, name = _split(table)
        return store.reflect_table(topic, name)

    def lookup(table: str, column: str) -> pl.Series:
        t = _table(table)
        if column not in t.c:
            raise Invalid(T("表 {t} 没有列 {c}", "The table {t} has no column {c}", t=table, c=column), code="rule_table")
        with database.warehouse_engine.connect() as conn:
            values = conn.execute(select(t.c[column]).distinct()).scalars().all()
        return pl.Series(column, [None if v is None else str(v) for v in values], dtype=pl.String)

    def frame(table: str, columns: Sequence[str]) -> pl.DataFrame:
        t = _table(table)
        cols = [t.c[c] for c in columns if c in t.c]
        with database.warehouse_engine.connect() as conn:
            rows = conn.execute(select(*cols)).all()
        return pl.DataFrame([tuple(r) for r in rows], schema=[c.name for c in cols], orient="row",
                            infer_schema_length=None)

    def sql(statement: str) -> pl.DataFrame:
        from sqlglot import exp

        stmt = parse_read_only(statement, dialect="postgres")
        for t in stmt.find_all(exp.Table):
            full = f"{t.db}.{t.name}" if t.db else t.name
            if full not in readable:
                raise Invalid(T("自定义 SQL 只能查询数据仓库中的表（专题库.表名）：{t}", "Custom SQL may only read "
                                "warehouse tables (topic.table): {t}", t=full), code="sql_table_denied")
        eng = database.warehouse_reader
        runnable = stmt.sql(dialect="sqlite" if eng.dialect.name == "sqlite" else "postgres", identify=True)
        limits = QueryLimits.from_settings(database.settings)
        with eng.connect() as conn, conn.begin(), limited(conn, limits) as stop:
            try:
                result = conn.execute(text(f"SELECT * FROM ({runnable}) AS q LIMIT {int(limits.max_rows)}"))
                names = list(result.keys())
                rows = [tuple(r) for r in result]
            except Exception as exc:
                raise explain(exc, stop, limits) or Invalid(
                    T("自定义 SQL 执行失败：{e}", "The custom SQL failed: {e}", e=str(getattr(exc, "orig", exc))[:300]),
                    code="sql_failed") from None
        return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)

    ctx.lookup, ctx.table, ctx.sql = lookup, frame, sql
    return ctx


def check_expression(expression: str, *, columns: Sequence[str] | None = None) -> dict:
    """A cross-field condition checked: its columns and its normal form; Invalid (422) when refused."""
    tree = expressions.parse(expression)
    used = expressions.columns_of(tree)
    unknown = [c for c in used if columns is not None and c not in columns]
    if unknown:
        raise Invalid(T("条件中的列不存在：{m}；可用的列：{a}", "The condition names columns that do not exist: {m}; "
                        "the columns are: {a}", m=", ".join(unknown), a=", ".join(columns or [])),
                      code="expression_unknown_column")
    return {"expression": expression, "columns": used, "sql": tree.sql()}


def kinds() -> list[dict]:
    return [{"kind": k, "label_zh": zh, "label_en": en, "dimension": d.value} for k, (d, zh, en) in engine.KINDS.items()]


def builtin_formats() -> list[dict]:
    return [{"name": k, "label_zh": zh, "label_en": en} for k, (_, zh, en, _p) in builtins.BUILTINS.items()]
