"""What a user types in a search box is matched literally: ``%`` and ``_`` are characters, not wildcards."""

from __future__ import annotations

import json

import pytest

from pbshare.demo import catalog as demo_catalog
from pbshare.demo import service as demo_service


@pytest.fixture
def demo(database, settings):
    with database.session() as s:
        demo_service.load_units(s)
        demo_service.load_cases(s, data_dir=settings.resolved_data_dir, count=3)
        demo_catalog.load_catalog(s, data_dir=settings.resolved_data_dir, database=database)


def _wildcarded(text: str) -> str:
    """``text`` with its second character replaced by ``_``: a LIKE wildcard would still match it."""
    return text[0] + "_" + text[2:]


def _found(client, path: str, q: str) -> list:
    res = client.get(path, params={"q": q})
    assert res.status_code == 200, res.text
    body = res.json()
    return body["items"] if isinstance(body, dict) else body


def test_percent_and_underscore_are_literal_in_every_search_box(client, as_user, demo):
    as_user("searcher", ["data_admin", "case_handler"])
    searches = {
        "/api/v1/cases": lambda hit: hit["case_no"],
        "/api/v1/catalog/resources": lambda hit: hit["name"],
        "/api/v1/metadata/dictionary": lambda hit: hit["name"],
    }
    for path, name_of in searches.items():
        anything = "我" if path.endswith("dictionary") else ""
        some = _found(client, path, "数" if path.endswith("dictionary") else anything)
        assert some, path
        name = name_of(some[0])
        assert any(name_of(hit) == name for hit in _found(client, path, name)), path
        for char in "%_":
            for hit in _found(client, path, char):  # only hits that really contain the character
                assert char in json.dumps(hit, ensure_ascii=False), f"{path}: {char} matched {hit}"
        assert _found(client, path, _wildcarded(name)) == [], f"{path}: _ matched any character"
