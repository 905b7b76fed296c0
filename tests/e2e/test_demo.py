"""`rotator demo` (what `make demo` runs) rotates a key offline and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys


def test_demo_rotates_offline_and_leaves_nothing_running() -> None:
    """The demo shows the new key working, the old one refused, and the labels."""
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
    assert "200 OK (key works)" in out
    assert "401 invalid_api_key (key revoked)" in out
    assert "Version labels before:" in out
    assert "Version labels after:" in out
    assert "Demo passed" in out
    assert "sk-" not in out + completed.stderr
