"""The API's doors: health, readiness, the one error shape, request ids, and auth on every route."""

from __future__ import annotations

import re

from pbshare.api import PUBLIC_PATHS


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json()["status"] == "alive"
    res = client.get("/readyz")
    assert res.status_code == 200
    assert res.json()["status"] == "ready"


def test_readyz_reports_pending_migrations(settings, tmp_path):
    """A database that was never migrated is not ready, and says what to run."""
    from fastapi.testclient import TestClient

    from pbshare.app import create_app
    from pbshare.config import Settings

    fresh = Settings(data_dir=tmp_path / "fresh")
    with TestClient(create_app(fresh)) as c:
        res = c.get("/readyz")
    assert res.status_code == 503
    assert res.json()["error"]["code"] == "migrations_pending"
    assert "pbshare db upgrade" in res.json()["error"]["message"]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "00000000-0000-7000-8000-000000000000", path)


def test_every_route_except_public_ones_requires_a_session(app, client):
    """Enumerates every API operation in the OpenAPI document: without a session each answers 401."""
    paths = app.openapi()["paths"]
    checked = 0
    for path, operations in paths.items():
        assert path.startswith("/api/v1/"), path
        for method in operations:
            res = client.request(method.upper(), _concrete(path), json={})
            if path in PUBLIC_PATHS:
                assert res.status_code != 401, f"{method} {path} is public but answered 401"
                continue
            assert res.status_code == 401, f"{method} {path} answered {res.status_code}"
            assert set(res.json()["error"]) == {"code", "message", "detail"}
            checked += 1
    assert checked >= 10
    assert {"/api/v1/auth/login"} == PUBLIC_PATHS


def test_error_shape_and_language(client):
    res = client.get("/api/v1/nowhere", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert res.status_code == 404
    assert res.json()["error"]["code"] == "http_404"
    assert "not found" in res.json()["error"]["message"]
    zh = client.get("/api/v1/auth/me", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 401
    assert zh.json()["error"]["message"] == "请先登录"
    client.cookies.set("lang", "en")  # the language switch's cookie wins over the browser's language
    en = client.get("/api/v1/auth/me", headers={"Accept-Language": "zh-CN"})
    assert en.json()["error"]["message"] == "Please log in first"


def test_validation_errors_name_the_fields(client):
    res = client.post("/api/v1/auth/login", json={"username": "x"}, headers={"Accept-Language": "en"})
    assert res.status_code == 422
    assert res.json()["error"]["code"] == "invalid"
    assert res.json()["error"]["message"] == "Please correct the input: Password: Required"


def test_request_id_on_every_response(client):
    res = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", res.headers["X-Request-ID"])
    mine = client.get("/healthz", headers={"X-Request-ID": "abc-123-def-456"})
    assert mine.headers["X-Request-ID"] == "abc-123-def-456"


def test_security_headers(client):
    res = client.get("/")
    csp = res.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'sha256-" in csp  # the inline import map is allowed by its hash only
    assert res.headers["X-Content-Type-Options"] == "nosniff"


def test_openapi_and_docs_are_served_offline(client):
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/auth/login" in spec["paths"]
    docs = client.get("/api/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
