"""The four rotation steps, one engine for the Lambda and the CLI.

Every step starts with the guard checks, and every step is safe to re-run with the same token:
Secrets Manager retries a failed rotation with the same ``ClientRequestToken``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from rotator.clock import Clock
from rotator.domain import protocol
from rotator.domain.models import (
    AWSCURRENT,
    AWSPENDING,
    DeleteOutcome,
    ProbeResult,
    SecretDescription,
)
from rotator.domain.naming import service_account_name
from rotator.domain.protocol import Decision, RotationEvent, Step
from rotator.domain.secret_value import RetiringKey, RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import (
    KeyTestFailedError,
    RotationInProgressError,
    RotatorError,
    SecretFormatError,
    SecretNotFoundError,
    StageConflictError,
    UnknownVersionError,
    VersionConflictError,
)
from rotator.ports import AdminFactory, KeyProbe, OpenAIAdmin, SecretStore
from rotator.retry import Backoff
from rotator.rotation import retirement
from rotator.rotation.admin_key import AdminKeyResolver

log = structlog.get_logger("rotator.engine")


@dataclass(frozen=True)
class RotationPolicy:
    """How a rotation behaves; built once from settings at the edge."""

    test_timeout: float = 60.0
    grace_period: timedelta = timedelta(0)
    #: Lambda invocations require rotation to be enabled on the secret (the AWS template check).
    require_rotation_enabled: bool = False
    probe_backoff: Backoff = field(default_factory=lambda: Backoff(base=0.5, cap=5.0))
    #: How long to poll a deleted key until OpenAI refuses it (0 = do not check).
    revocation_timeout: float = 30.0
    #: Rotator-made service accounts younger than this are never treated as orphans.
    orphan_margin: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class StepResult:
    """What a step did, for progress lines and ``--output json``."""

    step: Step
    outcome: str
    key_id: str | None = None
    service_account_id: str | None = None
    deleted_key_ids: tuple[str, ...] = ()
    #: For each deleted key: "confirmed" (now answers 401) or "unconfirmed" (still accepted).
    revocations: tuple[tuple[str, str], ...] = ()


class RotationEngine:
    def __init__(
        self,
        store: SecretStore,
        admin_factory: AdminFactory,
        probe: KeyProbe,
        admin_keys: AdminKeyResolver,
        *,
        policy: RotationPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self._admin_factory = admin_factory
        self._probe = probe
        self._admin_keys = admin_keys
        self.policy = policy or RotationPolicy()
        self._clock = clock or Clock()

    # -- dispatch -----------------------------------------------------------------------

    def run_step(self, event: RotationEvent, *, token_may_be_new: bool = False) -> StepResult:
        started = time.monotonic()
        bound = log.bind(step=event.step.value, version_id=event.token)
        try:
            if event.step is Step.CREATE:
                result = self.create_secret(event, token_may_be_new=token_may_be_new)
            elif event.step is Step.SET:
                result = self.set_secret(event)
            elif event.step is Step.TEST:
                result = self.test_secret(event)
            else:
                result = self.finish_secret(event)
        except RotatorError as error:
            error.step = error.step or event.step.value
            bound.warning(
                "step_failed",
                outcome="failed",
                error=str(error),
                error_type=type(error).__name__,
                duration_ms=round((time.monotonic() - started) * 1000),
            )
            raise
        bound.info(
            "step_done",
            outcome=result.outcome,
            key_id=result.key_id,
            deleted_key_ids=list(result.deleted_key_ids) or None,
            duration_ms=round((time.monotonic() - started) * 1000),
        )
        return result

    # -- helpers ------------------------------------------------------------------------

    def _describe(self, secret_id: str) -> SecretDescription:
        description = self.store.describe(secret_id)
        if description.deleted:
            raise SecretNotFoundError(
                f"secret {description.name} is scheduled for deletion; restore it with "
                f"`aws secretsmanager restore-secret --secret-id {description.name}`"
            )
        return description

    def _guard(
        self, event: RotationEvent, description: SecretDescription, *, token_may_be_new: bool
    ) -> Decision:
        try:
            return protocol.guard(
                event.step,
                event.token,
                description.versions,
                secret_name=description.name,
                rotation_enabled=description.rotation_enabled,
                require_rotation_enabled=self.policy.require_rotation_enabled,
                token_may_be_new=token_may_be_new,
            )
        except UnknownVersionError:
            # Either a wrong token, or this rotation's version lost every label to another
            # rotation's PutSecretValue. Its key must not live on, and the message should say.
            try:
                deleted, live = self.delete_accounts_named_for(description.arn, event.token)
                log.warning("overtaken_rotation_cleaned", deleted=deleted, live=live or None)
            except RotatorError as error:
                log.warning("overtaken_rotation_not_cleaned", error=str(error))
            if self.store.get_value(description.arn, version_id=event.token) is None:
                raise
            raise RotationInProgressError(
                f"version {event.token} of secret {description.name} lost AWSPENDING to another "
                "rotation; this one stopped and deleted its key: let the other finish "
                f"(`rotator status {description.name}`)"
            ) from None

    def delete_accounts_named_for(self, arn: str, token: str) -> tuple[list[str], list[str]]:
        """Delete the service accounts made for ``token`` (never the current key's one).

        Returns (deleted ids, one sentence per account still live); finding them may raise.
        """
        current = RotatorSecret.parse_or_none(self.store.get_value(arn, stage=AWSCURRENT))
        if current is None:
            return [], []
        admin = self.admin_for(current)
        name = service_account_name(arn, token)
        deleted: list[str] = []
        live: list[str] = []
        for account in admin.list_service_accounts(current.project_id):
            if account.name != name or account.id == current.service_account_id:
                continue
            try:
                outcome = admin.delete_service_account(current.project_id, account.id)
            except RotatorError as error:
                live.append(f"service account {account.id} ({name}) is still live ({error})")
                continue
            if outcome is DeleteOutcome.DELETED:
                deleted.append(account.id)
        return deleted, live

    def _read(self, secret_id: str, *, version_id: str | None, stage: str) -> RotatorSecret:
        raw = self.store.get_value(secret_id, version_id=version_id, stage=stage)
        if raw is None:
            raise SecretFormatError(
                f"secret {secret_id} has no value at {stage}; seed it with `rotator init`"
            )
        return RotatorSecret.parse(raw)

    def now(self) -> datetime:
        return self._clock.now()

    @property
    def clock(self) -> Clock:
        return self._clock

    def admin_for(self, secret: RotatorSecret) -> OpenAIAdmin:
        return self._admin_factory(self._admin_keys.resolve(secret))

    # -- createSecret -------------------------------------------------------------------

    def create_secret(self, event: RotationEvent, *, token_may_be_new: bool = False) -> StepResult:
        description = self._describe(event.secret_id)
        arn = description.arn
        if self._guard(event, description, token_may_be_new=token_may_be_new) is (
            Decision.ALREADY_CURRENT
        ):
            return StepResult(Step.CREATE, "already_current")
        if event.token in description.versions:
            existing = self.store.get_value(arn, version_id=event.token, stage=AWSPENDING)
            if existing is not None:
                pending = RotatorSecret.parse(existing)
                return StepResult(
                    Step.CREATE, "already_created", pending.key_id, pending.service_account_id
                )
        current_id = protocol.current_version(description.versions, secret_name=description.name)
        current = self._read(arn, version_id=current_id, stage=AWSCURRENT)
        admin = self.admin_for(current)
        name = service_account_name(arn, event.token)
        accounts = admin.list_service_accounts(current.project_id)
        for orphan in (account for account in accounts if account.name == name):
            admin.delete_service_account(current.project_id, orphan.id)
            log.info("orphan_deleted", service_account_id=orphan.id, version_id=event.token)
        retirement.prune_orphans(
            admin,
            secret_arn=arn,
            current=current,
            accounts=accounts,
            now=self._clock.now(),
            margin=self.policy.orphan_margin,
            spare_token=event.token,
        )
        retiring = protocol.retiring_after_rotation(
            current,
            current_version_id=current_id,
            now=self._clock.now(),
            grace=self.policy.grace_period,
            live_service_accounts=frozenset(a.id for a in accounts if a.name != name),
        )
        retiring = retirement.settle_key_only_entries(
            admin, current.project_id, retiring, now=self._clock.now()
        )
        created = admin.create_service_account(current.project_id, name)
        new = current.successor(
            api_key=created.value,
            key_id=created.key_id,
            service_account_id=created.service_account_id,
            rotated_at=self._clock.now(),
            retiring=retiring,
        )
        try:
            self.store.put_pending(
                arn, event.token, new.to_json(), rotation_token=event.rotation_token
            )
        except VersionConflictError:
            # Another attempt with this token stored its key first: ours must not live on.
            admin.delete_service_account(current.project_id, created.service_account_id)
            log.warning("put_lost_race", service_account_id=created.service_account_id)
            winner = self.store.get_value(arn, version_id=event.token, stage=AWSPENDING)
            if winner is None:
                raise
            pending = RotatorSecret.parse(winner)
            return StepResult(
                Step.CREATE, "already_created", pending.key_id, pending.service_account_id
            )
        return StepResult(Step.CREATE, "created", created.key_id, created.service_account_id)

    # -- setSecret ----------------------------------------------------------------------

    def set_secret(self, event: RotationEvent) -> StepResult:
        description = self._describe(event.secret_id)
        if self._guard(event, description, token_may_be_new=False) is Decision.ALREADY_CURRENT:
            return StepResult(Step.SET, "already_current")
        log.info("set_secret_noop", reason="an OpenAI key is live as soon as it is created")
        return StepResult(Step.SET, "nothing_to_do")

    # -- testSecret ---------------------------------------------------------------------

    def test_secret(self, event: RotationEvent) -> StepResult:
        description = self._describe(event.secret_id)
        if self._guard(event, description, token_may_be_new=False) is Decision.ALREADY_CURRENT:
            return StepResult(Step.TEST, "already_current")
        raw = self.store.get_value(description.arn, version_id=event.token, stage=AWSPENDING)
        if raw is None:
            # Test-only mode (RotateImmediately=false): no new key exists; prove the set-up.
            current = self._read(description.arn, version_id=None, stage=AWSCURRENT)
            self.admin_for(current).get_project(current.project_id)
            self.wait_until_accepted(current.api_key, key_id=current.key_id)
            return StepResult(Step.TEST, "tested_current_key", current.key_id)
        pending = RotatorSecret.parse(raw)
        self.wait_until_accepted(pending.api_key, key_id=pending.key_id)
        return StepResult(Step.TEST, "accepted", pending.key_id, pending.service_account_id)

    def wait_until_accepted(self, key: Sensitive, *, key_id: str) -> None:
        """GET /models with ``key`` until it answers 200, for at most ``test_timeout``."""
        last = retirement.poll_probe(
            self._probe,
            key,
            until=ProbeResult.ACCEPTED,
            timeout=self.policy.test_timeout,
            backoff=self.policy.probe_backoff,
            clock=self._clock,
            key_id=key_id,
        )
        if last is ProbeResult.ACCEPTED:
            return
        reason = "rejected with 401" if last is ProbeResult.REJECTED else "unreachable"
        raise KeyTestFailedError(
            f"key {key_id} was still {reason} by GET /models after "
            f"{self.policy.test_timeout:g}s; AWSCURRENT is unchanged. Check the project's "
            "model access or raise --test-timeout"
        )

    # -- finishSecret -------------------------------------------------------------------

    def finish_secret(self, event: RotationEvent) -> StepResult:
        description = self._describe(event.secret_id)
        arn = description.arn
        decision = self._guard(event, description, token_may_be_new=False)
        stage = AWSCURRENT if decision is Decision.ALREADY_CURRENT else AWSPENDING
        new = self._read(arn, version_id=event.token, stage=stage)
        outcome = "cleaned_up"
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
            self.store.move_stage(arn, AWSCURRENT, to_version=event.token, from_version=expected)
            outcome = "promoted"
        deleted = retirement.retire_due_keys(self.admin_for(new), new, now=self._clock.now())
        revocations = tuple(
            (entry.key_id, self.confirm_revoked(arn, entry))
            for entry in new.retiring
            if entry.key_id in deleted
        )
        return StepResult(
            Step.FINISH,
            outcome,
            new.key_id,
            new.service_account_id,
            deleted_key_ids=deleted,
            revocations=revocations,
        )

    def confirm_revoked(self, arn: str, entry: RetiringKey) -> str:
        """Poll a deleted key with GET /models until it answers 401, for a bounded time."""
        if self.policy.revocation_timeout <= 0 or entry.version_id is None:
            return "unchecked"
        try:
            raw = self.store.get_value(arn, version_id=entry.version_id)
        except RotatorError:
            raw = None
        if raw is None:
            return "unchecked"
        old = RotatorSecret.parse(raw)
        if old.key_id != entry.key_id:
            return "unchecked"
        result = retirement.poll_probe(
            self._probe,
            old.api_key,
            until=ProbeResult.REJECTED,
            timeout=self.policy.revocation_timeout,
            backoff=self.policy.probe_backoff,
            clock=self._clock,
            key_id=entry.key_id,
        )
        if result is ProbeResult.REJECTED:
            log.info("revocation_confirmed", key_id=entry.key_id)
            return "confirmed"
        log.warning(
            "old_key_still_accepted",
            key_id=entry.key_id,
            timeout_s=self.policy.revocation_timeout,
            hint="OpenAI may take minutes to revoke; check the key in the dashboard",
        )
        return "unconfirmed"
