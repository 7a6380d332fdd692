"""The platform's own database (and its warehouse, and any file in its data directory) is never a data
source: refused at registration, test, harvest, preview and import, however its address is spelt."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy.engine import make_url

from pbshare.core.errors import Invalid
from pbshare.metadata import service
from pbshare.metadata.models import DataSource
from pbshare.security.crypto.pii import vault_for
from pbshare.warehouse import service as warehouse


def _own_spellings(settings, tmp_path) -> list[str]:
    """Other ways of writing the platform database's address."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        own = settings.resolved_data_dir / "pbshare.db"
        link = tmp_path / "elsewhere" / "unit.db"
        link.parent.mkdir()
        link.symlink_to(own)
        hard = tmp_path / "hard.db"
        os.link(own, hard)
        topics = settings.resolved_data_dir / "topics"
        topics.mkdir(exist_ok=True)
        (topics / "case.db").touch()
        relative = os.path.relpath(own, os.getcwd())
        return [f"sqlite:///{own}", f"sqlite:///{link}", f"sqlite:///{hard}", f"sqlite:///{relative}",
                f"sqlite:///{topics / 'case.db'}"]
    return [settings.resolved_database_url,
            url.set(host="localhost").render_as_string(hide_password=False),
            url.set(port=None).render_as_string(hide_password=False),
            url.set(drivername="postgresql").render_as_string(hide_password=False)]


def test_registration_refuses_the_platform_database_however_spelt(db, settings, tmp_path):
    platform = service.platform_databases(settings)
    for i, url in enumerate(_own_spellings(settings, tmp_path)):
        with pytest.raises(Invalid) as exc:
            service.add_source(db, data_dir=settings.resolved_data_dir, name=f"own{i}", url=url, platform=platform)
        assert exc.value.code == "source_is_platform", url
    # a separate warehouse engine is the platform's too
    split = settings.model_copy(update={"warehouse_url": "postgresql+psycopg://u@127.0.0.1:5432/topics_wh"})
    with pytest.raises(Invalid):
        service.add_source(db, data_dir=settings.resolved_data_dir, name="wh",
                           url="postgresql+psycopg://other@localhost/topics_wh",
                           platform=service.platform_databases(split))
    # another database on the same server is fine
    other = make_url("postgresql+psycopg://postgres@127.0.0.1:5432/some_unit_db")
    service.refuse_platform_database(other, data_dir=settings.resolved_data_dir, platform=platform)


def test_api_refuses_registration_test_harvest_preview_and_import(as_user, database, settings, db):
    client = as_user("dataadmin", ["data_admin"])
    warehouse.create_topic(db, database, name="case", title="案件专题库", exist_ok=True)
    db.commit()
    own = settings.resolved_database_url
    res = client.post("/api/v1/metadata/sources", json={"name": "own", "url": own})
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == "source_is_platform"
    # a source stored before this check existed is refused wherever it is used
    with database.session() as s:
        src = DataSource(name="legacy", dialect=make_url(own).get_backend_name(),
                         url_sealed=vault_for(settings.resolved_data_dir).seal(own), url_display="legacy")
        s.add(src)
        s.flush()
        source_id = src.id
    for path in ("test", "harvest"):
        res = client.post(f"/api/v1/metadata/sources/{source_id}/{path}")
        assert res.status_code == 422, (path, res.text)
        assert res.json()["error"]["code"] == "source_is_platform"
    spec = {"source_kind": "database", "target_topic": "case", "target_table": "stolen",
            "source": {"source_id": source_id, "query": "SELECT username, password_hash FROM user_account"}}
    res = client.post("/api/v1/collect/preview", json=spec)
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == "source_is_platform"
    assert "password_hash" not in res.text
    res = client.post("/api/v1/collect/runs", json={"spec": {**spec, "source": {"source_id": source_id,
                                                                                "table": "user_account"}}})
    assert res.status_code == 202, res.text
    run = res.json()
    for _ in range(100):  # the import runs in the background: at most 10 s
        run = client.get(f"/api/v1/collect/runs/{run['id']}").json()
        if run["status"] not in ("queued", "running"):
            break
        time.sleep(0.1)
    assert run["status"] == "failed", run
    assert run["error_code"] == "source_is_platform"
    assert run["rows_loaded"] == 0
