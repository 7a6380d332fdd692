"""Topic databases and their tables through the API: names checked, identifiers sealed and masked,
reads of tables with personal data audited, permissions enforced."""

from __future__ import annotations

from sqlalchemy import insert, select

from pbshare.security.audit import service as audit
from pbshare.security.crypto import pii
from pbshare.warehouse import service as warehouse


def test_topics_tables_and_masked_rows(as_user, database, settings):
    client = as_user("dataadmin", ["data_admin"])
    assert client.post("/api/v1/warehouse/topics", json={"name": "case", "title": "案件专题库"}).status_code == 201
    res = client.post("/api/v1/warehouse/topics", json={"name": "case", "title": "again"})
    assert res.status_code == 409 and res.json()["error"]["code"] == "topic_exists"
    assert client.post("/api/v1/warehouse/topics", json={"name": "Bad-Name", "title": "x"}).status_code == 422
    res = client.post("/api/v1/warehouse/topics/case/tables", json={
        "name": "debtor", "title": "债务人", "key": ["id_no"],
        "fields": [{"name": "name", "title": "姓名"}, {"name": "id_no", "title": "身份证号", "pii": True,
                                                      "id_kind": "cn_ric"}, {"name": "born", "type": "date"}]})
    assert res.status_code == 201, res.text
    assert [c["name"] for c in res.json()["columns"]] == ["name", "id_no", "id_no_bidx", "born"]
    vault = pii.vault_for(settings.resolved_data_dir)
    table = warehouse.topic_store(database).reflect_table("case", "debtor")
    with database.warehouse_engine.begin() as conn:
        conn.execute(insert(table), [{"name": "演示·张三", "id_no": vault.seal("11010119900101001X"),
                                      "id_no_bidx": vault.blind_index("11010119900101001X", kind="cn_ric")}])
    rows = client.get("/api/v1/warehouse/tables/case/debtor/rows").json()
    assert rows["rows"] == [{"name": "演示·张三", "id_no": "110101********001X", "born": None}]
    assert [c["title"] for c in rows["columns"]] == ["姓名", "身份证号", "born"]
    with database.session() as db:
        actions = db.scalars(select(audit.AuditRecord.action)).all()
    assert "warehouse.read" in actions
    tables = client.get("/api/v1/warehouse/tables?topic=case").json()
    assert tables[0]["origin"] == "manual" and tables[0]["key"] == ["id_no"]
    assert client.delete("/api/v1/warehouse/tables/case/debtor").status_code == 204
    assert not warehouse.topic_store(database).has_table("case", "debtor")


def test_readers_cannot_create(as_user):
    client = as_user("viewer", ["report_viewer"])
    assert client.get("/api/v1/warehouse/topics").status_code == 403
    assert client.post("/api/v1/warehouse/topics", json={"name": "x", "title": "x"}).status_code == 403
