"""Shared fixtures: a private MESH_HOME per test, and the repo's paths."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def mesh_home(tmp_path, monkeypatch) -> Path:
    """A fresh MESH_HOME for the test, exported so the platform and its children use it."""
    home = tmp_path / "mesh"
    monkeypatch.setenv("MESH_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    return home


@pytest.fixture
def domain_copy(tmp_path):
    """Copy one demo domain folder (without dbt/target) so a test may break it."""

    def copy(name: str) -> Path:
        dest = tmp_path / "domains" / name
        shutil.copytree(
            REPO / "domains" / name, dest, ignore=shutil.ignore_patterns("target", "logs")
        )
        return dest

    return copy


def env_with(**extra: str) -> dict[str, str]:
    """The current environment plus overrides, for subprocesses."""
    return {**os.environ, **extra}
