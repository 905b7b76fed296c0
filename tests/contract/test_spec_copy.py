"""The vendored OpenAPI spec is the shared reference, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

VENDORED = Path(__file__).with_name("openai-admin-openapi.yaml")
SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "openai-admin-openapi.yaml"


def test_vendored_spec_equals_the_shared_reference() -> None:
    """The copy under tests/contract is unchanged from ../shared/reference (when present)."""
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is not available here; the vendored copy is authoritative")
    assert VENDORED.read_bytes() == SHARED.read_bytes()


def test_vendored_spec_is_the_admin_subset_of_openapi_3_1() -> None:
    """The vendored file is an OpenAPI 3.1 document holding the admin paths rotator calls."""
    text = VENDORED.read_text(encoding="utf-8")
    assert "openapi: 3.1.0" in text
    assert "/organization/projects/{project_id}/service_accounts:" in text
