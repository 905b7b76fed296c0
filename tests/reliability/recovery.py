"""The operator's recovery moves, as single functions: ``rotator recover`` and ``rotator prune``.

Scenarios call only these two, so the harness follows whatever the maintenance module does.
"""

from __future__ import annotations

from datetime import timedelta

from rotator.rotation.engine import RotationEngine
from rotator.rotation.maintenance import apply_plan, plan_prune, plan_recover


def recover(engine: RotationEngine, secret_id: str) -> list[str]:
    """``rotator recover SECRET_ID --yes --force``: drop AWSPENDING, delete the stuck key.

    Forced: the scenarios call it only once the attempt that left AWSPENDING has crashed, so
    no rotation is running whatever the version's age.
    """
    return apply_plan(engine.ctx, plan_recover(engine.ctx, secret_id, force=True))


def prune(engine: RotationEngine, secret_id: str) -> list[str]:
    """``rotator prune SECRET_ID --yes`` run once the safety margin has passed."""
    return apply_plan(engine.ctx, plan_prune(engine.ctx, secret_id, margin=timedelta(0)))
