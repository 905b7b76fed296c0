"""Names of the service accounts rotator creates.

A name carries a short tag of the secret's ARN and the rotation's full token, so that a retry
finds the orphan of a crashed attempt by name, and ``prune`` can tell which secret a service
account belongs to: ``rotator-<tag8>-<token>``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

PREFIX = "rotator"
_NAME = re.compile(r"^rotator-(?P<tag>[0-9a-f]{8})-(?P<token>[A-Za-z0-9-]{32,64})$")


def secret_tag(secret_arn: str) -> str:
    """Eight hex characters that identify one secret (its ARN) in a service-account name."""
    return hashlib.sha256(secret_arn.encode()).hexdigest()[:8]


def service_account_name(secret_arn: str, token: str) -> str:
    return f"{PREFIX}-{secret_tag(secret_arn)}-{token}"


@dataclass(frozen=True)
class ParsedName:
    """A rotator-made service-account name, split into its secret tag and token."""

    tag: str
    token: str


def parse_service_account_name(name: str) -> ParsedName | None:
    """The tag and token in a rotator-made name, or None for any other name."""
    match = _NAME.match(name)
    if match is None:
        return None
    return ParsedName(tag=match["tag"], token=match["token"])
