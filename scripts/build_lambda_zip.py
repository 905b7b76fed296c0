"""Build ``dist/rotator-lambda.zip``: the rotation Lambda with every runtime dependency.

Layout (what ``template.yaml`` names): ``handler.py`` at the zip root, so the handler is
``handler.lambda_handler``, with the ``rotator`` package (less ``rotator/testing``) and the
runtime dependencies from ``pyproject.toml`` beside it.

Two phases, so that only the first needs the package index:

1. ``pip download`` the dependencies as wheels for the target (``--platform``,
   ``--python-version``, ``--implementation cp``, ``--only-binary=:all:``) into a wheelhouse
   under ``build/`` (kept between runs).
2. ``pip install --no-index`` from that wheelhouse into a staging folder, prune it (below),
   copy our code in and write a deterministic zip (sorted entries, fixed timestamps): same
   inputs, same bytes.

Pruning keeps the pinned botocore (AWS recommends bundling the SDK) but only what the Lambda
loads: ``botocore/data`` is cut to Secrets Manager plus the files botocore reads when it builds
a client (:data:`BOTOCORE_DATA_FILES`, found by recording every file a full rotation opens).
Distributions the Lambda never imports (:data:`UNUSED_DISTRIBUTIONS`: rotator builds its client
from botocore, and click serves only the CLI) are removed with their RECORD, as are caches,
type stubs and test folders. ``tests/deploy/test_lambda_zip.py`` proves the pruned package
still builds its client in every partition and rotates.

``--offline`` skips phase 1 (the tests use it to rebuild a stale zip without the network).
No Docker is needed: the dependencies are pure Python (the build checks it and says so).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = {
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
BUILD_INFO = "rotator_build.json"
#: Distributions pip installs for pyproject's dependencies that the Lambda never imports.
UNUSED_DISTRIBUTIONS = ("boto3", "s3transfer", "click")
#: The one service whose models the Lambda needs.
BOTOCORE_SERVICES = ("secretsmanager",)
#: Top-level files of botocore/data that botocore reads when it creates a client and retries.
BOTOCORE_DATA_FILES = (
    "endpoints.json",
    "partitions.json",
    "sdk-default-configuration.json",
    "_retry.json",
)
#: Dropped anywhere in the staging folder: bytecode caches, stubs and tests never run.
PRUNED_DIRS = frozenset({"__pycache__", "tests", "test"})
PRUNED_SUFFIXES = frozenset({".pyc", ".pyi"})
#: dist-info files that describe the install, not the code (RECORD would list pruned files).
PRUNED_DIST_INFO = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
#: What template.yaml's CodeUri names.
DEFAULT_OUTPUT = ROOT / "dist" / "rotator-lambda.zip"


def runtime_requirements() -> list[str]:
    """The ``[project].dependencies`` of pyproject.toml: what the Lambda needs, nothing else."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return list(tomllib.load(file)["project"]["dependencies"])


def project_files() -> dict[str, Path]:
    """Archive name → source file for our own code: the handler and the rotator package."""
    files = {"handler.py": ROOT / "lambda" / "handler.py"}
    package = ROOT / "rotator"
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if not path.is_file() or relative.parts[0] == "testing" or "__pycache__" in path.parts:
            continue
        if path.suffix in {".py", ".typed"}:
            files[f"rotator/{relative.as_posix()}"] = path
    return files


def _target_options(arch: str, python_version: str) -> list[str]:
    options = [f"--platform={platform}" for platform in PLATFORMS[arch]]
    return [
        *options,
        f"--python-version={python_version}",
        "--implementation=cp",
        "--only-binary=:all:",
    ]


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args]
    subprocess.run(command, check=True)  # noqa: S603 - pip with arguments we built


def download(wheelhouse: Path, arch: str, python_version: str, constraints: Path | None) -> None:
    wheelhouse.mkdir(parents=True, exist_ok=True)
    extra = ["--constraint", str(constraints)] if constraints else []
    _pip(
        "download",
        "--dest",
        str(wheelhouse),
        *_target_options(arch, python_version),
        *extra,
        *runtime_requirements(),
    )


def install(wheelhouse: Path, staging: Path, arch: str, python_version: str) -> None:
    if not wheelhouse.is_dir() or not any(wheelhouse.glob("*.whl")):
        raise SystemExit(
            f"no wheels in {wheelhouse}; run `make package` once with access to the package index"
        )
    _pip(
        "install",
        "--no-index",
        "--find-links",
        str(wheelhouse),
        "--target",
        str(staging),
        "--no-compile",
        *_target_options(arch, python_version),
        *runtime_requirements(),
    )
    shutil.rmtree(staging / "bin", ignore_errors=True)  # console scripts: useless in Lambda


