"""The house's shape, kept: small modules, and the folders the README's Layout names."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The house style's limit for one module of the package (tests may be longer).
MAX_LINES = 300


def test_no_module_of_the_package_is_over_300_lines() -> None:
    """Every module under rotator/ (and the Lambda handler) has one job and stays small."""
    sources = [*ROOT.joinpath("rotator").rglob("*.py"), ROOT / "lambda" / "handler.py"]
    long = {
        str(path.relative_to(ROOT)): n
        for path in sources
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_package_folder_is_named_in_the_readme_layout() -> None:
    """A newcomer finds each folder of rotator/ in the README's Layout section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") :]
    folders = sorted(
        p.name for p in ROOT.joinpath("rotator").iterdir() if p.is_dir() and p.name != "__pycache__"
    )
    assert [f for f in folders if f"{f}/" not in layout] == []
