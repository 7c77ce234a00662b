"""`mesh validate` stays quick: the CLI and its checks start without Dagster or Pandera."""

from __future__ import annotations

import subprocess
import sys

from tests.support import REPO

PROBE = """
import sys
from pathlib import Path
import mesh_platform.cli
from mesh_platform.contracts.conformance import validate_mesh
validate_mesh(Path("."))
print(sorted(m for m in ("dagster", "pandera", "dbt") if m in sys.modules))
"""


def test_validate_imports_no_heavy_package():
    # Each of these costs about a second to import: the 3 s budget of `mesh validate` is gone.
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
