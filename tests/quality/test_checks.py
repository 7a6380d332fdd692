"""Vectorised resident-ID checks agree with python-stdnum (apart from its historical region table)."""

from __future__ import annotations

import random

import polars as pl
from stdnum.cn import ric

from pbshare.quality import checks


def _ids(n: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        # 110101 (Beijing Dongcheng) is valid for every birth year, so stdnum's region check agrees
        first17 = f"110101{rng.randrange(1930, 2020)}{rng.randrange(1, 13):02d}{rng.randrange(1, 32):02d}" \
                  f"{rng.randrange(1000):03d}"
        check = "10X98765432"[sum(int(d) * w for d, w in zip(first17, [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8,
                                                                        4, 2], strict=True)) % 11]
        candidate = first17 + (check if rng.random() < 0.7 else rng.choice("0123456789X"))
        out.append(candidate)
    return out


def test_validity_matches_stdnum_on_random_numbers():
    ids = [*_ids(3000), "", "11010119900101001", "1101011990010100X1", "１10101199001010011", "11010118000230001X"]
    frame = pl.DataFrame({"v": ids}).with_columns(pl.when(pl.col("v") == "").then(None).otherwise(pl.col("v")).alias("v"))
    bad = frame.select(checks.ric_invalid(pl.col("v")).alias("bad"))["bad"].to_list()
    for value, is_bad in zip(ids, bad, strict=True):
        if value == "":
            assert is_bad is False  # missing is another check
            continue
        assert is_bad == (not ric.is_valid(value)), value


def test_15_digit_numbers_become_18_digits_with_the_right_check_digit():
    frame = pl.DataFrame({"v": ["110101900101001", " 11010119900101001x ", None]})
    out = frame.select(checks.ric_normalise(pl.col("v")).alias("n"))["n"].to_list()
    assert out[0] == "110101199001010015" and ric.is_valid(out[0])
    assert out[1] == "11010119900101001X" and out[2] is None


def test_reasons_join_only_failed_checks():
    frame = pl.DataFrame({"a": [1, None, None], "b": ["x", "y", None]})
    got = frame.select(checks.reasons([checks.reason_when(pl.col("a").is_null(), "a 为空"),
                                       checks.reason_when(pl.col("b").is_null(), "b 为空")]).alias("r"))["r"]
    assert got.to_list() == [None, "a 为空", "a 为空；b 为空"]
