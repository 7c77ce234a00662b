"""`mesh ci`'s dbt step: build only what changed against a base commit, with dbt state selection.

The base's dbt project is taken out of git (``git archive``) and parsed; its manifest is the state.
The domain then builds ``state:modified+`` in a throwaway MESH_HOME whose sources are empty stubs
shaped by their contracts (raw tables as ingestion creates them, ports as empty Parquet), so CI
proves the changed SQL runs against its inputs' contracted schemas without any data.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from mesh_platform.dbt.render import render_project
from mesh_platform.dbt.sources import (
    LANDING_META,
    LANDING_SOURCE,
    PORTS_SCHEMA,
    port_meta,
    port_view,
)
from mesh_platform.descriptors.errors import SpecErrors
from mesh_platform.descriptors.loader import load_domain
from mesh_platform.ports import PortRef


@dataclass
class DomainBuild:
    """What the dbt build of one changed domain did."""

    domain: str
    ok: bool
    nodes: list[str] = field(default_factory=list)  # unique ids dbt built or tested
    message: str = ""


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in ``root``, capturing its output."""
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)


def changed_domains(root: Path, files: list[str]) -> list[str]:
    """Domains (still present) whose folder or contracts changed."""
    found = set()
    for path in files:
        parts = Path(path).parts
        if len(parts) > 1 and parts[0] in ("domains", "contracts"):
            found.add(parts[1])
    return sorted(d for d in found if (root / "domains" / d / "domain.yaml").exists())


def _archive(root: Path, base: str, path: str, dest: Path) -> bool:
    """Extract ``path`` as it was at ``base`` into ``dest``; False when the base lacks it."""
    proc = subprocess.run(["git", "-C", str(root), "archive", base, path], capture_output=True)
    if proc.returncode != 0:
        return False
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return True


def base_project(root: Path, base: str, domain: str, dest: Path, home: Path) -> Path | None:
    """Render the base's dbt project of ``domain`` into ``dest``; None if the base has none.

    The base's domain folder and its contracts are taken out of git, then rendered as the
    platform renders the working tree's, so both manifests describe the same kind of project.
    """
    if not _archive(root, base, f"domains/{domain}", dest / "checkout"):
        return None  # the path is not in the base: a new domain
    _archive(root, base, f"contracts/{domain}", dest / "checkout")  # none: nothing injected
    try:
        old = load_domain(dest / "checkout" / "domains" / domain)
    except SpecErrors:
        return None  # the base's descriptors do not load: build everything
    return render_project(old, dest / "checkout" / "contracts", home, dest / "project")


@contextlib.contextmanager
def _mesh_home(home: Path):
    """MESH_HOME set to ``home`` for dbt's profile, restored afterwards."""
    saved = os.environ.get("MESH_HOME")
    os.environ["MESH_HOME"] = str(home)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MESH_HOME", None)
        else:
            os.environ["MESH_HOME"] = saved


def dbt(project: Path, target: Path, *args: str) -> Any:
    """Invoke dbt in this process on ``project`` with its own target and log folders."""
    from dbt.cli.main import dbtRunner

    paths = ["--project-dir", str(project), "--profiles-dir", str(project),
             "--target-path", str(target), "--log-path", str(target / "logs")]  # fmt: skip
    return dbtRunner().invoke([args[0], "--quiet", *paths, *args[1:]])


def _port_columns(root: Path, port: str, major: int) -> list[tuple[str, str]]:
    from mesh_platform.contracts.odcs import load_contract
    from mesh_platform.contracts.types import column_type

    domain, name = port.split("/")
    folder = root / "contracts" / domain
    path = folder / f"{name}.v{major}.odcs.yaml"
    contract = load_contract(path if path.exists() else folder / f"{name}.odcs.yaml")
    return [(c.name or "", column_type(c.physicalType, c.logicalType)) for c in contract.columns]


def stub_sources(root: Path, domain: str, manifest: Path, home: Path) -> None:
    """Create every source of the domain, empty, shaped by its contract, under ``home``."""
    from mesh_platform.ingest.loader import ensure_tables
    from mesh_platform.ingest.shape import load_source_shape

    sources = json.loads(manifest.read_text())["sources"].values()
    (home / "warehouse").mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(home / "warehouse" / f"{domain}.duckdb")) as con:
        for source in sources:
            meta = port_meta(source)
            if meta.get("mesh_port"):  # the view its runs read a pinned snapshot through, empty
                major = int(meta.get("mesh_port_version", 1))
                cols = _port_columns(root, meta["mesh_port"], major)
                select = ", ".join(f'NULL::{t} AS "{c}"' for c, t in cols)
                producer, product = meta["mesh_port"].split("/")
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {PORTS_SCHEMA}")
                view = port_view(PortRef(producer, product, major))
                con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT {select} LIMIT 0")
            elif meta.get(LANDING_META) or source["source_name"] == LANDING_SOURCE:
                entity = meta.get(LANDING_META) or source["name"]
                ensure_tables(con, load_source_shape(root / "contracts", domain, entity))


def _executed(target: Path) -> list[str]:
    results = target / "run_results.json"
    if not results.exists():
        return []
    return [r["unique_id"] for r in json.loads(results.read_text())["results"]]


def build_changed(root: Path, domain: str, base: str, work: Path) -> DomainBuild:
    """Build ``state:modified+`` of one domain against the base (everything if the base lacks it).

    Unmodified parents of modified models are created first, empty (``dbt run --empty``), so the
    selected nodes find every relation they read.
    """
    home, target = work / "home", work / "target" / domain
    with _mesh_home(home):
        state = None
        project = render_project(load_domain(root / "domains" / domain), root / "contracts", home,
                                 work / "project" / domain)  # fmt: skip
        old = base_project(root, base, domain, work / "base", home)
        if old is not None:
            state = work / "base-target" / domain
            if not dbt(old, state, "parse").success:
                return DomainBuild(domain, False, message=f"dbt parse of the base {base} failed")
        if not dbt(project, target, "parse").success:
            return DomainBuild(domain, False, message="dbt parse failed")
        stub_sources(root, domain, target / "manifest.json", home)
        select = ["--select", "state:modified+", "--state", str(state)] if state else []
        if state:
            parents = ["--select", "+state:modified", "--exclude", "state:modified+"]
            if not dbt(project, target, "run", "--empty", *parents, "--state", str(state)).success:
                return DomainBuild(domain, False, message="building the unmodified parents failed")
        result = dbt(project, target, "build", *select)
        nodes = _executed(target)
        failed = [r.node.unique_id for r in (result.result or []) if r.status in ("error", "fail")]
        message = f"failed: {', '.join(failed)}" if failed else str(result.exception or "")
        return DomainBuild(
            domain, bool(result.success), nodes, message if not result.success else ""
        )
