"""Saved reports and dashboards: shared with roles, run with global filters and drills, exported; uploaded
CSV and REST JSON sources; the built-in dashboards' live figures."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from openpyxl import load_workbook

from pbshare.exchange.cases import service as cases
from pbshare.units import service as unit_service
from tests.conftest import login, make_user
from tests.reports.conftest import SOURCE

BAR = {"title": "各区债权", "chart": "bar", "roles": ["report_viewer"],
       "spec": {"source": SOURCE, "group_by": ["district"], "aggregates": [{"fn": "sum", "column": "amount",
                                                                            "as": "total"}],
                "filters": {"op": "and", "items": [{"column": "name", "op": "contains", "value": "债权"}]},
                "sort": [{"column": "district"}]},
       "options": {"x": "district", "y": ["total"], "globals": {"date": "accepted_on", "unit": "unit",
                                                                "district": "district"}}}
KPI = {"title": "债权笔数", "chart": "kpi", "roles": ["report_viewer"],
       "spec": {"source": SOURCE, "aggregates": [{"fn": "count", "as": "n"}]},
       "options": {"y": ["n"], "globals": {"date": "accepted_on"}}}


def test_share_run_drill_dashboard_export(as_user, debts, database, client):
    admin = as_user("builder", ["data_admin"])
    bar = admin.post("/api/v1/reports", json=BAR)
    assert bar.status_code == 201, bar.text
    kpi = admin.post("/api/v1/reports", json=KPI).json()
    private = admin.post("/api/v1/reports", json={**KPI, "title": "私有", "roles": []}).json()
    bad = admin.post("/api/v1/reports", json={**KPI, "roles": ["nobody"]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_roles"
    dash = admin.post("/api/v1/reports/dashboards", json={
        "title": "债权看板", "roles": ["report_viewer"], "filters": ["date", "unit", "district"], "refresh_seconds": 60,
        "tiles": [{"report_id": bar.json()["id"], "x": 0, "y": 0, "w": 8, "h": 4},
                  {"report_id": kpi["id"], "x": 8, "y": 0, "w": 4, "h": 2}]})
    assert dash.status_code == 201, dash.text
    did = dash.json()["id"]
    wide = admin.post("/api/v1/reports/dashboards", json={"title": "x", "tiles": [{"report_id": kpi["id"], "x": 10,
                                                                                   "w": 4}]})
    assert wide.status_code == 422 and wide.json()["error"]["code"] == "bad_tile"

    make_user(database, "viewer", ["report_viewer"])
    login(client, "viewer")
    titles = {r["title"] for r in client.get("/api/v1/reports").json()}
    assert titles == {"各区债权", "债权笔数"}
    assert client.get(f"/api/v1/reports/{private['id']}").status_code == 404
    run = client.post(f"/api/v1/reports/{bar.json()['id']}/run", json={}).json()
    assert {r["district"]: r["total"] for r in run["rows"]} == {"南山区": 3000, "福田区": 2200, "罗湖区": 2600}
    drill = client.post(f"/api/v1/reports/{bar.json()['id']}/run", json={"drill": {"district": "南山区"}}).json()
    assert drill["total"] == 4 and all(r["district"] == "南山区" for r in drill["rows"])
    assert drill["rows"][0]["id_no"].count("*") == 8
    bad = client.post(f"/api/v1/reports/{bar.json()['id']}/run", json={"drill": {"unit": "x"}})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_drill"

    tiles = client.post(f"/api/v1/reports/dashboards/{did}/data", json={}).json()
    assert tiles[1]["rows"] == [{"n": 12}] and tiles[0]["chart"] == "bar"
    tiles = client.post(f"/api/v1/reports/dashboards/{did}/data",
                        json={"date_from": "2026-01-01", "date_to": "2026-02-28", "unit": "市银行"}).json()
    assert tiles[1]["rows"] == [{"n": 4}]  # the KPI names only a date column
    assert {r["district"]: r["total"] for r in tiles[0]["rows"]} == {"福田区": 100, "罗湖区": 200}
    xlsx = client.post(f"/api/v1/reports/dashboards/{did}/export?format=xlsx", json={})
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["各区债权", "债权笔数"] and wb["债权笔数"]["A2"].value == 12
    pdf = client.post(f"/api/v1/reports/dashboards/{did}/export?format=pdf", json={})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.delete(f"/api/v1/reports/dashboards/{did}").status_code == 403


def test_query_export_upload_and_rest_sources(as_user, debts):
    admin = as_user("builder", ["data_admin"])
    csv_ = admin.post("/api/v1/query/export?format=csv", json={"source": SOURCE, "columns": ["name", "id_no"],
                                                               "sort": [{"column": "name"}]})
    lines = csv_.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "名称,身份证号" and lines[1] == "演示·债权00,110101********001X" and len(lines) == 13

    up = admin.post("/api/v1/reports/uploads", files={"file": ("区县.csv", "区,人数\n福田区,3\n南山区,5\n".encode("gbk"))},
                    data={"title": "区县人数"})
    assert up.status_code == 201, up.text
    res = admin.post("/api/v1/query", json={"source": {"kind": "upload", "id": up.json()["id"]},
                                            "aggregates": [{"fn": "sum", "column": up.json()["columns"][1]["name"],
                                                            "as": "n"}]})
    assert res.json()["rows"] == [{"n": 8}]
    bad = admin.post("/api/v1/reports/uploads", files={"file": ("x.txt", b"hello")})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_file_type"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"data": {"items": [{"district": "福田区", "n": 2}, {"district": "罗湖区", "n": 7}]}})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/stats"
        res = admin.post("/api/v1/query", json={"source": {"kind": "rest", "url": url, "path": "data.items"},
                                                "filters": {"items": [{"column": "n", "op": "gt", "value": 3}]}})
        assert res.json()["rows"] == [{"district": "罗湖区", "n": 7}]
        res = admin.post("/api/v1/query", json={"source": {"kind": "rest", "url": url, "path": "data.nope"}})
        assert res.status_code == 422 and res.json()["error"]["code"] == "bad_json_path"
    finally:
        server.shutdown()


def test_builtin_dashboards_show_live_figures(as_user, database, settings):
    with database.session() as db:
        court = unit_service.upsert_unit(db, code="SZCOURT", name="深圳中院", kind="court")
        for i, (month, stage) in enumerate([(1, "accepted"), (1, "trial"), (3, "accepted")]):
            debtor = cases.add_debtor(db, data_dir=settings.resolved_data_dir, name=f"演示·{i}",
                                      id_no=["11010119900101001X", "110101199001010029", "110101199001010037"][i])
            cases.open_case(db, case_no=f"(2026)粤03破{i}号", debtor_id=debtor.id, court_unit_id=court.id,
                            procedure="清算", accepted_on=dt.date(2026, month, 5), stage=stage)
    client = as_user("viewer", ["report_viewer"])
    boards = client.get("/api/v1/reports/builtin").json()
    assert [b["key"] for b in boards] == ["cases", "requests", "quality", "channels"]
    tiles = {t["key"]: t for t in boards[0]["tiles"]}
    assert tiles["cases_total"]["rows"] == [{"value": 3}]
    assert {r["stage"]: r["cases"] for r in tiles["cases_by_stage"]["rows"]}["已受理"] == 2
    assert tiles["cases_by_month"]["rows"] == [{"month": "2026-01", "cases": 2}, {"month": "2026-03", "cases": 1}]
    march = client.get("/api/v1/reports/builtin?date_from=2026-03-01&date_to=2026-03-31").json()
    assert {t["key"]: t for t in march[0]["tiles"]}["cases_period"]["rows"] == [{"value": 1}]
    pdf = client.post("/api/v1/reports/builtin/export?format=pdf", json={"key": "cases"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xlsx = client.post("/api/v1/reports/builtin/export?format=xlsx", json={"key": "requests"})
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[0] == "查询事项"
