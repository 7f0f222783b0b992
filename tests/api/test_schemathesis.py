"""schemathesis generates requests from the served OpenAPI document for every operation,
with and without a token: no answer may be a server error, use a status the operation does
not document, or break the documented response schema; and requests that break the
document (negative mode) must be refused with a 4xx."""
from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (negative_data_rejection,
                                               response_schema_conformance,
                                               status_code_conformance)

from forecasts.api.openapi import DOCUMENT



def _negatable(operation) -> bool:
    item = DOCUMENT["paths"][operation.path][operation.method.lower()]
    return "requestBody" in item or any(p.get("in") == "query" for p in item["parameters"])


@schemathesis.check
def status_listed_by_the_operation(ctx, response, case):
    """Stricter than status_code_conformance, which any status passes through the
    document's `default` response: the operation must list the status itself."""
    listed = DOCUMENT["paths"][case.operation.path][case.method.lower()]["responses"]
    if str(response.status_code) not in listed:
        raise AssertionError(f"{case.operation.label}: status {response.status_code} is not "
                             f"listed (only {', '.join(sorted(listed))})")


CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance,
          status_listed_by_the_operation]
EXAMPLES = 25  # per operation and per token: about 20 s for the whole document
RUN = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
               phases=[Phase.explicit, Phase.generate],
               suppress_health_check=list(HealthCheck))


def _cases(operation, slugs, mode):
    """Generated cases; where the path takes a slug, the world's slugs half of the time,
    so that detail, scores and forecasts are reached and not only their 404."""
    generated = operation.as_strategy(generation_mode=mode)
    if "{slug}" not in operation.path:
        return generated
    return st.one_of(generated, *(operation.as_strategy(generation_mode=mode,
                                                        path_parameters={"slug": slug})
                                  for slug in slugs))


@pytest.mark.parametrize("who, mode", [(None, GenerationMode.POSITIVE),
                                       ("alice", GenerationMode.POSITIVE),
                                       ("alice", GenerationMode.NEGATIVE)])
def test_every_operation_keeps_the_document(app, world, who, mode):
    # The served document, loaded as a dict: from_wsgi would leave out the document's
    # own operation.
    schema = schemathesis.openapi.from_dict(app.test_client().get("/api/v1/openapi.json").json)
    schema.app = app
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = sum(len(item) for item in DOCUMENT["paths"].values())
    assert len(operations) == documented
    headers = {"Authorization": f"Bearer {world.tokens[who]}"} if who else {}
    checks = CHECKS + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])
    started = time.monotonic()
    for operation in operations:
        seen: set[int] = set()

        @RUN
        @given(case=_cases(operation, sorted(world.slugs.values()), mode))
        def run(case):
            response = case.call_and_validate(headers=headers, checks=checks)
            seen.add(response.status_code)

        try:
            run()
        except Unsatisfiable:
            # Nothing of an operation without parameters or body can break the document.
            assert mode == GenerationMode.NEGATIVE and not _negatable(operation), \
                operation.label
            continue
        assert seen, operation.label
    assert time.monotonic() - started < 90
