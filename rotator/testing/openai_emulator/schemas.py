"""Request-body schemas copied from the official OpenAPI spec, and a small validator for them.

The two request bodies the emulator accepts are copied verbatim from ``components.schemas`` of
``openai-admin-openapi.yaml`` (a contract test proves the copy still equals the spec), so strict
mode needs neither PyYAML nor jsonschema at runtime. :func:`validate` understands the keywords
those schemas use (``type``, ``properties``, ``required``, ``items``, ``anyOf``, ``enum``) and,
like the real API, refuses arguments the schema does not name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

REQUEST_SCHEMAS: Final[Mapping[str, Mapping[str, object]]] = {
    "ProjectServiceAccountCreateRequest": {
        "type": "object",
        "properties": {
            "name": {
                "type": "string",
                "description": "The name of the service account being created.",
            },
            "create_service_account_only": {
                "anyOf": [
                    {
                        "type": "boolean",
                        "description": (
                            "Create the service account without default roles or an API key."
                        ),
                    },
                    {"type": "null"},
                ]
            },
        },
        "required": ["name"],
    },
    "CreateProjectServiceAccountApiKeyBody": {
        "properties": {
            "name": {"type": "string", "description": "API key name."},
            "scopes": {
                "items": {"type": "string", "description": "API key scope."},
                "type": "array",
                "description": "API key scopes.",
            },
        },
        "type": "object",
        "required": [],
        "description": "The service account API key create request payload.",
    },
}

_JSON_TYPES: Final = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}


@dataclass(frozen=True)
class Violation:
    """Why a body does not conform, phrased the way the API phrases it."""

    message: str
    param: str | None
    code: str


_PYTHON_TYPES: Final = (
    (type(None), "null"),
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def _type_of(value: object) -> str:
    return next((name for kind, name in _PYTHON_TYPES if isinstance(value, kind)), "unknown")


def _type_matches(expected: object, value: object) -> bool:
    actual = _type_of(value)
    return expected == actual or (expected == "number" and actual == "integer")


def _check(schema: Mapping[str, object], value: object, where: str) -> Violation | None:
    variants = schema.get("anyOf")
    if isinstance(variants, list):
        failures = [_check(variant, value, where) for variant in variants]
        return failures[0] if all(failures) else None
    expected = schema.get("type")
    if expected is not None and not _type_matches(expected, value):
        wanted = _JSON_TYPES.get(str(expected), str(expected))
        got = _JSON_TYPES.get(_type_of(value), "an unknown type")
        name = where or "body"
        message = f"Invalid type for '{name}': expected {wanted}, but got {got} instead."
        return Violation(message, where or None, "invalid_type")
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return Violation(f"Invalid value for '{where}': {value!r}.", where or None, "invalid_value")
    if isinstance(value, dict):
        return _check_object(schema, value, where)
    items = schema.get("items")
    if not (isinstance(value, list) and isinstance(items, Mapping)):
        return None
    checked = (_check(items, item, f"{where}[{index}]") for index, item in enumerate(value))
    return next((violation for violation in checked if violation is not None), None)


def _check_object(
    schema: Mapping[str, object], value: dict[object, object], where: str
) -> Violation | None:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    prefix = f"{where}." if where else ""
    required = schema.get("required")
    for name in required if isinstance(required, list) else []:
        if name not in value:
            param = f"{prefix}{name}"
            return Violation(
                f"Missing required parameter: '{param}'.", param, "missing_required_parameter"
            )
    for name, item in value.items():
        param = f"{prefix}{name}"
        if name not in properties:
            return Violation(
                f"Unrecognized request argument supplied: {param}", param, "unknown_parameter"
            )
        violation = _check(properties[name], item, param)
        if violation is not None:
            return violation
    return None


def validate(schema_name: str, body: object) -> Violation | None:
    """The first way ``body`` breaks the named request schema, or None when it conforms."""
    return _check(REQUEST_SCHEMAS[schema_name], body, "")
