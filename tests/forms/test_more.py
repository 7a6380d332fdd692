"""Attachments (type and size checked, kept by hash, reachable only through a record of the model),
references with their picker, options from a catalog code table, audited reads of personal data, the
model's own OpenAPI document, and versions with a diff."""

from __future__ import annotations

from sqlalchemy import text

from pbshare.catalog.resources import service as catalog
from pbshare.demo import service as demo_service

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
RESOURCE = {
    "code": "201010", "name": "婚姻登记信息", "abstract": "婚姻状况", "provider": "SZCA", "direction": "inbound",
    "share_type": "conditional", "share_condition": "仅用于个人破产案件", "method": ["api"],
    "open_scope": "not_public", "frequency": "daily", "format": "api", "key": ["cert_no"],
    "items": [{"code": "cert_no", "name": "证号", "type": "string", "length": 32},
              {"code": "marital", "name": "婚姻状况", "type": "enum", "values": ["未婚", "已婚", "离异", "丧偶"]}],
}


def _model(client, code: str, fields: list[dict]) -> None:
    assert client.post("/api/v1/forms/models", json={"code": code, "title": code, "fields": fields}).status_code == 201
    res = client.post(f"/api/v1/forms/models/{code}/publish", json={})
    assert res.status_code == 200, res.text


