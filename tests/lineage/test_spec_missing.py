"""A clone without ../shared: spec checks skip saying why, the platform names the setting."""

from __future__ import annotations

import pytest
from mesh_platform.lineage.validation import validate_event

from tests.openlineage_spec import require_spec


def test_missing_spec_skips_with_a_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENLINEAGE_SPEC_DIR", str(tmp_path))
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_spec(monkeypatch, "the events")
    assert "the events not checked" in str(skipped.value)
    assert str(tmp_path) in str(skipped.value) and "OPENLINEAGE_SPEC_DIR" in str(skipped.value)


def test_platform_names_the_setting_when_the_spec_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENLINEAGE_SPEC_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="OPENLINEAGE_SPEC_DIR"):
        validate_event({})
