"""Settings, read from the environment in exactly one place and validated once.

The CLI and the Lambda handler each call :meth:`Settings.from_env` at their edge; everything
below receives the resulting object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from rotator.domain.base_url import DEFAULT_OPENAI_BASE_URL, validate_base_url
from rotator.domain.durations import (
    MAX_DURATION,
    MIN_SAFE_AGE,
    format_duration,
    parse_duration,
    parse_key_lifetime,
)
from rotator.domain.ids import check_secret_reference, parse_project_ids
from rotator.domain.sensitive import Sensitive
from rotator.errors import ConfigError
from rotator.metrics.emf import DEFAULT_NAMESPACE, check_namespace

__all__ = [
    "DEFAULT_OPENAI_BASE_URL",
    "MAX_DURATION",
    "Settings",
    "parse_duration",
    "parse_seconds",
    "validate_base_url",
]


def parse_seconds(text: str, *, name: str) -> float:
    seconds = parse_duration(text, name=name).total_seconds()
    if seconds <= 0:
        raise ConfigError(f"{name} must be more than 0 seconds, got {text[:40]!r}")
    return seconds


def check_orphan_margin(margin: timedelta, *, name: str) -> timedelta:
    """Refuse an orphan margin below :data:`MIN_SAFE_AGE` (twice the Lambda timeout)."""
    if margin < MIN_SAFE_AGE:
        raise ConfigError(
            f"{name} {format_duration(margin)} is below the floor of "
            f"{format_duration(MIN_SAFE_AGE)} (twice the rotation Lambda's timeout): a running "
            "createSecret's new account would count as an orphan and be deleted; use "
            f"{format_duration(MIN_SAFE_AGE)} or more"
        )
    return margin


def _duration(env: Mapping[str, str], name: str) -> timedelta | None:
    return parse_duration(env[name], name=name) if env.get(name) else None


def _seconds(env: Mapping[str, str], name: str) -> float | None:
    return parse_seconds(env[name], name=name) if env.get(name) else None


def _total_seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with defaults that are right for production."""

    openai_base_url: str = DEFAULT_OPENAI_BASE_URL
    admin_key_secret_id: str | None = None
    #: ``OPENAI_ADMIN_KEY``: honoured by the CLI only, never by the Lambda.
    env_admin_key: Sensitive | None = None
    log_level: str = "INFO"
    test_timeout: float = 60.0
    grace_period: timedelta = timedelta(0)
    http_connect_timeout: float = 5.0
    http_read_timeout: float = 15.0
    #: Overall deadline for retrying one idempotent OpenAI call (GET, DELETE) on 429/5xx.
    retry_deadline: float = 30.0
    #: How long to poll a deleted key until OpenAI refuses it (0 turns the check off).
    revocation_timeout: float = 30.0
    #: Rotator-made service accounts younger than this are never pruned as orphans.
    orphan_margin: timedelta = timedelta(minutes=15)
    remote_poll_interval: float = 2.0
    #: ``AWS_REGION`` (the Lambda runtime's variable), else boto3's own chain decides.
    aws_region: str | None = None
    #: ``ROTATOR_KEY_LIFETIME``: every new key expires this long after it is made (1s..365d).
    key_lifetime: timedelta | None = None
    #: ``ROTATOR_ALLOWED_PROJECT_IDS``: when set, secrets naming another project are refused.
    allowed_project_ids: frozenset[str] | None = None
    #: ``rotator rotate --replace-dead-key`` (CLI only; never read from the environment).
    replace_dead_key: bool = False
    #: ``ROTATOR_METRICS_NAMESPACE``: the CloudWatch namespace of the EMF metrics.
    metrics_namespace: str = DEFAULT_NAMESPACE

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, allow_env_admin_key: bool) -> Settings:
        admin_key = env.get("OPENAI_ADMIN_KEY") if allow_env_admin_key else None
        return cls().with_overrides(
            openai_base_url=env.get("OPENAI_BASE_URL") or None,
            admin_key_secret_id=env.get("ROTATOR_ADMIN_KEY_SECRET_ID") or None,
            env_admin_key=Sensitive(admin_key) if admin_key else None,
            log_level=env.get("LOG_LEVEL") or None,
            aws_region=env.get("AWS_REGION") or None,
            test_timeout=_seconds(env, "ROTATOR_TEST_TIMEOUT"),
            grace_period=_duration(env, "ROTATOR_GRACE_PERIOD"),
            http_read_timeout=_seconds(env, "ROTATOR_HTTP_TIMEOUT"),
            retry_deadline=_seconds(env, "ROTATOR_RETRY_DEADLINE"),
            revocation_timeout=_total_seconds(_duration(env, "ROTATOR_REVOCATION_TIMEOUT")),
            orphan_margin=_duration(env, "ROTATOR_ORPHAN_MARGIN"),
            key_lifetime=(
                parse_key_lifetime(env["ROTATOR_KEY_LIFETIME"], name="ROTATOR_KEY_LIFETIME")
                if env.get("ROTATOR_KEY_LIFETIME")
                else None
            ),
            allowed_project_ids=parse_project_ids(
                env.get("ROTATOR_ALLOWED_PROJECT_IDS", ""), name="ROTATOR_ALLOWED_PROJECT_IDS"
            ),
            metrics_namespace=env.get("ROTATOR_METRICS_NAMESPACE") or None,
        )

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given non-None values, validated."""
        updated = replace(self, **{k: v for k, v in changes.items() if v is not None})
        validate_base_url(updated.openai_base_url)
        if updated.admin_key_secret_id is not None:
            check_secret_reference(
                updated.admin_key_secret_id,
                field="--admin-key-secret-id (ROTATOR_ADMIN_KEY_SECRET_ID)",
            )
        check_orphan_margin(updated.orphan_margin, name="ROTATOR_ORPHAN_MARGIN")
        level = updated.log_level.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ConfigError(
                f"LOG_LEVEL {updated.log_level[:20]!r} is not a level; use DEBUG, INFO, "
                "WARNING or ERROR"
            )
        return replace(
            updated,
            openai_base_url=validate_base_url(updated.openai_base_url),
            log_level=level,
            metrics_namespace=check_namespace(updated.metrics_namespace),
        )
