"""Hypothesis throws random paths, methods, query strings, headers and bodies at the API:
nothing may answer 500, every answer is JSON in the documented shape, and a rejected
forecast changes nothing."""
from __future__ import annotations

import json
import math
from urllib.parse import quote, quote_from_bytes, urlencode

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from forecasts.models import Forecast
from tests.api import spec
from tests.api.conftest import read

FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

SLUGS = ["strike-open", "partner-open", "tariff-bins", "strike-later", "strike-closed",
         "strike-resolved", "strike-annulled", "no-such-question"]
PARAMS = ["status", "tag", "q", "sort", "limit", "offset", "cursor", "question", "metric",
          "min_questions", "with_crowd", "from", "to"]
VALUES = ["open", "resolved", "trade", "closing", "forecasters", "brier", "peer", "0", "1",
          "-1", "200", "201", "true", "2026-01-01", "eyJrIjoicXVlc3Rpb25zIiwib2Zmc2V0IjoyfQ",
          "NaN", "1e999", "", "%00", "\x00", "strike-open"]

# No lone surrogates where text must become a URL.
url_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=24)
scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
           | st.sampled_from([0.3, 0.5, 0.999, 0.001, 1e308, -0.0]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)
probability = st.floats(0, 1) | st.sampled_from([0.001, 0.999, 0.0009, 1.0, 0.5]) | scalars
vector = st.lists(st.integers(1, 60), min_size=2, max_size=5).map(
    lambda xs: [x / sum(xs) for x in xs])  # sums to 1; the length may not fit the question
forecast_like = st.fixed_dictionaries({}, optional={
    "probability": probability | json_values,
    "probabilities": vector | vector | st.lists(probability, max_size=6) | json_values,
    "rationale": st.none() | st.text(max_size=40) | json_values, "extra": json_values})
rationale = st.none() | st.text(max_size=40)
plausible = st.one_of(  # near-valid forecasts, so that acceptance is exercised too
    st.fixed_dictionaries({"probability": probability}, optional={"rationale": rationale}),
    st.fixed_dictionaries({"probabilities": vector}, optional={"rationale": rationale}),
).map(lambda d: json.dumps(d).encode())
bodies = st.one_of(
    forecast_like.map(lambda d: json.dumps(d).encode()),
    forecast_like.map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.sampled_from([b"", b"{", b'{"probability": NaN}', b'{"probability": Infinity}',
                     b"[" * 5000, b'{"probability": 1' + b"0" * 5000 + b"}"]),
)
content_types = st.sampled_from([None, "application/json", "application/json", "text/plain",
                                 "application/json; charset=latin-1", "multipart/form-data",
                                 "application/x-www-form-urlencoded"])
segment = url_text.map(lambda s: quote(s, safe=""))
known = st.sampled_from(["/api/v1/questions", "/api/v1/leaderboard", "/api/v1/me/forecasts",
                         "/api/v1/openapi.json", "/api/v1", "/api/v1/", "/api/"])
paths = st.one_of(
    known, known,
    st.sampled_from(SLUGS).map(lambda slug: f"/api/v1/questions/{slug}/forecasts"),
    st.tuples(st.sampled_from(SLUGS) | segment,
              st.sampled_from(["", "/forecasts", "/scores", "/scores/", "/x"])).map(
        lambda t: f"/api/v1/questions/{t[0]}{t[1]}"),
    st.lists(segment, max_size=4).map(lambda parts: "/api/v1/" + "/".join(parts)),
    st.binary(max_size=16).map(lambda b: "/api/v1/questions/" + quote_from_bytes(b, safe="")),
)
queries = st.one_of(
    st.lists(st.tuples(st.sampled_from(PARAMS) | url_text, st.sampled_from(VALUES) | url_text),
             max_size=4).map(urlencode),
    st.binary(max_size=40).map(lambda b: quote_from_bytes(b, safe="=&")),
)
methods = st.sampled_from(["GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH"])
auth = st.sampled_from([None, "alice", "Bearer fct_garbage", "Basic abc", "Bearer", "bob"])


def send(client, world, method, path, query, body, content_type, who):
    headers = {}
    if who in world.tokens:
        headers["Authorization"] = f"Bearer {world.tokens[who]}"
    elif who is not None:
        headers["Authorization"] = who
    return client.open(path, method=method, query_string=query, data=body,
                       content_type=content_type, headers=headers)


@FUZZ
@given(method=methods, path=paths, query=queries, body=bodies, content_type=content_types,
       who=auth)
def test_no_input_produces_a_server_error(client, world, method, path, query, body,
                                          content_type, who):
    response = send(client, world, method, path, query, body, content_type, who)
    assert response.status_code < 500, response.get_data(as_text=True)
    event(f"status {response.status_code}")
    payload = spec.validate(method, response.request.path, response)
    if response.status_code >= 400:
        assert set(payload) == {"error"} and payload["error"]["message"]


@FUZZ
@given(slug=st.sampled_from(SLUGS[:3]) | st.sampled_from(SLUGS), body=plausible | bodies,
       content_type=st.just("application/json") | content_types)
def test_forecasts_are_stored_only_when_valid(client, world, database, slug, body,
                                              content_type):
    before = read(database, select(func.count(Forecast.id)))
    response = send(client, world, "POST", f"/api/v1/questions/{slug}/forecasts", "", body,
                    content_type, "alice")
    assert response.status_code in (201, 400, 404, 409, 413, 422), response.status_code
    event(f"status {response.status_code}")
    payload = spec.validate("POST", f"/api/v1/questions/{slug}/forecasts", response)
    after = read(database, select(func.count(Forecast.id)))
    if response.status_code != 201:
        assert after == before
        return
    assert after == before + 1
    assert slug in ("strike-open", "partner-open", "tariff-bins")
    probabilities = payload["probabilities"]
    assert all(0.001 <= p <= 0.999 for p in probabilities if slug != "strike-open")
    assert math.isclose(math.fsum(probabilities), 1.0, abs_tol=1e-9)
    sent = json.loads(body)
    assert set(sent) <= {"probability", "probabilities", "rationale"}


READS = {"/api/v1/questions": ["status", "tag", "q", "sort", "limit", "offset", "cursor"],
         "/api/v1/leaderboard": ["metric", "tag", "min_questions", "with_crowd", "from", "to"],
         "/api/v1/me/forecasts": ["question", "limit", "offset", "cursor"]}


@st.composite
def reads(draw):
    """A read endpoint and a query string made mostly of the parameters it takes."""
    path = draw(st.sampled_from(sorted(READS)))
    names = st.sampled_from(READS[path]) | st.sampled_from(PARAMS)
    pairs = draw(st.dictionaries(names, st.sampled_from(VALUES) | url_text, max_size=4))
    return path, urlencode(pairs)


@FUZZ
@given(read=reads(), who=st.sampled_from([None, "alice", "alice"]))
def test_query_strings_of_reads(client, world, read, who):
    path, query = read
    response = send(client, world, "GET", path, query, None, None, who)
    assert response.status_code < 500, response.get_data(as_text=True)
    event(f"status {response.status_code}")
    spec.validate("GET", path, response)
