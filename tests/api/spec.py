"""Checking API responses against the served OpenAPI document."""
from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator

from forecasts.api.openapi import DOCUMENT

PREFIX = "/api/v1"


def operation(method: str, path: str) -> dict[str, Any] | None:
    """The documented operation serving `method path`, or None."""
    if not path.startswith(PREFIX + "/"):
        return None
    rest = path[len(PREFIX):]
    for template, item in DOCUMENT["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, rest) and method.lower() in item:
            return item[method.lower()]
    return None


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = DOCUMENT
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def schema_for(method: str, path: str, status: int) -> dict[str, Any]:
    """The documented schema of this response; the operation must list the status itself
    (an undocumented status fails), and unknown routes answer with the Error schema."""
    op = operation(method, path)
    if op is None:
        assert status in (404, 405), f"{method} {path}: {status} from an undocumented route"
        return {"$ref": "#/components/schemas/Error"}
    responses = op["responses"]
    assert str(status) in responses, f"{method} {path}: status {status} is not documented"
    return _resolve(responses[str(status)])["content"]["application/json"]["schema"]


def validate(method: str, path: str, response) -> Any:
    """Assert the response is JSON matching the document; return its body.
    `path` is the request's path without the query string."""
    assert response.mimetype == "application/json", (response.status, response.data[:200])
    body = response.get_json()
    schema = schema_for(method, path, response.status_code)
    # The components ride along so that "#/components/..." references resolve.
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": DOCUMENT["components"], "allOf": [schema]}
    Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    return body
