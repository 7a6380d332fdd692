"""A file broken on purpose, imported through the API, gets a quality report with exact counts, scores and
the expected verdict; a data admin overrides the verdict with a reason (audited); Excel and PDF downloads open."""

from __future__ import annotations

import io
import time

from openpyxl import load_workbook
from sqlalchemy import select

from pbshare.security.audit import service as audit
from tests.collect.conftest import MAPPING, people, write_csv

RULES = [
    {"kind": "range", "columns": ["base_yuan"], "params": {"max": 1035}, "name": "缴费基数上限"},
    {"kind": "allowed", "columns": ["insurance"], "params": {"values": ["养老保险", "医疗保险"]},
     "severity": "warning", "name": "险种取值"},
]


def _wait(client, run_id: str) -> dict:
    for _ in range(400):
        run = client.get(f"/api/v1/collect/runs/{run_id}").json()
        if run["status"] in ("succeeded", "failed"):
            return run
        time.sleep(0.05)
    raise AssertionError("run did not finish")


def _upload(client, path) -> str:
    with path.open("rb") as fh:
        res = client.post("/api/v1/collect/uploads", files={"file": (path.name, fh, "text/csv")})
    assert res.status_code == 200, res.text
    return res.json()["upload_id"]


def _broken_file(tmp_path, name: str = "si.csv", *, bad_ids: int = 4):
    """40 rows: ``bad_ids`` invalid ID numbers (lines 2–5), bases 1035.50–1039.50 over the rule's maximum on
    the last five lines (37–41), and 失业保险 (not an allowed value, a warning) on lines 22 and 23."""
    rows = people(40, bad_ids=bad_ids)
    for i in (20, 21):
        rows[i][2] = "失业保险"
    return write_csv(tmp_path / name, rows)


def _profile(client, upload_id: str) -> str:
    spec = {"source_kind": "csv", "source": {"upload_id": upload_id}, "mapping": MAPPING, "target_topic": "case",
            "target_table": "si_monthly", "mode": "upsert", "key": ["id_no", "period"], "name": "si_monthly",
            "title": "社保月度缴费"}
    res = client.post("/api/v1/collect/profiles", json=spec)
    assert res.status_code == 201, res.text
    return res.json()["id"]


def _run_profile(client, profile_id: str, upload_id: str) -> dict:
    res = client.post(f"/api/v1/collect/profiles/{profile_id}/run?upload_id={upload_id}")
    assert res.status_code == 202, res.text
    run = _wait(client, res.json()["id"])
    assert run["status"] == "succeeded", run
    return run


