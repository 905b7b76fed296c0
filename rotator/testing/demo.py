"""``make demo`` / ``rotator demo``: a same-account rotation, offline, through the real CLI.

Starts moto's Secrets Manager server and the OpenAI Admin API emulator on 127.0.0.1, seeds an
admin-key secret and a secret holding a key of the workload's service account (which also holds
a second key, another consumer's), runs ``rotator rotate --local --output json`` as a
subprocess, then shows: the new key was minted on the same service account (strategy
``same_account``), the new key answers ``GET /models`` with 200, the old one with 401, the other
key of the account still works, and the secret's version labels before and after. Leaves nothing
running. No key value is printed.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import click

from rotator.adapters.openai_http import OpenAIHttp, build_http_client
from rotator.adapters.secretsmanager import SecretsManagerStore
from rotator.domain.models import AWSCURRENT, ProbeResult
from rotator.domain.sensitive import Sensitive
from rotator.ports import SecretStore
from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator, OpenAIEmulatorServer

SECRET_NAME = "openai/payments-api"  # noqa: S105 - a secret name, not a secret
ADMIN_SECRET_NAME = "openai/admin-key"  # noqa: S105 - a secret name, not a secret


def _labels(store: SecretStore, secret_id: str) -> str:
    versions = store.describe(secret_id).versions
    return "\n".join(
        f"    {version_id}  {', '.join(sorted(stages))}" for version_id, stages in versions.items()
    )


def _say(text: str) -> None:
    click.echo(text)


def _current(store: SecretStore) -> dict[str, Any]:
    raw = store.get_value(SECRET_NAME, stage=AWSCURRENT)
    assert raw is not None  # noqa: S101 - the demo seeded it
    value: dict[str, Any] = json.loads(raw.reveal())
    return value


def run_demo() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access lines
    emulator = OpenAIEmulator()
    project_id = emulator.add_project(name="Payments")
    admin_key = emulator.add_admin_key()
    seeded = emulator.add_service_account(project_id, "payments-api")
    other = emulator.add_service_account_key(project_id, seeded.service_account_id, "batch-job")
    with MotoServer() as aws, OpenAIEmulatorServer(emulator) as openai_server:
        store = SecretsManagerStore(aws.client())
        store.create_secret(ADMIN_SECRET_NAME, Sensitive(json.dumps({"admin_key": admin_key})))
        store.create_secret(
            SECRET_NAME,
            Sensitive(
                json.dumps(
                    {
                        "api_key": seeded.value,
                        "project_id": project_id,
                        "service_account_id": seeded.service_account_id,
                        "key_id": seeded.key_id,
                        "admin_key_secret_id": ADMIN_SECRET_NAME,
                    }
                )
            ),
        )
        accounts_before = sorted(a.id for a in emulator.service_accounts(project_id))
        _say(f"Local Secrets Manager (moto)  {aws.endpoint_url}")
        _say(f"Local OpenAI Admin API        {openai_server.base_url}")
        _say(f"Seeded {SECRET_NAME}: key {seeded.key_id}")
        _say(f"  service account {seeded.service_account_id} (the workload's identity)")
        _say(f"  which also holds key {other.key_id} (another consumer's, not in the secret)")
        _say("Version labels before:")
        _say(_labels(store, SECRET_NAME))
        env: Mapping[str, str] = {
            **os.environ,
            **aws.env(),
            "OPENAI_BASE_URL": openai_server.base_url,
        }
        _say(f"\n$ rotator rotate {SECRET_NAME} --local --output json")
        completed = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "rotator", "rotate", SECRET_NAME, "--local", "--output", "json"],
            env=dict(env),
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            _say(completed.stdout.rstrip())
            _say(f"rotation failed with exit code {completed.returncode}")
            return completed.returncode
        report = json.loads(completed.stdout)
        _say(json.dumps(report, indent=2))  # the report: ids and outcomes, never a key
        _say("\nVersion labels after:")
        _say(_labels(store, SECRET_NAME))
        new = _current(store)
        accounts_after = sorted(a.id for a in emulator.service_accounts(project_id))
        same = new.get("service_account_id") == seeded.service_account_id
        _say(f"\nStrategy:                {report.get('strategy')}")
        _say(f"Service account before:  {seeded.service_account_id}")
        _say(
            f"Service account after:   {new.get('service_account_id')}"
            + (" (the same)" if same else " (DIFFERENT)")
        )
        _say(
            f"Service accounts in the project: {len(accounts_before)} before, "
            f"{len(accounts_after)} after"
        )
        with build_http_client() as http:
            probe = OpenAIHttp(http, openai_server.base_url)
            new_result = probe.check(Sensitive(new["api_key"]))
            old_result = probe.check(Sensitive(seeded.value))
            other_result = probe.check(Sensitive(other.value))
        _say(f"\nGET /models with the new key {new['key_id']}: {_verdict(new_result)}")
        _say(f"GET /models with the old key {seeded.key_id}: {_verdict(old_result)}")
        _say(f"GET /models with the other key {other.key_id}: {_verdict(other_result)}")
        ok = (
            same
            and report.get("strategy") == "same_account"
            and accounts_after == accounts_before
            and new_result is ProbeResult.ACCEPTED
            and old_result is ProbeResult.REJECTED
            and other_result is ProbeResult.ACCEPTED
        )
        _say(
            "\nDemo passed: the key was rotated inside the same service account."
            if ok
            else "\nDemo FAILED."
        )
        return 0 if ok else 1


def _verdict(result: ProbeResult) -> str:
    return {
        ProbeResult.ACCEPTED: "200 OK (key works)",
        ProbeResult.REJECTED: "401 invalid_api_key (key revoked)",
        ProbeResult.UNAVAILABLE: "unavailable",
    }[result]
