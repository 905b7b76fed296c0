"""`rotator audit` over real HTTP (moto's server): exit codes, findings, JSON, EMF on stderr."""

from __future__ import annotations

import json

from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator
from tests.fleet.conftest import run, seed_fleet


def enable_rotation(aws: MotoServer, name: str) -> None:
    """Rotation on (moto's RotateSecret with a no-op Lambda: 30 days, and a fresh AWSPENDING)."""
    aws.seed_pending_version(name)


def test_audit_exits_1_listing_old_keys_and_rotation_off(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """GIVEN one key 100 days old and rotation off everywhere THEN exit 1 naming why."""
    seed_fleet(moto_server, fleet_env, 2, old=1)
    code, out, err = run("audit", "--prefix", "openai/svc-", "--max-age", "90d")
    assert code == 1, err
    rows = {line.split()[0]: line for line in out.splitlines()[1:-1]}
    assert set(rows) == {"openai/svc-00", "openai/svc-01"}
    assert "too_old" in rows["openai/svc-00"]
    assert "too_old" not in rows["openai/svc-01"]
    assert "rotation_disabled" in rows["openai/svc-01"]
    assert out.splitlines()[-1] == "2 of 2 secret(s) out of policy"
    assert "error: 2 of 2 secret(s) out of policy: openai/svc-00, openai/svc-01" in err


def test_audit_exits_0_when_every_key_is_young_and_scheduled(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """Young keys (age from the version's CreatedDate) with rotation on are in policy."""
    fleet = seed_fleet(moto_server, fleet_env, 2)
    for name in fleet.names:
        enable_rotation(moto_server, name)
    code, out, err = run("audit", "--prefix", "openai/svc-", "--output", "json")
    assert code == 0, (out, err)
    report = json.loads(out)
    assert (report["secrets_audited"], report["secrets_out_of_policy"]) == (2, 0)
    assert all(s["key_age_days"] is not None and s["key_age_days"] < 1 for s in report["secrets"])


def test_audit_json_and_emf_on_stderr_with_log_format_json(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """--output json is one object on stdout; --log-format json adds EMF lines on stderr."""
    fleet = seed_fleet(moto_server, fleet_env, 1, old=1)
    enable_rotation(moto_server, fleet.names[0])
    code, out, err = run(
        "audit", "--tag", "team=payments", "--output", "json", "--log-format", "json"
    )
    assert code == 1
    report = json.loads(out)
    assert [s["secret_name"] for s in report["secrets"]] == ["openai/svc-00"]
    assert [f["reason"] for f in report["secrets"][0]["findings"]] == ["too_old"]
    emf = [json.loads(line) for line in err.splitlines() if line.startswith('{"_aws"')]
    assert emf[0]["SecretName"] == "openai/svc-00"
    assert emf[0]["KeyAgeDays"] >= 100
    assert emf[-1]["SecretsOutOfPolicy"] == 1
    assert "sk-" not in out + err


def test_audit_bad_input_exits_2(moto_server: MotoServer, fleet_env: OpenAIEmulator) -> None:
    """A bad duration or tag, or no rotator secret under the prefix, exits 2."""
    seed_fleet(moto_server, fleet_env, 1)
    assert run("audit", "--max-age", "soon")[0] == 2
    assert run("audit", "--tag", "no-equals")[0] == 2
    assert run("audit", "--prefix", "nothing/")[0] == 2
