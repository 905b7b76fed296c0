"""Probing keys with ``GET /models``: until a new key is accepted, until a deleted key is refused.

testSecret waits for the new key (OpenAI may take a moment to propagate it); finishSecret
confirms each deleted key now answers 401. Both are one bounded poll.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from rotator.clock import Clock
from rotator.domain.models import ProbeResult
from rotator.domain.secret_value import RetiringKey, RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import KeyTestFailedError, RotatorError
from rotator.ports import KeyProbe
from rotator.retry import Backoff, poll_until
from rotator.rotation.context import RotationContext
from rotator.rotation.results import Revocation

log = structlog.get_logger("rotator.probing")


def poll_probe(
    probe: KeyProbe,
    key: Sensitive,
    *,
    until: ProbeResult | None = None,
    done: Callable[[ProbeResult], bool] | None = None,
    timeout: float,
    backoff: Backoff,
    clock: Clock,
    key_id: str,
) -> ProbeResult:
    """GET /models with ``key`` until it answers ``until`` (or ``done`` says so) or time is up.

    Returns the last answer.
    """
    finished = done or (lambda result: result is until)

    def waiting(_attempt: int, result: ProbeResult, _wait: float) -> None:
        log.info("probe_waiting", key_id=key_id, result=result.value)

    return poll_until(
        lambda: probe.check(key),
        done=finished,
        timeout=timeout,
        delay=lambda attempt: backoff.delay(attempt, clock.rng),
        clock=clock,
        on_wait=waiting,
    )


def wait_until_accepted(ctx: RotationContext, key: Sensitive, *, key_id: str) -> None:
    """GET /models with ``key`` until it works, for at most ``test_timeout``.

    A key works when it answers 200, or 401 ``missing_scope``: a valid key whose scopes exclude
    model reads. Any other 401 means not yet working (OpenAI propagates new keys in seconds).
    """
    policy = ctx.policy
    last = poll_probe(
        ctx.probe,
        key,
        done=lambda result: result.works,
        timeout=policy.test_timeout,
        backoff=policy.probe_backoff,
        clock=ctx.clock,
        key_id=key_id,
    )
    if last.works:
        return
    reason = "rejected with 401" if last is ProbeResult.REJECTED else "unreachable"
    raise KeyTestFailedError(
        f"key {key_id} was still {reason} by GET /models after "
        f"{policy.test_timeout:g}s; AWSCURRENT is unchanged. Check the project's "
        "model access or raise --test-timeout"
    )


def confirm_revoked(ctx: RotationContext, arn: str, entry: RetiringKey) -> Revocation:
    """Poll a deleted key with GET /models until it answers 401, for a bounded time."""
    policy = ctx.policy
    if policy.revocation_timeout <= 0 or entry.version_id is None:
        return Revocation.UNCHECKED
    try:
        raw = ctx.store.get_value(arn, version_id=entry.version_id)
    except RotatorError:
        raw = None
    if raw is None:
        return Revocation.UNCHECKED
    old = RotatorSecret.parse(raw)
    if old.key_id != entry.key_id:
        return Revocation.UNCHECKED
    result = poll_probe(
        ctx.probe,
        old.api_key,
        until=ProbeResult.REJECTED,
        timeout=policy.revocation_timeout,
        backoff=policy.probe_backoff,
        clock=ctx.clock,
        key_id=entry.key_id,
    )
    if result is ProbeResult.REJECTED:
        log.info("revocation_confirmed", key_id=entry.key_id)
        return Revocation.CONFIRMED
    log.warning(
        "old_key_still_accepted",
        key_id=entry.key_id,
        timeout_s=policy.revocation_timeout,
        hint="OpenAI may take minutes to revoke; check the key in the dashboard",
    )
    return Revocation.UNCONFIRMED
