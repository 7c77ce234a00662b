"""Bring your own dbt project: copies of the fixture projects a test may change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import FIXTURES

PROJECTS = FIXTURES / "dbt_projects"


@pytest.fixture
def projects(tmp_path) -> Path:
    """A copy of tests/fixtures/dbt_projects (shop_a, shop_b and their local package)."""
    dest = tmp_path / "dbt_projects"
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", "package-lock.yml")
    shutil.copytree(PROJECTS, dest, ignore=ignore)
    return dest
