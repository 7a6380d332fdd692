"""``pbshare catalog import/export`` and ``pbshare metadata source add / harvest`` as a data admin runs them."""

from __future__ import annotations

import json
import sqlite3
from importlib import resources

import yaml
from openpyxl import load_workbook

from pbshare.catalog.resources import service
from tests.core.test_cli import run


def test_catalog_import_export_round_trip(settings, database, tmp_path):
    sample = resources.files("pbshare.demo").joinpath("sample-catalog.yaml")
    path = tmp_path / "sample-catalog.yaml"
    path.write_bytes(sample.read_bytes())
    n = len(yaml.safe_load(sample.read_text(encoding="utf-8"))["resources"])
    out = run(settings, "catalog", "import", str(path), "--publish").stdout
    assert f"created {n}," in out and f"published {n}" in out
    exported = yaml.safe_load(run(settings, "catalog", "export", "--format", "yaml").stdout)
    assert exported["resources"] == yaml.safe_load(sample.read_text(encoding="utf-8"))["resources"]
    xlsx = tmp_path / "catalog.xlsx"
    run(settings, "catalog", "export", "--format", "excel", "--output", str(xlsx))
    assert load_workbook(xlsx).sheetnames == ["目录", "单位", "信息资源"]
    dcat = json.loads(run(settings, "catalog", "export", "--format", "dcat").stdout)
    assert len(dcat["dcat:dataset"]) == n
    # re-importing the Excel export changes nothing
    again = run(settings, "catalog", "import", str(xlsx)).stdout
    assert f"unchanged {n}," in again

    # a broken file: the problems are listed with sheet, row and column, and nothing is applied
    wb = load_workbook(xlsx)
    ws = wb["信息资源"]
    ws.cell(row=4, column=[c.value for c in ws[1]].index("更新频率") + 1, value="每小时")
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    res = run(settings, "catalog", "import", str(bad), check=False)
    assert res.returncode == 2
    assert "信息资源" in res.stderr and "更新频率" in res.stderr and "nothing was imported" in res.stderr
    with database.session() as s:
        assert service.get_resource(s, code="101001").frequency == "realtime"


def test_metadata_source_add_and_harvest(settings, tmp_path):
    path = tmp_path / "unit.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE marriage (record_no TEXT PRIMARY KEY, kind TEXT)")
    out = run(settings, "metadata", "source", "add", "ca_file", f"sqlite:///{path}").stdout
    assert "added" in out and "OK" in out
    out = run(settings, "metadata", "harvest", "ca_file").stdout
    assert "1 表 tables, 2 字段 columns" in out
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE marriage ADD COLUMN registered_on TEXT")
    out = run(settings, "metadata", "harvest", "ca_file").stdout
    assert "marriage.registered_on" in out and "column_added" in out
    assert run(settings, "metadata", "harvest", "nope", check=False).returncode == 2
