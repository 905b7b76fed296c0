"""The Lambda zip carries everything it needs and little else: a fresh interpreter with only the
(pruned) zip builds its Secrets Manager client in every partition and runs a rotation."""

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

#: Also ``python -I -S``: build the client as the adapter does in every partition botocore
#: knows and record the URL each request would go to (the request never leaves the process).
PARTITIONS_CHILD = r"""
import json, sys
code_dir, report_file = sys.argv[1:3]
sys.path.insert(0, code_dir)
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config

class Raw:
    def stream(self, **_):
        yield b'{"ARN": "arn", "Name": "n"}'

session = botocore.session.get_session()
urls = {}
for partition in session.get_available_partitions():
    regions = session.get_available_regions("secretsmanager", partition)
    for region in regions[:1]:
        for fips in (False, True):
            client = session.create_client(
                "secretsmanager", region_name=region, aws_access_key_id="AKIDEXAMPLE",
                aws_secret_access_key="example", config=Config(
                    retries={"mode": "standard", "total_max_attempts": 1},
                    use_fips_endpoint=fips))
            sent = []
            def send(request, **_):
                sent.append(request.url)
                return AWSResponse(request.url, 200, {}, Raw())
            client.meta.events.register("before-send", send)
            client.describe_secret(SecretId="openai/app")
            urls[f"{partition} {region}{' fips' if fips else ''}"] = sent[0]
json.dump({"partitions": session.get_available_partitions(), "urls": urls,
           "botocore_file": botocore.__file__}, open(report_file, "w"))
"""

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
#: The most the zip may weigh (issue 11: every cold start unpacks it).
MAX_ZIP_BYTES = 4 * 1024 * 1024


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
    assert {
        "rotator/__init__.py",
        "rotator/app.py",
        "botocore/__init__.py",
        "httpx/__init__.py",
    } <= names
    assert "structlog/__init__.py" in names
    assert not [name for name in names if name.startswith("rotator/testing/")]
    assert not [name for name in names if name.startswith("moto/")]
    assert info["pure_python"] is True, info["compiled_files"]
    assert info["runtime"] == "python3.13"


def test_zip_is_at_most_4_mib_and_leaves_out_what_the_lambda_never_imports(
    lambda_zip: Path,
) -> None:
    """boto3, s3transfer and click are gone; botocore keeps Secrets Manager's models only."""
    assert lambda_zip.stat().st_size <= MAX_ZIP_BYTES
    with zipfile.ZipFile(lambda_zip) as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names}
    assert not [t for t in tops if t.split("-")[0] in {"boto3", "s3transfer", "click"}]
    data = {n.removeprefix("botocore/data/") for n in names if n.startswith("botocore/data/")}
    assert {d.split("/")[0] for d in data} == {
        "secretsmanager",
        "endpoints.json",
        "partitions.json",
        "sdk-default-configuration.json",
        "_retry.json",
    }
    assert {"secretsmanager/2017-10-17/service-2.json.gz"} <= data
    assert "secretsmanager/2017-10-17/endpoint-rule-set-1.json.gz" in data
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyi"))]
    assert not [n for n in names if n.endswith(".dist-info/RECORD")]
    assert not [n for n in names if "/tests/" in n or n.startswith("tests/")]


def test_zip_build_is_reproducible_byte_for_byte(lambda_zip: Path, tmp_path: Path) -> None:
    """A second build from the same wheelhouse and sources gives the same bytes."""
    wheelhouse = ROOT / "build" / "wheelhouse" / "py3.13-arm64"
    output = tmp_path / "again.zip"
    subprocess.run(
        [
            *(sys.executable, str(ROOT / "scripts" / "build_lambda_zip.py"), "--offline"),
            *("--wheelhouse", str(wheelhouse), "--output", str(output)),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert output.read_bytes() == lambda_zip.read_bytes()


def test_pruned_botocore_builds_a_client_and_resolves_endpoints_in_every_partition(
    lambda_zip: Path, tmp_path: Path
) -> None:
    """GIVEN only the unzipped package WHEN a client is built per partition THEN each resolves.

    Every ARN partition the template's patterns accept (``arn:aws[a-z-]*``) is one botocore's
    partitions.json lists; the pruned data still resolves Secrets Manager there, FIPS included.
    """
    code = _unzip(lambda_zip, tmp_path / "code")
    report_file = tmp_path / "partitions.json"
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PARTITIONS_CHILD, str(code), str(report_file)],
        env={"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report: dict[str, Any] = json.loads(report_file.read_text())
    assert report["botocore_file"].startswith(str(code))
    assert {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"} <= set(report["partitions"])
    urls: dict[str, str] = report["urls"]
    assert len(urls) == 2 * len(report["partitions"])
    assert urls["aws af-south-1"] == "https://secretsmanager.af-south-1.amazonaws.com/"
    assert urls["aws-cn cn-north-1"] == "https://secretsmanager.cn-north-1.amazonaws.com.cn/"
    assert urls["aws-us-gov us-gov-east-1"] == "https://secretsmanager.us-gov-east-1.amazonaws.com/"
    assert urls["aws-us-gov us-gov-east-1 fips"].startswith("https://secretsmanager-fips.")
    for name, url in urls.items():
        region = name.split()[1]
        assert url.startswith("https://secretsmanager"), name
        assert f".{region}." in url, name


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


def test_template_handler_resolves_to_the_function_inside_the_code_uri_artifact(
    lambda_zip: Path, template: dict[str, Any], tmp_path: Path
) -> None:
    """What CodeUri names (what `sam deploy` and `sam build` upload) holds Handler's function.

    CodeUri is the zip itself, so `sam build` copies it unchanged and both paths deploy these
    bytes. Handler is resolved as Lambda resolves it, in a bare interpreter over the unzipped
    artifact: the module from the zip root, the attribute a callable taking (event, context).
    """
    props = template["Resources"]["RotationFunction"]["Properties"]
    assert ROOT / props["CodeUri"] == ROOT / "dist" / "rotator-lambda.zip"
    code = _unzip(lambda_zip, tmp_path / "code")
    probe = (
        "import importlib, inspect, json, sys; sys.path.insert(0, sys.argv[1]); "
        "module_name, _, name = sys.argv[2].rpartition('.'); "
        "module = importlib.import_module(module_name); function = getattr(module, name); "
        "print(json.dumps([module.__file__, callable(function), "
        "list(inspect.signature(function).parameters)]))"
    )
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, str(code), props["Handler"]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    module_file, is_callable, parameters = json.loads(completed.stdout)
    assert module_file == str(code / "handler.py")
    assert is_callable
    assert len(parameters) == 2, parameters
