"""The import wizard's API: upload → preview → run in the background → poll → quarantine → re-run."""

from __future__ import annotations

import io
import time

from openpyxl import load_workbook

from tests.collect.conftest import MAPPING, people, write_csv


def _wait(client, run_id: str) -> dict:
    for _ in range(300):
        run = client.get(f"/api/v1/collect/runs/{run_id}").json()
        if run["status"] in ("succeeded", "failed"):
            return run
        time.sleep(0.05)
    raise AssertionError("run did not finish")


def _upload(client, path, name=None):
    with path.open("rb") as fh:
        res = client.post("/api/v1/collect/uploads", files={"file": (name or path.name, fh, "text/csv")})
    assert res.status_code == 200, res.text
    return res.json()


def test_wizard_flow_profile_quarantine_and_rerun(as_user, tmp_path):
    client = as_user("dataadmin", ["data_admin"])
    res = client.post("/api/v1/warehouse/topics", json={"name": "case", "title": "案件专题库"})
    assert res.status_code == 201, res.text
    up = _upload(client, write_csv(tmp_path / "si.csv", people(40, bad_ids=4), encoding="gbk", title="社保缴费明细"))
    assert (up["kind"], up["encoding"], up["header_row"]) == ("csv", "gb18030", 2)
    spec = {"source_kind": "csv", "source": {"upload_id": up["upload_id"]}, "mapping": MAPPING,
            "target_topic": "case", "target_table": "si_monthly", "mode": "upsert", "key": ["id_no", "period"]}
    pre = client.post("/api/v1/collect/preview", json=spec).json()
    assert pre["rows_bad"] == 4 and pre["target_exists"] is False
    assert "*" in pre["rows"][5]["id_no"]  # identifiers masked in the preview
    assert pre["rows"][0]["paid_on"] == "2023-01-01"
    started = client.post("/api/v1/collect/runs", json={"spec": spec, "save_as": {**spec, "name": "si_monthly",
                                                                                    "title": "社保月度缴费"}})
    assert started.status_code == 202, started.text
    run = _wait(client, started.json()["id"])
    assert (run["status"], run["rows_loaded"], run["rows_quarantined"], run["run_by"]) == \
        ("succeeded", 36, 4, "dataadmin")
    q = client.get(f"/api/v1/collect/runs/{run['id']}/quarantine").json()
    assert q["total"] == 4 and "身份证号码无效" in q["items"][0]["reason"]
    xlsx = client.get(f"/api/v1/collect/runs/{run['id']}/quarantine.xlsx")
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert ws.max_row == 5 and ws["B1"].value == "原因/reason"
    # the table is browsable, masked
    rows = client.get("/api/v1/warehouse/tables/case/si_monthly/rows").json()
    assert rows["total"] == 36 and all("*" in r["id_no"] for r in rows["rows"])
    # the saved profile re-runs in one step with next month's file
    profiles = client.get("/api/v1/collect/profiles").json()
    assert [p["name"] for p in profiles] == ["si_monthly"] and profiles[0]["last_run"]["rows_loaded"] == 36
    nxt = _upload(client, write_csv(tmp_path / "next.csv", people(5, seed=77), encoding="gbk", title="二月"))
    again = client.post(f"/api/v1/collect/profiles/{profiles[0]['id']}/run?upload_id={nxt['upload_id']}")
    assert _wait(client, again.json()["id"])["rows_loaded"] == 5
    history = client.get(f"/api/v1/collect/runs?profile_id={profiles[0]['id']}").json()
    assert [h["rows_loaded"] for h in history] == [5, 36]


def test_bad_uploads_are_refused_with_clear_errors(as_user, tmp_path):
    client = as_user("dataadmin", ["data_admin"])
    (tmp_path / "x.exe").write_bytes(b"MZ")
    res = client.post("/api/v1/collect/uploads", files={"file": ("x.exe", b"MZ", "application/octet-stream")})
    assert res.status_code == 422 and res.json()["error"]["code"] == "bad_file_type"
    res = client.post("/api/v1/collect/uploads", files={"file": ("empty.csv", b"", "text/csv")})
    assert res.status_code == 422 and res.json()["error"]["code"] == "empty_file"
    res = client.post("/api/v1/collect/uploads", files={"file": ("u16.csv", "姓名\n".encode("utf-16"), "text/csv")})
    assert res.json()["error"]["code"] == "unsupported_encoding"
    spec = {"source_kind": "csv", "source": {"path": "/etc/passwd"}, "target_topic": "case", "target_table": "x"}
    res = client.post("/api/v1/collect/preview", json=spec)
    assert res.status_code == 403 and res.json()["error"]["code"] == "path_not_allowed"


def test_permissions(as_user, client):
    as_user("handler", ["case_handler"])
    assert client.post("/api/v1/collect/uploads", files={"file": ("a.csv", b"a\n1\n", "text/csv")}).status_code == 403
    assert client.get("/api/v1/warehouse/topics").status_code == 200
    assert client.post("/api/v1/warehouse/topics", json={"name": "x", "title": "x"}).status_code == 403


def test_datasets_and_transforms_over_the_api(as_user, tmp_path):
    client = as_user("dataadmin", ["data_admin"])
    client.post("/api/v1/warehouse/topics", json={"name": "case", "title": "案件专题库"})
    up = _upload(client, write_csv(tmp_path / "si.csv", people(12)))
    spec = {"source_kind": "csv", "source": {"upload_id": up["upload_id"]}, "mapping": MAPPING,
            "target_topic": "case", "target_table": "si_monthly"}
    _wait(client, client.post("/api/v1/collect/runs", json={"spec": spec}).json()["id"])
    bad = client.post("/api/v1/collect/sql/check", json={"sql": "DROP TABLE \"case\".si_monthly"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "sql_not_select"
    sql = 'SELECT insurance, COUNT(*) AS n FROM "case".si_monthly GROUP BY insurance'
    assert client.post("/api/v1/collect/sql/check", json={"sql": sql}).json()["rows"] == [["养老保险", 12]]
    ds = client.post("/api/v1/collect/datasets", json={"name": "by_ins", "title": "按险种", "sql": sql,
                                                        "target_topic": "case"}).json()
    done = client.post(f"/api/v1/collect/datasets/{ds['id']}/refresh").json()
    assert done["row_count"] == 1
    tf_spec = {"tables": [{"table": "case.si_monthly", "alias": "s"}], "group_by": ["s.period"],
               "aggregates": [{"fn": "sum", "column": "s.base_yuan", "as": "total"}]}
    assert client.post("/api/v1/collect/transforms/preview", json=tf_spec).json()["columns"] == ["period", "total"]
    tf = client.post("/api/v1/collect/transforms", json={"name": "by_period", "title": "按月", "spec": tf_spec,
                                                          "target_topic": "case"}).json()
    assert client.post(f"/api/v1/collect/transforms/{tf['id']}/refresh").json()["row_count"] == 1
    tables = {t["name"]: t["origin"] for t in client.get("/api/v1/warehouse/tables?topic=case").json()}
    assert tables == {"si_monthly": "import", "by_ins": "dataset", "by_period": "transform"}
