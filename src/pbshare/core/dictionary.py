"""What each domain lists in the data dictionary, without the dictionary knowing the domain.

The metadata domain searches harvested tables and columns itself; a sibling it may not import (the warehouse's
topic tables, imported by collect and forms) registers a search here: ``register("warehouse", search)`` where
``search(db, q, kind, limit)`` returns dictionary hits ({kind, id, name, qualified_name, comment, data_type,
row_count}). Hooks run in the order they were registered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

DictionarySearch = Callable[[Session, str, str | None, int], list[dict[str, Any]]]
_SEARCHES: dict[str, DictionarySearch] = {}


def register(name: str, search: DictionarySearch) -> None:
    _SEARCHES[name] = search


def search_registered(db: Session, *, q: str, kind: str | None, limit: int) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = []
    for search in _SEARCHES.values():
        hits.extend(search(db, q, kind, limit))
    return hits
