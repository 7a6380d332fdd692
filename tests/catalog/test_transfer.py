"""Catalog import and export: the sample's YAML shape, Excel round trip, bad rows, DCAT-AP."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from openpyxl import load_workbook

from pbshare.catalog.attributes import service as attribute_service
from pbshare.catalog.resources import documents, service
from pbshare.catalog.transfer import service as transfer
from pbshare.core.errors import Invalid
from pbshare.demo import service as demo_service
from pbshare.demo.synthetic import sample_catalog
from pbshare.security.audit.service import AuditRecord
from pbshare.units import service as unit_service

SAMPLE = sample_catalog()


def _sample_bytes() -> bytes:
    return transfer.to_yaml(SAMPLE)


def test_sample_imports_and_exports_in_the_same_shape(db):
    report = transfer.import_file(db, content=_sample_bytes(), filename="sample-catalog.yaml", publish=True)
    assert report.created == len(SAMPLE["resources"]) == report.published
    out = yaml.safe_load(transfer.export_catalog(db, fmt="yaml")[0])
    assert out["resources"] == SAMPLE["resources"]
    assert out["catalog"] == SAMPLE["catalog"]
    assert [u["code"] for u in out["units"]] == sorted(u["code"] for u in SAMPLE["units"])
    spec = service.get_resource(db, code="201001")
    assert spec.state == "published" and spec.version == 1
    assert spec.key == ["unit_no", "owner_id_no"]
    owner = spec.item("owner_id_no")
    assert owner.pii and owner.id_kind == "cn_ric" and owner.length == 18
    assert spec.item("share_mode").allowed_values == ["单独所有", "共同共有", "按份共有"]
    # importing the same file again changes nothing and publishes nothing new
    again = transfer.import_file(db, content=_sample_bytes(), filename="sample-catalog.yaml", publish=True)
    assert again.unchanged == len(SAMPLE["resources"]) and again.published == 0


def test_json_import_without_publish_makes_drafts(db):
    content = json.dumps({"units": SAMPLE["units"], "resources": SAMPLE["resources"][:2]}, ensure_ascii=False).encode()
    report = transfer.import_file(db, content=content, filename="part.json")
    assert report.created == 2 and report.published == 0
    assert {r.state for r in service.list_resources(db)} == {"draft"}
    assert service.list_resources(db, published_only=True) == []


def test_excel_round_trip_gives_the_same_catalog(database):
    with database.session() as db:
        transfer.import_file(db, content=_sample_bytes(), filename="s.yaml", publish=True)
        attribute_service.save_attribute(db, code="legal_basis", label_zh="法律依据", label_en="Legal basis")
        attribute_service.save_attribute(db, code="records", label_zh="数据量", label_en="Records", type="number")
        doc = documents.document_of(service.get_resource_row(db, code="101001"))
        doc["attributes"] = {"legal_basis": "《深圳经济特区个人破产条例》第十条", "records": 1200}
        service.update_resource(db, code="101001", doc=doc)
    with database.session() as db:
        before = transfer.catalog_document(db)
        xlsx, media = transfer.export_catalog(db, fmt="excel")
    assert media.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(xlsx))
    sheet = wb[transfer.SHEET_RESOURCES]
    # one row per info item, plus the header
    assert sheet.max_row == 1 + sum(len(r["items"]) for r in SAMPLE["resources"])
    # into an empty catalog: the same catalog comes back
    with database.session() as s:
        for r in list(service.list_resources(s)):
            s.delete(service.get_resource_row(s, code=r.code))
    with database.session() as s:
        report = transfer.import_file(s, content=xlsx, filename="catalog.xlsx")
        assert report.created == len(SAMPLE["resources"])
    with database.session() as s:
        assert transfer.catalog_document(s) == before
        assert service.get_resource(s, code="101001").attributes["records"] == 1200


def test_bad_rows_are_reported_and_nothing_is_applied(db):
    transfer.import_file(db, content=_sample_bytes(), filename="s.yaml", publish=True)
    db.commit()
    xlsx, _ = transfer.export_catalog(db, fmt="excel")
    wb = load_workbook(io.BytesIO(xlsx))
    ws = wb[transfer.SHEET_RESOURCES]
    head = [c.value for c in ws[1]]
    col = {h: n + 1 for n, h in enumerate(head)}
    ws.cell(row=2, column=col["资源名称"], value="改过的名称")  # a valid change that must not be applied
    ws.cell(row=3, column=col["数据类型"], value="长文本")  # not a data type
    ws.cell(row=5, column=col["提供单位"], value="NOSUCH")  # differs from the resource's first row
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(Invalid) as caught:
        transfer.import_file(db, content=buf.getvalue(), filename="bad.xlsx")
    assert caught.value.code == "import_rejected"
    problems = caught.value.detail
    assert any(p["row"] == 3 and p["column"].endswith("数据类型") for p in problems)
    assert any(p["row"] == 5 and p["column"].endswith("提供单位") for p in problems)
    assert all(p["sheet"] == "信息资源" and p["reason"] for p in problems)
    assert service.get_resource(db, code="101001").name == "个人破产案件受理信息"
    assert service.get_resource_row(db, code="101001").state == "published"


def test_yaml_errors_name_the_resource_and_field(db):
    bad = {"units": SAMPLE["units"], "resources": [dict(SAMPLE["resources"][0]),
                                                    {**SAMPLE["resources"][1], "frequency": "hourly"},
                                                    {**SAMPLE["resources"][2], "key": ["nope"]}]}
    with pytest.raises(Invalid) as caught:
        transfer.import_file(db, content=transfer.to_yaml(bad), filename="bad.yaml")
    rows = {(p["row"], p["column"]) for p in caught.value.detail}
    assert (2, "frequency") in rows and (3, "key") in rows
    assert service.list_resources(db) == []


def test_units_with_invalid_credit_code_are_rejected(db):
    bad = {"units": [{"code": "X1", "name": "某单位", "kind": "other", "credit_code": "91440300MA5DC0XY1A"}],
           "resources": []}
    with pytest.raises(Invalid) as caught:
        transfer.import_file(db, content=transfer.to_yaml(bad), filename="u.yaml")
    assert caught.value.detail[0]["column"] == "credit_code"
    assert unit_service.find_unit_by_code(db, code="X1") is None


def test_dcat_export_lists_published_resources(db):
    transfer.import_file(db, content=_sample_bytes(), filename="s.yaml", publish=True)
    doc = documents.document_of(service.get_resource_row(db, code="801003"))
    service.update_resource(db, code="801003", doc={**doc, "name": "免责信息（修订中）"})
    service.withdraw(db, code="101002", reason="合并到 101001")
    body, media = transfer.export_catalog(db, fmt="dcat")
    assert media == "application/ld+json"
    data = json.loads(body)
    assert data["@type"] == "dcat:Catalog"
    ids = {d["dct:identifier"]: d for d in data["dcat:dataset"]}
    assert "101002" not in ids and len(ids) == len(SAMPLE["resources"]) - 1
    # the version in effect is exported, not the revision being drafted
    assert ids["801003"]["dct:title"]["@value"] == "免责考察及免责信息"
    assert ids["101001"]["dct:accrualPeriodicity"]["@id"].endswith("/frequency/CONT")
    assert ids["201001"]["dct:accessRights"]["@id"].endswith("/access-right/NON_PUBLIC")
    assert ids["201001"]["dct:publisher"]["foaf:name"]["@value"] == "深圳市规划和自然资源局"


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_dcat_export_parses_as_rdf(db):
    """A harvester reads the JSON-LD as RDF: one dcat:Dataset per published resource, with publisher and frequency."""
    from rdflib import Graph, Namespace
    from rdflib.namespace import DCAT, DCTERMS, RDF

    transfer.import_file(db, content=_sample_bytes(), filename="s.yaml", publish=True)
    body, _ = transfer.export_catalog(db, fmt="dcat")
    graph = Graph().parse(data=body.decode("utf-8"), format="json-ld")
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == len(SAMPLE["resources"])
    catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
    assert set(graph.objects(catalog, DCAT.dataset)) == datasets
    frequency = Namespace("http://publications.europa.eu/resource/authority/frequency/")
    ds = next(d for d in datasets if str(graph.value(d, DCTERMS.identifier)) == "601001")
    assert graph.value(ds, DCTERMS.accrualPeriodicity) == frequency.MONTHLY
    publisher = graph.value(ds, DCTERMS.publisher)
    assert str(graph.value(publisher, Namespace("http://xmlns.com/foaf/0.1/").name)) == "深圳市人力资源和社会保障局"
    assert len(list(graph.objects(ds, DCAT.distribution))) == 2


def test_import_and_export_over_http(client, database, as_user):
    with database.session() as s:
        demo_service.load_units(s)
    admin = as_user("porter", ["data_admin"])
    res = admin.post("/api/v1/catalog/import", files={"file": ("c.yaml", _sample_bytes(), "application/yaml")},
                     data={"publish": "true"})
    assert res.status_code == 200, res.text
    assert res.json()["published"] == len(SAMPLE["resources"])
    xlsx = admin.get("/api/v1/catalog/export?format=excel")
    assert xlsx.status_code == 200 and 'filename="catalog.xlsx"' in xlsx.headers["content-disposition"]
    broken = admin.post("/api/v1/catalog/import", files={"file": ("c.yaml", b"resources: [{code: 1}]", "text/yaml")})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "import_rejected"
    assert {p["column"] for p in broken.json()["error"]["detail"]} >= {"name", "provider"}
    assert admin.post("/api/v1/catalog/import", files={"file": ("c.txt", b"x", "text/plain")}).status_code == 422
    dcat = admin.get("/api/v1/catalog/dcat")
    assert dcat.headers["content-type"].startswith("application/ld+json")
    viewer = as_user("viewer9", ["report_viewer"])
    assert viewer.post("/api/v1/catalog/import", files={"file": ("c.yaml", _sample_bytes(), "text/yaml")}
                       ).status_code == 403
    with database.session() as s:
        actions = {a for (a,) in s.query(AuditRecord.action)}
    assert {"catalog.import", "catalog.export"} <= actions
