"""The jobs API as a data admin sees it: build a pipeline, preview and save a schedule, run now and read the logs,
filter the history, the calendar, alerts on the to-do list and at a webhook; who may do what; clear 4xx errors."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from pbshare.config import Settings

STEPS = [{"kind": "wait", "name": "稍等", "params": {"seconds": 0.1}},
         {"kind": "sql", "name": "查询", "params": {"sql": "SELECT 1 AS one"}}]


def _wait(client, run_id: str) -> dict:
    for _ in range(150):
        run = client.get(f"/api/v1/jobs/runs/{run_id}").json()
        if run["state"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.1)
    raise AssertionError("the run did not finish")


def test_build_schedule_run_and_read_logs(as_user) -> None:
    client = as_user("dataadmin", ["data_admin"])
    kinds = {k["code"] for k in client.get("/api/v1/jobs/step-kinds").json()}
    assert {"import_profile", "harvest", "dataset", "transform", "sql", "quality", "export", "backup",
            "retention"} <= kinds
    res = client.post("/api/v1/jobs/pipelines", json={"name": "试运行", "steps": STEPS})
    assert res.status_code == 201, res.text
    pid = res.json()["id"]
    preview = client.post("/api/v1/jobs/schedules/preview",
                          json={"picker": {"kind": "monthly", "day": "last", "time": "03:00"}}).json()
    assert preview["cron"] == "0 3 L * *" and len(preview["next"]) == 10
    assert all(t.endswith("19:00:00Z") for t in preview["next"])  # 03:00 in Beijing is 19:00 UTC the day before
    res = client.post("/api/v1/jobs/schedules", json={"pipeline_id": pid, "picker": {"kind": "weekly", "weekdays": [1],
                                                                                       "time": "08:00"}})
    assert res.status_code == 201, res.text
    sched = res.json()
    assert sched["description"] == "每周周一 08:00" and sched["enabled"]
    assert client.post(f"/api/v1/jobs/schedules/{sched['id']}/disable").json()["enabled"] is False
    assert client.post(f"/api/v1/jobs/schedules/{sched['id']}/enable").json()["enabled"] is True
    cal = client.get("/api/v1/jobs/calendar").json()
    assert 4 <= len(cal) <= 5 and {c["pipeline_name"] for c in cal} == {"试运行"}

    res = client.post(f"/api/v1/jobs/pipelines/{pid}/run")
    assert res.status_code == 201, res.text
    run = _wait(client, res.json()["id"])
    assert run["state"] == "succeeded" and run["trigger"] == "manual" and run["run_by"] == "dataadmin"
    assert [s["state"] for s in run["step_runs"]] == ["succeeded", "succeeded"]
    assert "SELECT 1 AS one" in run["step_runs"][1]["log"]
    history = client.get("/api/v1/jobs/runs", params={"pipeline_id": pid, "state": "succeeded"}).json()
    assert history["total"] == 1
    assert client.get("/api/v1/jobs/runs", params={"state": "failed"}).json()["total"] == 0
    res = client.post(f"/api/v1/jobs/runs/{run['id']}/cancel")
    assert res.status_code == 409 and res.json()["error"]["code"] == "run_finished"
    assert "已结束" in res.json()["error"]["message"]


def test_bad_input_says_what_to_do_and_who_may_do_what(as_user) -> None:
    client = as_user("dataadmin", ["data_admin"])
    res = client.post("/api/v1/jobs/pipelines", json={"name": "x", "steps": [{"kind": "teleport"}]})
    assert res.status_code == 422 and res.json()["error"]["code"] == "unknown_step_kind"
    assert "sql" in res.json()["error"]["message"]  # names the kinds there are
    res = client.post("/api/v1/jobs/pipelines", json={"name": "x", "steps": [{"kind": "sql", "params": {}}]})
    assert res.status_code == 422 and "第 1 步" in res.json()["error"]["message"]
    res = client.post("/api/v1/jobs/pipelines", json={"name": "x", "steps": [
        {"kind": "sql", "params": {"sql": "ATTACH DATABASE 'x' AS y"}}]})
    assert res.status_code == 422
    res = client.post("/api/v1/jobs/schedules/preview", json={"picker": {"kind": "cron", "cron": "0 0 31 2 *"}})
    assert res.status_code == 422 and "31" in res.json()["error"]["message"]
    res = client.post("/api/v1/jobs/schedules/preview", json={"picker": {"kind": "daily", "time": "8 点"}})
    assert res.status_code == 422 and "时:分" in res.json()["error"]["message"]
    assert client.get("/api/v1/jobs/runs/nope").status_code == 404

    # who may do what
    viewer = as_user("viewer", ["report_viewer"])
    assert viewer.get("/api/v1/jobs/pipelines").status_code == 403
    sysadmin = as_user("sysadmin", ["sys_admin"])
    assert sysadmin.get("/api/v1/jobs/pipelines").status_code == 200  # reads
    assert sysadmin.post("/api/v1/jobs/pipelines", json={"name": "y", "steps": STEPS}).status_code == 403


class _Hook(BaseHTTPRequestHandler):
    got: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.got.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_failed_run_alerts_the_to_do_list_and_the_webhook(settings: Settings, database) -> None:
    from fastapi.testclient import TestClient

    from pbshare.app import create_app
    from tests.conftest import login, make_user

    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    _Hook.got = []
    database.settings = settings.model_copy(update={"jobs_alert_webhook": f"http://127.0.0.1:{hook.server_port}/"})
    try:
        with TestClient(create_app(database.settings, database=database)) as client:
            make_user(database, "dataadmin", ["data_admin"])
            login(client, "dataadmin")
            pid = client.post("/api/v1/jobs/pipelines", json={"name": "坏了", "steps": [
                {"kind": "sql", "params": {"sql": "SELECT * FROM nowhere.nothing"}}]}).json()["id"]
            run = _wait(client, client.post(f"/api/v1/jobs/pipelines/{pid}/run").json()["id"])
            assert run["state"] == "failed" and "nothing" in run["error"]
            alerts = client.get("/api/v1/jobs/alerts").json()
            assert len(alerts) == 1 and alerts[0]["kind"] == "failed" and "坏了" in alerts[0]["message"]
            for _ in range(50):
                if client.get("/api/v1/jobs/alerts").json()[0]["webhook_status"]:
                    break
                time.sleep(0.1)
            assert client.get("/api/v1/jobs/alerts").json()[0]["webhook_status"] == "204"
            assert _Hook.got[0]["run_id"] == run["id"] and _Hook.got[0]["kind"] == "failed"
            assert client.post(f"/api/v1/jobs/alerts/{alerts[0]['id']}/done").json()["done"] is True
            assert client.get("/api/v1/jobs/alerts").json() == []
    finally:
        hook.shutdown()
