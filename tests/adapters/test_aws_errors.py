"""The botocore map is complete: every botocore exception becomes a rotator error (httpx style)."""

from __future__ import annotations

import inspect
import string

import botocore.exceptions as botocore_errors
import pytest

from rotator.adapters.aws_errors import translate_error
from rotator.errors import RotatorError


def _botocore_errors() -> list[Exception]:
    """One instance of every exception class botocore defines (warnings and helpers aside)."""
    made: list[Exception] = []
    for cls in vars(botocore_errors).values():
        if not inspect.isclass(cls) or cls.__module__ != "botocore.exceptions":
            continue
        if issubclass(cls, botocore_errors.ClientError):
            made.append(cls({"Error": {"Code": "Unmapped", "Message": "m"}}, "GetSecretValue"))
        elif issubclass(cls, botocore_errors.WaiterError):
            made.append(cls(name="w", reason="r", last_response={}))
        elif issubclass(cls, botocore_errors.BotoCoreError):
            fields = {name for _, name, _, _ in string.Formatter().parse(cls.fmt) if name}
            made.append(cls(**dict.fromkeys(fields, "x")))
    return made


ERRORS = _botocore_errors()


def test_every_botocore_exception_class_is_covered() -> None:
    """The table below is not empty: botocore's exception module was read."""
    assert len(ERRORS) > 90


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: type(error).__name__)
def test_botocore_exception_maps_into_the_error_tree(error: Exception) -> None:
    """GIVEN any botocore exception WHEN translated THEN a rotator error with an exit code."""
    translated = translate_error(error, action="GetSecretValue", secret_id="s", region="r")
    assert isinstance(translated, RotatorError)
    assert not isinstance(translated, botocore_errors.BotoCoreError | botocore_errors.ClientError)
    assert translated.exit_code in {1, 2}
    assert str(translated)
