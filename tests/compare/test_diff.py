"""The snapshot diff: exact counts and field-level changes, nulls included, full and incremental."""

from __future__ import annotations

import polars as pl
import pytest

from pbshare.compare.diff import diff
from pbshare.core.errors import Invalid

OLD = pl.DataFrame({
    "k": ["a", "b", "c", "d", "e", "f"],
    "name": ["张三", "李四", None, "赵六", "钱七", "孙八"],
    "amount": [1.0, 2.0, 3.0, None, 5.0, 6.0],
})


def test_full_snapshot_counts_rows_and_fields_with_nulls() -> None:
    new = pl.DataFrame({
        "k": ["a", "b", "c", "d", "g", "h"],  # e, f removed; g, h added
        "name": ["张三", "李四改", "王五", "赵六", "新一", None],  # b changed; c null → value
        "amount": [1.0, 2.0, 3.0, 4.0, 7.0, 8.0],  # d null → value
    })
    d = diff(OLD, new, ["k"])
    assert d.counts == {"added": 2, "removed": 2, "changed": 3, "unchanged": 1}
    assert sorted(d.added["k"].to_list()) == ["g", "h"]
    assert sorted(d.removed["k"].to_list()) == ["e", "f"]
    fields = {(r["k"], r["field"]): (r["old"], r["new"]) for r in d.fields.iter_rows(named=True)}
    assert fields == {("b", "name"): ("李四", "李四改"), ("c", "name"): (None, "王五"),
                      ("d", "amount"): (None, "4.0")}
    assert d.field_counts == {"name": 2, "amount": 1}


def test_value_to_null_is_a_change_and_null_to_null_is_not() -> None:
    new = OLD.with_columns(pl.when(pl.col("k") == "a").then(None).otherwise(pl.col("name")).alias("name"))
    d = diff(OLD, new, ["k"])
    assert d.counts == {"added": 0, "removed": 0, "changed": 1, "unchanged": 5}
    assert d.fields.row(0, named=True) == {"k": "a", "field": "name", "old": "张三", "new": None}


def test_identical_snapshots_and_reordered_rows_have_no_change() -> None:
    d = diff(OLD, OLD.reverse(), ["k"])
    assert d.counts == {"added": 0, "removed": 0, "changed": 0, "unchanged": 6}
    assert d.fields.height == 0


def test_composite_key_and_a_column_only_on_one_side() -> None:
    old = pl.DataFrame({"unit": ["u1", "u1", "u2"], "no": [1, 2, 1], "v": ["x", "y", "z"]})
    new = pl.DataFrame({"unit": ["u1", "u2", "u2"], "no": [1, 1, 2], "v": ["x", "z2", "w"], "extra": ["e", None, None]})
    d = diff(old, new, ["unit", "no"])
    assert d.counts == {"added": 1, "removed": 1, "changed": 2, "unchanged": 0}
    assert set(d.fields["field"].to_list()) == {"v", "extra"}


def test_incremental_delivery_removes_only_listed_keys() -> None:
    delivered = pl.DataFrame({"k": ["b", "c", "z"], "name": ["李四", "王五", "新"], "amount": [2.0, 3.5, 1.0]})
    deleted = pl.DataFrame({"k": ["f", "nobody"]})
    d = diff(OLD, delivered, ["k"], incremental=True, deleted_keys=deleted)
    # b unchanged, c changed (name null → 王五 and amount), z added, f removed; a, d, e untouched
    assert d.counts == {"added": 1, "removed": 1, "changed": 1, "unchanged": 1}
    assert d.removed["k"].to_list() == ["f"]
    assert d.ignored_deletions == 1
    assert d.field_counts == {"name": 1, "amount": 1}


def test_incremental_without_deletions_removes_nothing() -> None:
    d = diff(OLD, OLD.head(2), ["k"], incremental=True)
    assert d.counts == {"added": 0, "removed": 0, "changed": 0, "unchanged": 2}


def test_types_that_differ_are_compared_as_text() -> None:
    old = pl.DataFrame({"k": ["a", "b"], "n": [1, 2]})
    new = pl.DataFrame({"k": ["a", "b"], "n": ["1", "3"]})
    assert diff(old, new, ["k"]).counts == {"added": 0, "removed": 0, "changed": 1, "unchanged": 1}


def test_missing_key_is_a_clear_error() -> None:
    with pytest.raises(Invalid) as err:
        diff(OLD, OLD.drop("k"), ["k"])
    assert err.value.code == "compare_key_missing"
    with pytest.raises(Invalid) as err:
        diff(OLD, OLD, [])
    assert err.value.code == "compare_no_key"


def test_an_empty_key_part_matches_the_same_empty_part_on_the_other_side() -> None:
    old = pl.DataFrame({"unit": ["u1", None, None], "no": [1, 1, 2], "v": ["x", "y", "z"]})
    new = pl.DataFrame({"unit": [None, "u1", None], "no": [1, 1, 3], "v": ["y2", "x", "w"]})
    d = diff(old, new, ["unit", "no"])
    assert d.counts == {"added": 1, "removed": 1, "changed": 1, "unchanged": 1}
    assert d.fields.select("field", "old", "new").rows() == [("v", "y", "y2")]


def test_a_key_repeated_in_the_previous_state_neither_hides_nor_doubles_rows() -> None:
    # joined on the key itself (not its hash) when a side repeats a key
    old = pl.DataFrame({"k": ["a", "a", "b"], "v": [1, 1, 2]})
    new = pl.DataFrame({"k": ["a", "b", "c"], "v": [1, 3, 4]})
    d = diff(old, new, ["k"])
    assert d.counts == {"added": 1, "removed": 0, "changed": 1, "unchanged": 1}
    assert d.fields.rows() == [("b", "v", "2", "3")]
