"""/api/v1/openapi.json: a valid OpenAPI 3.1 document covering every endpoint."""
from __future__ import annotations

import json

import jsonschema
import pytest
from openapi_spec_validator import validate

from forecasts.api.openapi import DOCUMENT
from tests.api import spec

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def test_document_is_valid_openapi(api):
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.body == json.loads(json.dumps(DOCUMENT))
    assert response.body["openapi"].startswith("3.1")
    validate(response.body)


def test_every_route_is_documented_and_every_documented_route_exists(app):
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}")
            # One path may have several rules (PUT and DELETE in separate views).
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - IGNORED_METHODS)
    documented = {path: set(item) for path, item in DOCUMENT["paths"].items()}
    assert routes == documented


# One valid value per declared query parameter, to send to the live endpoint.
EXAMPLES = {"status": "open", "tag": "trade", "q": "strike", "sort": "newest", "mine": "false",
            "unforecast": "false", "stale": "false", "limit": "5", "offset": "0",
            "cursor": None, "question": "strike-open", "metric": "brier", "min_questions": "1",
            "with_crowd": "true", "with": "bob", "from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z", "tournament": "spring-cup"}


def _operations():
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


@pytest.mark.parametrize("path, method, operation", list(_operations()),
                         ids=[op["operationId"] for _, _, op in _operations()])
def test_documented_query_parameters_are_the_accepted_ones(api, world, path, method,
                                                           operation):
    url = "/api/v1" + path.replace("{slug}", "strike-open").replace("{username}", "alice")
    declared = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
    for name in declared:
        value = EXAMPLES[name]
        if value is None:  # a cursor comes from a previous page
            # From whichever user's list has a second page (cursors name no user).
            value = next(filter(None, (api.get(url + "?limit=1", token=token).body["next_cursor"]
                                       for token in world.tokens.values())), None)
        response = api.request(method.upper(), f"{url}?{name}={value}",
                               token=world.tokens["alice"], json={"probability": 0.5})
        assert response.status_code in (200, 201), (name, response.body)
    undeclared = api.request(method.upper(), url + "?undeclared=1", token=world.tokens["alice"],
                             json={"probability": 0.5})
    assert undeclared.status_code == 400 and undeclared.body["error"]["where"] == "query"
    for name in declared:
        assert name in undeclared.body["error"]["message"]


def test_every_documented_body_field_is_accepted(api, world):
    schema = DOCUMENT["components"]["schemas"]["ForecastInput"]
    examples = {"probability": 0.4, "rationale": "because"}
    # cdf and quantiles (numeric and date questions): tests/api/test_numeric_api.py.
    assert set(schema["properties"]) == {*examples, "probabilities", "cdf", "quantiles"}
    response = api.post("/api/v1/questions/strike-open/forecasts", token=world.tokens["alice"],
                        json=examples)
    assert response.status_code == 201
    response = api.post("/api/v1/questions/partner-open/forecasts",
                        token=world.tokens["alice"],
                        json={"probabilities": [0.25, 0.25, 0.25, 0.25]})
    assert response.status_code == 201


def test_writes_declare_bearer_security():
    required, optional = [{"bearerAuth": []}], [{}, {"bearerAuth": []}]
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method != "get" or path.startswith("/me/"):
                assert operation.get("security") == required, (method, path)
            elif path in ("/questions", "/questions/{slug}"):
                # An optional token: the crowd is the one its user may see.
                assert operation.get("security") == optional, (method, path)
            assert operation.get("security") in (None, required, optional), (method, path)
            if "security" in operation:
                assert "401" in operation["responses"], (method, path)


class FakeResponse:
    mimetype = "application/json"
    headers: dict = {}

    def __init__(self, status: int, body):
        self.status_code, self.body, self.status, self.data = status, body, str(status), b""

    def get_json(self):
        return self.body


@pytest.mark.parametrize("status, body", [
    (200, {"items": [], "limit": 50}),                                   # next_cursor missing
    (200, {"items": [{"slug": "x"}], "limit": 50, "next_cursor": None}),  # item incomplete
    (200, {"items": [], "limit": 500, "next_cursor": None}),             # limit out of range
    (422, {"error": {"code": "invalid_input"}}),                         # message missing
    (422, {"error": {"code": "x", "message": "y", "extra": 1}}),         # unknown member
])
def test_the_checker_rejects_responses_that_break_the_document(status, body):
    with pytest.raises(jsonschema.ValidationError):
        spec.validate("GET", "/api/v1/questions", FakeResponse(status, body))


def test_the_checker_rejects_undocumented_statuses():
    with pytest.raises(AssertionError, match="not documented"):
        spec.validate("GET", "/api/v1/questions", FakeResponse(409, {
            "error": {"code": "conflict", "message": "no"}}))
