"""A data model through the API on SQLite and PostgreSQL: design, publish (a real warehouse table), records
with personal fields sealed and masked, conditional requirement, filters, soft delete, history, a safe type
change, Excel template/import/export, permissions."""

from __future__ import annotations

import io
import json

from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from pbshare.warehouse import service as warehouse

ID1 = "440301199001011234"  # synthetic, valid GB 11643 check digit
ID2 = "440301199002021231"

FIELDS = [
    {"name": "name", "label": "姓名", "type": "text", "required": True, "searchable": True},
    {"name": "id_no", "label": "身份证号", "type": "resident_id", "unique": True, "searchable": True},
    {"name": "amount", "label": "债务金额", "type": "money", "min": 0},
    {"name": "has_car", "label": "有车", "type": "boolean"},
    {"name": "plate", "label": "车牌", "type": "text", "visible_when": {"field": "has_car", "op": "checked"},
     "required_when": {"field": "has_car", "op": "checked"}},
    {"name": "kind", "label": "类别", "type": "select", "options": [{"value": "a", "label": "甲"}, {"value": "b", "label": "乙"}]},
    {"name": "code", "label": "编号", "type": "text"},
    {"name": "kids", "label": "子女", "type": "subtable", "sub_fields": [{"name": "kid", "label": "姓名", "type": "text"}]},
]


def _publish(client) -> None:
    res = client.post("/api/v1/forms/models", json={"code": "debtor", "title": "债务人登记", "fields": FIELDS,
                                                    "layout": {"columns": 2, "sections": [{"id": "s1", "title": "基本"}]}})
    assert res.status_code == 201, res.text
    res = client.post("/api/v1/forms/models/debtor/publish", json={"note": "首版"})
    assert res.status_code == 200, res.text


