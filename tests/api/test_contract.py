"""One contract: the declarations of forecasts.api.operations are what the OpenAPI
document publishes and exactly what the request parsing enforces."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from forecasts.api import validate
from forecasts.api.openapi import DOCUMENT
from forecasts.api.operations import BODY, QUERY
from forecasts.api.schemas import SCHEMAS
from forecasts.errors import InvalidInput
from forecasts.models import Forecast
from tests.api.conftest import read

URLS = {"listQuestions": "/api/v1/questions", "listMyForecasts": "/api/v1/me/forecasts",
        "getLeaderboard": "/api/v1/leaderboard"}
DECLARED = [(op, p) for op in URLS for p in QUERY[op]]


def _id(case):
    return f"{case[0]}.{case[1].name}"


@pytest.mark.parametrize("case", DECLARED, ids=map(_id, DECLARED))
def test_an_empty_value_is_refused(api, world, case):
    operation, param = case
    for query in (f"{param.name}=", param.name):  # a bare name is empty too
        response = api.get(f"{URLS[operation]}?{query}", token=world.tokens["alice"])
        assert response.status_code == 422, response.body
        assert response.body["error"]["where"] == param.name


@pytest.mark.parametrize("case", [c for c in DECLARED if "maxLength" in c[1].schema],
                         ids=_id)
def test_the_documented_max_length_is_the_enforced_one(api, world, case):
    operation, param = case
    longest = param.schema["maxLength"]
    response = api.get(f"{URLS[operation]}?{param.name}={'x' * (longest + 1)}",
                       token=world.tokens["alice"])
    assert response.status_code == 422 and response.body["error"]["where"] == param.name
    assert str(longest) in response.body["error"]["message"] or param.name == "cursor"


@pytest.mark.parametrize("case", [c for c in DECLARED if c[1].schema["type"] == "integer"],
                         ids=_id)
def test_the_documented_integer_bounds_are_the_enforced_ones(api, world, case):
    operation, param = case
    low, high = param.schema["minimum"], param.schema["maximum"]
    for value, ok in ((low, True), (high, True), (low - 1, False), (high + 1, False)):
        response = api.get(f"{URLS[operation]}?{param.name}={value}",
                           token=world.tokens["alice"])
        assert (response.status_code == 200) == ok, (value, response.body)
        if not ok:
            assert response.body["error"]["where"] == param.name


def test_every_list_operation_documents_its_cursor():
    for item in DOCUMENT["paths"].values():
        for operation in item.values():
            names = {p.get("name") for p in operation.get("parameters", [])}
            ok = operation["responses"].get("200", {})
            if json.dumps(ok).endswith('Page"}}}}') or operation["operationId"].startswith("list"):
                assert {"limit", "offset", "cursor"} <= names, operation["operationId"]


@pytest.mark.parametrize("body, key", [
    ('{"probability": 0.3, "probability": 0.4}', "probability"),
    ('{"rationale": "a", "probability": 0.3, "rationale": "b"}', "rationale"),
    ('{"probability": 0.3, "x": {"a": 1, "a": 2}}', "a"),  # at any depth, before the rest
])
def test_a_repeated_json_key_is_refused_and_changes_nothing(api, world, database, body, key):
    before = read(database, select(func.count(Forecast.id)))
    response = api.post("/api/v1/questions/strike-open/forecasts", token=world.tokens["alice"],
                        data=body, content_type="application/json")
    assert response.status_code == 400 and response.body["error"]["where"] == "body"
    assert repr(key) in response.body["error"]["message"]
    assert read(database, select(func.count(Forecast.id))) == before


@pytest.mark.parametrize("slug, body, where", [
    ("partner-open", {"probabilities": []}, "forecast.probabilities"),
    ("strike-open", {"probabilities": []}, "forecast.probabilities"),
    ("partner-open", {"probabilities": [1.0] + [0.0] * 20}, "forecast.probabilities"),
])
def test_vector_lengths_outside_the_document_are_refused(api, world, slug, body, where):
    response = api.post(f"/api/v1/questions/{slug}/forecasts", token=world.tokens["alice"],
                        json=body)
    assert response.status_code == 422 and response.body["error"]["where"] == where


def test_an_unknown_schema_keyword_is_a_programming_error():
    with pytest.raises(KeyError, match="uniqueItems"):
        validate.check([1], {"type": "array", "uniqueItems": True}, where="x")


# The independent implementation: jsonschema must agree with validate.check on every
# request schema (oneOf is the forecast service's, by the question's kind; formats are
# parsed by params: both are left out of the comparison).
def _comparable(schema):
    if isinstance(schema, dict):
        return {k: _comparable(v) for k, v in schema.items()
                if k not in ("oneOf", "format", "x-pattern-message")}
    if isinstance(schema, list):
        return [_comparable(v) for v in schema]
    return schema


REQUEST_SCHEMAS = [SCHEMAS[name] for name, _ in BODY.values()] + \
    [p.schema for params in QUERY.values() for p in params]
values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 2 * 10**9) | st.floats(allow_nan=False) | st.sampled_from([1.0, 2.0, -0.0])
    | st.text(max_size=5) | st.sampled_from(["open", "default", "x" * 201, " ", "ab-c_9",
                                            0.5, 0.001, 0.0009, "brier"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["probability", "probabilities", "rationale", "other"]), inner,
        max_size=3), max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(index=st.integers(0, len(REQUEST_SCHEMAS) - 1), value=values)
def test_validate_agrees_with_jsonschema(index, value):
    schema = _comparable(REQUEST_SCHEMAS[index])
    expected = Draft202012Validator(schema).is_valid(value)
    try:
        validate.check(value, schema, where="x")
        got = True
    except InvalidInput:
        got = False
    assert got == expected, (schema, value)
