"""Every role's home page says what waits for that person: the to-do routes behind the cards."""

from __future__ import annotations

import json

from tests.channels.conftest import open_connection  # noqa: F401  (fixture)
from tests.collect.test_deliveries import ROWS, catalog, receive  # noqa: F401  (fixture)


def test_data_admin_sees_failed_deliveries_quarantines_and_rejected_reports(database, settings, catalog,  # noqa: F811
                                                                            open_connection, as_user):  # noqa: F811
    from pbshare.collect.deliveries import service as deliveries

    court = open_connection("rest", unit_code="SZCOURT")
    admin = as_user("todo_admin", ["data_admin"])
    empty = admin.get("/api/v1/collect/todo").json()
    assert (empty["deliveries_failed"], empty["quarantines"], empty["rejected_reports"]) == (0, [], 0)
    receive(database, settings, json.dumps(court.envelope(type="delivery", resource="101001",
                                                          payload={"rows": ROWS})).encode())
    assert admin.get("/api/v1/collect/todo").json()["deliveries_waiting"] == 1
    deliveries.land_pending(database)
    todo = admin.get("/api/v1/collect/todo").json()
    assert todo["deliveries_waiting"] == 0
    assert [q["rows"] for q in todo["quarantines"]] == [1] and todo["quarantines"][0]["target"] == "shared.r_101001"
    assert todo["rejected_reports"] == 1 and todo["rejected"][0]["unit_code"] == "SZCOURT"
    assert as_user("todo_viewer", ["report_viewer"]).get("/api/v1/collect/todo").status_code == 403


def test_security_admin_sees_locked_accounts_and_expiring_keys(client, database, as_user):
    from tests.conftest import make_user

    make_user(database, "todo_target", ["case_handler"])
    for i in range(6):
        client.post("/api/v1/auth/login", json={"username": "todo_target", "password": f"Wrong#{i:04d}x"})
    sec = as_user("todo_sec", ["security_admin"])
    made = sec.post("/api/v1/api-clients", json={"name": "法院系统", "unit_code": "SZBA"})
    assert made.status_code == 201, made.text
    cid = made.json()["client"]["id"]
    assert sec.post(f"/api/v1/api-clients/{cid}/keys", json={"overlap_hours": 24}).status_code == 201
    todo = sec.get("/api/v1/security/todo").json()
    assert [u["username"] for u in todo["locked_accounts"]] == ["todo_target"]
    assert [k["client"] for k in todo["expiring_keys"]] == ["法院系统"]  # the old key ends with the overlap
    assert as_user("todo_handler", ["case_handler"]).get("/api/v1/security/todo").status_code == 403


def test_auditor_sees_the_last_chain_check_and_nothing_due(client, as_user):
    auditor = as_user("todo_auditor", ["auditor"])
    first = auditor.get("/api/v1/audit/todo").json()
    assert first["last_verified_at"] is None and first["records_since"] > 0
    assert first["destructions_pending"] == []
    assert auditor.get("/api/v1/audit/verify").json()["ok"] is True
    after = auditor.get("/api/v1/audit/todo").json()
    assert after["last_verified_at"] is not None and after["last_result"] == "ok"
    assert after["records_since"] < first["records_since"] + 3
