"""The debtor's file: identity (masked), cases, every fact received about the person grouped by
catalog resource with its source and date, and the requests asked about them.

Facts are found through the blind index of each resource table's identifier column, so the ID
number is never compared in clear. Every opening of a file is audited (it reads a person's data);
showing identifiers in full goes through ``unmask`` with a purpose, as the case list does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from pbshare.catalog.resources import service as catalog_service
from pbshare.core.db import Database
from pbshare.core.errors import NotFound
from pbshare.exchange.cases import service as cases
from pbshare.exchange.debtors.schemas import DebtorFileOut, DebtorRow, FactTable
from pbshare.exchange.requests import service as requests
from pbshare.security.audit import service as audit
from pbshare.units.principal import Principal
from pbshare.warehouse import facts as warehouse_facts


def search(db: Session, *, q: str | None = None, limit: int = 50) -> list[DebtorRow]:
    return [DebtorRow(id=d.id, name=d.name, id_no=d.id_no_masked, cases=n, is_synthetic=d.is_synthetic)
            for d, n in cases.search_debtors(db, q=q, limit=limit)]


def debtor_file(db: Session, database: Database, *, debtor_id: str, principal: Principal,
                unmask_purpose: str | None = None, ip: str | None = None) -> DebtorFileOut:
    data_dir: Path = database.settings.resolved_data_dir
    debtor = cases.get_debtor(db, debtor_id=debtor_id)
    id_no = cases.debtor_id_no(db, debtor_id=debtor_id, data_dir=data_dir)
    tables = warehouse_facts.person_facts(db, database, id_no=id_no)
    names: dict[str, str] = {}
    facts = []
    for t in tables:
        code = t["resource_code"]
        if code not in names:
            try:
                names[code] = catalog_service.get_resource(db, code=code).name
            except NotFound:
                names[code] = code
        facts.append(FactTable(resource_name=names[code], **t))
    facts.sort(key=lambda f: f.resource_code)
    debtor_cases = cases.cases_of_debtor(db, debtor_id=debtor_id)
    asked: list[dict[str, Any]] = []
    for c in debtor_cases:
        out = requests.case_requests(db, case_id=c.id, data_dir=data_dir, principal=principal)
        asked.append({"case_id": c.id, "case_no": c.case_no, **out.model_dump(mode="json")})
    _add_answers(facts, asked, titles=lambda code: _item_titles(db, code))
    unmasked = unmask_purpose is not None
    audit.record(db, action="pii.unmask" if unmasked else "debtor.file.read", principal=principal,
                 object_type="debtor", object_id=debtor_id, purpose=unmask_purpose, ip=ip,
                 detail={"facts": sum(len(f.rows) for f in facts), "cases": len(debtor_cases)})
    return DebtorFileOut(debtor=cases.debtor_out(debtor, data_dir=data_dir, unmasked=unmasked),
                         cases=[cases.case_out(c) for c in debtor_cases], facts=facts, requests=asked)


def _item_titles(db: Session, code: str) -> dict[str, str]:
    try:
        return {i.code.lower(): i.name for i in catalog_service.get_resource(db, code=code).items}
    except NotFound:
        return {}


def _add_answers(facts: list[FactTable], asked: list[dict[str, Any]],
                 titles: Callable[[str], dict[str, str]]) -> None:
    """Answers to the handler's requests are facts too: each record joins its resource's table (or starts
    one), with the answering unit and time as its source. Records come masked from the requests domain."""
    by_code = {f.resource_code: f for f in facts}
    for case in asked:
        for req in case.get("requests") or []:
            for item in req.get("items") or []:
                answer = item.get("answer") or {}
                records = answer.get("records") or []
                if not records:
                    continue
                code = item["resource_code"]
                table = by_code.get(code)
                if table is None:
                    table = FactTable(resource_code=code, resource_name=item.get("resource_name") or code,
                                      topic="requests", table=item["id"], columns=[], rows=[])
                    by_code[code] = table
                    facts.append(table)
                names = {c["name"] for c in table.columns}
                named = titles(code)
                for rec in records:
                    for k in rec:
                        if k not in names:
                            table.columns.append({"name": k, "title": named.get(k.lower(), k)})
                            names.add(k)
                    table.rows.append({**rec, "src_unit": answer.get("unit_code") or item.get("unit_code"),
                                       "src_received_at": answer.get("answered_at"), "src_via": "request"})
    facts.sort(key=lambda f: f.resource_code)
