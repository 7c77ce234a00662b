"""A private copy of the demo mesh (descriptors, dbt projects, contracts) that a test may break."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from mesh_platform.governance.engine import GovernanceResult, run_governance
from mesh_platform.governance.model import Finding
from mesh_platform.settings import MeshPaths

from tests.conftest import REPO

# A dbt source reading another domain's private port (customers/customer_master).
PRIVATE_SOURCE = """version: 2
sources:
  - name: customers_private
    tables:
      - name: customer_master
        meta:
          mesh_port: customers/customer_master
          external_location: "read_parquet('lake/customers/customer_master/v1/current/*.parquet')"
"""


@dataclass
class MeshCopy:
    """A copy of the demo mesh under a temporary root, with an empty MESH_HOME."""

    root: Path
    home: Path

    @property
    def paths(self) -> MeshPaths:
        """The copy's paths."""
        return MeshPaths(root=self.root, home=self.home)

    def govern(self, domain: str | None = None) -> GovernanceResult:
        """Run governance over the copy."""
        return run_governance(self.root, domain=domain, paths=self.paths)

    def edit(self, rel: str, change: Callable[[Any], Any]) -> None:
        """Load a YAML file of the copy, let ``change`` mutate it in place, save it."""
        path = self.root / rel
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    def write(self, rel: str, text: str) -> None:
        """Write a file of the copy."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def mesh(tmp_path) -> MeshCopy:
    """The demo's domains/ and contracts/ copied (without dbt build output)."""
    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb", ".user.yml")
    shutil.copytree(REPO / "domains", root / "domains", ignore=ignore)
    shutil.copytree(REPO / "contracts", root / "contracts")
    return MeshCopy(root=root, home=tmp_path / "home")


def failing(result: GovernanceResult, policy: str) -> list[Finding]:
    """Warning and error findings of one policy."""
    return [f for f in result.findings if f.policy == policy and f.severity.name != "info"]


def only(result: GovernanceResult, policy: str) -> Finding:
    """The single failing finding of ``policy``; fails the test with all findings otherwise."""
    found = failing(result, policy)
    assert len(found) == 1, [str(f) for f in result.findings]
    return found[0]
