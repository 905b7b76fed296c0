"""`rotator demo` (what `make demo` runs) rotates a key offline and exits 0."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def test_demo_rotates_inside_the_same_service_account_offline() -> None:
    """The demo shows a same-account rotation: account unchanged, new key 200, old key 401."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPENAI_"))}
    completed = subprocess.run(
        [sys.executable, "-m", "rotator", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    before = re.search(r"Service account before:\s+(svc_acct_\w+)", out)
    after = re.search(r"Service account after:\s+(svc_acct_\w+) \(the same\)", out)
    assert before is not None
    assert after is not None
    assert before.group(1) == after.group(1)
    assert re.search(r"Strategy:\s+same_account", out)
    assert '"strategy": "same_account"' in out
    assert re.search(r"with the new key key_\w+: 200 OK \(key works\)", out)
    assert re.search(r"with the old key key_\w+: 401 invalid_api_key \(key revoked\)", out)
    assert re.search(r"with the other key key_\w+: 200 OK \(key works\)", out)
    assert "Version labels before:" in out
    assert "Version labels after:" in out
    assert "Demo passed: the key was rotated inside the same service account." in out
    assert "sk-" not in out + completed.stderr
