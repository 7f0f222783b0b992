"""/api/v1/openapi.json: a valid OpenAPI 3.1 document covering every endpoint."""
from __future__ import annotations

import json

import jsonschema
import pytest
from openapi_spec_validator import validate

from forecasts.api import forecasts, leaderboard, questions
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
            routes[path] = {m.lower() for m in rule.methods - IGNORED_METHODS}
    documented = {path: set(item) for path, item in DOCUMENT["paths"].items()}
    assert routes == documented


@pytest.mark.parametrize("path, accepted", [
    ("/questions", questions.LIST_PARAMS),
    ("/leaderboard", leaderboard.PARAMS),
    ("/me/forecasts", ("question", "limit", "offset", "cursor")),
])
def test_documented_query_parameters_are_the_accepted_ones(path, accepted):
    operation = DOCUMENT["paths"][path]["get"]
    names = set()
    for parameter in operation["parameters"]:
        if "$ref" in parameter:
            parameter = DOCUMENT["components"]["parameters"][parameter["$ref"].split("/")[-1]]
        names.add(parameter["name"])
    assert names == set(accepted)


def test_request_schema_matches_the_accepted_fields():
    schema = DOCUMENT["components"]["schemas"]["ForecastInput"]
    assert set(schema["properties"]) == set(forecasts.FIELDS)


def test_writes_declare_bearer_security():
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            needs_token = path in ("/questions/{slug}/forecasts", "/me/forecasts")
            assert ("security" in operation) == needs_token, (method, path)
            if needs_token:
                assert "401" in operation["responses"]


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
