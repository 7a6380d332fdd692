"""Each published data model's records API is described by its own OpenAPI document: the demo model
(债务人申报材料登记, loaded as `make run` loads it) with sections, a conditional field, a personal resident ID and
a sub-table; a record made and read over the API validates against the document's schema, a wrong one does not,
and the platform's OpenAPI points there."""

from __future__ import annotations

import jsonschema_rs  # comes with schemathesis (the test extra)
import pytest

from pbshare.demo import forms as demo_forms
from pbshare.demo import service as demo_service

BASE = f"/api/v1/forms/models/{demo_forms.CODE}"


def _validator(doc: dict, name: str) -> jsonschema_rs.Draft202012Validator:
    """The named component schema, its $refs resolved inside the same document."""
    return jsonschema_rs.Draft202012Validator({"$ref": f"#/components/schemas/{name}",
                                               "components": doc["components"]}, validate_formats=True)


def test_the_demo_models_records_validate_against_its_own_openapi_document(as_user, database, settings) -> None:
    with database.session() as s:
        demo_service.load_units(s)
        assert demo_forms.load_demo(s, data_dir=settings.resolved_data_dir, database=database) == {
            "models": 1, "records": len(demo_forms.sample_records())}
        assert demo_forms.load_demo(s, data_dir=settings.resolved_data_dir, database=database)["models"] == 0
    client = as_user("dataadmin", ["data_admin"])
    model = client.get(BASE).json()
    assert model["published_version"] == 1
    assert [s["title"] for s in model["layout"]["sections"]] == ["申报人", "财产与收入", "债务与备注"]

    doc = client.get(f"{BASE}/openapi.json").json()
    assert doc["openapi"].startswith("3.1") and f"{BASE}/records/{{record_id}}" in doc["paths"]
    values = doc["components"]["schemas"]["DebtorDeclarationValues"]
    assert values["required"] == ["debtor_name", "declared_on"]
    assert values["properties"]["marital"]["enum"] == ["未婚", "已婚", "离异", "丧偶", None]
    assert "个人信息" in values["properties"]["id_no"]["description"]
    assert "required_when" in values["properties"]["plate_no"]["description"]
    debt = values["properties"]["debts"]["items"]["properties"]
    assert set(debt) == {"creditor", "amount", "due_on"} and debt["due_on"]["format"] == "date"

    # a record made over the API, read back (masked) and listed: each is what the document says
    entered = {"debtor_name": "演示·林小雨", "id_no": "440301199001011234", "declared_on": "2026-11-30",
               "marital": "已婚", "income_kinds": ["工资", "租金"], "monthly_income": "8800.5", "has_vehicle": True,
               "plate_no": "粤B·D1234", "debts": [{"creditor": "演示·某银行", "amount": "12000", "due_on": "2026-06-30"}]}
    body = _validator(doc, "DebtorDeclarationValues")
    body.validate(entered)
    made = client.post(f"{BASE}/records", json={"values": entered})
    assert made.status_code == 201, made.text
    record = _validator(doc, "DebtorDeclarationRecord")
    got = client.get(f"{BASE}/records/{made.json()['id']}").json()
    record.validate(got)
    assert got["values"]["monthly_income"] == "8800.50" and got["values"]["id_no"] != entered["id_no"]  # masked
    page = client.get(f"{BASE}/records", params={"size": 50}).json()
    _validator(doc, "DebtorDeclarationPage").validate(page)
    assert page["total"] == len(demo_forms.sample_records()) + 1

    # what the document refuses, the API refuses too
    wrong = {**entered, "marital": "同居"}
    assert not body.is_valid(wrong)
    assert client.post(f"{BASE}/records", json={"values": wrong}).status_code == 422
    assert not body.is_valid({"debtor_name": "演示·缺日期"})
    assert client.post(f"{BASE}/records", json={"values": {"debtor_name": "演示·缺日期"}}).status_code == 422
    with pytest.raises(jsonschema_rs.ValidationError):
        record.validate({**got, "values": {**got["values"], "debts": [{"creditor": "x", "rate": "3%"}]}})

    # the platform's own OpenAPI points every generic record route at the model's document
    platform = client.get("/api/openapi.json").json()
    listed = platform["paths"]["/api/v1/forms/models/{code}/records"]["get"]["description"]
    assert "/api/v1/forms/models/{code}/openapi.json" in listed
    assert "/api/v1/forms/models/{code}/openapi.json" in platform["paths"]
