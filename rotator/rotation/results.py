"""What a rotation step and a rotation produce: typed outcomes, never bare strings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rotator.domain.protocol import Step


class StepOutcome(StrEnum):
    """What one step did (the ``outcome`` of its log line)."""

    ALREADY_CURRENT = "already_current"
    ALREADY_CREATED = "already_created"
    CREATED = "created"
    NOTHING_TO_DO = "nothing_to_do"
    TESTED_CURRENT_KEY = "tested_current_key"
    ACCEPTED = "accepted"
    PROMOTED = "promoted"
    CLEANED_UP = "cleaned_up"


class RotationStatus(StrEnum):
    """How a rotation (or one secret of a fleet run) ended."""

    ROTATED = "rotated"
    FAILED = "failed"


class Revocation(StrEnum):
    """Whether a deleted key was seen refused (401) afterwards."""

    CONFIRMED = "confirmed"
    UNCONFIRMED = "unconfirmed"
    UNCHECKED = "unchecked"


@dataclass(frozen=True)
class StepResult:
    """What a step did, for progress lines and ``--output json``."""

    step: Step
    outcome: StepOutcome
    key_id: str | None = None
    service_account_id: str | None = None
    deleted_key_ids: tuple[str, ...] = ()
    #: For each deleted key: confirmed (now answers 401), unconfirmed (still accepted), unchecked.
    revocations: tuple[tuple[str, Revocation], ...] = ()
    #: createSecret: where the key was minted (``same_account`` or ``new_account``).
    strategy: str | None = None
    #: finishSecret: keys OpenAI was told to end when their grace period is over.
    expiring_key_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RotationReport:
    """The outcome of one rotation, as ``--output json`` prints it."""

    secret_id: str
    version_id: str
    status: RotationStatus
    key_id: str | None = None
    service_account_id: str | None = None
    previous_key_id: str | None = None
    previous_key_deleted: bool = False
    previous_key_revocation: Revocation | None = None
    #: Where the new key was minted: ``same_account`` or ``new_account``.
    strategy: str | None = None
    #: True when OpenAI itself ends the previous key at the end of its grace period.
    previous_key_expiry_set: bool = False
    duration_ms: int = 0
    error: str | None = None
    step: str | None = None

    def to_json(self) -> dict[str, object]:
        """The ``--output json`` object: every field; ``error`` and ``step`` when it failed."""
        data: dict[str, object] = {
            "secret_id": self.secret_id,
            "version_id": self.version_id,
            "status": self.status,
            "key_id": self.key_id,
            "service_account_id": self.service_account_id,
            "previous_key_id": self.previous_key_id,
            "previous_key_deleted": self.previous_key_deleted,
            "previous_key_revocation": self.previous_key_revocation,
            "previous_key_expiry_set": self.previous_key_expiry_set,
            "strategy": self.strategy,
            "duration_ms": self.duration_ms,
        }
        if self.status is not RotationStatus.ROTATED:
            data["error"] = self.error
            data["step"] = self.step
        return data
