"""The Lambda zip carries everything: a fresh interpreter with only the zip runs a rotation."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

from tests.deploy.conftest import ROOT, World

#: Runs in ``python -I -S``: no site-packages, no PYTHONPATH, no current directory on sys.path.
CHILD = r"""
import importlib, json, sys, sysconfig
code_dir, handler_spec, events_file, report_file = sys.argv[1:5]
sys.path.insert(0, code_dir)
module_name, _, function_name = handler_spec.rpartition(".")
module = importlib.import_module(module_name)
function = getattr(module, function_name)

class Context:
    aws_request_id = "req-zip-test"
    function_name = "rotator"

results = [function(event, Context()) for event in json.load(open(events_file))]
stdlib = sysconfig.get_paths()["stdlib"]
outside = sorted(
    name for name, mod in list(sys.modules.items())
    if getattr(mod, "__file__", None)
    and not mod.__file__.startswith((code_dir, stdlib, sys.base_prefix))
)
json.dump({
    "sys_path": sys.path,
    "handler_file": module.__file__,
    "botocore_file": sys.modules["botocore"].__file__,
    "httpx_file": sys.modules["httpx"].__file__,
    "outside": outside,
    "results": results,
}, open(report_file, "w"))
"""

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def _unzip(lambda_zip: Path, into: Path) -> Path:
    into.mkdir()
    assert not any(into.iterdir())
    with zipfile.ZipFile(lambda_zip) as archive:
        archive.extractall(into)
    return into


def test_zip_layout_puts_the_handler_at_the_root_beside_rotator(lambda_zip: Path) -> None:
    """handler.py sits at the zip root next to the rotator package; no test fakes ship."""
    with zipfile.ZipFile(lambda_zip) as archive:
        names = set(archive.namelist())
        info = json.loads(archive.read("rotator_build.json"))
        handler_source = archive.read("handler.py")
    assert handler_source == (ROOT / "lambda" / "handler.py").read_bytes()
    assert {"rotator/__init__.py", "rotator/app.py", "boto3/__init__.py"} <= names
    assert {"httpx/__init__.py", "structlog/__init__.py", "click/__init__.py"} <= names
    assert not [name for name in names if name.startswith("rotator/testing/")]
    assert not [name for name in names if name.startswith("moto/")]
    assert info["pure_python"] is True, info["compiled_files"]
    assert info["runtime"] == "python3.13"


def test_unzipped_package_alone_rotates_a_key_in_a_fresh_interpreter(
    lambda_zip: Path, world: World, tmp_path: Path, template: dict[str, Any]
) -> None:
    """GIVEN only the unzipped package on sys.path WHEN the four steps run THEN the key rotates.

    The handler is found exactly as Lambda finds it: the template's Handler, from the zip root.
    """
    code = _unzip(lambda_zip, tmp_path / "code")
    arn = world.seed_rotated_secret()
    token = world.aws.seed_pending_version(arn)
    events = [
        {
            "Step": step,
            "SecretId": arn,
            "ClientRequestToken": token,
            "RotationToken": str(uuid.uuid4()),
        }
        for step in STEPS
    ]
    (tmp_path / "events.json").write_text(json.dumps(events))
    report_file = tmp_path / "report.json"
    env = {
        **world.aws.env(),
        "OPENAI_BASE_URL": world.openai.base_url,
        "ROTATOR_ADMIN_KEY_SECRET_ID": world.admin_arn,
        "LOG_LEVEL": "INFO",
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    }
    handler_spec = template["Resources"]["RotationFunction"]["Properties"]["Handler"]
    args = [str(code), handler_spec, str(tmp_path / "events.json"), str(report_file)]
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", CHILD, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report: dict[str, Any] = json.loads(report_file.read_text())
    assert not [p for p in report["sys_path"] if "site-packages" in p]
    assert report["handler_file"] == str(code / "handler.py")
    assert report["botocore_file"].startswith(str(code))
    assert report["httpx_file"].startswith(str(code))
    assert report["outside"] == []
    assert report["results"] == [None, None, None, None]
    assert "AWSCURRENT" in world.store.describe(arn).versions[token]
    new_key = world.current(arn)["api_key"]
    assert world.emulator.key_works(new_key)
    assert not world.emulator.key_works(world.key_value)
    logs = completed.stdout + completed.stderr
    assert '"step"' in logs
    assert new_key not in logs
    assert world.key_value not in logs
    assert world.admin_key not in logs
