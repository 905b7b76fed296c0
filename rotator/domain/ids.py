"""The shapes of OpenAI ids, checked before an id reaches a URL or a message.

A value pasted into the wrong field (a key where an id belongs) must be refused without being
echoed, and an id such as ``..`` must never reach a URL path, where it would address another
endpoint. Errors name the field, never the value.
"""

from __future__ import annotations

import re
from typing import Final

from rotator.domain.sensitive import KEY_PATTERN, STANDALONE_KEY
from rotator.errors import ConfigError, InputError, SecretFormatError

#: Real OpenAI keys are far longer than this; shorter ``sk-`` runs inside words are names.
GLUED_KEY_LENGTH: Final = 40

_SHAPES: Final = {
    "project_id": ("proj_", re.compile(r"^proj_[A-Za-z0-9_-]{1,128}$")),
    "key_id": ("key_", re.compile(r"^key_[A-Za-z0-9_-]{1,128}$")),
    "admin_key_id": ("key_", re.compile(r"^key_[A-Za-z0-9_-]{1,128}$")),
    "service_account_id": ("svc_acct_", re.compile(r"^svc_acct_[A-Za-z0-9_-]{1,128}$")),
}


def looks_like_key(value: str) -> bool:
    """True when ``value`` holds something shaped like an OpenAI key anywhere in it."""
    if STANDALONE_KEY.search(value) is not None or value.strip().startswith("sk-"):
        return True
    # A key glued to a word (``a<key>``) still counts once it is as long as real keys are.
    return any(len(match.group()) >= GLUED_KEY_LENGTH for match in KEY_PATTERN.finditer(value))


def check_id(value: str, *, field: str) -> str:
    """Return ``value`` when it has the shape of the OpenAI id ``field`` names, else refuse."""
    prefix, shape = _SHAPES[field]
    if looks_like_key(value):
        raise SecretFormatError(
            f"secret field '{field}' holds an API key, not an id; put the key in 'api_key' and "
            f"the {prefix}… id in '{field}'"
        )
    if shape.fullmatch(value) is None:
        raise SecretFormatError(
            f"secret field '{field}' is not an OpenAI id of the form {prefix}…; "
            "copy the id from the OpenAI dashboard or `rotator status`"
        )
    return value


def check_secret_reference(value: str, *, field: str, error: type[InputError] = ConfigError) -> str:
    """A Secrets Manager name or ARN given as a reference; refuse key material in it."""
    if looks_like_key(value):
        raise error(
            f"{field} holds an API key, not a secret name or ARN; store the key in its own "
            f"secret and give {field} that secret's name"
        )
    return value


def parse_project_ids(text: str, *, name: str) -> frozenset[str] | None:
    """A comma-separated allow-list of ``proj_…`` ids; empty means no allow-list (None)."""
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        return None
    for project_id in ids:
        if looks_like_key(project_id) or _SHAPES["project_id"][1].fullmatch(project_id) is None:
            raise ConfigError(
                f"{name} holds an entry that is not a project id; give comma-separated "
                "proj_… ids, e.g. proj_abc,proj_def"
            )
    return frozenset(ids)
