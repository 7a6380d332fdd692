"""SQL datasets (checked by sqlglot, transpiled per engine) and no-code transforms, materialised."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from pbshare.collect.derived import datasets, transforms
from pbshare.collect.derived.schemas import DatasetIn, TransformIn
from pbshare.core.errors import Conflict, Invalid
from pbshare.metadata import service as metadata_service
from pbshare.warehouse import service as warehouse
from tests.collect.conftest import people, run, spec, write_csv


@pytest.fixture
def loaded(database, topic, tmp_path):
    rows = people(20)
    for i, r in enumerate(rows):
        r[2] = "养老保险" if i % 2 else "医疗保险"
    write_csv(tmp_path / "si.csv", rows)
    assert run(database, spec(tmp_path / "si.csv")).status == "succeeded"
    cars = tmp_path / "cars.csv"
    cars.write_text("owner,id,plate,price\n" + "".join(
        f"{r[0]},{r[1]},粤B{i:05d},{1000 * (i + 1)}\n" for i, r in enumerate(rows[:6])), encoding="utf-8")
    mapping = [{"target": "owner", "source": "owner"}, {"target": "id_no", "source": "id", "pii": True,
                                                        "id_kind": "cn_ric"},
               {"target": "plate", "source": "plate"}, {"target": "price", "source": "price", "type": "decimal"}]
    assert run(database, spec(cars, table="vehicle", mapping=mapping)).status == "succeeded"
    return rows


def test_sql_dataset_materialise_and_refresh(database, db, loaded, tmp_path):
    sql = ('SELECT insurance, COUNT(*) AS people, SUM(base_yuan) AS total FROM "case".si_monthly '
           "WHERE period = '202301' GROUP BY insurance")
    preview = datasets.run_preview(db, database, sql=sql)
    assert sorted(r[0] for r in preview["rows"]) == ["养老保险", "医疗保险"]
    ds = datasets.save_dataset(db, data=DatasetIn(name="si_by_insurance", title="按险种汇总", sql=sql,
                                                  target_topic="case"))
    datasets.refresh_dataset(db, database, dataset_id=ds.id)
    assert ds.row_count == 2
    t = warehouse.topic_store(database).reflect_table("case", "si_by_insurance")
    with database.warehouse_engine.connect() as conn:
        got = {r.insurance: r.people for r in conn.execute(sa.select(t))}
    assert got == {"养老保险": 10, "医疗保险": 10}
    # new rows arrive; a refresh rebuilds the table
    db.commit()
    write_csv(tmp_path / "more.csv", people(4, seed=55))
    run(database, spec(tmp_path / "more.csv"))
    datasets.refresh_dataset(db, database, dataset_id=ds.id)
    assert ds.row_count == 2
    with database.warehouse_engine.connect() as conn:
        assert sum(r.people for r in conn.execute(sa.select(t))) == 24
    edges = metadata_service.lineage_graph(db, node="case.si_by_insurance")["edges"]
    assert any(e["source"] == "case.si_monthly" for e in edges)


@pytest.mark.parametrize(("sql", "code"), [
    ("DELETE FROM \"case\".si_monthly", "sql_not_select"),
    ("SELECT 1; DROP TABLE \"case\".si_monthly", "sql_not_single"),
    ("SELECT * FROM audit_record", "sql_table_denied"),
    ("SELECT * FROM \"case\".nope", "sql_table_denied"),
    ("SELECT pg_read_file('/etc/passwd')", "sql_function_denied"),
    ("SELECT * INTO \"case\".x FROM \"case\".si_monthly", "sql_not_select"),
    ("SELEC name FROM", "sql_syntax"),
])
def test_unsafe_sql_is_refused(sql, code):
    with pytest.raises(Invalid) as exc:
        datasets.check_sql(sql, allowed={"case.si_monthly"})
    assert exc.value.code == code


def test_sql_is_stored_once_and_transpiled_for_mysql_sqlite_and_postgres():
    stored, tables = datasets.check_sql("SELECT name, SUBSTRING(id_no, 7, 8) AS born FROM hr.people LIMIT 5",
                                        allowed={"hr.people"})
    assert tables == ["hr.people"]
    assert "`hr`.`people`" in datasets.for_engine(stored, "mysql")
    assert '"hr"."people"' in datasets.for_engine(stored, "sqlite")
    # and the MySQL form really runs on MariaDB
    schema = f"pbshare_ds_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {schema} CHARACTER SET utf8mb4")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE TABLE {schema}.people (name VARCHAR(50), id_no VARCHAR(18))")
            conn.exec_driver_sql(f"INSERT INTO {schema}.people VALUES ('张三', '44030419800101005X')")
        stored, _ = datasets.check_sql(f"SELECT name, SUBSTRING(id_no, 7, 8) AS born FROM {schema}.people",
                                       allowed={f"{schema}.people"})
        with engine.connect() as conn:
            assert conn.exec_driver_sql(datasets.for_engine(stored, "mysql")).all() == [("张三", "19800101")]
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {schema}")
        engine.dispose()


def test_join_filter_group_aggregate_transform(database, db, loaded):
    spec_ = {
        "tables": [{"table": "case.si_monthly", "alias": "s"}, {"table": "case.vehicle", "alias": "v"}],
        "joins": [{"kind": "left", "alias": "v", "on": [["s.id_no_bidx", "v.id_no_bidx"]]}],
        "filters": [{"column": "s.period", "op": "=", "value": "202301"},
                    {"column": "s.name", "op": "contains", "value": "人员"}],
        "group_by": ["s.insurance"],
        "aggregates": [{"fn": "count_distinct", "column": "s.id_no_bidx", "as": "people"},
                       {"fn": "count", "column": "v.plate", "as": "cars"},
                       {"fn": "sum", "column": "v.price", "as": "car_value"},
                       {"fn": "max", "column": "s.base_yuan", "as": "top_base"}],
    }
    preview = transforms.preview(db, database, spec=spec_)
    assert preview["columns"] == ["insurance", "people", "cars", "car_value", "top_base"]
    tf = transforms.save_transform(db, database, data=TransformIn(name="debtor_assets", title="债务人资产",
                                                                   spec=spec_, target_topic="case"))
    transforms.refresh_transform(db, database, transform_id=tf.id)
    t = warehouse.topic_store(database).reflect_table("case", "debtor_assets")
    with database.warehouse_engine.connect() as conn:
        got = {r.insurance: (r.people, r.cars, float(r.car_value)) for r in conn.execute(sa.select(t))}
    # the first six people own one car each (1000 … 6000); odd rows are 养老保险
    assert got == {"医疗保险": (10, 3, 1000 + 3000 + 5000.0), "养老保险": (10, 3, 2000 + 4000 + 6000.0)}
    assert tf.row_count == 2
    # a second refresh rebuilds, and a table of another origin is never overwritten
    transforms.refresh_transform(db, database, transform_id=tf.id)
    clash = transforms.save_transform(db, database, data=TransformIn(name="clash", title="冲突", spec=spec_,
                                                                      target_topic="case", target_table="vehicle"))
    with pytest.raises(Conflict):
        transforms.refresh_transform(db, database, transform_id=clash.id)


def test_computed_columns_range_filter_and_bad_specs(database, db, loaded):
    spec_ = {"tables": [{"table": "case.vehicle", "alias": "v"}],
             "computed": [{"as": "price_wan", "op": "/", "args": ["v.price", 10000]},
                          {"as": "label", "op": "concat", "args": ["v.plate", "v.owner"]}],
             "filters": [{"column": "v.price", "op": "range", "value": [2000, 4000]}],
             "columns": ["v.plate"]}
    out = transforms.preview(db, database, spec=spec_)
    assert out["columns"] == ["plate", "price_wan", "label"]
    assert sorted(float(r[1]) for r in out["rows"]) == [0.2, 0.3, 0.4]
    assert all(r[2].startswith(r[0]) for r in out["rows"])
    for bad in ({"tables": [{"table": "main.audit_record"}]},
                {"tables": [{"table": "case.vehicle", "alias": "v"}], "filters": [{"column": "v.x", "op": "="}]},
                {"tables": [{"table": "case.vehicle", "alias": "v"}], "filters": [{"column": "v.price", "op": "~"}]}):
        with pytest.raises(Invalid):
            transforms.preview(db, database, spec=bad)
