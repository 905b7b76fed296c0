"""Set up ``build/lambda-rt``: AWS's Python runtime, as far as it exists outside AWS.

Lambda's python3.13 runtime is a bare interpreter (``/var/lang``), AWS's runtime interface
client ``awslambdaric`` (``/var/runtime``, on ``PYTHONPATH``) and the function's code
(``/var/task``). This builds the first two here:

* ``build/lambda-rt/lang``: a venv of a real python3.13 with nothing installed (no pip);
* ``build/lambda-rt/runtime``: the pinned awslambdaric and its two dependencies, installed
  with ``--target`` from cp313 wheels kept in ``build/wheelhouse/lambda-rt`` (downloaded once;
  ``--offline`` uses only that folder).

python3.13 is looked for on PATH and in pyenv's versions; where there is none this prints why
and exits 0, and the runtime-client test skips with the same reason.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RT = ROOT / "build" / "lambda-rt"
WHEELHOUSE = ROOT / "build" / "wheelhouse" / "lambda-rt"
#: awslambdaric and what it pulls in, pinned (the versions checked on 2026-12-01).
PINS = ("awslambdaric==4.2.2", "simplejson==4.3.0", "snapshot-restore-py==1.0.0")
PYTHON_VERSION = (3, 13)
STAMP = RT / "ready.json"


def _is_python313(candidate: str) -> bool:
    probe = "import sys; print(sys.version_info[:2] == (3, 13))"
    try:
        done = subprocess.run(  # noqa: S603 - an interpreter we found, a fixed probe
            [candidate, "-c", probe], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == "True"


def find_python313() -> str | None:
    """A working python3.13: on PATH (a pyenv shim may refuse), else pyenv's, else None."""
    candidates = [shutil.which("python3.13")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv_root.glob("versions/3.13*/bin/python3.13"))]
    candidates += ["/usr/bin/python3.13", "/usr/local/bin/python3.13"]
    for candidate in candidates:
        if candidate and Path(candidate).exists() and _is_python313(candidate):
            return candidate
    return None


def _platforms() -> list[str]:
    machine = {"arm64": "aarch64"}.get(platform.machine(), platform.machine())
    return [f"--platform=manylinux2014_{machine}", f"--platform=manylinux_2_28_{machine}"]


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args]
    subprocess.run(command, check=True)  # noqa: S603 - pip with arguments we built


def ready(python: str | None) -> bool:
    """Whether build/lambda-rt holds this interpreter's venv and exactly the pinned client."""
    if python is None or not STAMP.exists():
        return False
    recorded = json.loads(STAMP.read_text())
    return bool(recorded == {"python": python, "pins": list(PINS)})


def setup(python: str, *, offline: bool) -> None:
    if not offline:
        WHEELHOUSE.mkdir(parents=True, exist_ok=True)
        target = ["--only-binary=:all:", "--implementation=cp", "--python-version=3.13"]
        _pip("download", "--dest", str(WHEELHOUSE), *target, *_platforms(), *PINS)
    shutil.rmtree(RT, ignore_errors=True)
    RT.mkdir(parents=True)
    subprocess.run(  # noqa: S603 - the interpreter find_python313 checked
        [python, "-m", "venv", "--without-pip", str(RT / "lang")], check=True
    )
    _pip(
        "install",
        "--no-index",
        "--find-links",
        str(WHEELHOUSE),
        "--target",
        str(RT / "runtime"),
        "--only-binary=:all:",
        "--python-version=3.13",
        "--implementation=cp",
        *_platforms(),
        *PINS,
    )
    STAMP.write_text(json.dumps({"python": python, "pins": list(PINS)}) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="use the wheelhouse only")
    args = parser.parse_args(argv)
    python = find_python313()
    if python is None:
        print(  # noqa: T201 - a build tool says what it did not do, and why
            "no python3.13 on PATH or in pyenv: build/lambda-rt not set up; "
            "the runtime-client test will be skipped"
        )
        return 0
    if not ready(python):
        setup(python, offline=args.offline)
    print(f"build/lambda-rt: {python} with {', '.join(PINS)}")  # noqa: T201 - ditto
    return 0


if __name__ == "__main__":
    sys.exit(main())
