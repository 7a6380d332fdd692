"""Quarantine you can fix where you see it, on SQLite and PostgreSQL: edit cells, re-check with the run's
profile mapping, load the fixed rows (the table gains them, the run's counts follow, the quarantine
shrinks, an audit record names who); identifiers masked unless unmasked with a purpose; every view and
download audited; download → fix → re-import still works."""

from __future__ import annotations

import io
import random

from openpyxl import load_workbook
from sqlalchemy import select

from pbshare.collect.profiles import service as profiles
from pbshare.collect.profiles.schemas import ProfileIn
from pbshare.collect.runs import flows
from pbshare.demo.synthetic import synthetic_id_no, synthetic_uscc
from pbshare.security.audit.service import AuditRecord
from pbshare.warehouse import service as warehouse
from tests.collect.conftest import MAPPING, people, run, spec, write_csv

ID = "公民身份号码"


def _topic(database) -> None:
    with database.session() as db:
        warehouse.create_topic(db, database, name="case", title="案件专题库", exist_ok=True)


def _audits(database, action: str) -> list[AuditRecord]:
    with database.session() as db:
        rows = list(db.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)))
        db.expunge_all()
        return rows


def _profile_run(database, path, **kw):
    s = spec(path, mode="upsert", key=["id_no", "period"], **kw)
    with database.session() as db:
        pid = profiles.create_profile(db, data=ProfileIn(**s.model_dump(), name="si_fix", title="社保修正")).id
    return flows.run_now(database, spec=s, profile_id=pid, run_by="tester", trusted=True)


def test_edit_recheck_and_load_fixed_rows(as_user, database, tmp_path):
    _topic(database)
    rows = people(8, bad_ids=2)  # lines 2 and 3: wrong check digits
    rows[4][5] = "2023年13月45日"  # line 6: no such date
    result = _profile_run(database, write_csv(tmp_path / "si.csv", rows))
    assert (result.rows_loaded, result.rows_quarantined) == (5, 3)
    client = as_user("dataadmin", ["data_admin"])
    base = f"/api/v1/collect/runs/{result.id}/quarantine"

    q = client.get(base).json()
    assert q["total"] == 3 and q["masked"] is True
    assert q["columns"][:2] == ["姓名", ID]
    by_line = {i["line"]: i for i in q["items"]}
    assert set(by_line) == {2, 3, 6}
    assert "*" in by_line[2]["row"][ID] and ID in by_line[2]["masked"]  # identifiers masked, cell marked so
    assert "*" in by_line[6]["row"][ID]

    # A masked value typed back is refused with what to do.
    res = client.post(base + "/check", json={"rows": [{"id": by_line[2]["id"], "values": {ID: by_line[2]["row"][ID]}}]})
    assert res.status_code == 422 and res.json()["error"]["code"] == "masked_value"
    assert "完整" in res.json()["error"]["message"]

    good_id = people(1, seed=99)[0][1]
    edits = [{"id": by_line[2]["id"], "values": {ID: good_id}},             # fixed
             {"id": by_line[3]["id"], "values": {"姓名": "演示·改过的名字"}},   # edited, ID still wrong
             {"id": by_line[6]["id"], "values": {"缴费日期": "2023-01-06"}}]   # fixed
    checked = client.post(base + "/check", json={"rows": edits})
    assert checked.status_code == 200, checked.text
    verdict = {i["line"]: (i["ok"], i["reason"]) for i in checked.json()["items"]}
    assert verdict[2] == (True, None) and verdict[6] == (True, None)
    assert verdict[3][0] is False and "身份证号码无效" in verdict[3][1]
    assert client.get(base).json()["total"] == 3  # re-checking writes nothing

    loaded = client.post(base + "/load", json={"rows": edits})
    assert loaded.status_code == 200, loaded.text
    body = loaded.json()
    assert (body["loaded"], body["ok"], body["bad"], body["kept"], body["remaining"]) == (2, 2, 1, 1, 1)
    assert warehouse.count_rows(database, topic="case", name="si_monthly") == 7
    table = warehouse.topic_store(database).reflect_table("case", "si_monthly")
    with database.warehouse_engine.connect() as conn:
        names = {r[0] for r in conn.execute(select(table.c.name))}
    assert names == {f"演示·人员{i}" for i in (0, 2, 3, 4, 5, 6, 7)}  # lines 2 and 6 fixed, line 3 still out

    run_now = client.get(f"/api/v1/collect/runs/{result.id}").json()
    assert (run_now["rows_loaded"], run_now["rows_quarantined"], run_now["counts"]["fixed"]) == (7, 1, 2)
    left = client.get(base).json()
    assert left["total"] == 1 and left["items"][0]["line"] == 3
    assert left["items"][0]["row"]["姓名"] == "演示·改过的名字"  # the edit of a still-bad row is kept
    assert "身份证号码无效" in left["items"][0]["reason"]

    # The same rows again: they are gone, nothing is loaded twice.
    again = client.post(base + "/load", json={"rows": edits[:1]})
    assert again.status_code == 404 and again.json()["error"]["code"] == "quarantine_row_gone"
    assert warehouse.count_rows(database, topic="case", name="si_monthly") == 7

    record = _audits(database, "collect.quarantine.load")[-1]
    assert record.object_id == result.id and record.detail["loaded"] == 2 and record.detail["still_bad"] == 1
    assert good_id not in str(record.detail)
    # The last row is discarded for good (recorded, not loaded).
    gone = client.post(base + "/discard", json={"ids": [left["items"][0]["id"]]})
    assert gone.status_code == 200 and gone.json() == {"discarded": 1}
    assert client.get(f"/api/v1/collect/runs/{result.id}").json()["rows_quarantined"] == 0


