"""Request-body schemas copied from the official OpenAPI spec, and a small validator for them.

The request bodies the emulator accepts are copied from ``openai-admin-openapi-2026-11.yaml``
(``components.schemas``, and the inline body of ``POST /organization/admin_api_keys``); a contract
test proves the copy still equals the spec, so strict mode needs neither PyYAML nor jsonschema at
runtime. :func:`validate` understands the keywords those schemas use (``type``, ``properties``,
``required``, ``items``, ``anyOf``, ``enum``, ``minimum``, ``maximum``) and, like the real API,
refuses arguments the schema does not name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

_EXPIRES_IN_SECONDS: Final = {"type": "integer", "minimum": 1, "maximum": 31536000}

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
            "expires_in_seconds": {
                "anyOf": [_EXPIRES_IN_SECONDS, {"type": "null"}],
                "description": (
                    "Number of seconds until the initial API key expires. If omitted or null, the"
                    " key does not expire unless the effective organization or project policy"
                    " requires an expiration. When a policy sets a maximum lifetime, this value"
                    " must be provided and must not exceed that limit. A non-null value cannot be"
                    " used when `create_service_account_only` is true."
                ),
            },
        },
        "required": ["name"],
    },
    "CreateProjectServiceAccountApiKeyBody": {
        "type": "object",
        "required": [],
        "description": "The service account API key create request payload.",
        "properties": {
            "name": {"type": "string", "description": "API key name."},
            "scopes": {
                "type": "array",
                "items": {"type": "string", "description": "API key scope."},
                "description": "API key scopes.",
            },
            "expires_in_seconds": {
                "anyOf": [_EXPIRES_IN_SECONDS, {"type": "null"}],
                "description": "Number of seconds until the API key expires.",
            },
        },
    },
    "UpdateProjectApiKeyBody": {
        "type": "object",
        "description": (
            "Provide at least one of `scopes` or `expires_in_seconds`; neither accepts null."
        ),
        "properties": {
            "expires_in_seconds": _EXPIRES_IN_SECONDS
            | {
                "description": (
                    "Number of seconds from this request until the API key expires. Must comply"
                    " with the organization and project expiry policies. Expired keys cannot be"
                    " updated. Retrying resets the expiry relative to the new request. Omit to"
                    " keep the current expiration."
                )
            },
            "scopes": {
                "type": "array",
                "items": {"type": "string"},
                "description": (
                    "Replace the API key scope restrictions. Omit to leave scopes unchanged. An"
                    " empty array removes key restrictions (All permissions), subject to the"
                    ' owner\'s effective permissions. Use ["api.all.read"] for read-only access.'
                    " Scopes do not change the owner's roles or grant administrative permissions."
                ),
            },
        },
        "anyOf": [{"required": ["expires_in_seconds"]}, {"required": ["scopes"]}],
    },
    #: Inline in the spec (``POST /organization/admin_api_keys``), not a named component.
    "AdminApiKeyCreateRequest": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "example": "New Admin Key"},
            "expires_in_seconds": _EXPIRES_IN_SECONDS
            | {
                "example": 2592000,
                "description": (
                    "The number of seconds until the API key expires. Omit this field for a key"
                    " that does not expire."
                ),
            },
        },
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
        rest = {name: part for name, part in schema.items() if name != "anyOf"}
        return _check(rest, value, where) or _check_any_of(variants, value, where)
    expected = schema.get("type")
    if expected is not None and not _type_matches(expected, value):
        wanted = _JSON_TYPES.get(str(expected), str(expected))
        got = _JSON_TYPES.get(_type_of(value), "an unknown type")
        name = where or "body"
        message = f"Invalid type for '{name}': expected {wanted}, but got {got} instead."
        return Violation(message, where or None, "invalid_type")
    scalar = _check_bounds(schema, value, where) or _check_enum(schema, value, where)
    if scalar is not None:
        return scalar
    if isinstance(value, dict):
        return _check_object(schema, value, where)
    items = schema.get("items")
    if not (isinstance(value, list) and isinstance(items, Mapping)):
        return None
    checked = (_check(items, item, f"{where}[{index}]") for index, item in enumerate(value))
    return next((violation for violation in checked if violation is not None), None)


def _check_any_of(variants: list[object], value: object, where: str) -> Violation | None:
    checks = [_check(v, value, where) for v in variants if isinstance(v, Mapping)]
    failures = [failure for failure in checks if failure is not None]
    if len(failures) < len(checks):
        return None
    if all(f.code == "missing_required_parameter" for f in failures):
        names = " or ".join(f"'{f.param}'" for f in failures)
        return Violation(f"Provide at least one of {names}.", None, "missing_required_parameter")
    return failures[0]


def _check_enum(schema: Mapping[str, object], value: object, where: str) -> Violation | None:
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return Violation(f"Invalid value for '{where}': {value!r}.", where or None, "invalid_value")
    return None


def _check_bounds(schema: Mapping[str, object], value: object, where: str) -> Violation | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(low, int | float) and value < low:
        message = (
            f"Invalid '{where}': integer below minimum value. Expected a value >= {low},"
            f" but got {value} instead."
        )
        return Violation(message, where or None, "integer_below_min_value")
    if isinstance(high, int | float) and value > high:
        message = (
            f"Invalid '{where}': integer above maximum value. Expected a value <= {high},"
            f" but got {value} instead."
        )
        return Violation(message, where or None, "integer_above_max_value")
    return None


def _check_object(
    schema: Mapping[str, object], value: dict[object, object], where: str
) -> Violation | None:
    declared = schema.get("properties")
    properties = declared if isinstance(declared, Mapping) else {}
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
        if declared is not None and name not in properties:
            return Violation(
                f"Unrecognized request argument supplied: {param}", param, "unknown_parameter"
            )
        if name not in properties:
            continue
        violation = _check(properties[name], item, param)
        if violation is not None:
            return violation
    return None


def validate(schema_name: str, body: object) -> Violation | None:
    """The first way ``body`` breaks the named request schema, or None when it conforms."""
    return _check(REQUEST_SCHEMAS[schema_name], body, "")
