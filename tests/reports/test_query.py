"""POST /api/v1/query: filters (every operator, AND/OR groups), group by, aggregates, sort, page, totals;
personal columns masked and kept out of grouping and value tests; every query of a table audited; clear 422s."""

from __future__ import annotations

from sqlalchemy import select

from pbshare.security.audit import service as audit
from tests.reports.conftest import SOURCE


def q(client, **spec):
    return client.post("/api/v1/query", json={"source": SOURCE, **spec})


def test_rows_filtered_paged_and_masked(as_user, debts, database):
    client = as_user("analyst", ["data_admin"])
    res = q(client, columns=["name", "district", "amount", "id_no"],
            filters={"op": "and", "items": [{"column": "name", "op": "contains", "value": "债权0"},
                                            {"column": "amount", "op": "between", "value": [200, 800]}]},
            sort=[{"column": "amount", "desc": True}], size=3)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["total"] == 7 and [r["name"] for r in body["rows"]] == ["演示·债权07", "演示·债权06", "演示·债权05"]
    assert body["rows"][0]["amount"] == 800 and body["rows"][0]["id_no"] == "110101********0045"
    assert body["masked"] == ["id_no"] and "id_no_bidx" not in body["rows"][0]
    page3 = q(client, columns=["name"], filters={"op": "and", "items": [{"column": "name", "op": "contains",
                                                                        "value": "债权0"}]},
              sort=[{"column": "name"}], size=4, page=3).json()
    assert [r["name"] for r in page3["rows"]] == ["演示·债权08", "演示·债权09"]
    with database.session() as db:
        recs = db.scalars(select(audit.AuditRecord).where(audit.AuditRecord.action == "reports.query")).all()
    assert recs and recs[0].object_id == "table:rpt.debts"


def test_operators_and_or_groups(as_user, debts):
    client = as_user("analyst", ["data_admin"])

    def names(filters):
        res = q(client, columns=["name"], filters=filters, sort=[{"column": "name"}], size=50)
        assert res.status_code == 200, res.text
        return [int(r["name"][-2:]) for r in res.json()["rows"]]

    one = lambda col, op, v=None: {"op": "and", "items": [{"column": col, "op": op, "value": v}]}  # noqa: E731
    assert names(one("amount", "gt", 1000)) == [10, 11]
    assert names(one("amount", "ge", 1000)) == [9, 10, 11]
    assert names(one("amount", "lt", 200)) == [0]
    assert names(one("amount", "le", 200)) == [0, 1]
    assert names(one("district", "eq", "南山区")) == [2, 5, 8, 11]
    assert len(names(one("district", "ne", "南山区"))) == 8
    assert names(one("district", "in", ["罗湖区", "南山区"])) == [1, 2, 4, 5, 7, 8, 10, 11]
    assert names(one("note", "is_empty")) == [0, 5, 10]
    assert len(names(one("note", "not_empty"))) == 9
    assert names(one("name", "starts_with", "演示·债权1")) == [10, 11]
    assert names(one("accepted_on", "between", ["2026-06-01", "2026-06-30"])) == [5, 11]
    assert names(one("id_no", "eq", "11010119900101001X")) == [0, 4, 8]
    assert names({"op": "or", "items": [{"column": "amount", "op": "lt", "value": 200},
                                        {"op": "and", "items": [{"column": "unit", "op": "eq", "value": "市法院"},
                                                                {"column": "district", "op": "eq", "value": "福田区"}]}]}
                 ) == [0, 6, 9]


