"""Logs are JSON lines with the request id, and never carry an ID number, phone or secret."""

from __future__ import annotations

import json
import logging

from pbshare.core.logs import JsonFormatter, request_id_var, scrub


def test_scrub_removes_identifiers_and_secrets():
    text = "id 44030519900101123X phone 13812345678 password=hunter2 Bearer pbs_abcdef"
    out = scrub(text)
    assert "44030519900101123X" not in out and "13812345678" not in out
    assert "hunter2" not in out and "pbs_abcdef" not in out


def test_json_formatter_includes_request_id_and_scrubs_extras():
    token = request_id_var.set("req-1")
    try:
        record = logging.makeLogRecord({"msg": "lookup %s", "args": ("440305199001011234",), "levelname": "INFO",
                                        "name": "t", "password": "s3cret", "unit": "SZPNR"})
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "req-1"
    assert "440305199001011234" not in line["msg"]
    assert line["password"] == "[SECRET]"
    assert line["unit"] == "SZPNR"