def test_attachments_references_code_tables_audit_openapi(as_user, database) -> None:
    with database.session() as s:
        demo_service.load_units(s)
        catalog.create_resource(s, doc=RESOURCE)
    client = as_user("dataadmin", ["data_admin"])
    _model(client, "cases", [{"name": "case_no", "label": "案号", "type": "text", "required": True}])
    case = client.post("/api/v1/forms/models/cases/records", json={"values": {"case_no": "(演示)粤03破1号"}}).json()
    _model(client, "debtor", [
        {"name": "name", "label": "姓名", "type": "text"},
        {"name": "phone", "label": "手机", "type": "phone"},
        {"name": "case", "label": "案件", "type": "reference", "ref_model": "cases"},
        {"name": "marital", "label": "婚姻状况", "type": "select", "code_table": "201010.marital"},
        {"name": "proof", "label": "证明材料", "type": "attachment"},
    ])
    model = client.get("/api/v1/forms/models/debtor").json()
    marital = next(f for f in model["fields"] if f["name"] == "marital")
    assert [o["value"] for o in marital["options"]] == ["未婚", "已婚", "离异", "丧偶"]
    bad_table = client.put("/api/v1/forms/models/debtor/draft", json={"fields": [
        *model["fields"], {"name": "x", "label": "X", "type": "select", "code_table": "201010.cert_no"}]})
    assert bad_table.status_code == 422 and bad_table.json()["error"]["code"] == "forms_bad_code_table"

    # attachments: a fake PDF and an unknown type are refused; a real one is kept once, by hash
    up = "/api/v1/forms/models/debtor/attachments"
    assert client.post(up, files={"file": ("a.pdf", b"MZ\x90\x00", "application/pdf")}).json()["error"]["code"] == \
        "forms_attachment_type"
    assert client.post(up, files={"file": ("a.exe", PDF, "application/octet-stream")}).status_code == 422
    assert client.post(up, files={"file": ("big.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf")}
                       ).status_code == 413
    att = client.post(up, files={"file": ("证明.pdf", PDF, "application/pdf")})
    assert att.status_code == 201, att.text
    proof = att.json()
    assert proof["size"] == len(PDF) and len(proof["id"]) == 64
    # not yet held by a record: not downloadable
    assert client.get(f"{up}/{proof['id']}").status_code == 404

    assert [c["label"] for c in client.get("/api/v1/forms/models/cases/choices").json()] == ["(演示)粤03破1号"]
    base = "/api/v1/forms/models/debtor/records"
    wrong = client.post(base, json={"values": {"name": "演示·甲", "case": "no-such-record"}})
    assert wrong.status_code == 422 and wrong.json()["error"]["detail"]["errors"][0]["field"] == "case"
    rec = client.post(base, json={"values": {"name": "演示·甲", "phone": "13800138000", "case": case["id"],
                                             "marital": "已婚", "proof": proof}})
    assert rec.status_code == 201, rec.text
    values = rec.json()["values"]
    assert values["phone"] == "138****8000" and values["proof"]["name"] == "证明.pdf" and values["case"] == case["id"]
    got = client.get(f"{up}/{proof['id']}", params={"name": "证明.pdf"})
    assert got.status_code == 200 and got.content == PDF
    # another model's records do not reach it
    assert client.get(f"/api/v1/forms/models/cases/attachments/{proof['id']}").status_code == 404

    # the list names the referred record
    assert client.get(base).json()["refs"] == {"case": {case["id"]: "(演示)粤03破1号"}}
    # every read of a model with personal fields is audited, without the values
    client.get(base)
    client.get(f"{base}/{rec.json()['id']}")
    with database.session() as s:
        actions = [r[0] for r in s.execute(text(
            "SELECT action FROM audit_record WHERE object_id = 'debtor' ORDER BY seq")).all()]
        details = " ".join(str(r[0]) for r in s.execute(text("SELECT detail FROM audit_record")).all())
    assert "forms.record.list" in actions and "forms.record.read" in actions
    assert "13800138000" not in details
    # a data admin may not see personal values in full
    assert client.get(f"{base}/{rec.json()['id']}", params={"unmask": "true", "purpose": "核对号码"}).status_code == 403

    # the model's own OpenAPI document
    doc = client.get("/api/v1/forms/models/debtor/openapi.json").json()
    schema = doc["components"]["schemas"]["DebtorValues"]
    assert schema["properties"]["marital"]["enum"] == ["未婚", "已婚", "离异", "丧偶", None]  # null: not filled in
    assert "/api/v1/forms/models/debtor/records/{record_id}" in doc["paths"]

    # versions and their diff
    model = client.get("/api/v1/forms/models/debtor").json()
    fields = [dict(f, label="移动电话") if f["name"] == "phone" else f for f in model["fields"]]
    assert client.put("/api/v1/forms/models/debtor/draft", json={"fields": fields}).status_code == 200
    assert client.post("/api/v1/forms/models/debtor/publish", json={"note": "改名"}).status_code == 200
    assert [v["version"] for v in client.get("/api/v1/forms/models/debtor/versions").json()] == [2, 1]
    diff = client.get("/api/v1/forms/models/debtor/versions/diff", params={"a": 1, "b": 2}).json()
    assert diff["changed"] == [{"name": "phone", "label": "移动电话", "changes": {"label": ["手机", "移动电话"]}}]
    changed_type = client.put("/api/v1/forms/models/debtor/draft", json={"fields": [
        dict(f, type="text") if f["name"] == "name" else f for f in fields if f["name"] != "x"]})
    assert changed_type.status_code == 200
    # a deleted personal field keeps its sealed values until purged (its blind index goes with it)
    assert client.put("/api/v1/forms/models/debtor/draft", json={
        "fields": [f for f in fields if f["name"] not in ("x", "phone")]}).status_code == 200
    assert client.post("/api/v1/forms/models/debtor/publish", json={}).status_code == 200
    assert "phone" not in client.get(f"{base}/{rec.json()['id']}").json()["values"]
    assert [p["column"] for p in client.get("/api/v1/forms/models/debtor/purgeable").json()] == ["phone"]
    assert client.post("/api/v1/forms/models/debtor/purge", json={"column": "phone"}).status_code == 204
    with database.warehouse_engine.connect() as conn:
        names = {r[1] for r in conn.execute(text('PRAGMA "forms".table_info("f_debtor")'))} \
            if database.warehouse_engine.dialect.name == "sqlite" else set(conn.execute(text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'f_debtor'")).scalars())
    assert "phone" not in names and "phone_bidx" not in names and "name" in names
    fields = [f for f in fields if f["name"] not in ("x", "phone")]
    fields2 = [dict(f, type="long_text") if f["name"] == "name" else f for f in fields]
    refused = client.put("/api/v1/forms/models/debtor/draft", json={"fields": fields2})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "forms_type_change_needs_check"
