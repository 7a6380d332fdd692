"""A resource from draft through consultation to published, revised, compared, withdrawn; editions;
custom attributes; a unit operator consents only for its own unit."""

from __future__ import annotations

from pbshare.catalog.resources import service
from pbshare.demo import catalog as demo_catalog
from pbshare.demo import service as demo_service
from pbshare.demo.synthetic import sample_catalog
from pbshare.security.audit import service as audit
from pbshare.security.audit.service import AuditRecord
from tests.conftest import login, make_user

NEW = {
    "code": "201009", "name": "不动产查封登记信息", "abstract": "债务人名下不动产查封、解封登记",
    "provider": "SZPNR", "direction": "inbound", "share_type": "conditional",
    "share_condition": "仅用于个人破产案件财产调查", "method": ["api"], "open_scope": "not_public",
    "frequency": "daily", "format": "api", "key": ["seal_no"],
    "items": [
        {"code": "seal_no", "name": "查封文号", "type": "string", "length": 64},
        {"code": "owner_id_no", "name": "权利人证件号码", "type": "string", "length": 18, "pii": True,
         "id_kind": "cn_ric"},
        {"code": "sealed_on", "name": "查封日期", "type": "date"},
    ],
}


def _setup(database):
    with database.session() as s:
        demo_service.load_units(s)


def test_draft_to_published_with_consents(client, database, as_user):
    _setup(database)
    make_user(database, "pnr_op", ["unit_operator"], unit_code="SZPNR")
    make_user(database, "ca_op", ["unit_operator"], unit_code="SZCA")
    admin = as_user("admin1", ["data_admin"])
    res = admin.post("/api/v1/catalog/resources", json=NEW)
    assert res.status_code == 201, res.text
    assert res.json()["state"] == "draft"
    # publishing straight from draft is refused
    assert admin.post("/api/v1/catalog/resources/201009/publish", json={}).json()["error"]["code"] == "bad_state"
    res = admin.post("/api/v1/catalog/resources/201009/consultation")
    body = res.json()
    assert body["state"] == "consultation"
    parties = {c["unit_code"]: c for c in body["consents"]}
    assert set(parties) == {"SZPNR", "SZGDATA"}
    assert parties["SZPNR"]["role"] == "source" and parties["SZGDATA"]["role"] == "authority"

    # a unit operator of another unit may not answer for the source unit
    login(client, "ca_op")
    res = client.post("/api/v1/catalog/resources/201009/consents",
                      json={"unit_code": "SZPNR", "agreed": True, "decided_on": "2026-11-20"})
    assert res.status_code == 403 and res.json()["error"]["code"] == "not_your_unit"
    # the source unit's own operator may
    login(client, "pnr_op")
    res = client.post("/api/v1/catalog/resources/201009/consents",
                      json={"unit_code": "SZPNR", "agreed": True, "decided_on": "2026-11-20", "comment": "同意共享"})
    assert res.status_code == 200, res.text
    login(client, "admin1")
    res = client.post("/api/v1/catalog/resources/201009/publish", json={})
    assert res.status_code == 409 and "政务服务和数据管理局" in res.json()["error"]["message"]
    res = client.post("/api/v1/catalog/resources/201009/consents",
                      json={"unit_code": "SZGDATA", "agreed": True, "decided_on": "2026-11-21", "evidence": "深政数函〔2026〕12号"})
    assert res.json()["can_publish"] is True
    res = client.post("/api/v1/catalog/resources/201009/publish", json={"note": "首次发布"})
    assert res.status_code == 200, res.text
    assert res.json()["state"] == "published" and res.json()["version"] == 1
    version = client.get("/api/v1/catalog/resources/201009/versions/1").json()
    assert {c["unit_code"]: c["decided_on"] for c in version["consents"]} == {"SZPNR": "2026-11-20",
                                                                             "SZGDATA": "2026-11-21"}
    spec = client.get("/api/v1/catalog/resources/201009/spec").json()
    assert spec["state"] == "published" and spec["key"] == ["seal_no"]
    with database.session() as s:
        actions = [a for (a,) in s.query(AuditRecord.action).filter(AuditRecord.object_id == "201009")]
    assert actions.count("catalog.resource.consent") == 2 and "catalog.resource.publish" in actions


def _published(database, code="201009"):
    with database.session() as s:
        demo_service.load_units(s)
        service.create_resource(s, doc=NEW)
        service.start_consultation(s, code=code)
        for c in service.consents(s, service.get_resource_row(s, code=code)):
            service.record_consent(s, code=code, unit_code=c["unit_code"], agreed=True,
                                   decided_on=__import__("datetime").date(2026, 11, 1))
        service.publish(s, code=code)


