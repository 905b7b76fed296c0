"""Fleet progress rendering, tag parsing, and the status table (pure, no I/O)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from rotator.cli.progress import FleetProgress
from rotator.cli.render import status_table
from rotator.cli.selection import parse_tags
from rotator.errors import ConfigError
from rotator.fleet.run import FleetResult
from rotator.rotation.results import RotationStatus
from rotator.testing.openai_emulator import ManualClock


def test_progress_bar_counts_done_failed_in_flight_rate_and_eta() -> None:
    """Four secrets, two finished in 2 s (one failed), one in flight: rate 1/s, ETA 2 s."""
    clock = ManualClock()
    bar, lines = io.StringIO(), io.StringIO()
    progress = FleetProgress(4, bar=bar, lines=lines, monotonic=clock.monotonic, width=8)
    for name in ("a", "b", "c"):
        progress.started(name)
    clock.advance(2)
    progress.finished(FleetResult("a", RotationStatus.ROTATED, {"status": "rotated"}))
    progress.finished(
        FleetResult("b", RotationStatus.FAILED, {"status": "failed", "error": "boom"})
    )
    assert progress.render() == ("[####----] 2/4 done 1 failed 1 in flight 1 · 1.0/s · ETA 2s")
    assert [json.loads(line)["secret_id"] for line in lines.getvalue().splitlines()] == ["a", "b"]
    assert "in flight" in bar.getvalue()
    summary = progress.summary({"throttled": 0})
    assert (summary["rotated"], summary["failed"], summary["total"]) == (1, 1, 4)


def test_tags_parse_as_key_value_pairs_and_bad_ones_are_config_errors() -> None:
    """--tag team=a --tag env= gives {team: a, env: ''}; a pair without = is refused."""
    assert parse_tags(("team=a", "env=")) == {"team": "a", "env": ""}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_tags(("team",))


def test_status_table_aligns_columns_and_marks_old_keys() -> None:
    """Rows line up under the header; a too-old key's age carries a '!'."""
    rows: list[dict[str, object]] = [
        {"secret_id": "a", "key_id": "key_1", "key_age": "100d", "too_old": True},
        {"secret_id": "bbbb", "key_id": None, "rotation_enabled": True, "stuck_version_id": "v"},
    ]
    header, first, second = status_table(rows).splitlines()
    assert header.index("key id") == first.index("key_1")
    assert "100d !" in first
    assert "yes (v)" in second
    assert " on " in second


def test_help_does_not_import_boto3() -> None:
    """`rotator --help` (and `rotate --help`) start without loading boto3 or botocore."""
    code = (
        "import sys\n"
        "from rotator.cli.app import cli\n"
        "for args in (['--help'], ['rotate', '--help'], ['status', '--help']):\n"
        "    try:\n"
        "        cli.main(args, prog_name='rotator')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "--all" in done.stdout