def test_group_by_aggregates_totals(as_user, debts):
    client = as_user("analyst", ["data_admin"])
    res = q(client, group_by=["district", "unit"],
            aggregates=[{"fn": "count", "as": "n"}, {"fn": "sum", "column": "amount", "as": "total"},
                        {"fn": "avg", "column": "amount", "as": "mean"}, {"fn": "min", "column": "amount"},
                        {"fn": "max", "column": "amount"}, {"fn": "count_distinct", "column": "id_no", "as": "people"}],
            sort=[{"column": "total", "desc": True}], totals=True, size=2)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["total"] == 6 and len(body["rows"]) == 2
    top = body["rows"][0]
    assert top == {"district": "南山区", "unit": "市法院", "n": 2, "total": 2100, "mean": 1050, "min_amount": 900,
                   "max_amount": 1200, "people": 2}
    assert body["totals"]["n"] == 12 and body["totals"]["total"] == 7800 and body["totals"]["people"] == 4
    months = q(client, group_by=[{"column": "accepted_on", "bucket": "month"}], aggregates=[{"fn": "count", "as": "n"}],
               sort=[{"column": "accepted_on_month"}]).json()
    assert [(r["accepted_on_month"], r["n"]) for r in months["rows"]][:2] == [("2026-01", 2), ("2026-02", 2)]


def test_clear_errors_and_who_may_query(as_user, debts):
    client = as_user("analyst", ["data_admin"])
    cases = [
        ({"columns": ["nope"]}, "unknown_column"),
        ({"group_by": ["id_no"]}, "pii_group"),
        ({"columns": ["name"], "filters": {"items": [{"column": "id_no", "op": "contains", "value": "1101"}]}},
         "pii_filter"),
        ({"aggregates": [{"fn": "sum", "column": "name"}]}, "not_numeric"),
        ({"columns": ["name"], "filters": {"items": [{"column": "amount", "op": "gt", "value": "lots"}]}}, "bad_value"),
        ({"columns": ["name"], "filters": {"items": [{"column": "amount", "op": "between", "value": [1]}]}},
         "bad_between"),
        ({"group_by": [{"column": "name", "bucket": "month"}]}, "not_temporal"),
    ]
    for spec, code in cases:
        res = q(client, **spec)
        assert res.status_code == 422, (spec, res.text)
        assert res.json()["error"]["code"] == code and res.json()["error"]["message"]
    res = client.post("/api/v1/query", json={"source": {"kind": "ftp"}})
    assert res.status_code == 422 and "table" in res.json()["error"]["message"]
    res = q(client, columns=["name"], filters={"items": [{"column": "amount", "op": "like", "value": 1}]})
    assert res.status_code == 422

    # a report viewer opens reports shared with the role, but queries no table ad hoc and builds nothing
    client = as_user("viewer", ["report_viewer"])
    res = q(client, columns=["name"])
    assert res.status_code == 403 and res.json()["error"]["code"] == "source_forbidden"
    assert client.post("/api/v1/reports", json={"title": "x", "spec": {"source": SOURCE}}).status_code == 403


def test_a_sql_dataset_as_source(as_user, debts, database):
    from pbshare.collect.derived import datasets
    from pbshare.collect.derived.schemas import DatasetIn

    with database.session() as db:
        ds = datasets.save_dataset(db, data=DatasetIn(name="debt_by_district", title="各区债权", target_topic="rpt",
                                                      sql="SELECT district, sum(amount) AS total, count(*) AS n "
                                                          "FROM rpt.debts GROUP BY district"))
        ds_id = ds.id
    client = as_user("analyst", ["data_admin"])
    res = client.post("/api/v1/query", json={"source": {"kind": "dataset", "id": ds_id}, "columns": ["district"]})
    assert res.status_code == 422 and res.json()["error"]["code"] == "dataset_empty"
    with database.session() as db:
        datasets.refresh_dataset(db, database, dataset_id=ds_id)
    res = client.post("/api/v1/query", json={"source": {"kind": "dataset", "id": ds_id},
                                             "filters": {"items": [{"column": "n", "op": "ge", "value": 4}]},
                                             "aggregates": [{"fn": "sum", "column": "total", "as": "all"}]})
    assert res.status_code == 200, res.text
    assert res.json()["rows"] == [{"all": 7800}]
    names = {s["title"] for s in client.get("/api/v1/reports/sources").json()}
    assert any("debt_by_district" in n for n in names) and any("rpt.debts" in n for n in names)
