"""The four rotation steps, one engine for the Lambda and the CLI.

Every step starts with the guard checks, and every step is safe to re-run with the same token:
Secrets Manager retries a failed rotation with the same ``ClientRequestToken``.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from rotator.domain import protocol
from rotator.domain.models import AWSCURRENT, AWSPENDING, SecretDescription
from rotator.domain.protocol import Decision, RotationEvent, Step
from rotator.domain.secret_value import RotatorSecret
from rotator.errors import (
    AdminKeySecretError,
    RotatorError,
    SecretFormatError,
    StageConflictError,
    UnknownVersionError,
    VersionConflictError,
)
from rotator.rotation import cleanup, probing
from rotator.rotation.admin_rotation import AdminKeyRotation
from rotator.rotation.context import RotationContext, RotationPolicy
from rotator.rotation.minting import mint
from rotator.rotation.promotion import (
    check_room,
    discard,
    promote,
    require_current_works,
    stored_by_a_lost_answer,
)
from rotator.rotation.proof import check_allowed_project, prove_current
from rotator.rotation.results import StepOutcome, StepResult
from rotator.rotation.retire import next_retiring_beside, retire_replaced

__all__ = ["RotationContext", "RotationEngine", "RotationPolicy", "StepResult"]

log = structlog.get_logger("rotator.engine")


class RotationEngine:
    """The four steps of Secrets Manager's rotation protocol over one :class:`RotationContext`."""

    def __init__(self, ctx: RotationContext) -> None:
        self.ctx = ctx
        self._steps: dict[Step, Callable[[RotationEvent, bool], StepResult]] = {
            Step.CREATE: lambda event, may_be_new: self.create_secret(
                event, token_may_be_new=may_be_new
            ),
            Step.SET: lambda event, _: self.set_secret(event),
            Step.TEST: lambda event, _: self.test_secret(event),
            Step.FINISH: lambda event, _: self.finish_secret(event),
        }

    # -- dispatch -----------------------------------------------------------------------

    def run_step(self, event: RotationEvent, *, token_may_be_new: bool = False) -> StepResult:
        clock = self.ctx.clock
        started = clock.monotonic()
        bound = log.bind(step=event.step.value, version_id=event.token)
        try:
            try:
                result = self._steps[event.step](event, token_may_be_new)
            except AdminKeySecretError:  # raised by the first parse, before any write
                result = AdminKeyRotation(self.ctx).run_step(
                    event, token_may_be_new=token_may_be_new
                )
        except RotatorError as error:
            error.step = error.step or event.step.value
            bound.warning(
                "step_failed",
                outcome="failed",
                error=str(error),
                error_type=type(error).__name__,
                duration_ms=round((clock.monotonic() - started) * 1000),
            )
            raise
        bound.info(
            "step_done",
            outcome=result.outcome,
            key_id=result.key_id,
            strategy=result.strategy,
            deleted_key_ids=list(result.deleted_key_ids) or None,
            expiring_key_ids=list(result.expiring_key_ids) or None,
            duration_ms=round((clock.monotonic() - started) * 1000),
        )
        return result

    # -- helpers ------------------------------------------------------------------------

    def _guard(
        self, event: RotationEvent, description: SecretDescription, *, token_may_be_new: bool
    ) -> Decision:
        """The pure guard; an unknown token first runs the named clean-up step, then raises."""
        try:
            return self.ctx.guard(event, description, token_may_be_new=token_may_be_new)
        except UnknownVersionError as unknown:
            raise cleanup.clean_overtaken(self.ctx, description, event.token, unknown) from None

    def _read(self, secret_id: str, *, version_id: str | None, stage: str) -> RotatorSecret:
        raw = self.ctx.store.get_value(secret_id, version_id=version_id, stage=stage)
        if raw is None:
            raise SecretFormatError(
                f"secret {secret_id} has no value at {stage}; seed it with `rotator init`"
            )
        return RotatorSecret.parse(raw)

    # -- createSecret -------------------------------------------------------------------

    def create_secret(self, event: RotationEvent, *, token_may_be_new: bool = False) -> StepResult:
        description = self.ctx.describe_live(event.secret_id)
        arn = description.arn
        if self._guard(event, description, token_may_be_new=token_may_be_new) is (
            Decision.ALREADY_CURRENT
        ):
            return StepResult(Step.CREATE, StepOutcome.ALREADY_CURRENT)
        if event.token in description.versions:
            existing = self.ctx.store.get_value(arn, version_id=event.token, stage=AWSPENDING)
            if existing is not None:
                pending = RotatorSecret.parse(existing)
                return StepResult(
                    Step.CREATE,
                    StepOutcome.ALREADY_CREATED,
                    pending.key_id,
                    pending.service_account_id,
                )
        current_id = protocol.current_version(description.versions, secret_name=description.name)
        current = self._read(arn, version_id=current_id, stage=AWSCURRENT)
        check_allowed_project(self.ctx, description.name, current.project_id)
        admin = self.ctx.admin_for(current)
        proof = prove_current(
            self.ctx, admin, secret_arn=arn, secret_name=description.name, current=current
        )
        stored = stored_by_a_lost_answer(self.ctx, arn, event.token, proof.listing)
        if stored is not None:
            return stored
        now = self.ctx.clock.now()
        cleanup.prune_orphan_keys(
            admin,
            secret_arn=arn,
            current=current,
            listing=proof.listing,
            now=now,
            margin=self.ctx.policy.orphan_margin,
        )
        retiring, minted = next_retiring_beside(
            self.ctx,
            admin,
            lambda: mint(
                self.ctx,
                admin,
                secret_arn=arn,
                token=event.token,
                current=current,
                listing=proof.listing,
            ),
            secret_arn=arn,
            current=current,
            current_version_id=current_id,
            listing=proof.listing,
            now=now,
            check_room=lambda retiring: check_room(current, retiring, secret_name=description.name),
        )
        created = minted.created
        new = current.successor(
            api_key=created.value,
            key_id=created.key_id,
            service_account_id=created.service_account_id,
            rotated_at=now,
            retiring=retiring,
            expires_at=minted.expires_at,
        )
        try:
            self.ctx.store.put_pending(
                arn, event.token, new.to_json(), rotation_token=event.rotation_token
            )
        except VersionConflictError:
            # Another attempt with this token stored its key first: ours must not live on.
            discard(admin, current, minted)
            winner = self.ctx.store.get_value(arn, version_id=event.token, stage=AWSPENDING)
            if winner is None:
                raise
            pending = RotatorSecret.parse(winner)
            return StepResult(
                Step.CREATE,
                StepOutcome.ALREADY_CREATED,
                pending.key_id,
                pending.service_account_id,
            )
        return StepResult(
            Step.CREATE,
            StepOutcome.CREATED,
            created.key_id,
            created.service_account_id,
            strategy=minted.strategy,
        )

    # -- setSecret ----------------------------------------------------------------------

    def set_secret(self, event: RotationEvent) -> StepResult:
        description = self.ctx.describe_live(event.secret_id)
        if self._guard(event, description, token_may_be_new=False) is Decision.ALREADY_CURRENT:
            return StepResult(Step.SET, StepOutcome.ALREADY_CURRENT)
        log.info("set_secret_noop", reason="an OpenAI key is live as soon as it is created")
        return StepResult(Step.SET, StepOutcome.NOTHING_TO_DO)

    # -- testSecret ---------------------------------------------------------------------

    def test_secret(self, event: RotationEvent) -> StepResult:
        description = self.ctx.describe_live(event.secret_id)
        if self._guard(event, description, token_may_be_new=False) is Decision.ALREADY_CURRENT:
            return StepResult(Step.TEST, StepOutcome.ALREADY_CURRENT)
        raw = self.ctx.store.get_value(description.arn, version_id=event.token, stage=AWSPENDING)
        if raw is None:
            # Test-only mode (RotateImmediately=false): no new key exists; prove the set-up.
            current = self._read(description.arn, version_id=None, stage=AWSCURRENT)
            self.ctx.admin_for(current).get_project(current.project_id)
            probing.wait_until_accepted(self.ctx, current.api_key, key_id=current.key_id)
            return StepResult(Step.TEST, StepOutcome.TESTED_CURRENT_KEY, current.key_id)
        pending = RotatorSecret.parse(raw)
        probing.wait_until_accepted(self.ctx, pending.api_key, key_id=pending.key_id)
        return StepResult(
            Step.TEST, StepOutcome.ACCEPTED, pending.key_id, pending.service_account_id
        )

    # -- finishSecret -------------------------------------------------------------------

    def finish_secret(self, event: RotationEvent) -> StepResult:
        description = self.ctx.describe_live(event.secret_id)
        arn = description.arn
        decision = self._guard(event, description, token_may_be_new=False)
        stage = AWSCURRENT if decision is Decision.ALREADY_CURRENT else AWSPENDING
        new = self._read(arn, version_id=event.token, stage=stage)
        outcome = StepOutcome.CLEANED_UP
        check_allowed_project(self.ctx, description.name, new.project_id)
        if decision is Decision.ALREADY_CURRENT:
            require_current_works(self.ctx, description, new)
        if decision is Decision.PROCEED:
            current_id = protocol.current_version(
                description.versions, secret_name=description.name
            )
            expected = protocol.replaced_version(new) or current_id
            if expected != current_id:
                raise StageConflictError(
                    f"another rotation promoted version {current_id} of {description.name} "
                    f"after this one started from {expected}; this rotation's key "
                    f"{new.key_id} was not promoted"
                )
            promote(self.ctx, description, new, token=event.token, expected=expected)
            outcome = StepOutcome.PROMOTED
        retired, expiring = retire_replaced(
            self.ctx.admin_for(new),
            secret_arn=arn,
            secret=new,
            now=self.ctx.clock.now(),
            read_version=self.ctx.version_reader(arn),
        )
        revocations = tuple(
            (entry.key_id, probing.confirm_revoked(self.ctx, arn, entry))
            for entry in new.retiring
            if entry.key_id in retired.gone or entry.key_id in retired.expiring
        )
        retired.raise_if_kept()
        return StepResult(
            Step.FINISH,
            outcome,
            new.key_id,
            new.service_account_id,
            deleted_key_ids=tuple(retired.gone + retired.expiring),
            revocations=revocations,
            expiring_key_ids=tuple(expiring),
        )
