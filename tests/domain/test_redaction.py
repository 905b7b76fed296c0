"""The redaction processor masks keys by field name and by shape, in every configuration."""

from __future__ import annotations

import io
import json
import traceback

import pytest
import structlog

from rotator import log
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    AdminKeyError,
    ConfigError,
    RotatorError,
    SecretNotFoundError,
    ServiceError,
)

KEY = "sk-svcacct-SECRETSECRETSECRET"


@pytest.mark.parametrize("as_json", [True, False])
def test_no_key_value_reaches_a_rendered_line(as_json: bool) -> None:
    """Keys in named fields, free text, nested containers or wrappers never print."""
    stream = io.StringIO()
    log.configure(json=as_json, level="DEBUG", stream=stream)
    try:
        logger = structlog.get_logger("test")
        message = f"event with {KEY} inside"
        logger.info(
            message,
            api_key=KEY,
            Authorization=f"Bearer {KEY}",
            note=f"the key is {KEY}",
            nested={"list": [KEY], "value": "plain"},
            wrapped=Sensitive("anything"),
            key_id="key_abc",
        )
    finally:
        structlog.reset_defaults()
    out = stream.getvalue()
    assert KEY not in out
    assert "anything" not in out
    assert "key_abc" in out
    if as_json:
        line = json.loads(out)
        assert line["api_key"] == "**********"
        assert line["nested"]["value"] == "**********"


def test_mask_leaves_ordinary_values_alone() -> None:
    """Ids, numbers and words that merely start with sk are not mangled."""
    assert log.mask({"key_id": "key_1", "n": 3, "w": "skate"}) == {
        "key_id": "key_1",
        "n": 3,
        "w": "skate",
    }


@pytest.mark.parametrize(
    "error_type", [RotatorError, ConfigError, AdminKeyError, SecretNotFoundError, ServiceError]
)
def test_every_rotator_error_masks_a_key_in_its_message(error_type: type[RotatorError]) -> None:
    """The error tree's base masks key shapes once for all: message, str, args and traceback."""
    key = "sk-admin-" + "Zq9" * 20
    error = error_type(f"admin-key secret {key} was not found")
    shown = [str(error), error.message, repr(error.args)]
    try:
        raise error
    except RotatorError as caught:
        shown.append("".join(traceback.format_exception(caught)))
    for text in shown:
        assert key not in text
        assert "sk-**********" in text


def test_error_masking_leaves_ids_and_names_alone() -> None:
    """Ids, ARNs and names that are not key-shaped stay readable in messages."""
    text = "secret openai/app (proj_abc, key_123, svc_acct_9) in arn:aws:secretsmanager:x"
    assert str(ConfigError(text)) == text


def test_error_masking_keeps_a_bare_key_kind_placeholder_in_a_hint() -> None:
    """``sk-admin-...`` in a fix is a placeholder, kept; a key behind the same prefix is not."""
    hint = 'store the bare sk-admin-... key or {"admin_key": "sk-admin-..."}; an sk-admin- key'
    assert str(ConfigError(hint)) == hint
    assert "sk-admin-Xy" not in str(ConfigError("got sk-admin-Xy12Zw9" + "q" * 30))
