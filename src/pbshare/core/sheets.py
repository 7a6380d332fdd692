"""What an Excel worksheet can hold: every export writes its values through here."""

from __future__ import annotations

import re
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE


def worksheet_value(value: Any) -> Any:
    """``value`` with the control characters Excel refuses (and openpyxl with it) dropped: a value pasted from
    another system must not fail a whole export."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def sheet_title(name: str, fallback: str = "Sheet1") -> str:
    """Excel's rules for a sheet's name: at most 31 characters, none of []:*?/\\ or control characters."""
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", worksheet_value(name)).strip().strip("'")[:31]
    return cleaned or fallback
