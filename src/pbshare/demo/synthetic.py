"""Synthetic people and the sample catalog: demo data that passes every real check."""

from __future__ import annotations

import random
from datetime import date, timedelta
from importlib import resources

import yaml

SYNTHETIC_PREFIX = "演示·"
SHENZHEN_DISTRICTS = {"440303": "罗湖区", "440304": "福田区", "440305": "南山区", "440306": "宝安区",
                      "440307": "龙岗区", "440308": "盐田区", "440309": "龙华区", "440310": "坪山区"}
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def sample_catalog() -> dict:
    text = resources.files("pbshare.demo").joinpath("sample-catalog.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def synthetic_uscc(n: int) -> str:
    """A unified social credit code (Shenzhen, enterprise) whose organisation code and last character both check."""
    from stdnum.cn import uscc

    org = f"MA5{n:05d}"
    total = sum(w * (int(c) if c.isdigit() else ord(c) - 55) for w, c in zip([3, 7, 9, 10, 5, 8, 4, 2], org,
                                                                              strict=True))
    body = "91440300" + org + "0123456789X0"[11 - total % 11]
    return body + uscc.calc_check_digit(body)


def ric_check_digit(first17: str) -> str:
    """GB 11643 check digit of an 18-digit resident ID."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def synthetic_id_no(rng: random.Random) -> str:
    """A resident ID that passes GB 11643 checks, including the region code valid at birth."""
    from stdnum.cn import ric

    while True:
        region = rng.choice(list(SHENZHEN_DISTRICTS))
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
        first17 = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
        candidate = first17 + ric_check_digit(first17)
        if ric.is_valid(candidate):
            return candidate
