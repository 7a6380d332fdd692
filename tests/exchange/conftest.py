"""Fixtures of the request tests: the world (demo units, the sample catalog, one case) and ``act(who)``."""

from __future__ import annotations

import pytest

from tests.conftest import login, make_user
from tests.exchange.requests_world import make_world, switch


@pytest.fixture
def world(database, settings):
    return make_world(database, settings)


@pytest.fixture
def act(client, database):
    """``act(HANDLER)``: the client, logged in as that person (created on first use)."""
    created: set[str] = set()

    def _as(who):
        switch(client, login, make_user, database, who, created)
        return client

    return _as
