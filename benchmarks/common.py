"""Shared pieces of the benchmark suite: servers, seeding, counting, medians."""

from __future__ import annotations

import contextlib
import json
import logging
import statistics
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rotator.adapters.secretsmanager import SecretsManagerStore
from rotator.domain.models import SecretDescription
from rotator.domain.sensitive import Sensitive
from rotator.errors import ConfigError
from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator

LATENCY = 0.05  # seconds the emulator sleeps per request: a real round trip to OpenAI
ADMIN_RPS = 5.0  # the emulator's admin API rate limit in the fleet benchmark
ADMIN_KEY_NAME = "bench/admin-key"


class LatencyTrace:
    """The emulator's ``sleep``: records each request's latency span to find the critical path.

    Requests whose latency spans overlap ran concurrently (the proof's listing and probe) and
    count as one round trip; the number of such clusters is the OpenAI round trips a rotation
    waited for in sequence.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[tuple[float, float]] = []

    def sleep(self, seconds: float) -> None:
        started = time.perf_counter()
        time.sleep(seconds)
        with self._lock:
            self._spans.append((started, time.perf_counter()))

    def reset(self) -> None:
        with self._lock:
            self._spans.clear()

    def round_trips(self) -> int:
        """Clusters of overlapping spans: a late wake-up on a busy machine adds no round trip."""
        with self._lock:
            spans = sorted(self._spans)
        clusters, end = 0, float("-inf")
        for start, stop in spans:
            if start >= end:
                clusters += 1
            end = max(end, stop)
        return clusters


def quiet_servers() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass
class Seeded:
    names: list[str]
    projects: list[str]
    arns: dict[str, str] = field(default_factory=dict)


def seed(
    aws: MotoServer, emulator: OpenAIEmulator, count: int, *, projects: int, prefix: str
) -> Seeded:
    """An admin-key secret and ``count`` rotator secrets spread over ``projects`` projects."""
    store = SecretsManagerStore(aws.client())
    admin_key = emulator.add_admin_key()
    with contextlib.suppress(ConfigError):  # one admin-key secret serves every seeding
        store.create_secret(ADMIN_KEY_NAME, Sensitive(json.dumps({"admin_key": admin_key})))
    project_ids = [emulator.add_project(name=f"bench-{i}") for i in range(projects)]
    seeded = Seeded([], project_ids)
    for index in range(count):
        project = project_ids[index % projects]
        name = f"{prefix}svc-{index:04d}"
        key = emulator.add_service_account(project, name)
        value = {
            "api_key": key.value,
            "project_id": project,
            "service_account_id": key.service_account_id,
            "key_id": key.key_id,
            "admin_key_secret_id": ADMIN_KEY_NAME,
        }
        seeded.arns[name] = store.create_secret(name, Sensitive(json.dumps(value)))
        seeded.names.append(name)
    return seeded


def orphans(aws: MotoServer, emulator: OpenAIEmulator, seeded: Seeded) -> int:
    """Service accounts that no secret's AWSCURRENT names."""
    store = SecretsManagerStore(aws.client())
    named = set()
    for name in seeded.names:
        raw = store.get_value(name, stage="AWSCURRENT")
        assert raw is not None  # noqa: S101 - seeded above
        named.add(json.loads(raw.reveal())["service_account_id"])
    live = {a.id for p in seeded.projects for a in emulator.service_accounts(p)}
    return len(live - named)


class CountingStore:
    """A SecretStore proxy that counts calls by operation and spots repeated version reads."""

    def __init__(self, inner: SecretsManagerStore) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()
        self.repeated_reads = 0
        self._read: set[tuple[str, str]] = set()

    def reset(self) -> None:
        self.calls.clear()
        self.repeated_reads = 0
        self._read.clear()

    def describe(self, secret_id: str) -> SecretDescription:
        self.calls["DescribeSecret"] += 1
        return self._inner.describe(secret_id)

    def get_value(
        self, secret_id: str, *, version_id: str | None = None, stage: str | None = None
    ) -> Sensitive | None:
        self.calls["GetSecretValue"] += 1
        value = self._inner.get_value(secret_id, version_id=version_id, stage=stage)
        if version_id is not None:
            self.repeated_reads += (secret_id, version_id) in self._read
            self._read.add((secret_id, version_id))
        return value

    def put_pending(
        self,
        secret_id: str,
        token: str,
        value: Sensitive,
        *,
        rotation_token: Sensitive | None = None,
    ) -> None:
        self.calls["PutSecretValue"] += 1
        self._inner.put_pending(secret_id, token, value, rotation_token=rotation_token)
        self._read.add((secret_id, token))

    def move_stage(
        self, secret_id: str, stage: str, *, to_version: str | None, from_version: str | None
    ) -> None:
        self.calls["UpdateSecretVersionStage"] += 1
        self._inner.move_stage(secret_id, stage, to_version=to_version, from_version=from_version)

    def start_rotation(self, secret_id: str) -> str:
        self.calls["RotateSecret"] += 1
        return self._inner.start_rotation(secret_id)

    def list_secrets(
        self, *, name_prefix: str | None = None, tags: Mapping[str, str] | None = None
    ) -> list[SecretDescription]:
        self.calls["ListSecrets"] += 1
        return self._inner.list_secrets(name_prefix=name_prefix, tags=tags)

    def current_values(self, secret_ids: Sequence[str]) -> Mapping[str, tuple[str, Sensitive]]:
        self.calls["BatchGetSecretValue"] += -(-len(secret_ids) // 20)
        return self._inner.current_values(secret_ids)


def openai_calls(emulator: OpenAIEmulator) -> Counter[str]:
    return Counter(f"{call.method} {call.route}" for call in emulator.calls)
