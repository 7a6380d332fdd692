"""The topic-table browser and the pickers' searches: rows searched, filtered, sorted and exported to Excel with
identifiers masked; units, topics, tables and users found by part of their name or code."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import insert

from pbshare.security.crypto import pii
from pbshare.units import service as unit_service
from pbshare.warehouse import service as warehouse

PEOPLE = [("演示·张三", "11010119900101001X", 3), ("演示·李四", "110101198001010014", 1),
          ("演示·王五", "110101197001010011", 2)]


def _table(client, database, settings) -> None:
    assert client.post("/api/v1/warehouse/topics", json={"name": "case", "title": "案件专题库"}).status_code == 201
    res = client.post("/api/v1/warehouse/topics/case/tables", json={
        "name": "debtor", "title": "债务人", "key": ["id_no"],
        "fields": [{"name": "name", "title": "姓名"}, {"name": "id_no", "title": "身份证号", "pii": True,
                                                      "id_kind": "cn_ric"}, {"name": "cars", "title": "车辆数", "type": "integer"}]})
    assert res.status_code == 201, res.text
    vault = pii.vault_for(settings.resolved_data_dir)
    table = warehouse.topic_store(database).reflect_table("case", "debtor")
    with database.warehouse_engine.begin() as conn:
        conn.execute(insert(table), [{"name": n, "id_no": vault.seal(i), "id_no_bidx": vault.blind_index(i, kind="cn_ric"),
                                      "cars": c} for n, i, c in PEOPLE])


def test_rows_are_searched_filtered_sorted_and_exported(as_user, database, settings):
    client = as_user("dataadmin", ["data_admin"])
    _table(client, database, settings)
    base = "/api/v1/warehouse/tables/case/debtor"

    names = [r["name"] for r in client.get(f"{base}/rows?sort=cars&order=desc").json()["rows"]]
    assert names == ["演示·张三", "演示·王五", "演示·李四"]
    found = client.get(f"{base}/rows", params={"q": "李"}).json()
    assert found["total"] == 1 and found["rows"][0]["id_no"] == "110101********0014"
    assert client.get(f"{base}/rows", params={"where": "cars=2"}).json()["rows"][0]["name"] == "演示·王五"
    assert next(c for c in found["columns"] if c["name"] == "id_no")["sealed"] is True

    # a sealed identifier cannot be sorted or filtered (it is stored encrypted): the answer says so and what to do
    res = client.get(f"{base}/rows", params={"sort": "id_no"})
    assert res.status_code == 422 and res.json()["error"]["code"] == "sealed_column"
    assert "身份证号" in res.json()["error"]["message"]
    res = client.get(f"{base}/rows", params={"where": "nope=1"})
    assert res.status_code == 422 and res.json()["error"]["code"] == "no_such_column"

    res = client.get(f"{base}/export.xlsx", params={"q": "演示", "sort": "cars"})
    assert res.status_code == 200
    assert "attachment" in res.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(res.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "身份证号", "车辆数")
    assert [r[0] for r in rows[1:]] == ["演示·李四", "演示·王五", "演示·张三"]
    assert all("********" in r[1] for r in rows[1:])  # masked as on screen, never in clear
    assert client.get(f"{base}/export.xlsx", params={"where": "name=李"}).status_code == 200


def test_pickers_find_by_part_of_name_or_code(as_user, database):
    with database.session() as s:
        unit_service.upsert_unit(s, code="SZPNR", name="深圳市规划和自然资源局", kind="other")
    client = as_user("sysadmin", ["sys_admin"])
    assert [u["username"] for u in client.get("/api/v1/users", params={"q": "SYSAD"}).json()] == ["sysadmin"]
    assert client.get("/api/v1/users", params={"q": "nobody-like-this"}).json() == []

    # any signed-in person may pick a unit (a security administrator creating a unit's user has no catalog rights)
    security = as_user("secadmin", ["security_admin"])
    assert security.get("/api/v1/catalog/units").status_code == 403
    assert security.get("/api/v1/units", params={"q": "PNR"}).json() == [
        {"code": "SZPNR", "name": "深圳市规划和自然资源局", "kind": "other"}]
    admin = as_user("dataadmin", ["data_admin"])
    for q in ("pnr", "PNR", "规划"):
        assert [u["code"] for u in admin.get("/api/v1/catalog/units", params={"q": q}).json()] == ["SZPNR"], q
    assert len(admin.get("/api/v1/catalog/units").json()) >= 2
    admin.post("/api/v1/warehouse/topics", json={"name": "case", "title": "案件专题库"})
    admin.post("/api/v1/warehouse/topics", json={"name": "estate", "title": "不动产专题库"})
    assert [tp["name"] for tp in admin.get("/api/v1/warehouse/topics", params={"q": "不动产"}).json()] == ["estate"]
    admin.post("/api/v1/warehouse/topics/case/tables", json={"name": "debtor", "title": "债务人",
                                                             "fields": [{"name": "name", "title": "姓名"}]})
    assert [tb["name"] for tb in admin.get("/api/v1/warehouse/tables", params={"q": "债务"}).json()] == ["debtor"]
    assert admin.get("/api/v1/warehouse/tables", params={"q": "债务", "topic": "estate"}).json() == []
