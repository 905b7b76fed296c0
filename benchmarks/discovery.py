"""Benchmark 6: fleet discovery, what `rotator status --all` does, over 1,000 secrets.

One moto server (its own, so the other benchmarks' ListSecrets stay small) holds 1,000 rotator
secrets and the admin-key secret. Each run is the status command's work in process, through
the shipped wiring (``build_app(Mode.FLEET)``, a fresh app so the value cache starts empty):
ListSecrets, the AWSCURRENT value of every secret, one status row each. Secrets Manager calls
are counted on the botocore client (every operation call, ListSecrets pages included).

* **before**: one GetSecretValue per secret, as main did. Run as the per-secret fallback path
  (a store whose batch answers nothing), which is exactly that old code path.
* **after**: BatchGetSecretValue, 20 secrets per call.

Wall time is the median of ``runs`` alternating runs of each; moto answers on 127.0.0.1 with
no injected latency, so real AWS (a round trip of ~10-30 ms per call) widens the gap.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import httpx

from rotator.adapters.secretsmanager import SecretsManagerStore, build_client
from rotator.app import Mode, build_app
from rotator.config import Settings
from rotator.domain.sensitive import Sensitive
from rotator.fleet.status import status_row
from rotator.testing.moto_server import MotoServer, dummy_session

PREFIX = "discovery/"
CONCURRENCY = 8  # what `status --all` uses


class _PerSecret(SecretsManagerStore):
    """The store as before batches: the batch answers nothing, so each secret is read alone."""

    def current_values(self, secret_ids: Sequence[str]) -> dict[str, tuple[str, Sensitive]]:
        return {}


@dataclass(frozen=True)
class Discovery:
    label: str
    secrets: int
    rows: int
    calls: dict[str, int]
    wall_s: float

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def _seed(aws: MotoServer, count: int) -> None:
    client = aws.client()
    store = SecretsManagerStore(client)
    store.create_secret(f"{PREFIX}admin-key", Sensitive(json.dumps({"admin_key": "sk-admin-x"})))

    def create(index: int) -> None:
        value = {
            "api_key": f"sk-svcacct-bench-{index:06d}",  # not a key: status never uses it
            "project_id": f"proj_{index % 4:024x}",
            "service_account_id": f"svc_acct_{index:024x}",
            "key_id": f"key_{index:024x}",
            "admin_key_secret_id": f"{PREFIX}admin-key",
        }
        store.create_secret(f"{PREFIX}svc-{index:04d}", Sensitive(json.dumps(value)))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(count)))
    client.close()


def _status_all(aws: MotoServer, *, batched: bool) -> tuple[int, Counter[str], float]:
    client = build_client(
        region=aws.region,
        endpoint_url=aws.endpoint_url,
        session=dummy_session(aws.region),
        max_pool_connections=CONCURRENCY + 2,
    )
    calls: Counter[str] = Counter()
    client.meta.events.register(
        "before-call.secretsmanager.*",
        lambda model, **_: calls.update([model.name]),
    )
    store = SecretsManagerStore(client) if batched else _PerSecret(client)
    http = httpx.Client()
    settings = Settings(openai_base_url="http://127.0.0.1:9/v1")
    started = time.perf_counter()
    app = build_app(settings, mode=Mode.FLEET, store=store, http=http, concurrency=CONCURRENCY)
    try:
        candidates = app.fleet.discover(prefix=PREFIX, tags={}, concurrency=CONCURRENCY)
        now = app.clock.now()
        rows = [
            status_row(c, now=now, max_age=timedelta(days=90))
            for c in candidates
            if c.secret is not None
        ]
    finally:
        app.close()
    wall = time.perf_counter() - started
    http.close()
    client.close()
    return len(rows), calls, wall


def run(count: int = 1000, runs: int = 3) -> list[Discovery]:
    """Seed ``count`` secrets, then time `status --all` before and after batches."""
    with MotoServer() as aws:
        _seed(aws, count)
        measured: dict[bool, list[tuple[int, Counter[str], float]]] = {False: [], True: []}
        for _ in range(runs):
            for batched in (False, True):
                measured[batched].append(_status_all(aws, batched=batched))
    results = []
    for batched, label in ((False, "before: GetSecretValue each"), (True, "after: batches of 20")):
        rows, calls, _ = measured[batched][0]
        wall = statistics.median(wall for _, _, wall in measured[batched])
        results.append(Discovery(label, count, rows, dict(sorted(calls.items())), wall))
    return results


def report(results: list[Discovery]) -> list[str]:
    """Section 6 of docs/benchmarks.md."""
    before, after = results
    pages = after.calls.get("ListSecrets", 0)
    listed = after.secrets + 1  # and the admin-key secret under the same prefix
    target = pages + -(-listed // 20)
    lines = [
        f"## 6. Fleet discovery: `status --all` over {after.secrets:,} secrets",
        "",
        "`benchmarks/discovery.py`, in process through `build_app(Mode.FLEET)` against moto's "
        "server (no injected latency; each AWS round trip adds to *before* 50 times as often as "
        "to *after*). Calls counted on the botocore client; wall time is the median of "
        "alternating runs.",
        "",
        "| path | rows | Secrets Manager calls | wall (s) | wall ÷ before |",
        "|---|---|---|---|---|",
    ]
    for run in results:
        detail = ", ".join(f"{name} {n}" for name, n in run.calls.items())
        lines.append(
            f"| {run.label} | {run.rows} | {run.total} ({detail}) | {run.wall_s:.2f} "
            f"| {run.wall_s / before.wall_s:.2f}x |"
        )
    ok = after.total <= target and after.rows == before.rows == after.secrets
    lines += [
        "",
        f"Target: the {listed:,} values (the admin-key secret's too) read in ⌈{listed:,}/20⌉ "
        f"BatchGetSecretValue calls beside the ListSecrets pages, {target} calls in all "
        f"(before: {before.total}), and the same {after.secrets:,} rows: "
        + ("met." if ok else "**not met**."),
        "",
    ]
    return lines


if __name__ == "__main__":
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print("\n".join(report(run())))