def test_broken_file_gets_exact_counts_scores_a_rejection_and_an_audited_override(as_user, tmp_path, database):
    client = as_user("dataadmin", ["data_admin"])
    assert client.post("/api/v1/warehouse/topics", json={"name": "case", "title": "案件专题库"}).status_code == 201
    upload_id = _upload(client, _broken_file(tmp_path))
    profile_id = _profile(client, upload_id)
    res = client.put(f"/api/v1/quality/rule-sets/profiles/{profile_id}", json={"rules": RULES})
    assert res.status_code == 200, res.text

    run = _run_profile(client, profile_id, upload_id)
    # 4 bad IDs (the import's own check) + 5 bases over the maximum (an error rule) are kept out;
    # the two 失业保险 rows only warn, so they load.
    assert (run["rows_read"], run["rows_quarantined"], run["rows_loaded"]) == (40, 9, 31)
    assert run["counts"]["quarantined"]["缴费基数上限"] == 5
    quarantine = client.get(f"/api/v1/collect/runs/{run['id']}/quarantine?size=50").json()
    by_line = {q["line"]: q["reason"] for q in quarantine["items"]}
    assert sorted(by_line) == [2, 3, 4, 5, 37, 38, 39, 40, 41]
    assert by_line[41].startswith("缴费基数上限")

    listed = client.get(f"/api/v1/quality/reports?subject_kind=import_run&subject_id={run['id']}").json()
    assert listed["total"] == 1
    report = client.get(f"/api/v1/quality/reports/{listed['items'][0]['id']}").json()
    assert (report["rows"], report["error_rows"], report["warning_rows"]) == (40, 9, 2)
    assert report["verdict"] == report["computed_verdict"] == "rejected"  # 9 of 40 > 5 %
    assert "22.5%" in report["verdict_reason"]
    rules = {r["name"]: r for r in report["rules"]}
    ids = rules["id_no：身份证号码无效 / id_no: invalid resident ID number"]
    assert (ids["kind"], ids["dimension"], ids["checked"], ids["failed"]) == ("import_check", "validity", 40, 4)
    assert [s["line"] for s in ids["sample"]] == [2, 3, 4, 5]
    base = rules["缴费基数上限"]
    assert (base["severity"], base["checked"], base["failed"]) == ("error", 36, 5)
    assert [s["line"] for s in base["sample"]] == [37, 38, 39, 40, 41]
    id_in_sample = base["sample"][0]["key"]["id_no"]
    assert "********" in id_in_sample and len(id_in_sample) == 18  # identifiers masked
    insurance = rules["险种取值"]
    assert (insurance["severity"], insurance["failed"], [s["value"] for s in insurance["sample"]]) == \
        ("warning", 2, ["失业保险", "失业保险"])
    # validity: (40 − 4) + (36 − 5) + (36 − 2) passed of 112 checks; no other dimension was checked
    assert report["scores"]["validity"] == round(100 * 101 / 112, 2) == report["score"]
    assert report["scores"]["completeness"] is None
    assert report["weights"]["completeness"] == 30

    bad = client.post(f"/api/v1/quality/reports/{report['id']}/override", json={"verdict": "accepted", "reason": ""})
    assert bad.status_code == 422
    done = client.post(f"/api/v1/quality/reports/{report['id']}/override",
                       json={"verdict": "accepted_with_warnings", "reason": "基数上限调整前的旧数据，已与社保局核实"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["verdict"], body["computed_verdict"], body["overridden_by"]) == \
        ("accepted_with_warnings", "rejected", "dataadmin")
    with database.session() as db:
        rec = db.scalars(select(audit.AuditRecord).where(audit.AuditRecord.action == "quality.report.override")).one()
        assert rec.object_id == report["id"] and rec.detail["from"] == "rejected"
    assert client.get("/api/v1/quality/reports?verdict=rejected").json()["total"] == 0

    xlsx = client.get(f"/api/v1/quality/reports/{report['id']}/excel")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["概览", "规则", "样例"]
    assert [row[1] for row in wb["规则"].iter_rows(min_row=2, values_only=True)] == [r["name"] for r in report["rules"]]
    pdf = client.get(f"/api/v1/quality/reports/{report['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"


def test_a_few_bad_rows_are_accepted_with_warnings_and_trends_follow(as_user, tmp_path):
    client = as_user("dataadmin", ["data_admin"])
    client.post("/api/v1/warehouse/topics", json={"name": "case", "title": "案件专题库"})
    clean = write_csv(tmp_path / "clean.csv", people(40, seed=3))
    profile_id = _profile(client, _upload(client, clean))
    client.put(f"/api/v1/quality/rule-sets/profiles/{profile_id}", json={"rules": [{**RULES[0], "params": {"max": 1100}}]})
    first = _run_profile(client, profile_id, _upload(client, clean))
    rows = people(40, seed=5)
    rows[39][4] = "9,999.00元"  # one base over the maximum: 1 of 40 = 2.5 % ≤ 5 %
    second = _run_profile(client, profile_id, _upload(client, write_csv(tmp_path / "feb.csv", rows)))
    assert (second["rows_quarantined"], second["rows_loaded"]) == (1, 39)
    reports = client.get("/api/v1/quality/reports").json()["items"]
    verdicts = {r["subject_id"]: (r["verdict"], r["score"]) for r in reports}
    assert verdicts[first["id"]] == ("accepted", 100.0)
    assert verdicts[second["id"]] == ("accepted_with_warnings", round(100 * 39 / 40, 2))
    trend = client.get("/api/v1/quality/trends?unit_code=none").json()
    assert trend["points"] == []
    assert client.get("/api/v1/quality/trends").status_code == 422