def test_revise_and_compare_versions(client, database, as_user):
    _published(database)
    admin = as_user("admin2", ["data_admin"])
    doc = admin.get("/api/v1/catalog/resources/201009").json()["document"]
    doc["name"] = "不动产查封及解封登记信息"
    doc["items"][0]["length"] = 80
    doc["items"] = [i for i in doc["items"] if i["code"] != "sealed_on"]
    doc["items"].append({"code": "court", "name": "查封法院", "type": "string", "length": 100})
    res = admin.put("/api/v1/catalog/resources/201009", json=doc)
    assert res.json()["state"] == "revised"
    # other domains still see version 1 while the revision is drafted
    assert admin.get("/api/v1/catalog/resources/201009/spec").json()["name"] == "不动产查封登记信息"
    diff = admin.get("/api/v1/catalog/resources/201009/diff?from=1&to=draft").json()
    assert diff["fields"] == [{"field": "name", "before": "不动产查封登记信息", "after": "不动产查封及解封登记信息"}]
    changes = {i["code"]: i for i in diff["items"]}
    assert changes["seal_no"]["change"] == "changed"
    assert changes["seal_no"]["fields"] == [{"field": "length", "before": 64, "after": 80}]
    assert changes["sealed_on"]["change"] == "removed" and changes["court"]["change"] == "added"
    # consult again and publish version 2; version 1 stays viewable
    admin.post("/api/v1/catalog/resources/201009/consultation")
    for unit in ("SZPNR", "SZGDATA"):
        admin.post("/api/v1/catalog/resources/201009/consents",
                   json={"unit_code": unit, "agreed": True, "decided_on": "2026-11-25", "evidence": "深政数函〔2026〕12号"})
    assert admin.post("/api/v1/catalog/resources/201009/publish", json={}).json()["version"] == 2
    versions = admin.get("/api/v1/catalog/resources/201009/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    old = admin.get("/api/v1/catalog/resources/201009/versions/1").json()["document"]
    assert [i["code"] for i in old["items"]] == ["seal_no", "owner_id_no", "sealed_on"]
    assert admin.get("/api/v1/catalog/resources/201009/diff?from=1&to=2").json()["items"] == diff["items"]
    # withdraw: it leaves the published catalog
    res = admin.post("/api/v1/catalog/resources/201009/withdraw", json={"reason": "与 201001 合并"})
    assert res.json()["state"] == "withdrawn"
    rows = admin.get("/api/v1/catalog/resources?state=withdrawn").json()
    assert [r["code"] for r in rows["items"]] == ["201009"]
    assert admin.put("/api/v1/catalog/resources/201009", json=doc).status_code == 409


def test_disagreement_needs_a_reason_and_blocks_publishing(client, database, as_user):
    with database.session() as s:
        demo_service.load_units(s)
        service.create_resource(s, doc=NEW)
        service.start_consultation(s, code="201009")
    admin = as_user("admin3", ["data_admin"])
    res = admin.post("/api/v1/catalog/resources/201009/consents",
                     json={"unit_code": "SZPNR", "agreed": False, "decided_on": "2026-11-20"})
    assert res.json()["error"]["code"] == "comment_required"
    admin.post("/api/v1/catalog/resources/201009/consents",
               json={"unit_code": "SZPNR", "agreed": False, "decided_on": "2026-11-20", "comment": "需删去坐落字段", "evidence": "深政数函〔2026〕12号"})
    admin.post("/api/v1/catalog/resources/201009/consents",
               json={"unit_code": "SZGDATA", "agreed": True, "decided_on": "2026-11-20", "evidence": "深政数函〔2026〕12号"})
    res = admin.post("/api/v1/catalog/resources/201009/publish", json={})
    assert res.status_code == 409 and res.json()["error"]["code"] == "consent_missing"
    # editing during consultation starts over: back to draft, a new round needs new consents
    doc = admin.get("/api/v1/catalog/resources/201009").json()["document"]
    doc["abstract"] = "修改后的摘要"
    assert admin.put("/api/v1/catalog/resources/201009", json=doc).json()["state"] == "draft"
    body = admin.post("/api/v1/catalog/resources/201009/consultation").json()
    assert body["consultation_round"] == 2 and all(c["agreed"] is None for c in body["consents"])


def test_editor_validation_lists_every_problem(client, database, as_user):
    _setup(database)
    admin = as_user("admin4", ["data_admin"])
    bad = {**NEW, "provider": "NOPE", "share_condition": None, "key": ["missing"],
           "items": NEW["items"] + [{"code": "seal_no", "name": "重复", "type": "enum"}]}
    res = admin.post("/api/v1/catalog/resources/validate", json=bad).json()
    fields = {p["field"] for p in res["problems"]}
    assert res["ok"] is False
    assert {"provider", "share_condition", "key", "items[3].code", "items[3].values"} <= fields
    res = admin.post("/api/v1/catalog/resources", json=bad)
    assert res.status_code == 422 and res.json()["error"]["code"] == "invalid_resource"
    res = admin.post("/api/v1/catalog/resources/validate", json={**NEW, "frequency": "hourly"}).json()
    assert res["problems"][0]["field"] == "frequency"
    assert admin.post("/api/v1/catalog/resources/validate", json=NEW).json() == {"ok": True, "problems": []}


def test_custom_attribute_without_code_changes(client, database, as_user):
    _setup(database)
    admin = as_user("admin5", ["data_admin"])
    res = admin.put("/api/v1/catalog/attributes/legal_basis",
                    json={"code": "legal_basis", "label_zh": "法律依据", "label_en": "Legal basis", "required": True})
    assert res.status_code == 200, res.text
    admin.post("/api/v1/catalog/resources", json=NEW)
    # a required attribute must be filled before consultation
    res = admin.post("/api/v1/catalog/resources/201009/consultation")
    assert res.status_code == 422 and "法律依据" in res.json()["error"]["message"]
    res = admin.put("/api/v1/catalog/resources/201009",
                    json={**NEW, "attributes": {"legal_basis": "《深圳经济特区个人破产条例》第二十一条"}})
    assert res.json()["document"]["attributes"] == {"legal_basis": "《深圳经济特区个人破产条例》第二十一条"}
    assert admin.post("/api/v1/catalog/resources/201009/consultation").json()["state"] == "consultation"
    res = admin.put("/api/v1/catalog/resources/201009", json={**NEW, "attributes": {"undefined_one": "x"}})
    assert res.status_code == 422
    assert admin.delete("/api/v1/catalog/attributes/legal_basis").json()["error"]["code"] == "attribute_in_use"
    with database.session() as s:
        assert audit.verify(s).ok


def test_editions_freeze_published_versions(client, database, as_user):
    with database.session() as s:
        demo_catalog.load_catalog(s)
    admin = as_user("admin6", ["data_admin"])
    res = admin.post("/api/v1/catalog/editions", json={"name": "2022 年版", "edition_date": "2022-12-31"})
    assert res.status_code == 201, res.text
    edition = res.json()
    assert len(edition["resources"]) == len(sample_catalog()["resources"])
    # a later revision does not change the edition
    doc = admin.get("/api/v1/catalog/resources/101001").json()["document"]
    with database.session() as s:
        service.update_resource(s, code="101001", doc={**doc, "name": "改名"})
        service.start_consultation(s, code="101001")
        for c in service.consents(s, service.get_resource_row(s, code="101001")):
            service.record_consent(s, code="101001", unit_code=c["unit_code"], agreed=True,
                                   decided_on=__import__("datetime").date(2026, 11, 2))
        service.publish(s, code="101001")
    full = admin.get(f"/api/v1/catalog/editions/{edition['id']}").json()
    first = next(d for d in full["documents"] if d["code"] == "101001")
    assert first["version"] == 1 and first["document"]["name"] == "个人破产案件受理信息"
    assert admin.post("/api/v1/catalog/editions", json={"name": "2022 年版", "edition_date": "2022-12-31"}
                      ).status_code == 409


def test_unit_registry(client, database, as_user):
    _setup(database)
    admin = as_user("admin7", ["data_admin"])
    body = {"code": "SZPNR", "name": "深圳市规划和自然资源局", "kind": "natural_resources",
            "credit_code": "91440300MA5DC0XY1A", "state": "integrated",
            "contacts": [{"name": "王科长", "role": "信息中心", "phone": "0755-12345678"}],
            "systems": [{"name": "不动产登记系统", "kind": "api", "address": "https://pnr.example/api"}]}
    res = admin.put("/api/v1/catalog/units/SZPNR", json=body)
    assert res.status_code == 422 and res.json()["error"]["code"] == "invalid_credit_code"
    body["credit_code"] = "91110000600037341L"  # valid check digit
    res = admin.put("/api/v1/catalog/units/SZPNR", json=body)
    assert res.status_code == 200, res.text
    unit = admin.get("/api/v1/catalog/units/SZPNR").json()
    assert unit["credit_code"] == "91110000600037341L" and unit["state"] == "integrated"
    assert unit["systems"][0]["name"] == "不动产登记系统" and unit["contacts"][0]["name"] == "王科长"
    res = admin.put("/api/v1/catalog/units/SZPNR", json={**body, "state": "left"})
    assert res.json()["state"] == "left"
    assert admin.put("/api/v1/catalog/units/SZPNR", json={**body, "state": "gone"}).status_code == 422
    viewer = as_user("viewer1", ["report_viewer"])
    assert viewer.put("/api/v1/catalog/units/SZPNR", json=body).status_code == 403


def test_openapi_documents_catalog_and_metadata(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    body = paths["/api/v1/catalog/resources"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/ResourceDoc")
    for path in ("/api/v1/catalog/import", "/api/v1/catalog/export", "/api/v1/catalog/dcat",
                 "/api/v1/catalog/resources/{code}/diff", "/api/v1/metadata/sources/{source_id}/harvest",
                 "/api/v1/metadata/lineage", "/api/v1/metadata/dictionary"):
        assert path in paths
