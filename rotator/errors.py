"""The one error tree of rotator.

Every error rotator raises derives from :class:`RotatorError`. Adapters translate foreign
exceptions (botocore ``ClientError``, httpx errors) into this tree; nothing above the adapters
ever sees a boto3 or httpx exception. Messages are one line, name the problem and the fix, and
never contain key material: :class:`RotatorError` masks anything shaped like an OpenAI key
(``rotator.domain.sensitive.KEY_PATTERN``) in every message, the one place masking happens for
errors, so a key pasted into an id field cannot reach CLI output or the Lambda's ``errorMessage``.

::

    RotatorError
    ├── InputError                 bad input: exit code 2, nothing was changed
    │   ├── ConfigError            a flag, environment variable or event field is wrong
    │   │   └── UnknownVersionError the event's token is not (or no longer) a version
    │   ├── SecretNotFoundError    the secret (or the admin-key secret) does not exist
    │   ├── SecretFormatError      the SecretString is not a valid rotator secret
    │   │   └── AdminKeySecretError it holds an admin key: rotated by rotation.admin_rotation
    │   ├── AdminKeyError          no admin key, or the admin key was rejected / lacks permission
    │   ├── ProjectNotFoundError   the OpenAI project does not exist
    │   ├── ProjectArchivedError   the OpenAI project is archived: no new keys, old keys dead
    │   ├── OwnershipError         the secret's value is not proven to be a key it holds
    │   ├── KeyLifetimeRequiredError OpenAI requires new keys to expire: set a key lifetime
    │   └── RotationInProgressError another rotation holds AWSPENDING
    ├── RotationFailure            a local rotation failed and was rolled back: carries its report
    │                              and the step's error (``cause``), whose exit code it takes
    ├── RotationFailedError        a step failed: exit code 1 (Lambda: raise so AWS retries)
    │   ├── KeyTestFailedError     the pending key never answered GET /models
    │   ├── StageConflictError     another rotation moved AWSCURRENT (compare-and-swap lost)
    │   ├── VersionConflictError   PutSecretValue lost a race: the token's version already exists
    │   ├── CleanupError           a key could not be deleted; the message says which one remains
    │   └── RemoteRotationError    RotateSecret did not finish in time / is stuck
    └── ServiceError               a provider call failed (transient or unexpected)
        ├── EndpointUnsupportedError an older server lacks the operation (404/405 on its route)
        ├── TransientServiceError  5xx, 429, timeouts, dropped connections: safe to retry
        └── ResponseLostError      the request may have taken effect but no answer came back
"""

from __future__ import annotations

import re
from typing import Protocol

# The one key shape. domain.sensitive imports nothing of rotator (only ``re`` and ``typing``),
# so this import makes no cycle at run time; pyproject's import-linter contracts allow exactly
# this one upward import (see the comment there).
from rotator.domain.sensitive import KEY_PATTERN, REDACTED

#: A key kind named as a placeholder in a hint ("store the sk-admin-... key"): no key material.
_PLACEHOLDER_TAILS = frozenset({"admin", "proj", "svcacct", "None"})


def _mask(match: re.Match[str]) -> str:
    tail = match.group(0)[3:].rstrip("-.")
    return match.group(0) if tail in _PLACEHOLDER_TAILS else "sk-" + REDACTED


def mask_message(message: str) -> str:
    """``message`` with every key-shaped run replaced by ``sk-`` and the redaction mark.

    A bare key-kind prefix followed by nothing but dots (``sk-admin-...``, the hint in a fix)
    is left as it is: it carries no key character.
    """
    return KEY_PATTERN.sub(_mask, message)


class RotatorError(Exception):
    """Base of every rotator error. ``step`` names the rotation step, when known.

    The message is masked here, once, for every error in the tree: key-shaped text never
    survives into ``str(error)``, ``error.args`` or a formatted traceback.
    """

    exit_code = 1

    def __init__(self, message: str, *, step: str | None = None) -> None:
        masked = mask_message(str(message))
        super().__init__(masked)
        self.message = masked
        self.step = step

    def __str__(self) -> str:
        return self.message


class InputError(RotatorError):
    """Bad input: the command or event cannot proceed, and nothing was changed."""

    exit_code = 2


class ConfigError(InputError):
    """A flag, environment variable or event field is missing or malformed."""


class UnknownVersionError(ConfigError):
    """The rotation's token is not a version of the secret (or lost every label)."""


class SecretNotFoundError(InputError):
    """The secret does not exist (or is scheduled for deletion)."""


class SecretFormatError(InputError):
    """The secret's value is not a valid rotator secret."""


class AdminKeySecretError(SecretFormatError):
    """The secret holds an OpenAI admin key (an admin-key secret), not a project key."""


class AdminKeyError(InputError):
    """No admin key could be found, or OpenAI refused it (401/403)."""


class ProjectNotFoundError(InputError):
    """The OpenAI project named by the secret does not exist."""


class ProjectArchivedError(InputError):
    """The OpenAI project is archived: it refuses new keys, and its keys no longer work."""


class OwnershipError(InputError):
    """The secret's key, account or project could not be proven to belong together."""


class KeyLifetimeRequiredError(InputError):
    """OpenAI refused a key without (or with too long) an expiry: a lifetime policy applies."""


class RotationInProgressError(InputError):
    """Another rotation holds AWSPENDING on a version other than AWSCURRENT."""


class RotationRecord(Protocol):
    """What :class:`RotationFailure` carries (``rotation.results.RotationReport``)."""

    @property
    def step(self) -> str | None:
        """The step that failed."""
        ...

    def to_json(self) -> dict[str, object]:
        """The report as ``--output json`` prints it."""
        ...


class RotationFailure(RotatorError):
    """A local rotation failed (and was rolled back); ``report`` says what happened."""

    def __init__(
        self, message: str, *, step: str | None, cause: RotatorError, report: RotationRecord
    ) -> None:
        super().__init__(message, step=step)
        self.cause = cause
        self.report = report
        #: The step's error decides: 2 for bad input (nothing changed), 1 otherwise.
        self.exit_code = cause.exit_code


class RotationFailedError(RotatorError):
    """A rotation step failed; AWSCURRENT still holds a working key."""


class KeyTestFailedError(RotationFailedError):
    """The new key did not answer ``GET /models`` within the test deadline."""


class StageConflictError(RotationFailedError):
    """Another rotation promoted a different version first (the compare-and-swap was lost)."""


class VersionConflictError(RotationFailedError):
    """PutSecretValue was refused because the token's version already holds another value."""


class CleanupError(RotationFailedError):
    """A key that should be deleted is still live; the message names it and how to clear it."""


class RemoteRotationError(RotationFailedError):
    """A rotation run by Secrets Manager did not finish in time."""


class ServiceError(RotatorError):
    """A call to AWS or OpenAI failed in a way that is not the caller's fault."""

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, step=step)
        self.status = status
        self.retry_after = retry_after


class EndpointUnsupportedError(ServiceError):
    """The server lacks an operation (404/405 on its route): an older API; fall back."""


class TransientServiceError(ServiceError):
    """A failure that may pass: 429, 5xx, a timeout or a dropped connection."""


class ResponseLostError(TransientServiceError):
    """The request was sent but no response came back: it may have taken effect."""
