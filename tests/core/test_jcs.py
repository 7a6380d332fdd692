"""jcs gives exactly rfc8785's bytes (or its refusal) for every value, fast path or not."""

from __future__ import annotations

import random

import pytest
import rfc8785

from pbshare.core.jcs import jcs

TRICKY = [
    {"b": 1, "a": [True, False, None], "c": {"z": "", "y": "汉字·破产"}},
    {"\U0001F600": 1, "\uff01": 2, "a": 3},  # UTF-16 order differs from code point order
    {"n": 1.0}, {"n": 1e21}, {"n": 0.1}, {"n": -0.0}, {"n": 5e-324},
    {"big": 2**53 - 1}, {"neg": -(2**53 - 1)},
    {"ctl": "\x00\x08\t\n\x0c\r\x1f\x7f\u2028\u2029/\\\""},
    [], {}, "", 0, -1, "text", None, True,
    {"nested": [[[{"k": [1, 2, {"x": "y"}]}]]]},
    {"tuple": (1, 2)},
]
REFUSED = [{"big": 2**53}, {"s": "\ud800"}, {1: 2}, {"f": float("nan")}, {"d": object()}]


@pytest.mark.parametrize("value", TRICKY, ids=range(len(TRICKY)))
def test_same_bytes_as_rfc8785(value):
    assert jcs(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value", REFUSED, ids=range(len(REFUSED)))
def test_refuses_what_rfc8785_refuses(value):
    with pytest.raises(Exception) as ours:
        jcs(value)
    with pytest.raises(Exception) as reference:
        rfc8785.dumps(value)
    assert type(ours.value) is type(reference.value)


def test_random_documents_match_rfc8785():
    rng = random.Random(8785)
    alphabet = "aZ09 _-汉字\U0001F600\uff01\u00e9\x01\"\\/"

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))

    def value(depth: int):
        pick = rng.randint(0, 7 if depth < 4 else 4)
        if pick == 0:
            return text()
        if pick == 1:
            return rng.randint(-(2**53 - 1), 2**53 - 1)
        if pick == 2:
            return rng.choice([True, False, None])
        if pick == 3:
            return rng.uniform(-1e6, 1e6)
        if pick == 4:
            return rng.randint(-1000, 1000)
        if pick == 5:
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {text(): value(depth + 1) for _ in range(rng.randint(0, 5))}

    for _ in range(2000):
        doc = value(0)
        assert jcs(doc) == rfc8785.dumps(doc)
