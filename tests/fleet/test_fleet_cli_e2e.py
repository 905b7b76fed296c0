"""`rotator rotate --all` and `rotator status --all` over real HTTP (moto + emulator servers)."""

from __future__ import annotations

import json

import pytest

from rotator.adapters.secretsmanager import build_client
from rotator.testing.moto_server import MotoServer, dummy_session
from rotator.testing.openai_emulator import OpenAIEmulator
from tests.fleet.conftest import json_lines, run, seed_fleet


def test_rotate_all_rotates_every_rotator_secret_and_leaves_no_orphans(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """Every rotator secret under the prefix gets a working key; old keys and accounts go."""
    fleet = seed_fleet(moto_server, fleet_env, 6)
    code, out, err = run("rotate", "--all", "--prefix", "openai/", "--concurrency", "4")
    assert code == 0, err
    lines, summary = json_lines(out)
    assert sorted(line["secret_id"] for line in lines) == fleet.names
    assert {line["status"] for line in lines} == {"rotated"}
    assert (summary["total"], summary["rotated"], summary["failed"]) == (6, 6, 0)
    assert "skipping 2 secret(s)" in err  # the admin-key secret and a plain-text one
    for name in fleet.names:
        assert fleet_env.key_works(fleet.current(name)["api_key"])
        assert not fleet_env.key_works(fleet.old_keys[name])
    assert fleet.orphans() == []


def test_rotate_all_lists_each_project_once_per_run(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """Six rotations in two projects list the projects' keys twice, not six times."""
    seed_fleet(moto_server, fleet_env, 6, projects=2)
    code, _, err = run("rotate", "--all", "--prefix", "openai/")
    assert code == 0, err
    lists = [c for c in fleet_env.calls if c.method == "GET" and c.route.endswith("/api_keys")]
    assert len(lists) == 2


def test_rotate_all_filters_by_tag(moto_server: MotoServer, fleet_env: OpenAIEmulator) -> None:
    """--tag team=payments rotates only the secrets carrying that tag."""
    fleet = seed_fleet(moto_server, fleet_env, 4)
    code, out, err = run("rotate", "--all", "--tag", "team=payments")
    assert code == 0, err
    lines, _ = json_lines(out)
    assert sorted(line["secret_id"] for line in lines) == fleet.names[0::2]
    assert fleet.current(fleet.names[1])["key_id"] != ""
    assert fleet_env.key_works(fleet.old_keys[fleet.names[1]])


def test_429_storm_backs_off_together_and_every_secret_still_rotates(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """GIVEN an admin limit of 4 req/s and no --max-rps WHEN 8 workers rotate 8 secrets
    THEN the shared budget learns the limit, every rotation succeeds and no account is left."""
    fleet = seed_fleet(moto_server, fleet_env, 8)
    fleet_env.admin_rate_limit_rps = 4
    code, out, err = run("rotate", "--all", "--prefix", "openai/", "--concurrency", "8")
    assert code == 0, err
    lines, summary = json_lines(out)
    assert summary["rotated"] == 8
    assert summary["throttled"] >= 1
    throttled = fleet.admin_calls(429)
    assert 1 <= throttled <= 16  # backing off together: far fewer 429s than requests
    assert fleet.orphans() == []
    assert all(fleet_env.key_works(fleet.current(n)["api_key"]) for n in fleet.names)
    assert max(line["attempts"] for line in lines) <= 3


def test_max_rps_under_the_limit_never_draws_a_429(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """With --max-rps under the admin limit, the server never has to refuse a request.

    (A margin of one request a second absorbs scheduling jitter on a loaded machine; without
    pacing, eight workers would burst well past the limit.)"""
    fleet = seed_fleet(moto_server, fleet_env, 6)
    fleet_env.admin_rate_limit_rps = 5
    code, out, err = run("rotate", "--all", "--prefix", "openai/", "--max-rps", "4")
    assert code == 0, err
    _, summary = json_lines(out)
    assert (summary["rotated"], summary["throttled"], fleet.admin_calls(429)) == (6, 0, 0)


def test_mid_fleet_failure_exits_1_lists_it_and_rolls_only_it_back(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """A project refusing creates fails its secrets (listed, exit 1); the rest rotate."""
    fleet = seed_fleet(moto_server, fleet_env, 6, projects=3)
    bad_project = fleet.projects[1]
    bad = [n for n in fleet.names if fleet.project_of[n] == bad_project]
    create = f"/projects/{bad_project}/service_accounts/[^/]+/api_keys$"
    fleet_env.inject("POST", create, "status", status=400)
    fleet_env.inject("POST", create, "status", status=400)
    before = {name: fleet.current(name)["key_id"] for name in bad}
    code, out, err = run("rotate", "--all", "--prefix", "openai/", "--output", "json")
    assert code == 1
    lines, summary = json_lines(out)
    failed = sorted(line["secret_id"] for line in lines if line["status"] == "failed")
    assert failed == bad == summary["failed_secrets"]
    assert {line["step"] for line in lines if line["status"] == "failed"} == {"createSecret"}
    for name in bad:
        assert f"failed: {name}" in err
        assert fleet.current(name)["key_id"] == before[name]
        assert fleet_env.key_works(fleet.old_keys[name])
    assert summary["rotated"] == 6 - len(bad)
    assert fleet.orphans() == []


def test_lost_create_answer_is_reconciled_and_the_secret_retried(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """A create whose answer is lost is repeated with the same token; the orphan is reconciled."""
    fleet = seed_fleet(moto_server, fleet_env, 4, projects=1)
    fleet_env.reset_calls()
    fleet_env.inject("POST", "/service_accounts/[^/]+/api_keys$", "drop_after")
    code, out, err = run("rotate", "--all", "--prefix", "openai/", "--concurrency", "2")
    assert code == 0, err
    lines, _ = json_lines(out)
    assert sorted(line["attempts"] for line in lines) == [1, 1, 1, 1]
    creates = [c for c in fleet_env.calls if c.method == "POST"]
    assert len(creates) == 5  # one answer lost, that create repeated by name
    assert fleet.orphans() == []


def test_status_all_shows_a_table_and_exits_1_for_keys_past_max_age(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """One row per rotator secret; the key rotated 100 days ago breaks --max-age 90d."""
    fleet = seed_fleet(moto_server, fleet_env, 3, old=1)
    code, out, err = run("status", "--all", "--prefix", "openai/", "--max-age", "90d")
    assert code == 1
    header, *rows = out.splitlines()
    for column in ("secret", "key id", "key age", "last rotated", "next rotation", "stuck?"):
        assert column in header
    assert [row.split()[0] for row in rows] == fleet.names
    assert "100d !" in rows[0]
    assert "!" not in "".join(rows[1:])
    assert fleet.names[0] in err
    assert fleet.current(fleet.names[0])["key_id"] in rows[0]


def test_status_all_json_lines_within_max_age_exit_0(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """--output json prints one object per secret and a summary; young keys exit 0."""
    fleet = seed_fleet(moto_server, fleet_env, 2)
    code, out, err = run("status", "--all", "--max-age", "90d", "--output", "json")
    assert code == 0, err
    rows, summary = json_lines(out)
    assert [row["secret_id"] for row in rows] == fleet.names
    assert summary["too_old"] == []
    assert {row["stuck_version_id"] for row in rows} == {None}
    assert all("api_key" not in row for row in rows)


@pytest.mark.parametrize(
    "args",
    [
        ["rotate", "openai/svc-00", "--all"],
        ["rotate"],
        ["rotate", "openai/svc-00", "--prefix", "openai/"],
        ["status", "openai/svc-00", "--prefix", "openai/"],
        ["rotate", "--all", "--tag", "no-equals-sign"],
    ],
)
def test_fleet_usage_errors_exit_2_and_change_nothing(
    moto_server: MotoServer, fleet_env: OpenAIEmulator, args: list[str]
) -> None:
    """SECRET_ID with --all, neither, fleet flags without --all, or a bad --tag: exit 2."""
    seed_fleet(moto_server, fleet_env, 1)
    code, _, _ = run(*args)
    assert code == 2
    assert fleet_env.calls == []


def test_no_matching_secret_exits_2(moto_server: MotoServer, fleet_env: OpenAIEmulator) -> None:
    """A prefix that matches no rotator secret is reported, and nothing is changed."""
    seed_fleet(moto_server, fleet_env, 1)
    code, _, err = run("rotate", "--all", "--prefix", "nothing/")
    assert code == 2
    assert "no rotator secret matches --prefix nothing/" in err


def test_rotate_all_skips_a_replica_and_says_where_to_rotate_it(
    moto_server: MotoServer, fleet_env: OpenAIEmulator
) -> None:
    """GIVEN a rotator secret replicated here from eu-west-1 WHEN rotate --all runs here THEN
    the replica is skipped with its primary region named, and no account is made for it (L13)."""
    fleet = seed_fleet(moto_server, fleet_env, 2)
    primary = build_client(
        region="eu-west-1",
        session=dummy_session("eu-west-1"),
        endpoint_url=moto_server.endpoint_url,
        max_attempts=1,
    )
    value = fleet.current(fleet.names[0])
    try:
        primary.create_secret(
            Name="openai/replicated",
            SecretString=json.dumps(value),
            AddReplicaRegions=[{"Region": moto_server.region}],
        )
    finally:
        primary.close()
    accounts = fleet_env.service_accounts(fleet.project_of[fleet.names[0]])
    code, out, err = run("rotate", "--all", "--prefix", "openai/")
    assert code == 0, err
    lines, _ = json_lines(out)
    assert sorted(line["secret_id"] for line in lines) == fleet.names
    assert (
        "skipping openai/replicated: replica of eu-west-1: rotate it in its primary region" in err
    )
    after = fleet_env.service_accounts(fleet.project_of[fleet.names[0]])
    assert len(after) == len(accounts)
