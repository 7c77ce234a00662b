"""Shared fixtures: a private MESH_HOME per test, and copies of the demo mesh."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import MeshCopy, copy_domain, copy_mesh


@pytest.fixture
def mesh_home(tmp_path, monkeypatch) -> Path:
    """A fresh MESH_HOME for the test, exported so the platform and its children use it."""
    home = tmp_path / "mesh"
    monkeypatch.setenv("MESH_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    return home


@pytest.fixture
def demo_copy(tmp_path) -> MeshCopy:
    """A private copy of the demo mesh (no build output) with an empty MESH_HOME."""
    return MeshCopy(root=copy_mesh(tmp_path / "repo"), home=tmp_path / "home")


@pytest.fixture
def domain_copy(tmp_path):
    """Copy one demo domain folder (without build output) so a test may break it."""
    return lambda name: copy_domain(tmp_path, name)
