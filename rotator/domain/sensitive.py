"""A wrapper for key material whose repr and str never show the value, and the key shape.

:data:`KEY_PATTERN` is the one regex for "looks like an OpenAI key" (``sk-`` and at least six
key characters, including the ``*`` and ``.`` of OpenAI's redacted forms); the log processor and
the OpenAI adapter mask with it.
"""

from __future__ import annotations

import re
from typing import Final

REDACTED: Final = "**********"
KEY_PATTERN: Final = re.compile(r"sk-[A-Za-z0-9_\-*.]{6,}")
#: A key standing on its own (not ``sk-`` inside a word such as ``task-runner``): what makes a
#: value that should be an id or a name count as key material, to be refused without echo.
STANDALONE_KEY: Final = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-*.]{3,}")


class Sensitive:
    """Holds a secret string. Ask for it explicitly with :meth:`reveal`.

    ``repr``, ``str`` and ``format`` all show a redacted placeholder, so a key wrapped in
    ``Sensitive`` cannot leak through a log line, an f-string or an exception message by accident.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Sensitive holds a str")
        self._value = value

    def reveal(self) -> str:
        """Return the secret value. Call this only where the value is sent to its service."""
        return self._value

    def __repr__(self) -> str:
        return f"Sensitive({REDACTED})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sensitive):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)
