"""The four rotation steps for an admin-key secret (it holds an organization admin key).

The admin key that rotates the secret is the secret's own current key, never the configured one.

- createSecret: guard → prove possession (an admin read with the stored key lists the admin
  keys; the id it claims, or for a bare value the one key whose redacted form fits, must be
  there) → delete keys a lost create made for this token (found by name) → create
  ``rotator-<tag16>-<token>`` (``expires_in_seconds`` from ``key_lifetime`` /
  ``ROTATOR_KEY_LIFETIME``) → put AWSPENDING (JSON; the old key recorded in ``retiring``).
- testSecret: the admin read with the new key until it works (bounded by ``test_timeout``).
- finishSecret: one more admin read with the new key, AWSCURRENT moved by compare-and-swap
  (moved back if AWSPENDING vanished), the resolver's cached key dropped, then every
  ``retiring`` admin key deleted *with the new key* and polled until it is refused
  (bounded by ``revocation_timeout``).

Each step is safe to re-run with the same token, as in :mod:`rotator.rotation.engine`.
"""

from __future__ import annotations

import structlog

from rotator.domain import protocol
from rotator.domain.admin_secret import AdminKeySecret
from rotator.domain.models import AWSCURRENT, AWSPENDING, ProbeResult, SecretDescription
from rotator.domain.naming import rotation_name
from rotator.domain.protocol import Decision, RotationEvent, Step
from rotator.domain.secret_value import RetiringKey
from rotator.errors import (
    CleanupError,
    KeyTestFailedError,
    RotationInProgressError,
    RotatorError,
    SecretFormatError,
    StageConflictError,
    UnknownVersionError,
    VersionConflictError,
)
from rotator.rotation import admin_proof
from rotator.rotation.context import RotationContext
from rotator.rotation.results import StepOutcome, StepResult

log = structlog.get_logger("rotator.admin_rotation")


