"""Fixtures: a copy of the repo's mesh (domains, contracts, workspace) to scaffold into."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import MeshCopy, git


@pytest.fixture
def mesh_copy(demo_copy: MeshCopy) -> Path:
    """Root of a private copy of the repo's mesh to scaffold into."""
    return demo_copy.root


@pytest.fixture
def git_mesh(mesh_copy) -> Path:
    """The copy as a git repository whose branch main holds it unchanged."""
    git(mesh_copy, "init", "-q", "-b", "main")
    git(mesh_copy, "add", "-A")
    git(mesh_copy, "commit", "-q", "-m", "base")
    return mesh_copy
