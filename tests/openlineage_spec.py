"""The official OpenLineage spec for tests: where it is, or a skip that says what did not run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import REPO


def spec_dir() -> Path:
    """``OPENLINEAGE_SPEC_DIR``, else ``../shared/openlineage-spec`` beside the checkout (CI)."""
    override = os.environ.get("OPENLINEAGE_SPEC_DIR")
    return Path(override) if override else REPO.parent / "shared" / "openlineage-spec"


def require_spec(monkeypatch: pytest.MonkeyPatch, what: str) -> Path:
    """Point the platform at the official spec, or skip the calling test saying what did not run.

    A user's fresh clone has no ``../shared``: the test then reports as skipped with this reason
    (shown by ``pytest -ra``) instead of failing.

    Args:
        monkeypatch: the test's monkeypatch, to export OPENLINEAGE_SPEC_DIR for the platform.
        what: the check that needs the spec, named in the skip reason.

    Returns:
        The spec folder.
    """
    spec = spec_dir()
    if not (spec / "OpenLineage.json").is_file():
        pytest.skip(f"{what} not checked: OpenLineage spec not found at {spec} "
                    "(set OPENLINEAGE_SPEC_DIR to a checkout of OpenLineage's spec/)")  # fmt: skip
    monkeypatch.setenv("OPENLINEAGE_SPEC_DIR", str(spec))
    return spec
