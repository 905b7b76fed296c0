"""The Secrets Manager rotation protocol as pure decisions over plain data.

No I/O and no logging here: the rotation service asks these functions what to do and acts.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rotator.domain.ids import check_secret_reference, looks_like_key
from rotator.domain.models import AWSCURRENT, AWSPENDING
from rotator.domain.secret_value import RetiringKey, RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    ConfigError,
    RotationInProgressError,
    SecretFormatError,
    UnknownVersionError,
)

#: ClientRequestToken as RotateSecret accepts it: 32-64 characters (printable ASCII, no space:
#: the same set a rotator-made name carries, see ``naming``).
_TOKEN = re.compile(r"^[\x21-\x7e]{32,64}$")
_ROTATION_TOKEN = re.compile(r"^[A-Za-z0-9-]{36,256}$")
#: DescribeSecret's limit for a SecretId (a name or an ARN).
MAX_SECRET_ID = 2048


class Step(enum.StrEnum):
    """The four steps Secrets Manager calls, by their event names."""

    CREATE = "createSecret"
    SET = "setSecret"
    TEST = "testSecret"
    FINISH = "finishSecret"


@dataclass(frozen=True)
class RotationEvent:
    """A Secrets Manager rotation invocation, validated. ``rotation_token`` never prints."""

    step: Step
    secret_id: str
    token: str
    rotation_token: Sensitive | None = None


def parse_event(event: Any) -> RotationEvent:
    """Validate a rotation event; every problem is a one-line :class:`ConfigError`."""
    if not isinstance(event, Mapping):
        raise ConfigError("rotation event must be a JSON object with Step, SecretId and token")
    step_raw = event.get("Step")
    try:
        step = Step(str(step_raw))
    except ValueError:
        names = ", ".join(s.value for s in Step)
        raise ConfigError(
            f"unknown rotation step {str(step_raw)[:40]!r}; expected one of {names}"
        ) from None
    secret_id = event.get("SecretId")
    if not isinstance(secret_id, str) or not secret_id.strip():
        raise ConfigError("rotation event has no SecretId; Secrets Manager always sends one")
    if len(secret_id) > MAX_SECRET_ID:
        raise ConfigError(
            f"rotation event's SecretId is {len(secret_id)} characters; a secret name or ARN "
            f"has at most {MAX_SECRET_ID}: send the secret's ARN"
        )
    check_secret_reference(secret_id, field="the rotation event's SecretId")
    token = event.get("ClientRequestToken")
    if isinstance(token, str) and looks_like_key(token):
        raise ConfigError(
            "rotation event's ClientRequestToken holds an API key, not a version id; send the "
            "token RotateSecret returned"
        )
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise ConfigError(
            "rotation event has no valid ClientRequestToken (32-64 printable characters, "
            "no spaces, as RotateSecret takes it)"
        )
    rotation_token_raw = event.get("RotationToken")
    rotation_token = None
    if rotation_token_raw is not None:
        if not isinstance(rotation_token_raw, str) or not _ROTATION_TOKEN.match(rotation_token_raw):
            raise ConfigError(
                "rotation event has a malformed RotationToken; it must be 36-256 letters, "
                "digits or hyphens, as Secrets Manager sends it (or be left out)"
            )
        rotation_token = Sensitive(rotation_token_raw)
    return RotationEvent(step=step, secret_id=secret_id, token=token, rotation_token=rotation_token)


def prune_target(event: Any) -> str | None:
    """The SecretId of a scheduled prune event ``{"Action": "prune", "SecretId": ...}``."""
    if not isinstance(event, Mapping) or "Action" not in event:
        return None
    if event["Action"] != "prune":
        raise ConfigError(
            f"unknown Action {str(event['Action'])[:40]!r}; the actions are 'prune' and 'audit'"
        )
    secret_id = event.get("SecretId")
    if not isinstance(secret_id, str) or not secret_id.strip():
        raise ConfigError('prune event has no SecretId; send {"Action": "prune", "SecretId": ARN}')
    return check_secret_reference(secret_id, field="the prune event's SecretId")


class Decision(enum.Enum):
    """What a step should do after the guard checks."""

    PROCEED = "proceed"
    #: The token's version already carries AWSCURRENT: the rotation finished.
    ALREADY_CURRENT = "already_current"


def guard(
    step: Step,
    token: str,
    versions: Mapping[str, frozenset[str]],
    *,
    secret_name: str,
    rotation_enabled: bool,
    require_rotation_enabled: bool,
    token_may_be_new: bool,
) -> Decision:
    """The checks at the start of every step (the AWS rotation template's, made strict).

    ``require_rotation_enabled`` is set for Lambda invocations; ``token_may_be_new`` lets a
    local rotation's createSecret run before its version exists (it creates it).
    """
    if require_rotation_enabled and not rotation_enabled:
        raise ConfigError(
            f"rotation is not enabled for secret {secret_name}; enable it with "
            "`rotator schedule` or `aws secretsmanager rotate-secret`"
        )
    if AWSCURRENT not in {stage for stages in versions.values() for stage in stages}:
        raise SecretFormatError(
            f"secret {secret_name} has no AWSCURRENT version; seed it first with `rotator init`"
        )
    stages = versions.get(token)
    if stages is None:
        if token_may_be_new and step is Step.CREATE:
            # A local run's new token: it must not take AWSPENDING from a scheduled rotation
            # that started since the run looked (review L9).
            refuse_if_in_progress(versions, secret_name=secret_name, own_token=token)
            return Decision.PROCEED
        raise UnknownVersionError(
            f"version {token} is not a version of secret {secret_name} (or no longer is: "
            "another rotation may have replaced it); the event's ClientRequestToken must come "
            "from RotateSecret on this secret"
        )
    if AWSCURRENT in stages:
        return Decision.ALREADY_CURRENT
    if AWSPENDING not in stages:
        raise ConfigError(
            f"version {token} of secret {secret_name} is no longer AWSPENDING: another "
            "rotation is in progress or it was abandoned; check `rotator status`"
        )
    return Decision.PROCEED


def current_version(versions: Mapping[str, frozenset[str]], *, secret_name: str) -> str:
    for version_id, stages in versions.items():
        if AWSCURRENT in stages:
            return version_id
    raise SecretFormatError(
        f"secret {secret_name} has no AWSCURRENT version; seed it first with `rotator init`"
    )


def stuck_pending(versions: Mapping[str, frozenset[str]]) -> str | None:
    """The version holding AWSPENDING without AWSCURRENT (an unfinished rotation), or None."""
    for version_id, stages in versions.items():
        if AWSPENDING in stages and AWSCURRENT not in stages:
            return version_id
    return None


def refuse_if_in_progress(
    versions: Mapping[str, frozenset[str]], *, secret_name: str, own_token: str | None = None
) -> None:
    pending = stuck_pending(versions)
    if pending is not None and pending != own_token:
        raise RotationInProgressError(
            f"another rotation of {secret_name} is in progress (AWSPENDING on version "
            f"{pending}); wait for it, or clear it with `rotator recover {secret_name}`"
        )


def retiring_after_rotation(
    current: RotatorSecret,
    *,
    current_version_id: str,
    now: datetime,
    grace: timedelta,
    gone: frozenset[str] = frozenset(),
) -> tuple[RetiringKey, ...]:
    """The ``retiring`` list of the next version: the current key plus still-live earlier ones.

    An earlier entry is dropped only when its key id is in ``gone``: a DELETE of that exact key
    (or its account) in its own project answered 200 or 404. Anything not known to be gone is
    kept, so a live key is never forgotten.
    """
    kept = tuple(
        entry
        for entry in current.retiring
        if entry.key_id not in gone and entry.key_id != current.key_id
    )
    replaced = RetiringKey(
        key_id=current.key_id,
        service_account_id=current.service_account_id,
        not_after=now + grace,
        version_id=current_version_id,
        project_id=current.project_id,
    )
    return (*kept, replaced)


def split_due(
    retiring: tuple[RetiringKey, ...], *, now: datetime
) -> tuple[tuple[RetiringKey, ...], tuple[RetiringKey, ...]]:
    """(due, not yet due) by ``not_after``."""
    due = tuple(entry for entry in retiring if entry.not_after <= now)
    later = tuple(entry for entry in retiring if entry.not_after > now)
    return due, later


def replaced_version(secret: RotatorSecret) -> str | None:
    """The version a pending value was built from (its compare-and-swap expectation)."""
    if secret.retiring and secret.retiring[-1].key_id != secret.key_id:
        return secret.retiring[-1].version_id
    return None


def recorded_keys(*secrets: RotatorSecret | None) -> frozenset[str]:
    """Every key id a set of secret values records (its key and retiring keys)."""
    ids: set[str] = set()
    for secret in secrets:
        if secret is not None:
            ids.add(secret.key_id)
            ids.update(entry.key_id for entry in secret.retiring)
    return frozenset(ids)


def recorded_service_accounts(*secrets: RotatorSecret | None) -> frozenset[str]:
    """Every service account a set of secret values points at (its key and retiring keys)."""
    ids: set[str] = set()
    for secret in secrets:
        if secret is None:
            continue
        if secret.service_account_id:
            ids.add(secret.service_account_id)
        ids.update(e.service_account_id for e in secret.retiring if e.service_account_id)
    return frozenset(ids)
