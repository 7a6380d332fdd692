"""A unit's opinion in a consultation: given by the unit's own users, or recorded by the office on its behalf,
marked so and with the evidence attached; earlier rounds stay readable with their opinions."""

from __future__ import annotations

import base64

from pbshare.catalog.resources import service
from pbshare.demo import service as demo_service
from tests.catalog.test_lifecycle import NEW
from tests.conftest import login, make_user

URL = "/api/v1/catalog/resources/201009"


def test_the_office_records_a_units_opinion_only_with_evidence_and_it_is_marked(client, database, as_user):
    with database.session() as s:
        demo_service.load_units(s)
        service.create_resource(s, doc=NEW)
        service.start_consultation(s, code="201009")
    make_user(database, "pnr_op", ["unit_operator"], unit_code="SZPNR")
    admin = as_user("admin1", ["data_admin"])

    # the office may not speak for the unit without saying where the opinion came from
    res = admin.post(f"{URL}/consents", json={"unit_code": "SZPNR", "agreed": True, "decided_on": "2026-11-20"})
    assert res.status_code == 422 and res.json()["error"]["code"] == "evidence_required"
    assert "规划和自然资源局" in res.json()["error"]["message"]

    letter = "%PDF-1.4 来函扫描件".encode()
    res = admin.post(f"{URL}/consents", json={
        "unit_code": "SZPNR", "agreed": False, "decided_on": "2026-11-20", "comment": "需删去坐落字段",
        "evidence": "深规资函〔2026〕88号", "evidence_name": "来函.pdf",
        "evidence_base64": base64.b64encode(letter).decode()})
    assert res.status_code == 200, res.text
    pnr = next(c for c in res.json()["consents"] if c["unit_code"] == "SZPNR")
    assert pnr["on_behalf"] is True and pnr["evidence"] == "深规资函〔2026〕88号" and pnr["evidence_name"] == "来函.pdf"
    file = admin.get(f"{URL}/consents/1/SZPNR/evidence")
    assert file.status_code == 200 and file.content == letter

    # the unit's own operator answers for itself: not marked, no evidence needed
    login(client, "pnr_op")
    res = client.post(f"{URL}/consents", json={"unit_code": "SZPNR", "agreed": True, "decided_on": "2026-11-22"})
    assert res.status_code == 200, res.text
    pnr = next(c for c in res.json()["consents"] if c["unit_code"] == "SZPNR")
    assert pnr["on_behalf"] is False and pnr["evidence"] is None and pnr["recorded_by"] == "pnr_op"
    assert client.get(f"{URL}/consents/1/SZPNR/evidence").json()["error"]["code"] == "no_evidence"


def test_earlier_rounds_stay_visible_with_their_opinions(client, database, as_user):
    with database.session() as s:
        demo_service.load_units(s)
        service.create_resource(s, doc=NEW)
        service.start_consultation(s, code="201009")
    make_user(database, "pnr_op", ["unit_operator"], unit_code="SZPNR")
    admin = as_user("admin2", ["data_admin"])
    admin.post(f"{URL}/consents", json={"unit_code": "SZPNR", "agreed": False, "decided_on": "2026-11-20",
                                        "comment": "需删去坐落字段", "evidence": "会议纪要 2026-11-20"})
    doc = admin.get(URL).json()["document"]
    assert admin.put(URL, json={**doc, "abstract": "修改后的摘要"}).json()["state"] == "draft"
    body = admin.post(f"{URL}/consultation").json()
    assert body["consultation_round"] == 2 and all(c["agreed"] is None for c in body["consents"])
    [first] = body["earlier_rounds"]
    assert first["round"] == 1
    assert [(c["unit_code"], c["agreed"], c["comment"], c["on_behalf"]) for c in first["consents"]] == [
        ("SZPNR", False, "需删去坐落字段", True)]
