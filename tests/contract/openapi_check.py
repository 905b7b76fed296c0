"""Validate the emulator's answers against the vendored 2026-11 OpenAPI spec.

Each response body is validated with jsonschema (Draft 2020-12) against the schema the spec
declares for that path, method and status; statuses the spec leaves undeclared (401, 403, 404,
405, 429, 5xx) are validated against ``ErrorResponse``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_FILE = Path(__file__).with_name("openai-admin-openapi-2026-11.yaml")
SPEC: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
_URI = "urn:openai-admin-openapi-2026-11"
_REGISTRY: Registry[Any] = Registry().with_resource(
    _URI, Resource.from_contents(SPEC, default_specification=DRAFT202012)
)


def _validator(*pointer: str) -> Draft202012Validator:
    escaped = (quote(part.replace("~", "~0").replace("/", "~1"), safe="~") for part in pointer)
    return Draft202012Validator({"$ref": f"{_URI}#/{'/'.join(escaped)}"}, registry=_REGISTRY)


def conforms(response: httpx.Response, template: str) -> Any:
    """The response's JSON, after asserting it matches the spec for its path/method/status."""
    operation = SPEC["paths"][template][response.request.method.lower()]
    status = str(response.status_code)
    if status in operation["responses"]:
        pointer = ("paths", template, response.request.method.lower(), "responses", status)
        validator = _validator(*pointer, "content", "application/json", "schema")
    else:
        assert response.status_code >= 400, f"undeclared success {status} for {template}"
        validator = _validator("components", "schemas", "ErrorResponse")
    body = response.json()
    errors = [error.message for error in validator.iter_errors(body)]
    assert errors == [], f"{response.request.method} {template} {status}: {errors}"
    return body
