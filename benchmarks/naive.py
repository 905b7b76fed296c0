"""The naive rotation the single-rotation benchmark divides by (issue 11 item 4).

What a rotation script does with no proof, no guards beyond the token check and no
confirmation: mint a key on the secret's service account, store it as AWSPENDING, test it once,
move AWSCURRENT, delete the old key. Three OpenAI calls (create, ``GET /models``, delete) in
sequence. The same libraries rotator uses (a botocore client, httpx), so the ratio measures the
calls, not the imports. Not a tool: no retries, no error handling, keys held in plain strings.

* ``rotate(client, http, secret_id)``: one local rotation in this process (a fresh version id);
* ``python benchmarks/naive.py SECRET``: the same as a whole process (the CLI's counterpart);
* ``lambda_handler(event, context)``: the four steps as a rotation Lambda (aws-samples' shape:
  DescribeSecret each step), copied into the unzipped package for the cold-container run.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any

import botocore.session
import httpx

_clients: dict[str, Any] = {}


def _sm() -> Any:
    if "sm" not in _clients:
        _clients["sm"] = botocore.session.get_session().create_client("secretsmanager")
    return _clients["sm"]


def _http() -> httpx.Client:
    if "http" not in _clients:
        _clients["http"] = httpx.Client(base_url=os.environ["OPENAI_BASE_URL"], timeout=30)
    return _clients["http"]  # type: ignore[no-any-return]


def _value(client: Any, secret_id: str, **where: str) -> dict[str, Any]:
    answer = client.get_secret_value(SecretId=secret_id, **where)
    return json.loads(answer["SecretString"])  # type: ignore[no-any-return]


def _admin(client: Any, value: dict[str, Any]) -> dict[str, str]:
    key = _value(client, value["admin_key_secret_id"], VersionStage="AWSCURRENT")["admin_key"]
    return {"Authorization": f"Bearer {key}"}


def _mint(client: Any, http: httpx.Client, current: dict[str, Any]) -> dict[str, Any]:
    project, account = current["project_id"], current["service_account_id"]
    created = http.post(
        f"/organization/projects/{project}/service_accounts/{account}/api_keys",
        headers=_admin(client, current),
        json={"name": f"naive-{uuid.uuid4().hex[:8]}"},
    )
    created.raise_for_status()
    key = created.json()
    return {**current, "api_key": key["value"], "key_id": key["id"]}


def _test(http: httpx.Client, value: dict[str, Any]) -> None:
    answer = http.get("/models", headers={"Authorization": f"Bearer {value['api_key']}"})
    answer.raise_for_status()


def _delete(client: Any, http: httpx.Client, old: dict[str, Any]) -> None:
    path = f"/organization/projects/{old['project_id']}/api_keys/{old['key_id']}"
    http.delete(path, headers=_admin(client, old)).raise_for_status()


def rotate(client: Any, http: httpx.Client, secret_id: str) -> None:
    """One rotation, all in this process: 3 OpenAI calls, 5 Secrets Manager calls."""
    answer = client.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")
    current, current_id = json.loads(answer["SecretString"]), answer["VersionId"]
    new = _mint(client, http, current)
    token = str(uuid.uuid4())
    client.put_secret_value(
        SecretId=secret_id,
        ClientRequestToken=token,
        SecretString=json.dumps(new),
        VersionStages=["AWSPENDING"],
    )
    _test(http, new)
    client.update_secret_version_stage(
        SecretId=secret_id,
        VersionStage="AWSCURRENT",
        MoveToVersionId=token,
        RemoveFromVersionId=current_id,
    )
    _delete(client, http, current)


def _pending(client: Any, arn: str, token: str) -> dict[str, Any] | None:
    try:
        return _value(client, arn, VersionId=token, VersionStage="AWSPENDING")
    except client.exceptions.ResourceNotFoundException:
        return None
    except KeyError:  # a version without a SecretString
        return None


def lambda_handler(event: dict[str, str], context: object) -> None:
    """The four steps, naively; ``DescribeSecret`` first in each, as aws-samples does."""
    client, http = _sm(), _http()
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    versions = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    if "AWSCURRENT" in versions.get(token, []):
        return
    if step == "createSecret":
        current = _value(client, arn, VersionStage="AWSCURRENT")
        if _pending(client, arn, token) is None:
            new = _mint(client, http, current)
            client.put_secret_value(
                SecretId=arn,
                ClientRequestToken=token,
                SecretString=json.dumps(new),
                VersionStages=["AWSPENDING"],
            )
    elif step == "testSecret":
        pending = _pending(client, arn, token)
        assert pending is not None  # noqa: S101 - a benchmark, not a tool
        _test(http, pending)
    elif step == "finishSecret":
        current_id = next(v for v, stages in versions.items() if "AWSCURRENT" in stages)
        old = _value(client, arn, VersionId=current_id)
        client.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=current_id,
        )
        _delete(client, http, old)


def main() -> int:
    rotate(_sm(), _http(), sys.argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