def _distribution_files(staging: Path, name: str) -> list[Path]:
    """Every file pip's RECORD lists for distribution ``name`` (its dist-info included)."""
    normalised = name.lower().replace("-", "_")
    records = [
        info / "RECORD"
        for info in staging.glob("*.dist-info")
        if info.name.lower().split("-")[0] == normalised
    ]
    if not records:
        raise SystemExit(f"{name} is not installed in {staging}; cannot remove it")
    files = []
    for record in records:
        for line in record.read_text().splitlines():
            relative = line.rsplit(",", 2)[0]
            if relative:
                files.append((staging / relative).resolve())
    return files


def _prune_botocore_data(staging: Path) -> None:
    data = staging / "botocore" / "data"
    for entry in sorted(data.iterdir()):
        keep = entry.name in BOTOCORE_SERVICES or entry.name in BOTOCORE_DATA_FILES
        if not keep:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for service in BOTOCORE_SERVICES:  # only the newest API version, the one botocore loads
        versions = sorted(p for p in (data / service).iterdir() if p.is_dir())
        for old in versions[:-1]:
            shutil.rmtree(old)


def prune(staging: Path) -> None:
    """Remove what the Lambda never loads (see the module docstring)."""
    for name in UNUSED_DISTRIBUTIONS:
        for path in _distribution_files(staging, name):
            if path.is_relative_to(staging.resolve()):
                path.unlink(missing_ok=True)
    _prune_botocore_data(staging)
    for path in sorted(staging.rglob("*"), reverse=True):
        if not path.exists():
            continue
        if path.is_dir() and path.name in PRUNED_DIRS:
            shutil.rmtree(path)
        elif path.is_file() and (
            path.suffix in PRUNED_SUFFIXES
            or (path.parent.suffix == ".dist-info" and path.name in PRUNED_DIST_INFO)
        ):
            path.unlink()
    for path in sorted(staging.rglob("*"), reverse=True):  # folders emptied by the above
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def impure_files(staging: Path) -> list[str]:
    """Compiled extensions in the staging folder (none expected: everything is pure Python)."""
    suffixes = {".so", ".pyd", ".dylib"}
    return sorted(
        path.relative_to(staging).as_posix()
        for path in staging.rglob("*")
        if path.suffix in suffixes
    )


def write_zip(staging: Path, output: Path) -> None:
    """A deterministic zip of ``staging``: sorted names, fixed times, 0644 files."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(staging.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            info = zipfile.ZipInfo(path.relative_to(staging).as_posix(), date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    partial.replace(output)


def build(
    *,
    output: Path,
    arch: str,
    python_version: str,
    wheelhouse: Path,
    offline: bool,
    constraints: Path | None,
) -> dict[str, object]:
    if not offline:
        download(wheelhouse, arch, python_version, constraints)
    staging = output.parent / f".{output.stem}-staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        install(wheelhouse, staging, arch, python_version)
        prune(staging)
        for name, source in project_files().items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        impure = impure_files(staging)
        info: dict[str, object] = {
            "runtime": f"python{python_version}",
            "architecture": arch,
            "pure_python": not impure,
            "compiled_files": impure,
            "botocore_services": list(BOTOCORE_SERVICES),
            "removed_distributions": list(UNUSED_DISTRIBUTIONS),
        }
        (staging / BUILD_INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        write_zip(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64")
    parser.add_argument("--python-version", default="3.13")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--wheelhouse", type=Path, help="default build/wheelhouse/<py>-<arch>")
    parser.add_argument("--constraints", type=Path, help="pin versions (e.g. pip freeze output)")
    parser.add_argument("--offline", action="store_true", help="use the wheelhouse only")
    args = parser.parse_args(argv)
    wheelhouse = args.wheelhouse or (
        ROOT / "build" / "wheelhouse" / f"py{args.python_version}-{args.arch}"
    )
    info = build(
        output=args.output,
        arch=args.arch,
        python_version=args.python_version,
        wheelhouse=wheelhouse,
        offline=args.offline,
        constraints=args.constraints,
    )
    size = args.output.stat().st_size
    purity = "pure Python" if info["pure_python"] else f"COMPILED: {info['compiled_files']}"
    print(  # noqa: T201 - a build tool reports what it built
        f"{args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}: "
        f"{size:,} bytes ({size / 1_048_576:.1f} MiB), {info['runtime']} {info['architecture']}, "
        f"{purity}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
