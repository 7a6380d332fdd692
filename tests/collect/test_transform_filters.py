"""No-code transform filters as the browser sends them: every value is text, whatever the column's type.
Each value is cast to its column's type (integer, numeric, date, timestamp, boolean, text) on SQLite and
PostgreSQL; a value that is not of that type is a 422 naming the value and the column."""

from __future__ import annotations

import pytest

from pbshare.collect.derived import transforms
from pbshare.collect.derived.schemas import TransformIn
from pbshare.core.errors import Invalid
from tests.collect.conftest import run, spec

MAPPING = [{"target": "plate", "source": "plate"},
           {"target": "seats", "source": "seats", "type": "integer"},
           {"target": "price", "source": "price", "type": "decimal"},
           {"target": "registered", "source": "registered", "type": "date"},
           {"target": "checked_at", "source": "checked_at", "type": "datetime"},
           {"target": "insured", "source": "insured", "type": "boolean"}]

ROWS = [  # plate, seats, price, registered, checked_at, insured
    ("粤B00001", "2", "85000.50", "2021-03-01", "2026-01-05 08:00:00", "true"),
    ("粤B00002", "5", "120000.00", "2022-07-15", "2026-01-05 17:30:00", "false"),
    ("粤B00003", "7", "260000.00", "2023-11-30", "2026-02-01 09:15:00", "true"),
    ("粤B00004", "5", "99999.99", "2024-01-01", "2026-03-10 12:00:00", "false"),
]


@pytest.fixture
def vehicles(database, topic, tmp_path):
    path = tmp_path / "vehicles.csv"
    path.write_text("plate,seats,price,registered,checked_at,insured\n"
                    + "".join(",".join(r) + "\n" for r in ROWS), encoding="utf-8")
    result = run(database, spec(path, table="vehicle_typed", mapping=MAPPING))
    assert (result.status, result.rows_loaded) == ("succeeded", 4), result.error


def _plates(db, database, *filters: dict) -> list[str]:
    out = transforms.preview(db, database, spec={"tables": [{"table": "case.vehicle_typed", "alias": "v"}],
                                                 "filters": list(filters), "columns": ["v.plate"]})
    return sorted(r[0] for r in out["rows"])


# (column, op, value as the browser sends it, plates expected)
CASES = [
    ("seats", ">=", "5", ["粤B00002", "粤B00003", "粤B00004"]),
    ("seats", "=", "7", ["粤B00003"]),
    ("price", ">", "100000", ["粤B00002", "粤B00003"]),
    ("price", "<=", "85000.50", ["粤B00001"]),
    ("registered", ">=", "2023-01-01", ["粤B00003", "粤B00004"]),
    ("registered", "<", "2022/7/15", ["粤B00001"]),
    ("checked_at", ">=", "2026-01-05 12:00:00", ["粤B00002", "粤B00003", "粤B00004"]),
    ("checked_at", "<", "2026-02-01", ["粤B00001", "粤B00002"]),
    ("insured", "=", "true", ["粤B00001", "粤B00003"]),
    ("insured", "!=", "true", ["粤B00002", "粤B00004"]),
    ("plate", "=", "粤B00004", ["粤B00004"]),
]


def test_filter_values_given_as_text_are_cast_to_each_column_type(database, db, vehicles):
    for column, op, value, expected in CASES:
        assert _plates(db, database, {"column": f"v.{column}", "op": op, "value": value}) == expected, (column, op)
    # a range and a list, both as text; "contains" searches a date as the text it shows
    assert _plates(db, database, {"column": "v.registered", "op": "range",
                                  "value": ["2022-01-01", "2023-12-31"]}) == ["粤B00002", "粤B00003"]
    assert _plates(db, database, {"column": "v.seats", "op": "in", "value": ["2", "7"]}) == ["粤B00001", "粤B00003"]
    assert _plates(db, database, {"column": "v.registered", "op": "contains", "value": "2024"}) == ["粤B00004"]
    # numbers sent as numbers still work
    assert _plates(db, database, {"column": "v.seats", "op": ">", "value": 5}) == ["粤B00003"]
    # a constant typed into a computed column comes as text too
    out = transforms.preview(db, database, spec={
        "tables": [{"table": "case.vehicle_typed", "alias": "v"}], "columns": ["v.plate"],
        "computed": [{"as": "price_wan", "op": "/", "args": ["v.price", "10000"]}],
        "filters": [{"column": "v.seats", "op": "=", "value": "7"}]})
    assert [(r[0], float(r[1])) for r in out["rows"]] == [("粤B00003", 26.0)]
    # and a saved transform with text filters builds its table
    tf = transforms.save_transform(db, database, data=TransformIn(
        name="recent_cars", title="近年登记车辆", target_topic="case", spec={
            "tables": [{"table": "case.vehicle_typed", "alias": "v"}], "columns": ["v.plate", "v.price"],
            "filters": [{"column": "v.registered", "op": ">=", "value": "2022-01-01"},
                        {"column": "v.price", "op": "<", "value": "200000"},
                        {"column": "v.insured", "op": "=", "value": "否"}]}))
    transforms.refresh_transform(db, database, transform_id=tf.id)
    assert tf.row_count == 2  # 粤B00002 and 粤B00004


BAD = [  # column, value, what the English message says
    ("registered", "abc", "'abc' is not a date for column v.registered"),
    ("checked_at", "yesterday", "'yesterday' is not a date and time for column v.checked_at"),
    ("seats", "5.5", "'5.5' is not an integer for column v.seats"),
    ("price", "十万", "'十万' is not a number for column v.price"),
    ("insured", "maybe", "'maybe' is not a yes/no value for column v.insured"),
]


def test_a_value_that_is_not_of_the_column_type_is_a_clear_422(database, db, vehicles, as_user):
    for column, value, words in BAD:
        with pytest.raises(Invalid) as exc:
            _plates(db, database, {"column": f"v.{column}", "op": ">=", "value": value})
        assert exc.value.status == 422 and exc.value.code == "bad_filter_value"
        assert words in exc.value.message.render("en")
        assert value in exc.value.message.render("zh-CN")
    # through the API, as the 数据加工 page sends it
    client = as_user("dataadmin", ["data_admin"])
    body = {"tables": [{"table": "case.vehicle_typed", "alias": "v"}], "columns": ["v.plate"],
            "filters": [{"column": "v.registered", "op": ">=", "value": "2023-01-01"}]}
    res = client.post("/api/v1/collect/transforms/preview", json=body)
    assert res.status_code == 200, res.text
    assert sorted(r[0] for r in res.json()["rows"]) == ["粤B00003", "粤B00004"]
    body["filters"] = [{"column": "v.registered", "op": ">=", "value": "abc"}]
    res = client.post("/api/v1/collect/transforms/preview", json=body, headers={"Accept-Language": "en"})
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == "bad_filter_value"
    assert "'abc' is not a date for column v.registered" in res.json()["error"]["message"]
