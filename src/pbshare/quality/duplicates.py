"""Rows of one delivery that share a business key, judged over the whole run, batch by batch.

Same key and the same values: the row is an exact duplicate, loaded once and counted. Same key with
different values: the delivery contradicts itself, so no row of that key is loaded silently; each goes
to quarantine naming the other lines and the fields that differ. Only two 64-bit hashes and the line
of each row are kept between batches, so memory stays small; all of it is column-wise polars work.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

LINE = "__line"
REASON = "__reason"
CONFLICT = "业务主键重复且内容不同 / conflicting duplicate"
_K, _H = "__dup_key", "__dup_row"


@dataclass
class Sifted:
    load: pl.DataFrame  # the rows to load (``__line`` kept)
    conflicts: pl.DataFrame  # ``__line``, ``__reason`` of rows whose key came with other values
    exact: int  # exact duplicates left out


class DuplicateGuard:
    """Remembers the key and value hashes of the rows seen so far in a run."""

    def __init__(self, key: list[str], columns: list[str], labels: dict[str, str] | None = None) -> None:
        self.key = key
        self.columns = columns
        self.labels = labels or {}
        self.seen = pl.DataFrame(schema={_K: pl.UInt64, _H: pl.UInt64, LINE: pl.Int64})
        self.blocked = pl.Series(_K, [], dtype=pl.UInt64)  # keys found conflicting: every later row goes too

    def sift(self, rows: pl.DataFrame) -> Sifted:
        empty = pl.DataFrame(schema={LINE: pl.Int64, REASON: pl.String})
        if not self.key or rows.height == 0:
            return Sifted(rows, empty, 0)
        tagged = rows.with_columns(pl.struct(self.key).hash().alias(_K), pl.struct(self.columns).hash().alias(_H))
        pairs = pl.struct(_K, _H)
        seen_pairs = self.seen.select(pairs.alias("p"))["p"]
        marks = tagged.select(pairs.is_first_distinct().alias("first"), pairs.is_in(seen_pairs.implode()).alias("seen"))
        fresh = marks["first"] & ~marks["seen"]
        new = tagged.filter(fresh).select(_K, _H, LINE)
        pool = pl.concat([self.seen, new])
        clashing = pool.group_by(_K).agg(pl.col(_H).n_unique().alias("n")).filter(pl.col("n") > 1)[_K]
        bad_keys = pl.concat([self.blocked, clashing]).unique()
        in_conflict = tagged[_K].is_in(bad_keys.implode())
        exact = ~fresh & ~in_conflict
        load = tagged.filter(fresh & ~in_conflict)
        conflicted = tagged.filter(in_conflict)
        self.seen = pool
        self.blocked = bad_keys
        conflicts = self._explain(conflicted, pl.concat([pool, conflicted.select(_K, _H, LINE)]).unique(LINE)) \
            if conflicted.height else empty
        return Sifted(load.drop(_K, _H), conflicts, int(exact.sum()))

    def _explain(self, conflicted: pl.DataFrame, pool: pl.DataFrame) -> pl.DataFrame:
        """Each conflicting row's reason: the other lines with its key, and the fields that differ."""
        lines = pool.filter(pl.col(_K).is_in(conflicted[_K].implode())).group_by(_K).agg(pl.col(LINE).sort().alias("lines"))
        fields = conflicted.group_by(_K).agg([pl.col(c).n_unique().alias(c) for c in self.columns])
        differ = {row[_K]: [c for c in self.columns if row[c] > 1] for row in fields.iter_rows(named=True)}
        other = dict(zip(lines[_K].to_list(), lines["lines"].to_list(), strict=True))
        reasons = []
        for k, line in zip(conflicted[_K].to_list(), conflicted[LINE].to_list(), strict=True):
            others = "、".join(str(n) for n in other.get(k, []) if n != line)
            names = "、".join(self.labels.get(c, c) for c in differ.get(k, []))
            names_en = ", ".join(differ.get(k, []))
            reasons.append(f"业务主键重复且内容不同：与第 {others} 行主键相同" + (f"，{names} 不同" if names else "")
                           + f" / conflicting duplicate: same business key as line {others.replace('、', ', ')}"
                           + (f", different {names_en}" if names_en else ""))
        return pl.DataFrame({LINE: conflicted[LINE], REASON: reasons}, schema={LINE: pl.Int64, REASON: pl.String})
