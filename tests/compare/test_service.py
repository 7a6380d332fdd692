"""compare_delivery on both databases: stored comparisons, record history and as-of, suspicious flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from pbshare.compare import service
from pbshare.core.errors import Conflict, Invalid

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TARGET = "social.insured"
ID1, ID2, ID3 = "440301199001011234", "44030119900202123X", "440301199003031235"


def people(rows: list[tuple[str, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame({"rec_no": [r[0] for r in rows], "name": [r[1] for r in rows],
                         "id_no": [r[2] for r in rows]}, schema={"rec_no": pl.String, "name": pl.String,
                                                                 "id_no": pl.String})


def deliver(db, settings, frame: pl.DataFrame, n: int, **kw):
    return service.compare_delivery(db, resource_code=None, unit_code=kw.pop("unit_code", "RSJ"), target=TARGET,
                                    delivery_id=f"run-{n}", delivery_kind="import_run", frame=frame, key=["rec_no"],
                                    data_dir=settings.resolved_data_dir, at=T0 + timedelta(days=n), **kw)


def test_first_delivery_starts_history_then_comparisons_count_and_as_of_returns_past(db, settings) -> None:
    first = people([("1", "张三", ID1), ("2", "李四", ID2), ("3", "王五", None)])
    assert deliver(db, settings, first, 0) is None
    second = people([("1", "张三", ID1), ("2", "李四四", ID2), ("3", "王五", ID3), ("4", "赵六", None)])
    c = deliver(db, settings, second, 1)
    assert c is not None
    assert (c.added, c.removed, c.changed, c.unchanged) == (1, 0, 2, 1)
    assert c.previous_delivery_id == "run-0" and c.field_counts == {"name": 1, "id_no": 1}
    third = people([("1", "张三", ID1), ("4", "赵六", None)])
    c3 = deliver(db, settings, third, 2)
    assert (c3.added, c3.removed, c3.changed, c3.unchanged) == (0, 2, 0, 2)
    db.commit()

    def state(at: datetime) -> dict:
        return {r["rec_no"]: (r["name"], r["id_no"]) for r in service.as_of(db, TARGET, at, unit_code="RSJ",
                                                                           data_dir=settings.resolved_data_dir)}
    assert state(T0 - timedelta(hours=1)) == {}
    assert state(T0 + timedelta(hours=12)) == {"1": ("张三", ID1), "2": ("李四", ID2), "3": ("王五", None)}
    assert state(T0 + timedelta(days=1, hours=1)) == {"1": ("张三", ID1), "2": ("李四四", ID2), "3": ("王五", ID3),
                                                      "4": ("赵六", None)}
    assert state(T0 + timedelta(days=5)) == {"1": ("张三", ID1), "4": ("赵六", None)}
    one = service.as_of(db, TARGET, T0 + timedelta(hours=1), key="2", unit_code="RSJ",
                        data_dir=settings.resolved_data_dir)
    assert [r["name"] for r in one] == ["李四"]

    hist = service.record_history(db, target=TARGET, key={"rec_no": "2"}, unit_code="RSJ",
                                  data_dir=settings.resolved_data_dir)
    versions = hist["versions"]
    assert [v.values["name"] for v in versions] == ["李四", "李四四"]
    assert [v.delivery_id for v in versions] == ["run-0", "run-1"]
    assert versions[0].ended_by == "run-1" and versions[1].ended_by == "run-2"
    assert versions[0].values["id_no"] == "440301********123X"  # masked on read
    rows = service.comparison_rows(db, comparison_id=c.id, data_dir=settings.resolved_data_dir, kind="changed",
                                   field="name")
    assert rows["total"] == 1 and rows["items"][0].changes == {"name": ["李四", "李四四"]}


def test_incremental_delivery_removes_only_deleted_keys(db, settings) -> None:
    deliver(db, settings, people([("1", "张三", ID1), ("2", "李四", ID2), ("3", "王五", None)]), 0)
    c = deliver(db, settings, people([("2", "李四改", ID2), ("5", "孙七", None)]), 1, incremental=True,
                deleted_keys=pl.DataFrame({"rec_no": ["3"]}))
    assert (c.added, c.removed, c.changed, c.unchanged) == (1, 1, 1, 0)
    now = {r["rec_no"]: r["name"] for r in service.as_of(db, TARGET, T0 + timedelta(days=3), unit_code="RSJ",
                                                         data_dir=settings.resolved_data_dir)}
    assert now == {"1": "张三", "2": "李四改", "5": "孙七"}


def test_identifier_change_under_same_key_is_flagged(db, settings) -> None:
    deliver(db, settings, people([("1", "张三", ID1), ("2", "李四", ID2)]), 0)
    c = deliver(db, settings, people([("1", "张三", ID3), ("2", "李四", ID2)]), 1, change_share=0.9)
    assert [(f["code"], f["count"], f["fields"]) for f in c.flags] == [("id_change", 1, ["id_no"])]
    rows = service.comparison_rows(db, comparison_id=c.id, data_dir=settings.resolved_data_dir)
    assert rows["items"][0].flags == ["id_change"]


def test_mass_change_flag_uses_the_share_setting(db, settings) -> None:
    base = people([(str(i), f"演示·{i}", None) for i in range(10)])
    deliver(db, settings, base, 0)
    four = base.with_columns(pl.when(pl.col("rec_no").cast(pl.Int32) < 4).then(pl.lit("改")).otherwise(
        pl.col("name")).alias("name"))
    c = deliver(db, settings, four, 1)  # 4 of 10 changed > 30 %
    assert [f["code"] for f in c.flags] == ["mass_change"] and c.flags[0]["share"] == 0.4
    c2 = deliver(db, settings, four.with_columns(pl.lit("x").alias("name")), 2, change_share=1.0)
    assert all(f["code"] != "mass_change" for f in c2.flags)


def test_value_flipping_back_is_flagged(db, settings) -> None:
    a = people([("1", "张三", None), ("2", "李四", None), ("3", "王五", None), ("4", "赵六", None)])
    b = a.with_columns(pl.when(pl.col("rec_no") == "1").then(pl.lit("张叁")).otherwise(pl.col("name")).alias("name"))
    deliver(db, settings, a, 0)
    assert deliver(db, settings, b, 1).flags == []
    c = deliver(db, settings, a, 2)  # 张三 → 张叁 → 张三
    assert [(f["code"], f["count"], f["fields"]) for f in c.flags] == [("flip", 1, ["name"])]


def test_bad_deliveries_get_clear_errors(db, settings) -> None:
    deliver(db, settings, people([("1", "张三", None)]), 0)
    with pytest.raises(Conflict):
        deliver(db, settings, people([("1", "张三", None)]), 0)
    with pytest.raises(Invalid) as err:
        deliver(db, settings, people([("1", "张三", None), ("1", "李四", None)]), 1)
    assert err.value.code == "compare_duplicate_keys"