def test_a_ragged_row_of_a_run_without_profile_is_filled_in_and_appended(as_user, database, tmp_path):
    """No saved profile: the target table's fields are matched by name. A row kept as raw text (one field
    too many) is filled in cell by cell."""
    _topic(database)
    p = people(3)
    head = "姓名,公民身份号码,险种,缴费所属期,缴费基数(元),缴费日期"
    path = tmp_path / "ragged.csv"
    def line(r: list[str]) -> str:
        return ",".join(f'"{c}"' if "," in c else c for c in r)

    path.write_text("\n".join([head, line(p[0]), f"{p[1][0]},{p[1][1]},养老保险,202301,1,001.50元,2023年1月2日",
                               line(p[2])]) + "\n", encoding="utf-8")
    mapping = [{**m, "title": m["source"]} for m in MAPPING]
    result = run(database, spec(path, mapping=mapping))
    assert (result.rows_loaded, result.rows_quarantined, result.profile_id) == (2, 1, None)
    client = as_user("dataadmin", ["data_admin"])
    base = f"/api/v1/collect/runs/{result.id}/quarantine"
    q = client.get(base).json()
    assert q["columns"][:6] == head.split(",") and q["columns"][-1] == "原始行/raw line"
    item = q["items"][0]
    assert "*" in item["row"]["原始行/raw line"]  # the ID inside the raw text is masked too
    values = dict(zip(head.split(","), [p[1][0], p[1][1], "养老保险", "202301", "1,001.50元", "2023年1月2日"],
                      strict=True))
    res = client.post(base + "/load", json={"rows": [{"id": item["id"], "values": values}]})
    assert res.status_code == 200, res.text
    assert res.json()["loaded"] == 1
    assert warehouse.count_rows(database, topic="case", name="si_monthly") == 3
    unknown = client.post(base + "/check", json={"rows": [{"id": item["id"], "values": {"没有这列": "x"}}]})
    assert unknown.status_code == 404  # the row is resolved now


def _pii_file(tmp_path):
    ric = synthetic_id_no(random.Random(3))
    uscc = synthetic_uscc(7)
    path = tmp_path / "pii.csv"
    path.write_text("姓名,身份证号,信用代码,手机,金额\n"
                    f"演示·甲,{ric},{uscc},13812345678,abc\n"
                    f"演示·乙,{ric[:17]}{'0' if ric[17] != '0' else '1'},{uscc},13912345678,12.50\n", encoding="utf-8")
    mapping = [{"target": "name", "source": "姓名"},
               {"target": "id_no", "source": "身份证号", "pii": True, "id_kind": "cn_ric"},
               {"target": "credit_code", "source": "信用代码", "pii": True, "id_kind": "uscc"},
               {"target": "mobile", "source": "手机", "pii": True, "id_kind": "phone"},
               {"target": "amount", "source": "金额", "type": "decimal"}]
    return path, mapping, ric, uscc


