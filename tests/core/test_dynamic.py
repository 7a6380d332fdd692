"""Topic databases and their run-time tables, on both engines."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from pbshare.core.dynamic import ColumnSpec, TopicStore, safe_identifier
from pbshare.core.errors import Conflict, Invalid


@pytest.mark.parametrize("bad", ["Case", "1abc", "a-b", "a;drop table x", "select", "pg_x", "a" * 64, "", "表"])
def test_unsafe_identifiers_are_refused(bad):
    with pytest.raises(Invalid):
        safe_identifier(bad)


def test_create_table_in_topic_and_use_it(database, settings):
    store = TopicStore(database.warehouse_engine, settings.resolved_data_dir)
    store.create_topic("case")
    assert store.topic_exists("case")
    table = store.create_table("case", "debtor_assets", [
        ColumnSpec("id_no", "string", 18, primary_key=True), ColumnSpec("amount", "decimal"),
        ColumnSpec("seen_on", "date"),
    ])
    with database.warehouse_engine.begin() as conn:
        conn.execute(insert(table), [{"id_no": "1", "amount": 1.5}, {"id_no": "2", "amount": 2}])
    assert store.list_tables("case") == ["debtor_assets"]
    again = store.reflect_table("case", "debtor_assets")
    with database.warehouse_engine.connect() as conn:
        assert len(conn.execute(select(again)).all()) == 2
    with pytest.raises(Conflict):
        store.create_table("case", "debtor_assets", [ColumnSpec("x")])
    store.drop_topic("case")
    assert not store.topic_exists("case")
