"""GET /api/v1/users/{username}/compare: the comparison as the service makes it; errors."""
from __future__ import annotations

import pytest


def test_compare_with_the_crowd_by_default_and_with_a_user(api, world):
    crowd = api.get("/api/v1/users/alice/compare")
    assert crowd.status_code == 200, crowd.body
    assert crowd.body["with"] == "crowd"
    assert [m["metric"] for m in crowd.body["metrics"]] == ["brier", "log"]
    n = crowd.body["questions"]
    assert len(crowd.body["rows"]) == min(n, 50)
    users = api.get("/api/v1/users/alice/compare?with=BOB")
    assert users.status_code == 200 and users.body["with"] == "bob"
    assert [m["metric"] for m in users.body["metrics"]] == ["peer", "brier"]
    for m in users.body["metrics"]:
        assert m["verdict"] in ("better", "worse", "undecided", "none")
        if users.body["questions"]:
            rows = users.body["rows"]
            mean = sum(r["user"][m["metric"]] - r["with"][m["metric"]] for r in rows) / len(rows)
            assert m["difference"] == pytest.approx(mean)


def test_paging_the_rows(api, world):
    whole = api.get("/api/v1/users/alice/compare?with=bob").body
    part = api.get("/api/v1/users/alice/compare?with=bob&limit=1&offset=0").body
    assert part["rows"] == whole["rows"][:1] and part["metrics"] == whole["metrics"]
    assert api.get("/api/v1/users/alice/compare?offset=1000").body["rows"] == []


@pytest.mark.parametrize("url, status, where", [
    ("/api/v1/users/nobody/compare", 404, "user"),
    ("/api/v1/users/alice/compare?with=nobody", 422, "with"),
    ("/api/v1/users/alice/compare?with=alice", 422, "with"),
    ("/api/v1/users/alice/compare?with=", 422, "with"),
    ("/api/v1/users/alice/compare?against=bob", 400, "query"),
])
def test_errors(api, world, url, status, where):
    response = api.get(url)
    assert response.status_code == status, response.body
    assert response.body["error"]["where"] == where
