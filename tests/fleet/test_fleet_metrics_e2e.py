"""`rotator rotate --all --log-format json` writes one EMF line per secret on stderr."""

from __future__ import annotations

import json

from rotator.testing.moto_server import MotoServer
from rotator.testing.openai_emulator import OpenAIEmulator
from tests.fleet.conftest import json_lines, run, seed_fleet


def test_rotate_all_writes_one_emf_line_per_secret(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """GIVEN 3 secrets, one 100 days old WHEN rotated THEN 3 success lines, one with its age."""
    fleet = seed_fleet(moto_server, fleet_env, 3, old=1)
    code, out, err = run("rotate", "--all", "--prefix", "openai/svc-", "--log-format", "json")
    assert code == 0, err
    lines, summary = json_lines(out)  # stdout keeps the fleet's JSON lines only
    assert all("_aws" not in line for line in lines)
    assert summary["rotated"] == 3
    docs = [json.loads(x) for x in err.splitlines() if x.startswith("{") and '"_aws"' in x]
    assert sorted(d["SecretName"] for d in docs) == fleet.names
    assert {d["RotationSucceeded"] for d in docs} == {1}
    aged = {d["SecretName"]: d.get("KeyAgeDays") for d in docs}
    assert aged["openai/svc-00"] >= 100
    assert aged["openai/svc-01"] is None
    assert not any(value in err for value in fleet.old_keys.values())
