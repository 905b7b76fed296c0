"""The vendored OpenAPI specs are the shared references, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
#: The official subset (2026-08) and the newer overlay (2026-11) the emulator is held to.
SPECS = ("openai-admin-openapi.yaml", "openai-admin-openapi-2026-11.yaml")


@pytest.mark.parametrize("name", SPECS)
def test_vendored_spec_equals_the_shared_reference(name: str) -> None:
    """The copy under tests/contract is unchanged from ../shared/reference (when present)."""
    shared = REFERENCE / name
    if not shared.exists():
        pytest.skip(f"{shared} is not available here; the vendored copy is authoritative")
    assert (HERE / name).read_bytes() == shared.read_bytes()


@pytest.mark.parametrize("name", SPECS)
def test_vendored_spec_is_the_admin_subset_of_openapi_3_1(name: str) -> None:
    """The vendored file is an OpenAPI 3.1 document holding the admin paths rotator calls."""
    text = (HERE / name).read_text(encoding="utf-8")
    assert "openapi: 3.1.0" in text
    assert "/organization/projects/{project_id}/service_accounts:" in text


def test_newer_spec_has_the_operations_the_emulator_serves() -> None:
    """The 2026-11 overlay carries key update and expiry fields; the 2026-08 subset does not."""
    newer = (HERE / SPECS[1]).read_text(encoding="utf-8")
    older = (HERE / SPECS[0]).read_text(encoding="utf-8")
    assert "operationId: update-project-api-key" in newer
    assert "operationId: update-project-api-key" not in older
    assert "expires_in_seconds" in newer
