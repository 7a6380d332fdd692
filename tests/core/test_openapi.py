"""The OpenAPI document tells the truth: how to get in, and the errors every route may answer."""

from __future__ import annotations

from pbshare.api import PUBLIC_PATHS


def test_the_three_ways_in_are_described_and_every_protected_route_takes_them(app):
    doc = app.openapi()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["session"] == {**schemes["session"], "type": "apiKey", "in": "cookie", "name": "pbshare_session"}
    assert schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"] == "X-CSRF-Token"
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    signed = {s["name"] for s in schemes.values() if s.get("name", "").startswith("X-PB-")}
    assert signed == {"X-PB-Client", "X-PB-Key", "X-PB-Alg", "X-PB-Timestamp", "X-PB-Nonce", "X-PB-Signature"}
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if path in PUBLIC_PATHS:
                assert op["security"] == [], path
                continue
            ways = op["security"]
            assert len(ways) == 3 and {"bearer": []} in ways, (method, path)
            session = next(w for w in ways if "session" in w)
            assert ("csrf" in session) == (method != "get"), (method, path)
            assert {s for w in ways for s in w} <= set(schemes)


def test_every_route_documents_its_error_answers_with_the_error_body(app, client):
    doc = app.openapi()
    body = doc["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["error"]
    for path, operations in doc["paths"].items():
        expected = {"400", "401", "413", "422", "503"} if path in PUBLIC_PATHS else \
            {"400", "401", "403", "404", "409", "413", "422", "503"}
        for method, op in operations.items():
            assert expected <= set(op["responses"]), (method, path, sorted(op["responses"]))
            unauthorised = op["responses"]["401"]["content"]["application/json"]["schema"]
            assert unauthorised == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
    served = client.get("/api/openapi.json").json()
    assert served["components"]["securitySchemes"] == doc["components"]["securitySchemes"]
