"""Compare two snapshots of one table by their business key, set-based in polars.

One full join of narrow frames (a row number, a 64-bit hash of the key and one of the whole row: three
integers a row) finds the keys on one side only (added, removed) and the pairs whose hashes differ; only
those pairs are compared exactly, column by column with ``ne_missing`` (null-safe: a value that became null,
or null that became a value, is a change; null → null is not). Field-level changes (key, field, old → new)
are built for the changed rows only. Nothing here loops over rows in Python: 1,000,000 rows take about
0.15 s on a quiet machine (``bench/compare.py``; joining on the key's text took 0.3 s, the naive anti-joins
+ wide inner join 0.4 s).

A full snapshot: every key of the old table missing from the new one is removed. An incremental delivery
(changed rows plus a list of deleted keys): only the listed keys count as removed; old rows that the
delivery does not mention are neither removed nor unchanged, they are simply not part of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from pbshare.core.errors import Invalid
from pbshare.core.i18n import T

OLD = "__old"  # suffix of the previous value in the joined frame
N_ROW, O_ROW, HASH, KEY_HASH, SEED = "__n", "__o", "__h", "__k", 20261201
FIELD, OLD_VALUE, NEW_VALUE = "field", "old", "new"


@dataclass
class Diff:
    """What changed between two snapshots: the rows of each kind and the field-level changes."""

    key: list[str]
    columns: list[str]  # compared non-key columns
    added: pl.DataFrame  # new rows (key + columns)
    removed: pl.DataFrame  # old rows (key + columns)
    changed: pl.DataFrame  # new rows that differ (key + columns)
    changed_old: pl.DataFrame  # the same rows as they were (key + columns), same order as ``changed``
    fields: pl.DataFrame  # key…, field, old, new (as text) — one row per changed field
    unchanged: int
    incremental: bool = False
    ignored_deletions: int = 0  # deleted keys the old snapshot did not have
    field_counts: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {"added": self.added.height, "removed": self.removed.height, "changed": self.changed.height,
                "unchanged": self.unchanged}


def _check(frame: pl.DataFrame, key: list[str], what: str) -> None:
    missing = [k for k in key if k not in frame.columns]
    if missing:
        raise Invalid(T("{what}缺少业务主键字段：{k}；请在数据中提供这些列，或改用其他业务主键",
                        "The {what} lacks business key columns: {k}; include them or choose another key",
                        what=what, k=", ".join(missing)), code="compare_key_missing")


def _aligned(old: pl.DataFrame, new: pl.DataFrame, key: list[str],
             columns: list[str] | None) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """Both frames with the same columns and types: a column missing on one side is null there, and a
    column whose types differ is compared as text."""
    if columns is None:
        columns = [c for c in new.columns if c not in key]
        columns += [c for c in old.columns if c not in key and c not in columns]
    fix_old, fix_new = [], []
    for c in [*key, *columns]:
        if c not in old.columns:
            fix_old.append(pl.lit(None, dtype=new.schema[c]).alias(c))
        elif c not in new.columns:
            fix_new.append(pl.lit(None, dtype=old.schema[c]).alias(c))
    if fix_old:
        old = old.with_columns(fix_old)
    if fix_new:
        new = new.with_columns(fix_new)
    casts = [c for c in [*key, *columns] if old.schema[c] != new.schema[c]]
    if casts:
        old = old.with_columns([pl.col(c).cast(pl.String) for c in casts])
        new = new.with_columns([pl.col(c).cast(pl.String) for c in casts])
    return old.select([*key, *columns]), new.select([*key, *columns]), columns


def diff(old: pl.DataFrame, new: pl.DataFrame, key: list[str], *, incremental: bool = False,
         deleted_keys: pl.DataFrame | None = None, columns: list[str] | None = None) -> Diff:
    """Compare ``new`` (a full snapshot, or with ``incremental`` the changed rows) against ``old`` by ``key``.

    ``deleted_keys`` (incremental only): the keys the delivery deletes. A key both delivered and deleted is
    taken as deleted. ``columns``: the non-key columns to compare (default: all of both frames)."""
    if not key:
        raise Invalid(T("比对需要业务主键；请在目录资源或导入配置中设置业务主键",
                        "A comparison needs a business key; set one on the catalog resource or the import profile"),
                      code="compare_no_key")
    _check(new, key, "本次数据 / new data ")
    _check(old, key, "上次数据 / previous data ")
    if deleted_keys is not None and not incremental:
        raise Invalid(T("只有增量交付才能列出删除的主键", "Only an incremental delivery lists deleted keys"),
                      code="compare_deleted_keys_full")
    old, new, columns = _aligned(old, new, key, columns)
    ignored = 0
    removed: pl.DataFrame | None = None
    if incremental:
        if deleted_keys is not None and deleted_keys.height:
            _check(deleted_keys, key, "删除主键列表 / deleted keys ")
            dk = deleted_keys.select(key).with_columns([pl.col(k).cast(old.schema[k]) for k in key]).unique()
            new = new.join(dk, on=key, how="anti", nulls_equal=True)
            removed = old.join(dk, on=key, how="semi", nulls_equal=True)
            ignored = dk.height - removed.height
        else:
            removed = old.clear()
        # Only what the delivery mentions: the rest of the old snapshot is not compared.
        old = old.join(new.select(key), on=key, how="semi", nulls_equal=True)
    added, gone, changed, changed_old = _core(old, new, key, columns)
    if removed is None:
        removed = gone
    parts = []
    field_counts: dict[str, int] = {}
    for c in columns:
        hit = pl.concat([changed.select(*key, c), changed_old.select(pl.col(c).alias(c + OLD))], how="horizontal") \
            .filter(pl.col(c).ne_missing(pl.col(c + OLD)))
        if hit.height:
            field_counts[c] = hit.height
            parts.append(hit.select([*key, pl.lit(c).alias(FIELD),
                                     pl.col(c + OLD).cast(pl.String).alias(OLD_VALUE),
                                     pl.col(c).cast(pl.String).alias(NEW_VALUE)]))
    if parts:
        fields = pl.concat(parts)
    else:
        fields = pl.DataFrame(schema={**{k: new.schema[k] for k in key}, FIELD: pl.String, OLD_VALUE: pl.String,
                                      NEW_VALUE: pl.String})
    unchanged = new.height - added.height - changed.height
    return Diff(key=key, columns=columns, added=added, removed=removed, changed=changed, changed_old=changed_old,
                fields=fields, unchanged=unchanged, incremental=incremental,
                ignored_deletions=ignored, field_counts=field_counts)


def _core(old: pl.DataFrame, new: pl.DataFrame, key: list[str],
          columns: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Added, removed, changed (new values) and changed (old values) rows.

    Each side becomes a narrow frame of three integers: a 64-bit hash of the key, a 64-bit hash of the whole
    row and the row number. One full join on the key hash finds every key on one side only and every pair
    whose row hashes differ; only those pairs are compared exactly (keys and columns, ``ne_missing``), and
    only their rows are gathered. Joining integers instead of the key's text is what makes it fast (half
    the time on 1,000,000 rows). Equal row hashes are taken as equal rows (a changed row hashing the same
    has odds of about 1 in 10^19); two keys sharing a hash are never taken as one: a pair whose keys differ
    is split back into an added and a removed row, and a side where two keys share a hash is joined on
    the key itself instead."""
    n_side, o_side = _narrow(new, key, N_ROW), _narrow(old, key, O_ROW)
    exact = n_side[KEY_HASH].n_unique() < n_side.height or o_side[KEY_HASH].n_unique() < o_side.height
    if exact:  # duplicate keys, or (about once in 10^7 comparisons of a million rows) two keys sharing a hash
        n_side = pl.concat([new.select(key), n_side], how="horizontal")
        o_side = pl.concat([old.select(key), o_side], how="horizontal")
    odd = (n_side.lazy().join(o_side.lazy(), on=key if exact else KEY_HASH, how="full", suffix=OLD, coalesce=True,
                              nulls_equal=True)
           .filter(pl.col(HASH).ne_missing(pl.col(HASH + OLD)))
           .select(N_ROW, O_ROW).collect())
    added = new[odd.filter(pl.col(O_ROW).is_null())[N_ROW]]
    removed = old[odd.filter(pl.col(N_ROW).is_null())[O_ROW]]
    pairs = odd.drop_nulls()
    cand_new, cand_old = new[pairs[N_ROW]], old[pairs[O_ROW]]
    if not pairs.height:
        return added, removed, cand_new, cand_old
    if not exact:  # a pair joined by a shared key hash whose keys differ is one added and one removed row
        same = pl.select(~pl.any_horizontal([cand_new[k].ne_missing(cand_old[k]) for k in key])).to_series()
        if not same.all():
            added, removed = pl.concat([added, cand_new.filter(~same)]), pl.concat([removed, cand_old.filter(~same)])
            cand_new, cand_old = cand_new.filter(same), cand_old.filter(same)
    if columns:
        differs = pl.select(pl.any_horizontal([cand_new[c].ne_missing(cand_old[c]) for c in columns])).to_series()
        cand_new, cand_old = cand_new.filter(differs), cand_old.filter(differs)
    return added, removed, cand_new, cand_old


def _narrow(frame: pl.DataFrame, key: list[str], index: str) -> pl.DataFrame:
    """Row number, key hash and row hash of every row (the frames have the same columns and types)."""
    return pl.DataFrame([frame.select(key).hash_rows(SEED + 1).alias(KEY_HASH),
                         frame.hash_rows(SEED).alias(HASH)]).with_row_index(index)
