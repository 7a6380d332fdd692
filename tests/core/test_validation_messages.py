"""A refused request names each field by its label in the person's language, with a readable reason, and keeps
the path so the browser can show it at the field."""

from __future__ import annotations


def test_missing_and_too_long_fields_are_named_by_label_in_chinese(client):
    res = client.post("/api/v1/auth/login", json={"username": "x" * 65})
    assert res.status_code == 422
    err = res.json()["error"]
    assert err["code"] == "invalid"
    assert err["message"] == "输入有误，请修改后重试：用户名：最多 64 个字符；密码：必填"
    by_field = {tuple(p["loc"]): p for p in err["detail"]}
    assert by_field[("body", "password")]["msg"] == "必填"
    assert by_field[("body", "password")]["label"] == "密码"
    assert by_field[("body", "username")]["msg"] == "最多 64 个字符"


def test_the_same_refusal_in_english(client):
    client.cookies.set("lang", "en")
    res = client.post("/api/v1/auth/login", json={"username": "", "password": "p"})
    err = res.json()["error"]
    assert err["message"] == "Please correct the input: User name: At least 1 characters"
    assert err["detail"][0]["label"] == "User name"


def test_a_query_parameter_is_named_and_a_number_asked_for(client):
    client.cookies.set("lang", "en")
    res = client.get("/api/v1/cases?page=abc")
    err = res.json()["error"]
    assert res.status_code in (401, 422)
    if res.status_code == 422:
        assert err["detail"][0]["msg"] == "Enter a whole number"
