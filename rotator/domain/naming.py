"""Names of the keys and service accounts rotator creates.

A name carries a tag of the secret's ARN and the rotation's full token, so that a retry finds
what a crashed attempt made by name, and ``prune`` can tell which secret a key or service
account belongs to: ``rotator-<tag16>-<token>``. Names written before the tag was widened carry
eight hex characters (``rotator-<tag8>-<token>``); they are still recognised as the secret's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

PREFIX = "rotator"
#: Hex characters of sha256(ARN) in new names (64 bits: no two secrets of a project collide).
TAG_LENGTH = 16
#: The tag length of names written by rotator before 2026-12.
LEGACY_TAG_LENGTH = 8
_NAME = re.compile(r"^rotator-(?P<tag>[0-9a-f]{16}|[0-9a-f]{8})-(?P<token>[\x21-\x7e]{32,64})$")


def _digest(secret_arn: str) -> str:
    return hashlib.sha256(secret_arn.encode()).hexdigest()


def secret_tag(secret_arn: str) -> str:
    """Sixteen hex characters that identify one secret (its ARN) in a name."""
    return _digest(secret_arn)[:TAG_LENGTH]


def rotation_name(secret_arn: str, token: str) -> str:
    """The name of the key (or service account) one rotation of one secret creates."""
    return f"{PREFIX}-{secret_tag(secret_arn)}-{token}"


#: Service accounts and keys share one naming scheme.
service_account_name = rotation_name


@dataclass(frozen=True)
class ParsedName:
    """The tag and token carried by a rotator-made name."""

    tag: str
    token: str

    def belongs_to(self, secret_arn: str) -> bool:
        """True when the tag is this secret's (the new 16- or the legacy 8-character form)."""
        return _digest(secret_arn).startswith(self.tag)


def parse_service_account_name(name: str) -> ParsedName | None:
    """The tag and token in a rotator-made name, or None for any other name."""
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    return ParsedName(tag=match["tag"], token=match["token"])


parse_rotation_name = parse_service_account_name


def is_named_for(name: str, secret_arn: str, token: str | None = None) -> bool:
    """True when ``name`` is rotator's name for this secret (and for ``token``, when given)."""
    parsed = parse_service_account_name(name)
    if parsed is None or not parsed.belongs_to(secret_arn):
        return False
    return token is None or parsed.token == token