def test_model_records_filters_history_type_change_and_excel(as_user, database, db) -> None:
    client = as_user("dataadmin", ["data_admin"])
    _publish(client)
    assert warehouse.find_table(db, topic="forms", name="f_debtor") is not None

    base = "/api/v1/forms/models/debtor/records"
    r1 = client.post(base, json={"values": {"name": "演示·张三", "id_no": ID1, "amount": "1,234.5元", "kind": "甲",
                                             "has_car": False, "code": "12", "kids": [{"kid": "小张"}]}})
    assert r1.status_code == 201, r1.text
    rec = r1.json()
    assert rec["values"]["id_no"] == "440301********1234" and rec["values"]["amount"] == "1234.50"
    assert rec["values"]["kind"] == "a" and rec["values"]["kids"] == [{"kid": "小张"}]
    # the ID number is sealed in the table, not stored in clear
    with database.warehouse_engine.connect() as conn:
        stored = conn.execute(text('SELECT id_no FROM "forms"."f_debtor"')).scalar()
    assert ID1 not in stored

    # conditional requirement: a car needs its plate; a bad ID is refused with what to do
    bad = client.post(base, json={"values": {"name": "演示·李四", "id_no": ID2, "has_car": True}})
    assert bad.status_code == 422 and bad.json()["error"]["detail"]["errors"][0]["field"] == "plate"
    bad_id = client.post(base, json={"values": {"name": "演示·李四", "id_no": "440301199001011235"}})
    assert bad_id.status_code == 422 and "身份证" in bad_id.json()["error"]["message"]
    dup = client.post(base, json={"values": {"name": "演示·重复", "id_no": ID1}})
    assert dup.status_code == 422 and "重复" in dup.json()["error"]["message"]
    r2 = client.post(base, json={"values": {"name": "演示·李四", "id_no": ID2, "has_car": True, "plate": "粤B12345",
                                            "amount": 99, "code": "x7"}})
    assert r2.status_code == 201, r2.text
    rec2 = r2.json()

    def find(*flts, **params) -> list[str]:
        res = client.get(base, params={"filters": json.dumps(list(flts)), **params})
        assert res.status_code == 200, res.text
        return [i["values"]["name"] for i in res.json()["items"]]

    assert find({"field": "id_no", "op": "eq", "value": ID2}) == ["演示·李四"]
    assert find({"field": "amount", "op": "gt", "value": 100}) == ["演示·张三"]
    assert find({"field": "amount", "op": "between", "value": [0, 100]}) == ["演示·李四"]
    assert find({"field": "name", "op": "contains", "value": "张"}) == ["演示·张三"]
    assert find({"field": "name", "op": "starts", "value": "演示·李"}) == ["演示·李四"]
    assert find({"field": "kind", "op": "in", "value": ["a", "b"]}) == ["演示·张三"]
    assert find({"field": "plate", "op": "empty"}) == ["演示·张三"]
    assert find({"field": "has_car", "op": "ne", "value": True}) == ["演示·张三"]
    assert find(sort="-amount") == ["演示·张三", "演示·李四"]
    assert find(q="李") == ["演示·李四"] and find(q=ID1) == ["演示·张三"]
    # the model's table is a warehouse table like any other: identifiers masked there too
    with database.session() as s:
        seen = warehouse.table_rows(s, database, topic="forms", name="f_debtor")
    assert {r["name"] for r in seen["rows"]} == {"演示·张三", "演示·李四"}
    assert {r["id_no"] for r in seen["rows"]} == {"440301********1234", "440301********1231"}
    assert "id_no_bidx" not in {c["name"] for c in seen["columns"]}
    assert client.get(base, params={"filters": json.dumps([{"field": "id_no", "op": "gt", "value": "1"}])}).status_code == 422

    # edit, history (masked), soft delete and restore
    upd = client.patch(f"{base}/{rec2['id']}", json={"values": {"amount": "150", "id_no": rec2["values"]["id_no"]}})
    assert upd.status_code == 200 and upd.json()["values"]["amount"] == "150.00"
    hist = client.get(f"{base}/{rec2['id']}/history").json()
    assert [h["action"] for h in hist] == ["create", "update"]
    assert hist[1]["changes"] == {"amount": {"label": "债务金额", "old": "99.00", "new": "150.00"}}
    assert "*" in hist[0]["changes"]["id_no"]["new"]
    assert client.delete(f"{base}/{rec2['id']}").status_code == 200
    assert find() == ["演示·张三"]
    assert find(deleted="true") == ["演示·李四"]
    assert client.post(f"{base}/{rec2['id']}/restore").status_code == 200
    assert len(find()) == 2

    # a type change is refused while one value does not convert, and shows it
    check = client.post("/api/v1/forms/models/debtor/fields/code/type-check", json={"type": "integer"}).json()
    assert (check["total"], check["convertible"]) == (2, 1) and check["bad"][0]["value"] == "x7"
    refused = client.post("/api/v1/forms/models/debtor/fields/code/type", json={"type": "integer"})
    assert refused.status_code == 409 and refused.json()["error"]["detail"]["bad"][0]["record_id"] == rec2["id"]
    assert client.patch(f"{base}/{rec2['id']}", json={"values": {"code": "7"}}).status_code == 200
    done = client.post("/api/v1/forms/models/debtor/fields/code/type", json={"type": "integer"})
    assert done.status_code == 200, done.text
    assert find({"field": "code", "op": "ge", "value": 10}) == ["演示·张三"]
    assert {p["column"] for p in client.get("/api/v1/forms/models/debtor/purgeable").json()} == {"code"}
    diff = client.get("/api/v1/forms/models/debtor/versions/diff", params={"a": 1, "b": 2}).json()
    assert diff["changed"][0]["changes"]["type"] == ["text", "integer"]

    # a field removed from the draft keeps its data until purged
    model = client.get("/api/v1/forms/models/debtor").json()
    kept = [f for f in model["fields"] if f["name"] != "plate"]
    assert client.put("/api/v1/forms/models/debtor/draft", json={"fields": kept}).status_code == 200
    assert client.get("/api/v1/forms/models/debtor/draft-diff").json()["deleted"] == [{"name": "plate", "label": "车牌"}]
    assert client.post("/api/v1/forms/models/debtor/publish", json={}).status_code == 200
    with database.warehouse_engine.connect() as conn:
        assert conn.execute(text('SELECT plate FROM "forms"."f_debtor" WHERE plate IS NOT NULL')).scalar() == "粤B12345"
    assert client.post("/api/v1/forms/models/debtor/purge", json={"column": "plate"}).status_code == 204

    # Excel: template, an import with a bad line writes nothing, a good one writes all, export is masked
    tpl = load_workbook(io.BytesIO(client.get("/api/v1/forms/models/debtor/template.xlsx").content))
    header = [c.value for c in tpl.worksheets[0][1]]
    assert header[:3] == ["姓名", "身份证号", "债务金额"]

    def upload(rows) -> object:
        wb = Workbook()
        ws = wb.active
        ws.append(header)
        for r in rows:
            ws.append(r)
        buf = io.BytesIO()
        wb.save(buf)
        return client.post("/api/v1/forms/models/debtor/import", files={"file": ("a.xlsx", buf.getvalue(), XLSX)})

    row = {h: None for h in header}
    good = dict(row, 姓名="演示·王五", 债务金额="10", 子女='[{"kid": "小王"}]')
    worse = dict(row, 姓名=None, 债务金额="abc")
    res = upload([list(good.values()), list(worse.values())])
    assert res.status_code == 422
    assert {e["line"] for e in res.json()["error"]["detail"]["errors"]} == {3}
    # a value taken by a stored record is refused by line too (checked for the whole file at once)
    res = upload([list(good.values()), [None] * len(header), list(dict(row, 姓名="演示·重复", 身份证号=ID1).values())])
    assert res.status_code == 422
    assert [(e["line"], e["field"]) for e in res.json()["error"]["detail"]["errors"]] == [(4, "id_no")]
    assert len(find()) == 2
    res = upload([list(good.values()), list(dict(good, 姓名="演示·赵六").values())])
    assert res.status_code == 200 and res.json() == {"imported": 2}
    out = load_workbook(io.BytesIO(client.get("/api/v1/forms/models/debtor/export.xlsx").content)).worksheets[0]
    cells = [str(c) for r in out.iter_rows(values_only=True) for c in r]
    assert out.max_row == 5 and "440301********1234" in cells and ID1 not in cells
    assert '[{"kid": "小张"}]' in cells and '[{"kid": "小王"}]' in cells


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_permissions_and_clear_errors(as_user, client) -> None:
    admin = as_user("dataadmin", ["data_admin"])
    _publish(admin)
    assert admin.post("/api/v1/forms/models", json={"code": "Bad-Code", "title": "x"}).status_code == 422
    assert admin.post("/api/v1/forms/models", json={"code": "m2", "title": "x", "fields": [
        {"name": "a", "label": "A", "type": "nope"}]}).status_code == 422
    viewer = as_user("viewer", ["report_viewer"])
    assert viewer.get("/api/v1/forms/models").status_code == 403
    handler = as_user("handler", ["case_handler"])
    assert handler.post("/api/v1/forms/models", json={"code": "m3", "title": "x"}).status_code == 403
    res = handler.post("/api/v1/forms/models/debtor/records", json={"values": {"name": "演示·甲", "id_no": ID1}})
    assert res.status_code == 201
    rid = res.json()["id"]
    assert handler.get(f"/api/v1/forms/models/debtor/records/{rid}", params={"unmask": "true"}).status_code == 422
    full = handler.get(f"/api/v1/forms/models/debtor/records/{rid}", params={"unmask": "true", "purpose": "核对身份"})
    assert full.json()["values"]["id_no"] == ID1
    assert handler.get("/api/v1/forms/models/nothing").status_code == 404
