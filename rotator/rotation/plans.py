"""What ``recover`` and ``prune`` propose: actions with their reasons, shown before applied."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ActionKind(enum.StrEnum):
    """What a maintenance action does."""

    DELETE_SERVICE_ACCOUNT = "delete_service_account"
    DELETE_API_KEY = "delete_api_key"
    REMOVE_PENDING_LABEL = "remove_pending_label"


@dataclass(frozen=True)
class Action:
    """One deletion (or label removal) a plan proposes, with its reason."""

    kind: ActionKind
    target: str
    reason: str

    def describe(self) -> str:
        verb = {
            ActionKind.DELETE_SERVICE_ACCOUNT: "delete service account",
            ActionKind.DELETE_API_KEY: "delete API key",
            ActionKind.REMOVE_PENDING_LABEL: "remove AWSPENDING from version",
        }[self.kind]
        return f"{verb} {self.target} ({self.reason})"


@dataclass(frozen=True)
class Plan:
    """What ``recover`` or ``prune`` would do to one secret; shown first, applied on ``--yes``."""

    secret_name: str
    secret_arn: str
    project_id: str | None
    actions: tuple[Action, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "secret_id": self.secret_name,
            "actions": [
                {"action": a.kind.value, "target": a.target, "reason": a.reason}
                for a in self.actions
            ],
            "notes": list(self.notes),
        }
