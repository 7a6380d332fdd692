"""Schemathesis over every operation of the OpenAPI document, as a data admin, destructive ones included.

A bounded, deterministic run (``derandomize``: the same cases every time) that fails on any 500 and on any
answer that does not match the schema the document promises. Findings of the first outside probe have their
own focused tests below.
"""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from pbshare.security.clients import service as api_clients
from tests.conftest import login, make_user

EXAMPLES = 4  # per operation; about a minute per database for the whole document
CHECKS = [not_a_server_error, response_schema_conformance]


def _logged_in(client: TestClient, database, n: int) -> dict[str, str]:
    """A fresh data admin's session: operations such as logout or a password change may end the last one."""
    make_user(database, f"fuzz{n}", ["data_admin"])
    client.cookies.clear()
    me = login(client, f"fuzz{n}")
    return {"X-CSRF-Token": me["csrf_token"], "Cookie": f"pbshare_session={client.cookies.get('pbshare_session')}"}


def test_every_operation_answers_without_a_500_and_as_documented(app, database):
    schema = schemathesis.openapi.from_dict(app.openapi())  # the document the app serves at /api/openapi.json
    schema.app = app
    failures: list[str] = []
    operations = 0
    with TestClient(app) as client:
        session: dict[str, str] = {}  # the headers of the current session, renewed in place when it ends
        for n, result in enumerate(schema.get_all_operations()):
            operation = result.ok()
            operations += 1
            if not session or client.get("/api/v1/auth/me", headers=session).status_code != 200:
                session.clear()
                session.update(_logged_in(client, database, n))

            @given(case=operation.as_strategy())
            @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                                 phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def probe(case) -> None:
                case.call_and_validate(headers=session, checks=CHECKS)

            try:
                probe()
            except Exception as exc:  # every operation is probed; all findings are reported together
                inner = "; ".join(str(e)[:600] for e in getattr(exc, "exceptions", []))  # a flaky one's first failure
                failures.append(f"{operation.label}: {str(exc)[:1500]} {inner}")
    assert operations >= 100
    assert not failures, "\n\n".join(failures)


def test_a_non_ascii_totp_code_is_a_wrong_code_not_a_500(client, as_user):
    as_user("enroller", ["data_admin"])
    assert client.post("/api/v1/auth/totp/enrol").status_code == 200
    res = client.post("/api/v1/auth/totp/confirm", json={"code": "一二三四五六"})
    assert 400 <= res.status_code < 500, res.text
    assert res.json()["error"]["code"]


def test_a_signed_form_upload_is_refused_clearly_not_a_500(client, database, as_user):
    admin = as_user("keeper", ["security_admin"])
    made = admin.post("/api/v1/api-clients", json={"unit_code": "SZBA", "name": "uploader", "alg": "HMAC-SM3"})
    assert made.status_code in (200, 201), made.text
    issued = made.json()
    client.cookies.clear()
    files = {"file": ("a.csv", b"a,b\n1,2\n", "text/csv")}
    prepared = client.build_request("POST", "/api/v1/collect/uploads", files=files)
    body = prepared.read()
    signed = api_clients.sign_request("POST", "/api/v1/collect/uploads", body, client_id=issued["client"]["id"],
                                      key_id=issued["key_id"], alg="HMAC-SM3",
                                      secret=bytes.fromhex(issued["secret_hex"]))
    res = client.post("/api/v1/collect/uploads", content=body,
                      headers={**signed, "Content-Type": prepared.headers["content-type"]})
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == "signed_form_unsupported"


def test_text_the_database_cannot_store_is_a_422_and_changes_nothing(client, as_user, backend):
    as_user("lineage_keeper", ["data_admin"])
    res = client.post("/api/v1/metadata/lineage", json={"target": "case.t\x00", "sources": ["file:a"],
                                                          "via_kind": "import"})
    if backend == "postgresql":  # PostgreSQL text cannot hold NUL; SQLite stores it
        assert res.status_code == 422, res.text
        assert res.json()["error"]["code"] == "invalid_data"
    else:
        assert res.status_code == 204, res.text
    assert client.get("/api/v1/auth/me").status_code == 200, "the session is intact after the refusal"
