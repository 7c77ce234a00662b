"""Fixtures: a copy of the repo's mesh (domains, contracts, workspace) to scaffold into."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, env_with

MESH = [sys.executable, "-m", "mesh_platform.cli"]
_IGNORE = shutil.ignore_patterns("target", "logs", "__pycache__")


def copy_mesh(dest: Path) -> Path:
    """Copy mesh.yaml, domains/, contracts/ and dagster_project/ of the repo (no build output)."""
    for folder in ("domains", "contracts", "dagster_project"):
        shutil.copytree(REPO / folder, dest / folder, ignore=_IGNORE)
    shutil.copyfile(REPO / "mesh.yaml", dest / "mesh.yaml")  # the demo's generator with it
    return dest


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return proc.stdout


def run_mesh(root: Path, home: Path, *args: str, timeout: int = 900):
    """`mesh ARGS` on the mesh at ``root`` with MESH_HOME ``home``, as a subprocess."""
    return subprocess.run(
        [*MESH, *args], capture_output=True, text=True, timeout=timeout, cwd=root,
        env=env_with(MESH_PROJECT_ROOT=str(root), MESH_HOME=str(home), COLUMNS="200"),
    )  # fmt: skip


@pytest.fixture
def mesh_copy(tmp_path) -> Path:
    """A private copy of the repo's mesh to scaffold into."""
    return copy_mesh(tmp_path / "repo")


@pytest.fixture
def git_mesh(mesh_copy) -> Path:
    """The copy as a git repository whose branch main holds it unchanged."""
    git(mesh_copy, "init", "-q", "-b", "main")
    git(mesh_copy, "add", "-A")
    git(mesh_copy, "commit", "-q", "-m", "base")
    return mesh_copy
