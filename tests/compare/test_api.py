"""Two imports of a file through the API give a comparison: counts, rows by kind and field, Excel, history,
as-of; masked unless pii:unmask with a purpose; audited."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import text

from tests.collect.conftest import MAPPING, people, write_csv


def _run(client, path) -> dict:
    with path.open("rb") as fh:
        up = client.post("/api/v1/collect/uploads", files={"file": (path.name, fh, "text/csv")}).json()
    spec = {"source_kind": "csv", "source": {"upload_id": up["upload_id"]}, "mapping": MAPPING,
            "target_topic": "case", "target_table": "si_monthly", "mode": "upsert", "key": ["id_no", "period"]}
    started = client.post("/api/v1/collect/runs", json={"spec": spec})
    assert started.status_code == 202, started.text
    for _ in range(300):
        run = client.get(f"/api/v1/collect/runs/{started.json()['id']}").json()
        if run["status"] in ("succeeded", "failed"):
            assert run["status"] == "succeeded", run
            return run
        time.sleep(0.05)
    raise AssertionError("run did not finish")


def test_second_import_is_compared_with_the_first(as_user, tmp_path, database) -> None:
    client = as_user("dataadmin", ["data_admin"])
    assert client.post("/api/v1/warehouse/topics", json={"name": "case", "title": "案件专题库"}).status_code == 201
    first = people(10)
    run1 = _run(client, write_csv(tmp_path / "jan.csv", first))
    assert client.get("/api/v1/compare/comparisons").json()["total"] == 0  # the first delivery only starts history
    second = [r[:] for r in first[2:]]  # rows 0 and 1 gone
    for r in second[:3]:
        r[4] = "9,999.00元"  # base changed for three people
    second.append(people(1, seed=99)[0])  # one new person
    run2 = _run(client, write_csv(tmp_path / "feb.csv", second))

    page = client.get("/api/v1/compare/comparisons", params={"target": "case.si_monthly"}).json()
    assert page["total"] == 1
    c = page["items"][0]
    assert (c["added"], c["removed"], c["changed"], c["unchanged"]) == (1, 2, 3, 5)
    assert (c["delivery_id"], c["previous_delivery_id"], c["incremental"]) == (run2["id"], run1["id"], False)
    assert c["field_counts"] == {"base_yuan": 3}
    assert [f["code"] for f in c["flags"]] == ["mass_change"]  # 5 of 10 records changed or went

    rows = client.get(f"/api/v1/compare/comparisons/{c['id']}/rows", params={"kind": "changed"}).json()
    assert rows["total"] == 3 and rows["masked"] is True
    item = rows["items"][0]
    assert item["changes"]["base_yuan"][1] == "9999.00" and "*" in item["key"]["id_no"]
    assert client.get(f"/api/v1/compare/comparisons/{c['id']}/rows",
                      params={"field": "name"}).json()["total"] == 0
    assert client.get(f"/api/v1/compare/comparisons/{c['id']}/rows",
                      params={"kind": "removed"}).json()["total"] == 2

    xlsx = client.get(f"/api/v1/compare/comparisons/{c['id']}/export.xlsx")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["汇总 summary", "新增 added", "删除 removed", "变更 changed"]
    assert wb["变更 changed"].max_row == 4 and wb["删除 removed"].max_row == 3
    assert "→ 9999.00" in " ".join(str(v) for v in next(wb["变更 changed"].iter_rows(min_row=2, values_only=True)))

    # a data admin may not unmask; a case handler may, with a purpose
    assert client.get(f"/api/v1/compare/comparisons/{c['id']}/rows",
                      params={"unmask": "true", "purpose": "核对"}).status_code == 403
    as_user("handler", ["case_handler"])
    assert client.get(f"/api/v1/compare/comparisons/{c['id']}/rows",
                      params={"unmask": "true"}).status_code == 422
    full = client.get(f"/api/v1/compare/comparisons/{c['id']}/rows",
                      params={"kind": "changed", "unmask": "true", "purpose": "核对缴费基数"}).json()
    key = full["items"][0]["key"]
    assert "*" not in key["id_no"]

    hist = client.get("/api/v1/compare/history", params={"target": "case.si_monthly", "key": json.dumps(key)}).json()
    assert [v["delivery_id"] for v in hist["versions"]] == [run1["id"], run2["id"]]
    assert hist["versions"][1]["values"]["base_yuan"] == "9999.00"

    before = datetime.fromisoformat(hist["versions"][1]["valid_from"]) - timedelta(microseconds=1)
    past = client.get("/api/v1/compare/as-of", params={"target": "case.si_monthly", "at": before.isoformat()}).json()
    assert past["total"] == 10
    now = client.get("/api/v1/compare/as-of",
                     params={"target": "case.si_monthly", "at": datetime.now(UTC).isoformat()}).json()
    assert now["total"] == 9 and all("*" in r["values"]["id_no"] for r in now["items"])
    assert client.get("/api/v1/compare/as-of", params={"target": "case.nothing", "at": "2026-01-01T00:00:00Z"}
                      ).status_code == 404

    with database.session() as s:
        actions = [a for (a,) in s.execute(text("SELECT action FROM audit_record WHERE action LIKE 'compare.%' "
                                                "OR action = 'pii.unmask'"))]
    assert {"compare.read", "compare.export", "compare.as_of", "pii.unmask"} <= set(actions)


def test_who_may_read_and_clear_errors(as_user, client) -> None:
    as_user("viewer", ["report_viewer"])
    assert client.get("/api/v1/compare/comparisons").status_code == 403
    as_user("dataadmin", ["data_admin"])
    res = client.get("/api/v1/compare/comparisons/nope")
    assert res.status_code == 404 and res.json()["error"]["code"] == "comparison_not_found"
    res = client.get("/api/v1/compare/history", params={"target": "case.none", "key": "1"})
    assert res.status_code == 404 and "导入" in res.json()["error"]["message"]
    assert client.get("/api/v1/compare/comparisons/x/rows", params={"kind": "moved"}).status_code == 422
    assert client.get("/api/v1/compare/as-of", params={"target": "case.none", "at": "yesterday"}).status_code == 422
    res = client.get("/api/v1/compare/as-of", params={"target": "case.none", "at": "0001-01-01T00:00:00+14:00"})
    assert res.status_code == 422 and res.json()["error"]["code"] == "compare_bad_moment"
