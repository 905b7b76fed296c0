"""A grace period ended by OpenAI itself, seen by a consumer on AWS's caching client.

Real HTTP on 127.0.0.1 only: moto's Secrets Manager server and the OpenAI emulator server (on
real time, so a key's ``expires_at`` passes as the wall clock does). The consumer is
``aws-secretsmanager-caching``'s ``SecretCache`` over a boto3 client on moto's endpoint, as a
workload would run it: it reads the key through the cache and calls ``GET /v1/models`` with it,
and re-reads the secret (``refresh_secret_now``) when OpenAI answers 401.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from aws_secretsmanager_caching import SecretCache, SecretCacheConfig
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.domain.secret_value import parse_time
from rotator.testing.moto_server import dummy_session
from tests.e2e.conftest import Stack

#: Short enough to keep the test bounded, long enough to sample the grace after the rotation.
GRACE_S = 5
#: The emulator's clock has whole seconds: a key may end up to a second before ``not_after``.
CLOCK_GRAIN = timedelta(seconds=1.2)
#: How long past ``not_after`` OpenAI may take to refuse the old key before the test fails.
EXPIRY_SLACK_S = 4.0


@dataclass
class Consumer:
    """A workload: the key from the caching client, one ``GET /models`` per request."""

    cache: SecretCache
    secret_id: str
    base_url: str
    #: Every answer OpenAI gave, with the key id used: (status, key_id).
    answers: list[tuple[int, str]] = field(default_factory=list)
    refreshes: int = 0

    def _attempt(self, http: httpx.Client) -> int:
        value = json.loads(self.cache.get_secret_string(self.secret_id))
        response = http.get(
            f"{self.base_url}/models", headers={"Authorization": f"Bearer {value['api_key']}"}
        )
        self.answers.append((response.status_code, value["key_id"]))
        return response.status_code

    def request(self) -> int:
        """One request as the workload serves it: on a 401, refresh the cache and retry once."""
        with httpx.Client(timeout=5) as http:
            status = self._attempt(http)
            if status == 401:
                self.refreshes += 1
                self.cache.refresh_secret_now(self.secret_id)
                status = self._attempt(http)
        return status


def _status_with(base_url: str, key: str) -> int:
    response = httpx.get(
        f"{base_url}/models", headers={"Authorization": f"Bearer {key}"}, timeout=5
    )
    return response.status_code


def _rotate_with_grace(stack: Stack) -> tuple[str, datetime]:
    """``rotator rotate --grace-period 5s``: same account, old key told to expire at not_after."""
    result = CliRunner().invoke(
        cli,
        ["rotate", stack.secret, "--local", "--grace-period", f"{GRACE_S}s", "--output", "json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["strategy"] == "same_account"
    assert report["previous_key_deleted"] is False
    assert report["previous_key_expiry_set"] is True
    current = stack.current()
    new_key_id = current["key_id"]
    assert new_key_id != stack.old_key_id
    assert current["service_account_id"] == stack.old_account
    (entry,) = current["retiring"]
    assert entry["key_id"] == stack.old_key_id
    not_after = parse_time(entry["not_after"], field_name="not_after")
    old_key = stack.emulator.key(stack.old_key_id)
    assert old_key is not None
    assert old_key.expires_at is not None
    assert old_key.expires_at <= not_after.timestamp() + 1  # OpenAI ends it, not a later run
    return new_key_id, not_after


def _wait_until_refused(base_url: str, key: str, *, within_s: float) -> int:
    """Poll ``GET /models`` with ``key`` (no rotator involved) until 401 or the deadline."""
    deadline = time.monotonic() + within_s
    status = _status_with(base_url, key)
    while status != 401 and time.monotonic() < deadline:
        time.sleep(0.2)
        status = _status_with(base_url, key)
    return status


def test_grace_is_ended_by_openai_without_rotator_while_a_caching_consumer_keeps_working(
    stack: Stack,
) -> None:
    """GIVEN a consumer on SecretCache (hourly refresh) holding the old key
    WHEN rotator rotates with a 5 s grace and never runs again
    THEN the cached old key works during the grace, OpenAI refuses it after, and the consumer's
    every request succeeds: its one 401 after the grace is answered by refreshing the cache."""
    client = dummy_session().client("secretsmanager", endpoint_url=stack.aws.endpoint_url)
    cache = SecretCache(config=SecretCacheConfig(secret_refresh_interval=3600), client=client)
    consumer = Consumer(cache, stack.secret, stack.openai.base_url)
    assert consumer.request() == 200
    assert consumer.answers == [(200, stack.old_key_id)]

    new_key_id, not_after = _rotate_with_grace(stack)
    versions_after_rotation = stack.store.describe(stack.arn).versions
    stack.emulator.reset_calls()  # from here on, any admin call would be a run of rotator

    # During the grace: the consumer's cached value is the old key, and it still works; so does
    # the key in AWSPREVIOUS (read directly: the cache knows only the stages it has seen).
    during = 0
    while datetime.now(UTC) < not_after - CLOCK_GRAIN:
        assert consumer.request() == 200
        previous = json.loads(
            client.get_secret_value(SecretId=stack.secret, VersionStage="AWSPREVIOUS")[
                "SecretString"
            ]
        )
        assert previous["key_id"] == stack.old_key_id
        assert _status_with(stack.openai.base_url, previous["api_key"]) == 200
        during += 1
        time.sleep(0.2)
    assert during >= 1, "the rotation took the whole grace period; nothing was sampled"
    assert {key_id for _, key_id in consumer.answers} == {stack.old_key_id}
    assert consumer.refreshes == 0

    # After the grace: OpenAI refuses the old key by itself.
    refused = _wait_until_refused(
        stack.openai.base_url, stack.old_key, within_s=GRACE_S + EXPIRY_SLACK_S
    )
    assert refused == 401
    assert datetime.now(UTC) >= not_after - CLOCK_GRAIN
    expired = stack.emulator.key(stack.old_key_id)
    assert expired is not None  # not deleted by anyone: it expired
    assert expired.expired

    # The consumer's next request: the cached old key gets 401, a refresh brings the new key.
    assert consumer.request() == 200
    assert consumer.refreshes == 1
    assert consumer.answers[-2:] == [(401, stack.old_key_id), (200, new_key_id)]
    assert consumer.request() == 200  # served from the refreshed cache, no second refresh
    assert consumer.refreshes == 1

    # rotator never ran again: no admin call, the secret's versions as the rotation left them.
    admin_calls = [call for call in stack.emulator.calls if "/organization/" in call.route]
    assert admin_calls == []
    assert stack.store.describe(stack.arn).versions == versions_after_rotation
