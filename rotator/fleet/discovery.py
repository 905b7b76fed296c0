"""Fleet discovery's reads: AWSCURRENT values in batches, replicas left to their primary region.

``--all`` and ``status --all`` must read every candidate's AWSCURRENT value (metadata alone
cannot tell a rotator secret from the admin-key secret beside it). :func:`prefetch_current`
reads them with ``BatchGetSecretValue``, 20 secrets per call, and keeps each answer in the
run's :class:`~rotator.adapters.cached_store.VersionValueCache` under the AWSCURRENT version id
that ListSecrets showed, so the per-secret check (and the rotation's first read) is served from
the cache. Whatever a batch does not answer falls back to one ``GetSecretValue`` per secret,
which then raises that secret's own error: a secret in the batch's ``Errors``, one whose
AWSCURRENT moved since the listing (the answer's version differs), a SecretBinary secret, or
every secret of a batch whose whole call failed (e.g. a policy without
``secretsmanager:BatchGetSecretValue``; after such a refusal no further batch is tried).

A replica (its ``PrimaryRegion`` differs from the region in its ARN) cannot be rotated here:
PutSecretValue is refused on replicas, so a rotation would create an OpenAI account, fail and
roll back. :func:`replica_of` names its primary region; discovery skips it unread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from rotator.adapters.cached_store import VersionValueCache
from rotator.domain.models import AWSCURRENT, SecretDescription
from rotator.ports import SecretLister

#: BatchGetSecretValue's SecretIdList limit.
BATCH_SIZE = 20


def replica_of(description: SecretDescription) -> str | None:
    """The primary region of a replica secret; None for a secret created in its own region."""
    parts = description.arn.split(":")
    region = parts[3] if len(parts) > 3 else ""
    primary = description.primary_region
    return primary if primary and region and primary != region else None


def replica_note(primary_region: str) -> str:
    """Why a replica is skipped, and where to rotate it."""
    return f"replica of {primary_region}: rotate it in its primary region"


def prefetch_current(
    lister: SecretLister,
    cache: VersionValueCache,
    descriptions: Sequence[SecretDescription],
    *,
    concurrency: int,
) -> int:
    """Batch-read the AWSCURRENT values into ``cache``; returns how many the batches answered."""
    readable = [
        d
        for d in descriptions
        if not d.deleted and d.version_with(AWSCURRENT) is not None and replica_of(d) is None
    ]
    chunks = [readable[i : i + BATCH_SIZE] for i in range(0, len(readable), BATCH_SIZE)]
    refused = threading.Event()

    def fetch(chunk: list[SecretDescription]) -> int:
        if refused.is_set():
            return 0
        try:
            answers = lister.current_values([d.arn for d in chunk])
        except Exception:  # noqa: BLE001 - the whole call failed: every secret is read alone
            refused.set()
            return 0
        held = 0
        for description in chunk:
            answer = answers.get(description.arn)
            current = description.version_with(AWSCURRENT)
            if answer is not None and current is not None and answer[0] == current:
                cache.hold(description.arn, current, answer[1])
                held += 1
        return held

    if not chunks:
        return 0
    workers = max(1, min(concurrency, len(chunks)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch") as pool:
        return sum(pool.map(fetch, chunks))
