"""The redaction processor masks keys by field name and by shape, in every configuration."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from rotator import log
from rotator.domain.sensitive import Sensitive

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
