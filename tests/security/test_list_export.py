"""A list on screen saved as Excel through POST /api/v1/exports/xlsx: the columns in the order and titles shown,
identifier columns masked again, the export in the audit log; a bad request says what is wrong."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from pbshare.security.audit import service as audit


def test_a_list_is_saved_as_excel_masked_and_audited(as_user, database):
    client = as_user("viewer", ["report_viewer"])
    res = client.post("/api/v1/exports/xlsx", json={
        "name": "债务人/名单", "columns": [{"key": "name", "title": "姓名"},
                                       {"key": "id_no", "title": "证件号码", "pii_kind": "cn_ric"}],
        "rows": [{"name": "演示·张三", "id_no": "11010119900101001X", "extra": "not exported"}]})
    assert res.status_code == 200, res.text
    assert "attachment" in res.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(res.content)).active
    assert sheet.title == "债务人 名单"
    assert list(sheet.iter_rows(values_only=True)) == [("姓名", "证件号码"), ("演示·张三", "110101********001X")]
    with database.session() as s:
        record = s.scalars(select(audit.AuditRecord).where(audit.AuditRecord.action == "list.export")).one()
        assert record.detail["rows"] == 1 and record.detail["masked"] == ["id_no"]

    res = client.post("/api/v1/exports/xlsx", json={"name": "x", "columns": [], "rows": []})
    assert res.status_code == 422


def test_control_characters_in_a_list_are_dropped_not_a_server_error(as_user):
    """Excel cannot hold control characters: a value or title carrying one (pasted from another system, say)
    is saved without them instead of failing the whole export."""
    client = as_user("viewer", ["report_viewer"])
    res = client.post("/api/v1/exports/xlsx", json={
        "name": "名单\x07", "columns": [{"key": "note", "title": "备注\x01"}],
        "rows": [{"note": "第一行\x0b第二行"}]})
    assert res.status_code == 200, res.text
    sheet = load_workbook(io.BytesIO(res.content)).active
    assert sheet.title == "名单"
    assert list(sheet.iter_rows(values_only=True)) == [("备注",), ("第一行第二行",)]
