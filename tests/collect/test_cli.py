"""The command line: topic create/list, import file with a saved profile, import run PROFILE FILE,
quarantine export, datasets and transforms."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from pbshare.collect.profiles import service as profiles
from pbshare.collect.runs import service as runs_service
from pbshare.warehouse import service as warehouse
from tests.collect.conftest import MAPPING, people, write_csv


def test_import_profile_rerun_quarantine_dataset_transform(cli, tmp_path, database):
    assert cli("topic", "create", "case", "--title", "案件专题库").exit_code == 0
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(MAPPING, ensure_ascii=False), encoding="utf-8")
    first = write_csv(tmp_path / "si-202301.csv", people(50, bad_ids=3), encoding="gbk", title="一月")
    res = cli("import", "file", str(first), "--topic", "case", "--table", "si_monthly", "--mapping", str(mapping),
              "--mode", "upsert", "--key", "id_no", "--key", "period", "--save-as", "si_monthly", "--title", "社保月度")
    assert res.exit_code == 0, res.output
    assert "装载 loaded 47" in res.output and "隔离 quarantined 3" in res.output
    second = write_csv(tmp_path / "si-202302.csv", people(8, seed=3), encoding="gbk", title="二月")
    res = cli("import", "run", "si_monthly", str(second))
    assert res.exit_code == 0, res.output
    assert "装载 loaded 8" in res.output
    assert cli("import", "runs", "--profile", "si_monthly").exit_code == 0
    database.dispose()  # pooled SQLite connections predate the topic file the CLI attached
    with database.session() as db:
        runs = runs_service.list_runs(db, profile_id=profiles.get_profile(db, profile_id="si_monthly").id)
    assert [(r.status, r.source_label, r.run_by.startswith("cli:")) for r in runs] == [
        ("succeeded", "si-202302.csv", True), ("succeeded", "si-202301.csv", True)]
    run_id = runs[1].id
    out = tmp_path / "q.xlsx"
    assert cli("import", "quarantine", run_id, "--out", str(out)).exit_code == 0
    sheet = load_workbook(out).active
    assert sheet.max_row == 4
    ids = [str(c.value) for c in sheet["D"][1:]]  # masked by default
    assert all("*" in v for v in ids), ids
    assert cli("import", "quarantine", run_id, "--out", str(out), "--purpose", "x").exit_code == 2
    assert cli("import", "quarantine", run_id, "--out", str(out), "--purpose", "修正后重新导入").exit_code == 0
    ids = [str(c.value) for c in load_workbook(out).active["D"][1:]]
    assert all("*" not in v and len(v) == 18 for v in ids), ids  # in clear, with the purpose audited
    # The same file again: the CLI says so and asks; "no" leaves the table as it was, --yes goes on.
    res = cli("import", "run", "si_monthly", str(second))
    assert res.exit_code == 1 and "已于" in res.output, res.output
    assert warehouse.count_rows(database, topic="case", name="si_monthly") == 55
    assert cli("import", "run", "si_monthly", str(second), "--yes").exit_code == 0
    assert cli("topic", "list").exit_code == 0
    assert warehouse.count_rows(database, topic="case", name="si_monthly") == 55
    res = cli("dataset", "create", "si_count", "--topic", "case",
              "--sql", 'SELECT period, COUNT(*) AS n FROM "case".si_monthly GROUP BY period')
    assert res.exit_code == 0 and "1 行/rows" in res.output, res.output
    res = cli("dataset", "create", "evil", "--topic", "case", "--sql", "DELETE FROM \"case\".si_monthly")
    assert res.exit_code == 2 and "SELECT" in res.output
    spec = tmp_path / "tf.json"
    spec.write_text(json.dumps({"tables": [{"table": "case.si_monthly", "alias": "s"}], "group_by": ["s.insurance"],
                                "aggregates": [{"fn": "count", "as": "n"}]}), encoding="utf-8")
    res = cli("transform", "save", "si_by_ins", "--spec", str(spec), "--topic", "case")
    assert res.exit_code == 0 and "1 行/rows" in res.output, res.output


def test_import_of_a_broken_file_exits_non_zero_with_the_reason(cli, tmp_path):
    cli("topic", "create", "case", "--title", "案件专题库")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    res = cli("import", "file", str(empty), "--topic", "case", "--table", "t")
    assert res.exit_code == 2
    assert "empty_file" in res.output and "空" in res.output


def test_database_profile_created_and_rerun_from_the_cli(cli, database):
    """A data admin registers a MariaDB source, imports one of its tables incrementally from the
    command line, saves that as a profile and re-runs it: only the new rows come in."""
    import uuid

    import sqlalchemy as sa

    engine = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
    name = f"pbshare_cli_{uuid.uuid4().hex[:8]}"
    meta = sa.MetaData()
    table = sa.Table(name, meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("plate", sa.String(16)))
    meta.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(table), [{"id": i, "plate": f"粤B{i:05d}"} for i in range(1, 11)])
        source = f"vehicles_{uuid.uuid4().hex[:6]}"
        res = cli("metadata", "source", "add", source, "mysql+pymysql://root@127.0.0.1:3306/test")
        assert res.exit_code == 0, res.output
        assert cli("topic", "create", "assets", "--title", "资产专题库").exit_code == 0
        res = cli("import", "db", source, "--topic", "assets", "--table", "vehicle", "--from-table", name,
                  "--cursor-column", "id", "--mode", "upsert", "--key", "id", "--save-as", "vehicles")
        assert res.exit_code == 0, res.output
        assert "profile saved: vehicles" in res.output
        with engine.begin() as conn:
            conn.execute(sa.insert(table), [{"id": 11, "plate": "粤B00011"}])
        res = cli("import", "run", "vehicles")
        assert res.exit_code == 0, res.output
        database.dispose()  # pooled SQLite connections predate the topic file the CLI attached
        with database.session() as db:
            runs = runs_service.list_runs(db, profile_id=profiles.get_profile(db, profile_id="vehicles").id)
        assert [(r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) for r in runs] == [
            ("succeeded", 1, 1, 0), ("succeeded", 10, 10, 0)]
        res = cli("import", "db", source, "--topic", "assets", "--table", "vehicle")
        assert res.exit_code == 2 and "--from-table" in res.output
    finally:
        meta.drop_all(engine)
        engine.dispose()
