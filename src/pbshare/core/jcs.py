"""RFC 8785 (JSON Canonicalization Scheme): the bytes that are signed and hashed.

``rfc8785`` is the reference, but it serialises in pure Python (about 30 µs an envelope, five times per
round trip). ``jcs`` hands a value to ``json.dumps`` (C) when that provably gives the same bytes, and to
``rfc8785`` otherwise, so the output is always RFC 8785's.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

_MAX_EXACT_INT = 2**53 - 1


def _same_as_sorted_json(value: Any) -> bool:
    """True when ``json.dumps(sort_keys=True)`` gives exactly the RFC 8785 bytes of ``value``.

    The two agree on strings (same escapes), integers, true/false/null and nesting; they differ on
    floats (ES6 number form), integers beyond 2^53 (outside JCS), non-string keys, and on the order of
    keys holding characters beyond U+FFFF (JCS sorts by UTF-16 code units). Envelopes rarely hold any of
    those; the check is an iterative walk, far cheaper than rfc8785's pure-Python serialiser.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for k in item:
                if type(k) is not str or not (k.isascii() or max(k, default="") <= "\uffff"):
                    return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is int:
            if not -_MAX_EXACT_INT <= item <= _MAX_EXACT_INT:
                return False
        elif not (kind is str or item is None or kind is bool):
            return False
    return True


def jcs(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes; rfc8785 itself wherever the fast form could differ."""
    if _same_as_sorted_json(value):
        try:
            return sorted_json(value)
        except UnicodeEncodeError:  # a lone surrogate: let rfc8785 refuse it with its own error
            pass
    return rfc8785.dumps(value)


def sorted_json(value: Any) -> bytes:
    """``json.dumps`` with sorted keys, no spaces, UTF-8: RFC 8785's bytes for a value that holds no float, no
    integer beyond 2^53, no lone surrogate and no key beyond U+FFFF (the caller knows it; ``jcs`` checks)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