class AdminKeyRotation:
    """Secrets Manager's four steps for one admin-key secret over a :class:`RotationContext`."""

    def __init__(self, ctx: RotationContext) -> None:
        self.ctx = ctx

    def run_step(self, event: RotationEvent, *, token_may_be_new: bool = False) -> StepResult:
        description = self.ctx.describe_live(event.secret_id)
        decision = self._guard(event, description, token_may_be_new=token_may_be_new)
        if event.step is Step.CREATE:
            return self._create(event, description, decision)
        if event.step is Step.SET:
            outcome = StepOutcome.ALREADY_CURRENT
            if decision is not Decision.ALREADY_CURRENT:
                outcome = StepOutcome.NOTHING_TO_DO
            return StepResult(Step.SET, outcome)
        if event.step is Step.TEST:
            return self._test(event, description, decision)
        return self._finish(event, description, decision)

    # -- helpers ------------------------------------------------------------------------

    def _guard(
        self, event: RotationEvent, description: SecretDescription, *, token_may_be_new: bool
    ) -> Decision:
        try:
            return self.ctx.guard(event, description, token_may_be_new=token_may_be_new)
        except UnknownVersionError:
            try:
                raw = self.ctx.store.get_value(description.arn, stage=AWSCURRENT)
                admin_proof.delete_made_for(self.ctx, description.arn, event.token, raw)
            except RotatorError as error:
                log.warning("overtaken_rotation_not_cleaned", error=str(error))
            raise

    def _read(self, arn: str, *, version_id: str | None, stage: str) -> AdminKeySecret | None:
        raw = self.ctx.store.get_value(arn, version_id=version_id, stage=stage)
        return None if raw is None else AdminKeySecret.parse(raw)

    # -- createSecret -------------------------------------------------------------------

    def _create(
        self, event: RotationEvent, description: SecretDescription, decision: Decision
    ) -> StepResult:
        arn, name = description.arn, description.name
        if decision is Decision.ALREADY_CURRENT:
            return StepResult(Step.CREATE, StepOutcome.ALREADY_CURRENT)
        if event.token in description.versions:
            pending = self._read(arn, version_id=event.token, stage=AWSPENDING)
            if pending is not None:
                return StepResult(Step.CREATE, StepOutcome.ALREADY_CREATED, pending.admin_key_id)
        current_id = protocol.current_version(description.versions, secret_name=name)
        current = self._read(arn, version_id=current_id, stage=AWSCURRENT)
        if current is None:
            raise SecretFormatError(f"secret {name} has no value at AWSCURRENT")
        admin = admin_proof.exact_admin(self.ctx, current.admin_key)
        proof = admin_proof.prove_admin_key(admin, current, secret_name=name)
        current = current.adopted(proof.key_id)
        listed = {info.id for info in proof.listing}
        recorded = frozenset({proof.key_id, *(e.key_id for e in current.retiring)})
        now = self.ctx.clock.now()
        admin_proof.delete_unrecorded(
            admin,
            proof.listing,
            secret_arn=arn,
            token=event.token,
            keep=recorded,
            older_than=now - self.ctx.policy.orphan_margin,
        )
        # Old keys an earlier finishSecret could not delete: delete them now (best effort).
        leftover = [e for e in current.retiring if e.key_id in listed]
        _gone, kept = admin_proof.delete_retired(admin, leftover)
        still = tuple(entry for entry, _why in kept)
        lifetime = current.key_lifetime or self.ctx.policy.key_lifetime
        created = admin.create_admin_key(
            rotation_name(arn, event.token),
            expires_in_seconds=None if lifetime is None else int(lifetime.total_seconds()),
        )
        replaced = RetiringKey(
            key_id=proof.key_id, service_account_id=None, not_after=now, version_id=current_id
        )
        new = current.successor(
            admin_key=created.value,
            admin_key_id=created.key_id,
            rotated_at=now,
            retiring=(*still, replaced),
        )
        try:
            self.ctx.store.put_pending(
                arn, event.token, new.to_json(), rotation_token=event.rotation_token
            )
        except VersionConflictError:
            admin.delete_admin_key(created.key_id)  # ours lost the race: it must not live on
            winner = self._read(arn, version_id=event.token, stage=AWSPENDING)
            if winner is None:
                raise
            return StepResult(Step.CREATE, StepOutcome.ALREADY_CREATED, winner.admin_key_id)
        return StepResult(Step.CREATE, StepOutcome.CREATED, created.key_id)

    # -- testSecret ---------------------------------------------------------------------

    def _test(
        self, event: RotationEvent, description: SecretDescription, decision: Decision
    ) -> StepResult:
        if decision is Decision.ALREADY_CURRENT:
            return StepResult(Step.TEST, StepOutcome.ALREADY_CURRENT)
        pending = self._read(description.arn, version_id=event.token, stage=AWSPENDING)
        outcome = StepOutcome.ACCEPTED
        if pending is None:  # test-only mode: prove the current key
            pending = self._read(description.arn, version_id=None, stage=AWSCURRENT)
            outcome = StepOutcome.TESTED_CURRENT_KEY
            if pending is None:
                raise SecretFormatError(f"secret {description.name} has no value at AWSCURRENT")
        key_id = pending.admin_key_id or "(bare)"
        timeout = self.ctx.policy.test_timeout
        last = admin_proof.poll_admin_read(
            self.ctx, pending.admin_key, want=ProbeResult.ACCEPTED, timeout=timeout, key_id=key_id
        )
        if last is not ProbeResult.ACCEPTED:
            raise KeyTestFailedError(
                f"admin key {key_id} was still {last.value} by GET /organization/admin_api_keys "
                f"after {timeout:g}s; AWSCURRENT of {description.name} is unchanged"
            )
        return StepResult(Step.TEST, outcome, pending.admin_key_id)

    # -- finishSecret -------------------------------------------------------------------

    def _finish(
        self, event: RotationEvent, description: SecretDescription, decision: Decision
    ) -> StepResult:
        arn = description.arn
        stage = AWSCURRENT if decision is Decision.ALREADY_CURRENT else AWSPENDING
        new = self._read(arn, version_id=event.token, stage=stage)
        if new is None or new.admin_key_id is None:
            raise SecretFormatError(
                f"version {event.token} of secret {description.name} holds no admin key id"
            )
        outcome = StepOutcome.CLEANED_UP
        if decision is Decision.PROCEED:
            self._promote(description, new, token=event.token)
            outcome = StepOutcome.PROMOTED
        # Whoever resolves this admin-key secret in this process must read the new key.
        self.ctx.admin_keys.forget(arn, description.name)
        gone, kept = admin_proof.delete_retired(
            admin_proof.exact_admin(self.ctx, new.admin_key), new.retiring
        )
        revocations = tuple(
            (entry.key_id, admin_proof.confirm_refused(self.ctx, arn, entry))
            for entry in new.retiring
            if entry.key_id in gone
        )
        if kept:
            raise CleanupError(
                f"{'; '.join(why for _entry, why in kept)}; the new admin key is current in "
                f"{description.name}: the next attempt (or rotation) deletes it"
            )
        return StepResult(
            Step.FINISH,
            outcome,
            new.admin_key_id,
            deleted_key_ids=tuple(gone),
            revocations=revocations,
        )

    def _promote(self, description: SecretDescription, new: AdminKeySecret, *, token: str) -> None:
        """Move AWSCURRENT to ``token`` by compare-and-swap; refuse a key that stopped working."""
        current_id = protocol.current_version(description.versions, secret_name=description.name)
        expected = next(
            (e.version_id for e in reversed(new.retiring) if e.version_id is not None), current_id
        )
        if expected != current_id:
            raise StageConflictError(
                f"another rotation promoted version {current_id} of {description.name} after "
                f"this one started from {expected}; admin key {new.admin_key_id} was not promoted"
            )
        if admin_proof.admin_read(self.ctx, new.admin_key) is ProbeResult.REJECTED:
            raise KeyTestFailedError(
                f"admin key {new.admin_key_id} of version {token} no longer authenticates; it "
                f"was not promoted and AWSCURRENT of {description.name} is unchanged"
            )
        store = self.ctx.store
        store.move_stage(description.arn, AWSCURRENT, to_version=token, from_version=expected)
        if AWSPENDING in store.describe(description.arn).versions.get(token, frozenset()):
            return
        store.move_stage(description.arn, AWSCURRENT, to_version=expected, from_version=token)
        raise RotationInProgressError(
            f"AWSPENDING was removed from version {token} of {description.name} while it was "
            f"being promoted (`rotator recover`?); AWSCURRENT was moved back to {expected}"
        )
