"""Re-running a saved profile on a file it already imported warns first; an append profile says the
rows would be added again and offers upsert."""

from __future__ import annotations

from tests.collect.conftest import MAPPING, people, write_csv
from tests.collect.test_api import _upload, _wait


def test_a_profile_warns_before_importing_the_same_file_again(as_user, tmp_path):
    client = as_user("dataadmin", ["data_admin"])
    assert client.post("/api/v1/warehouse/topics", json={"name": "case", "title": "案件专题库"}).status_code == 201
    path = write_csv(tmp_path / "si.csv", people(6))
    up = _upload(client, path)
    spec = {"source_kind": "csv", "source": {"upload_id": up["upload_id"]}, "mapping": MAPPING,
            "target_topic": "case", "target_table": "si_monthly", "mode": "append"}
    started = client.post("/api/v1/collect/runs", json={"spec": spec, "save_as": {**spec, "name": "si_monthly",
                                                                                    "title": "社保月度缴费"}})
    assert _wait(client, started.json()["id"])["rows_loaded"] == 6
    profile = client.get("/api/v1/collect/profiles").json()[0]
    # the same content under another name, uploaded again
    same = _upload(client, path, name="si-again.csv")
    res = client.post(f"/api/v1/collect/profiles/{profile['id']}/run?upload_id={same['upload_id']}")
    assert res.status_code == 409, res.text
    error = res.json()["error"]
    assert error["code"] == "already_imported" and error["detail"]["rows_loaded"] == 6
    assert "再追加一遍" in error["message"] and "upsert" in error["message"]
    assert client.get("/api/v1/warehouse/tables/case/si_monthly/rows").json()["total"] == 6  # nothing ran
    # the profile's own file: the same warning
    assert client.post(f"/api/v1/collect/profiles/{profile['id']}/run").status_code == 409
    # confirmed: it runs, and appends
    res = client.post(f"/api/v1/collect/profiles/{profile['id']}/run?upload_id={same['upload_id']}&confirm=true")
    assert res.status_code == 202, res.text
    assert _wait(client, res.json()["id"])["rows_loaded"] == 6
    # a new delivery runs without a question
    nxt = _upload(client, write_csv(tmp_path / "next.csv", people(3, seed=5)))
    res = client.post(f"/api/v1/collect/profiles/{profile['id']}/run?upload_id={nxt['upload_id']}")
    assert res.status_code == 202, res.text
    assert _wait(client, res.json()["id"])["rows_loaded"] == 3
    # an upsert profile warns too, without the append explanation
    upsert = {**spec, "mode": "upsert", "key": ["id_no", "period"], "target_table": "si_keyed"}
    started = client.post("/api/v1/collect/runs", json={"spec": upsert, "save_as": {**upsert, "name": "si_keyed",
                                                                                      "title": "社保（更新）"}})
    assert _wait(client, started.json()["id"])["status"] == "succeeded"
    keyed = next(p for p in client.get("/api/v1/collect/profiles").json() if p["name"] == "si_keyed")
    res = client.post(f"/api/v1/collect/profiles/{keyed['id']}/run?upload_id={same['upload_id']}")
    assert res.status_code == 409 and "再追加" not in res.json()["error"]["message"]