def test_identifiers_masked_unless_unmasked_with_a_purpose_and_every_reading_audited(client, database, tmp_path):
    from tests.conftest import login, make_user

    _topic(database)
    path, mapping, ric, uscc = _pii_file(tmp_path)
    result = run(database, spec(path, table="pii_rows", mapping=mapping))
    assert result.rows_quarantined == 2, result.error
    make_user(database, "dataadmin", ["data_admin"])
    make_user(database, "fixer", ["data_admin", "case_handler"])  # holds pii:unmask as well
    base = f"/api/v1/collect/runs/{result.id}/quarantine"

    login(client, "dataadmin")
    q = client.get(base).json()
    row = q["items"][0]["row"]
    assert ric not in str(q) and uscc not in str(q) and "13812345678" not in str(q)
    assert row["身份证号"].startswith(ric[:6]) and "*" in row["身份证号"]
    assert row["信用代码"].startswith(uscc[:8]) and "*" in row["信用代码"]
    assert row["手机"] == "138****5678"
    assert set(q["items"][0]["masked"]) == {"身份证号", "信用代码", "手机"}
    denied = client.get(base + "?unmask=true&purpose=核对身份证号码")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "unmask_forbidden"
    xlsx = client.get(base.replace("/quarantine", "/quarantine.xlsx"))
    assert xlsx.status_code == 200 and "masked" in xlsx.headers["content-disposition"]
    cells = [c.value for r in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows() for c in r]
    assert ric not in cells and uscc not in cells and "138****5678" in cells

    login(client, "fixer")
    no_purpose = client.get(base + "?unmask=true")
    assert no_purpose.status_code == 422 and no_purpose.json()["error"]["code"] == "purpose_required"
    assert "purpose" in no_purpose.json()["error"]["message"]
    assert client.get(base.replace("/quarantine", "/quarantine.xlsx") + "?unmask=true").status_code == 422
    full = client.get(base + "?unmask=true&purpose=核对身份证号码").json()
    assert full["masked"] is False and full["items"][0]["row"]["身份证号"] == ric and full["items"][0]["masked"] == []
    xlsx = client.get(base.replace("/quarantine", "/quarantine.xlsx") + "?unmask=true&purpose=修正后重新导入")
    assert xlsx.status_code == 200
    cells = [c.value for r in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows() for c in r]
    assert ric in cells and uscc in cells

    views = _audits(database, "quality.quarantine.view")
    last = views[-1]
    assert (last.actor_name, last.object_id, last.detail, last.purpose) == \
        ("fixer", result.id, {"rows": 2, "masked": False}, "核对身份证号码")
    exports = _audits(database, "quality.quarantine.export")
    assert [(e.detail["masked"], e.purpose, e.detail["rows"]) for e in exports] == \
        [(True, None, 2), (False, "修正后重新导入", 2)]
    assert [e.actor_name for e in exports] == ["dataadmin", "fixer"]  # who downloaded


def test_download_fix_and_reimport_still_works(database, tmp_path, settings):
    from pbshare.collect.runs import service as runs_service

    _topic(database)
    path, mapping, ric, _ = _pii_file(tmp_path)
    result = run(database, spec(path, table="pii_rows", mapping=mapping))
    with database.session() as db:
        data = runs_service.quarantine_workbook(db, data_dir=settings.resolved_data_dir, run_id=result.id,
                                                unmask=True, purpose="修正后重新导入")
    fixed = tmp_path / "fixed.xlsx"
    fixed.write_bytes(data)
    wb = load_workbook(fixed)
    ws = wb.active
    header = [c.value for c in ws[1]]
    for r in ws.iter_rows(min_row=2):
        r[header.index("身份证号")].value = ric
        r[header.index("金额")].value = "1.00"
    wb.save(fixed)
    again = run(database, spec(fixed, kind="excel", table="pii_rows", mapping=mapping))
    assert (again.status, again.rows_loaded, again.rows_quarantined) == ("succeeded", 2, 0), again.error


def test_conflicting_duplicates_stay_bad_together_until_one_is_discarded(as_user, database, tmp_path):
    _topic(database)
    rows = people(3)
    twin = [*rows[1][:4], "9,999.00元", rows[1][5]]  # same person and period, another amount
    result = _profile_run(database, write_csv(tmp_path / "dup.csv", [*rows, twin]))
    assert (result.rows_loaded, result.rows_quarantined) == (2, 2), result.error
    client = as_user("dataadmin", ["data_admin"])
    base = f"/api/v1/collect/runs/{result.id}/quarantine"
    items = client.get(base).json()["items"]
    assert [i["line"] for i in items] == [3, 5]
    both = [{"id": i["id"], "values": {}} for i in items]
    checked = client.post(base + "/check", json={"rows": both}).json()
    assert checked["ok"] == 0 and all("conflicting duplicate" in i["reason"] for i in checked["items"])
    assert client.post(base + "/load", json={"rows": both}).json()["loaded"] == 0
    assert client.post(base + "/discard", json={"ids": [items[1]["id"]]}).json() == {"discarded": 1}
    loaded = client.post(base + "/load", json={"rows": both[:1]}).json()
    assert (loaded["loaded"], loaded["remaining"]) == (1, 0)
    assert warehouse.count_rows(database, topic="case", name="si_monthly") == 3
    run_now = client.get(f"/api/v1/collect/runs/{result.id}").json()
    assert (run_now["rows_loaded"], run_now["counts"]["fixed"], run_now["counts"]["discarded"]) == (3, 1, 1)
