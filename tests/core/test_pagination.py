"""Page numbers are bounded everywhere a list is paged: an absurd page is a clear 422, never a 500."""

from __future__ import annotations

from pbshare.core.pagination import MAX_PAGE

HUGE = 5556935590063020032  # what the outside probe sent: its offset overflows a 64-bit integer

PAGED = [
    ("data_admin", "/api/v1/catalog/resources"),
    ("data_admin", "/api/v1/collect/runs/00000000-0000-7000-8000-000000000000/quarantine"),
    ("data_admin", "/api/v1/warehouse/tables/case/nothing/rows"),
    ("case_handler", "/api/v1/cases"),
    ("auditor", "/api/v1/audit/records"),
]


def test_a_huge_page_number_is_refused_422_on_every_paged_list(client, as_user):
    users: dict[str, bool] = {}
    for role, path in PAGED:
        if role not in users:
            client.cookies.clear()
            as_user(f"pager_{role}", [role])
            users[role] = True
        res = client.get(path, params={"page": HUGE}, headers={"Accept-Language": "en"})
        assert res.status_code == 422, (path, res.status_code, res.text[:200])
        err = res.json()["error"]
        assert err["code"] == "invalid" and "page" in err["message"], path
        assert client.get(path, params={"size": 501}).status_code == 422, path


def test_the_deepest_allowed_page_is_simply_empty(client, as_user):
    as_user("pager", ["data_admin"])
    res = client.get("/api/v1/catalog/resources", params={"page": MAX_PAGE, "size": 500})
    assert res.status_code == 200
    assert res.json()["items"] == [] and res.json()["page"] == MAX_PAGE
