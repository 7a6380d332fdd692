"""Demo step: a published data model with a few records, so the form designer (数据录入 → 数据模型) is not empty.

债务人申报材料登记 (``debtor_declaration``): what a debtor declares on paper, entered by hand. Three sections
(申报人, 财产与收入, 材料), a conditional field (the plate number shows, and is required, only when 有机动车
is checked), a resident ID flagged personal (sealed, masked on read), money, a select, a multi-select and a
sub-table of debts. Its records API is described at ``/api/v1/forms/models/debtor_declaration/openapi.json``.
Every person is synthetic (names start with 演示·, ID numbers belong to nobody). Idempotent: a model that
exists is left as a user may have changed it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from pbshare.core.db import Database
from pbshare.core.errors import NotFound
from pbshare.demo.synthetic import SYNTHETIC_PREFIX, synthetic_id_no
from pbshare.forms import records
from pbshare.forms import service as forms
from pbshare.security.permissions import Perm
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

CODE = "debtor_declaration"
TITLE = "债务人申报材料登记"
FIELDS: list[dict[str, Any]] = [
    {"name": "debtor_name", "label": "申报人姓名", "type": "text", "required": True, "searchable": True,
     "max_length": 50},
    {"name": "id_no", "label": "居民身份证号码", "type": "resident_id", "pii": True, "unique": True, "searchable": True,
     "help": "加密存储，列表与导出中遮蔽 / sealed, masked in lists and exports"},
    {"name": "phone", "label": "联系电话", "type": "phone"},
    {"name": "declared_on", "label": "申报日期", "type": "date", "required": True},
    {"name": "marital", "label": "婚姻状况", "type": "select",
     "options": [{"value": v, "label": v} for v in ("未婚", "已婚", "离异", "丧偶")]},
    {"name": "income_kinds", "label": "收入来源", "type": "multiselect",
     "options": [{"value": v, "label": v} for v in ("工资", "经营", "租金", "其他")]},
    {"name": "monthly_income", "label": "月收入（元）", "type": "money", "min": 0},
    {"name": "has_vehicle", "label": "有机动车", "type": "boolean"},
    {"name": "plate_no", "label": "车牌号", "type": "text", "max_length": 12,
     "visible_when": {"field": "has_vehicle", "op": "checked"},
     "required_when": {"field": "has_vehicle", "op": "checked"}, "help": "勾选“有机动车”时必填 / required when 有机动车"},
    {"name": "debts", "label": "债务明细", "type": "subtable", "sub_fields": [
        {"name": "creditor", "label": "债权人", "type": "text"},
        {"name": "amount", "label": "金额（元）", "type": "money"},
        {"name": "due_on", "label": "到期日", "type": "date"}]},
    {"name": "note", "label": "备注", "type": "long_text"},
]
LAYOUT = {"columns": 2, "tabs": False, "sections": [
    {"id": "s1", "title": "申报人", "fields": ["debtor_name", "id_no", "phone", "declared_on", "marital"]},
    {"id": "s2", "title": "财产与收入", "fields": ["income_kinds", "monthly_income", "has_vehicle", "plate_no"]},
    {"id": "s3", "title": "债务与备注", "fields": ["debts", "note"]},
]}
_SURNAMES = "王李张刘陈杨黄赵吴周"
_GIVEN = ["晓明", "丽华", "建国", "敏", "海燕", "志强"]


def _designer(db: Session) -> Principal:
    office = unit_service.get_unit_by_code(db, code=unit_service.OFFICE_CODE)
    return Principal(user_id="demo", username="demo", display_name="演示数据", unit_id=office.id,
                     unit_code=office.code, roles=frozenset({"data_admin"}),
                     permissions=frozenset({Perm.forms_design.value, Perm.forms_enter.value}), via="session")


def sample_records(count: int = 4, seed: int = 15) -> list[dict[str, Any]]:
    """Synthetic declarations: the same every run."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        vehicle = n % 2 == 0
        out.append({
            "debtor_name": f"{SYNTHETIC_PREFIX}{rng.choice(_SURNAMES)}{rng.choice(_GIVEN)}",
            "id_no": synthetic_id_no(rng), "phone": f"170{rng.randrange(10**8):08d}",
            "declared_on": f"2026-0{1 + n}-1{n}", "marital": rng.choice(["未婚", "已婚", "离异"]),
            "income_kinds": ["工资"] + (["租金"] if n % 3 == 0 else []),
            "monthly_income": f"{rng.randrange(3000, 20000)}.00", "has_vehicle": vehicle,
            "plate_no": f"粤B·D{rng.randrange(10000):04d}" if vehicle else None,
            "debts": [{"creditor": f"演示·深圳某小额贷款有限公司{k + 1}", "amount": f"{rng.randrange(5, 80) * 1000}.00",
                       "due_on": f"2025-1{k}-01"} for k in range(1 + n % 2)],
            "note": "演示数据（合成，不对应任何真实个人）",
        })
    return out


def load_demo(db: Session, *, data_dir: Path, database: Database | None = None) -> dict[str, int]:
    """Demo step: the model, published, with a few records (needs the database, for the model's table)."""
    if database is None:
        return {"models": 0, "records": 0}
    try:
        forms.get_model(db, code=CODE)
        return {"models": 0, "records": 0}
    except NotFound:
        pass
    who = _designer(db)
    model = forms.create_model(db, code=CODE, title=TITLE, description="纸质申报材料的手工录入（演示）", fields=FIELDS,
                               layout=LAYOUT, principal=who)
    forms.publish(db, database, model=model, note="演示首版 / demo, first version", principal=who)
    for values in sample_records():
        records.create(db, database, model=model, values=values, principal=who)
    return {"models": 1, "records": len(sample_records())}
