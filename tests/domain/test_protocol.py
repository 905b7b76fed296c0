"""The rotation protocol's pure decisions, as tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rotator.domain import protocol
from rotator.domain.protocol import Decision, Step, guard, parse_event
from rotator.domain.secret_value import RetiringKey, RotatorSecret
from rotator.domain.sensitive import Sensitive
from rotator.errors import ConfigError, RotationInProgressError, SecretFormatError

TOKEN = "11111111-2222-3333-4444-555555555555"
OTHER = "99999999-2222-3333-4444-555555555555"
CUR = "cccccccc-2222-3333-4444-555555555555"


def versions(**stages: str) -> dict[str, frozenset[str]]:
    mapping = {"token": TOKEN, "other": OTHER, "cur": CUR}
    return {mapping[k]: frozenset(v.split(",")) if v else frozenset() for k, v in stages.items()}


@pytest.mark.parametrize(
    ("step", "vers", "may_be_new", "expected"),
    [
        (Step.CREATE, versions(cur="AWSCURRENT", token="AWSPENDING"), False, Decision.PROCEED),
        (Step.CREATE, versions(cur="AWSCURRENT"), True, Decision.PROCEED),
        (Step.SET, versions(cur="AWSCURRENT", token="AWSPENDING"), False, Decision.PROCEED),
        (Step.TEST, versions(cur="AWSCURRENT", token="AWSPENDING"), False, Decision.PROCEED),
        (Step.FINISH, versions(cur="AWSCURRENT", token="AWSPENDING"), False, Decision.PROCEED),
        (
            Step.FINISH,
            versions(cur="AWSPREVIOUS", token="AWSCURRENT,AWSPENDING"),
            False,
            Decision.ALREADY_CURRENT,
        ),
        (Step.CREATE, versions(token="AWSCURRENT"), False, Decision.ALREADY_CURRENT),
        (Step.TEST, versions(token="AWSCURRENT"), False, Decision.ALREADY_CURRENT),
    ],
)
def test_guard_decides_what_a_step_does(
    step: Step, vers: dict[str, frozenset[str]], may_be_new: bool, expected: Decision
) -> None:
    """Each step proceeds, or sees that the rotation already finished."""
    decision = guard(
        step,
        TOKEN,
        vers,
        secret_name="s",
        rotation_enabled=True,
        require_rotation_enabled=True,
        token_may_be_new=may_be_new,
    )
    assert decision is expected


@pytest.mark.parametrize(
    ("step", "vers", "enabled", "may_be_new", "error", "fragment"),
    [
        (Step.CREATE, versions(cur="AWSCURRENT"), True, False, ConfigError, "a version of secret"),
        (Step.FINISH, versions(cur="AWSCURRENT"), True, True, ConfigError, "a version of secret"),
        (
            Step.TEST,
            versions(cur="AWSCURRENT", token=""),
            True,
            False,
            ConfigError,
            "no longer AWSPENDING",
        ),
        (
            Step.CREATE,
            versions(cur="AWSCURRENT", token="AWSPENDING"),
            False,
            False,
            ConfigError,
            "not enabled",
        ),
        (Step.CREATE, versions(token="AWSPENDING"), True, False, SecretFormatError, "AWSCURRENT"),
    ],
)
def test_guard_refuses_events_that_do_not_fit_the_secret(
    step: Step,
    vers: dict[str, frozenset[str]],
    enabled: bool,
    may_be_new: bool,
    error: type[Exception],
    fragment: str,
) -> None:
    """Unknown tokens, abandoned versions, disabled rotation and unseeded secrets are refused."""
    with pytest.raises(error, match=fragment):
        guard(
            step,
            TOKEN,
            vers,
            secret_name="s",
            rotation_enabled=enabled,
            require_rotation_enabled=True,
            token_may_be_new=may_be_new,
        )


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ([], "JSON object"),
        ({"Step": "create_secret", "SecretId": "s", "ClientRequestToken": TOKEN}, "unknown"),
        ({"Step": "createSecret", "ClientRequestToken": TOKEN}, "SecretId"),
        ({"Step": "createSecret", "SecretId": "s"}, "ClientRequestToken"),
        ({"Step": "createSecret", "SecretId": "s", "ClientRequestToken": "short"}, "Token"),
        (
            {
                "Step": "createSecret",
                "SecretId": "s",
                "ClientRequestToken": TOKEN,
                "RotationToken": "bad token!",
            },
            "RotationToken",
        ),
    ],
)
def test_parse_event_rejects_malformed_events(event: object, fragment: str) -> None:
    """A malformed event is a one-line ConfigError naming the field."""
    with pytest.raises(ConfigError, match=fragment):
        parse_event(event)


def test_parse_event_keeps_the_rotation_token_redacted() -> None:
    """The RotationToken is parsed into a wrapper that never prints."""
    rotation_token = "a" * 40
    event = parse_event(
        {
            "Step": "finishSecret",
            "SecretId": "arn:x",
            "ClientRequestToken": TOKEN,
            "RotationToken": rotation_token,
        }
    )
    assert event.step is Step.FINISH
    assert event.rotation_token is not None
    assert event.rotation_token.reveal() == rotation_token
    assert rotation_token not in repr(event)


@pytest.mark.parametrize(
    ("vers", "expected"),
    [
        (versions(cur="AWSCURRENT"), None),
        (versions(cur="AWSCURRENT,AWSPENDING"), None),
        (versions(cur="AWSCURRENT", token="AWSPENDING"), TOKEN),
        (versions(cur="AWSCURRENT", other="AWSPREVIOUS"), None),
    ],
)
def test_stuck_pending_finds_an_unfinished_rotation(
    vers: dict[str, frozenset[str]], expected: str | None
) -> None:
    """AWSPENDING on a version other than AWSCURRENT means a rotation is in progress."""
    assert protocol.stuck_pending(vers) == expected


def test_refuse_if_in_progress_names_the_recovery_command() -> None:
    """Refusal says which version holds AWSPENDING and how to clear it."""
    with pytest.raises(RotationInProgressError, match="rotator recover s"):
        protocol.refuse_if_in_progress(
            versions(cur="AWSCURRENT", token="AWSPENDING"), secret_name="s"
        )
    protocol.refuse_if_in_progress(
        versions(cur="AWSCURRENT", token="AWSPENDING"), secret_name="s", own_token=TOKEN
    )


NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def secret(*retiring: RetiringKey) -> RotatorSecret:
    return RotatorSecret(
        api_key=Sensitive("sk-test-current"),
        project_id="proj_1",
        key_id="key_cur",
        service_account_id="svc_acct_cur",
        retiring=retiring,
    )


@pytest.mark.parametrize(
    ("retiring", "gone", "expected_ids"),
    [
        ((), frozenset(), ["key_cur"]),
        ((RetiringKey("key_old", "svc_acct_old", NOW),), frozenset({"key_old"}), ["key_cur"]),
        ((RetiringKey("key_old", "svc_acct_old", NOW),), frozenset(), ["key_old", "key_cur"]),
        ((RetiringKey("key_user", None, NOW),), frozenset({"key_x"}), ["key_user", "key_cur"]),
        ((RetiringKey("key_cur", None, NOW),), frozenset(), ["key_cur"]),
    ],
)
def test_retiring_list_keeps_every_key_not_known_to_be_gone(
    retiring: tuple[RetiringKey, ...], gone: frozenset[str], expected_ids: list[str]
) -> None:
    """The replaced key is added with its project; earlier entries drop only when known gone."""
    result = protocol.retiring_after_rotation(
        secret(*retiring),
        current_version_id=CUR,
        now=NOW,
        grace=timedelta(hours=1),
        gone=gone,
    )
    assert [entry.key_id for entry in result] == expected_ids
    assert result[-1].not_after == NOW + timedelta(hours=1)
    assert result[-1].version_id == CUR
    assert result[-1].project_id == secret().project_id


def test_split_due_and_replaced_version() -> None:
    """Due entries are those whose not_after has passed; the last entry names the base."""
    early = RetiringKey("key_a", "svc_a", NOW - timedelta(seconds=1), version_id=OTHER)
    late = RetiringKey("key_b", "svc_b", NOW + timedelta(seconds=1), version_id=CUR)
    due, later = protocol.split_due((early, late), now=NOW)
    assert due == (early,)
    assert later == (late,)
    assert protocol.replaced_version(secret(early, late)) == CUR
    assert protocol.replaced_version(secret()) is None


@pytest.mark.parametrize(
    "token",
    [
        "abc_def_ghi_jkl_mno_pqr_stu_vwx_yz",  # underscores, as AWS accepts them
        "x" * 32,
        "A.b:c/d+e=f@g!h~" * 4,  # 64 printable characters
        "11111111-2222-3333-4444-555555555555",
    ],
)
def test_parse_event_accepts_a_client_request_token_as_aws_does(token: str) -> None:
    """ClientRequestToken: 32-64 printable characters (RotateSecret's rule), underscores too."""
    event = parse_event({"Step": "createSecret", "SecretId": "arn:x", "ClientRequestToken": token})
    assert event.token == token


@pytest.mark.parametrize("token", ["x" * 31, "x" * 65, "a" * 20 + " " + "b" * 20, "é" * 40])
def test_parse_event_refuses_a_token_aws_would_refuse(token: str) -> None:
    """Shorter than 32, longer than 64, spaces or non-ASCII: refused naming the field."""
    with pytest.raises(ConfigError, match="ClientRequestToken"):
        parse_event({"Step": "createSecret", "SecretId": "arn:x", "ClientRequestToken": token})


KEY = "sk-svcacct-" + "Q7" * 20


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"Step": "createSecret", "SecretId": KEY, "ClientRequestToken": TOKEN}, "SecretId"),
        ({"Step": "createSecret", "SecretId": "arn:x", "ClientRequestToken": KEY}, "Token"),
        ({"Action": "prune", "SecretId": KEY}, "SecretId"),
    ],
)
def test_a_key_pasted_into_an_event_field_is_refused_naming_the_field(
    event: dict[str, str], field: str
) -> None:
    """SecretId or ClientRequestToken holding a key: refused, the field named, the key not."""
    parse = protocol.prune_target if "Action" in event else parse_event
    with pytest.raises(ConfigError, match=field) as caught:
        parse(event)
    assert KEY not in str(caught.value)
    assert "holds an API key" in str(caught.value)


def test_a_local_create_refuses_a_foreign_awspending_inside_the_guard() -> None:
    """L9: a new local token never takes AWSPENDING from a rotation that started meanwhile."""
    versions = {"cur": frozenset({"AWSCURRENT"}), "other": frozenset({"AWSPENDING"})}
    with pytest.raises(RotationInProgressError, match="other"):
        protocol.guard(
            Step.CREATE,
            "t" * 36,
            versions,
            secret_name="s",
            rotation_enabled=True,
            require_rotation_enabled=False,
            token_may_be_new=True,
        )
