"""Benchmark: `mesh govern` over a generated mesh of 100 domains x 20 products.

Generates, in a temporary folder, a mesh shaped like the demo (descriptors, dbt model .sql/.yml,
sources .yml for cross-domain reads, ODCS contracts of every public port and of each landing
source, a governance.yaml in every tenth domain) that passes every policy, then times, median of
--repeat runs each:

* govern (in-process): ``run_governance(root)``, everything after imports;
* validate (in-process): what ``mesh validate`` does (``contracts.drift.validate_mesh``), the
  baseline: loading and cross-checking the same files without any policy;
* govern (CLI) and validate (CLI): the commands as subprocesses, Python start-up included.

Target: `mesh govern` (CLI) under 5 s. Writes bench/results/govern.json.

    uv run python bench/bench_govern.py                  # 100 x 20, the figures in README
    uv run python bench/bench_govern.py --domains 10 --products 5 --repeat 1   # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench/results/govern.json"
TARGET_S = 5.0
COLUMNS = [  # name, physical type, logical type, classification
    ("item_id", "BIGINT", "integer", "internal"),
    ("day", "DATE", "date", "public"),
    ("category", "VARCHAR", "string", "public"),
    ("amount", "DECIMAL(14,2)", "number", "internal"),
    ("units", "BIGINT", "integer", "internal"),
    ("note", "VARCHAR", "string", "internal"),
]


def _dump(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _contract(domain: str, name: str, source: bool = False) -> dict:
    props = []
    for i, (col, physical, logical, cls) in enumerate(COLUMNS):
        prop = {
            "name": col,
            "description": f"The {col} of the item.",
            "logicalType": logical,
            "physicalType": physical,
            "required": True,
            "classification": cls,
        }
        if i == 0:
            prop |= {"primaryKey": True, "primaryKeyPosition": 1}
        props.append(prop)
    cid = f"urn:datacontract:{domain}:{'source:' if source else ''}{name}"
    out = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": cid,
        "name": name,
        "version": "1.0.0",
        "status": "active",
        "domain": domain,
        "description": {"purpose": f"Items of {domain} for reporting."},
        "schema": [
            {
                "name": name,
                "physicalName": name,
                "physicalType": "table",
                "description": "One row per item.",
                "properties": props,
                "quality": [{"name": "not_empty", "metric": "rowCount", "mustBeGreaterThan": 0}],
            }
        ],
    }
    if not source:
        out["slaProperties"] = [{"property": "freshness", "value": 24, "unit": "h"}]
        out["customProperties"] = [{"property": "portVersion", "value": 1}]
    return out


def _model_yml(name: str) -> dict:
    cols = [
        {"name": c, "description": f"The {c} of the item.", "data_type": t.lower()}
        for c, t, _, _ in COLUMNS
    ]
    return {
        "version": 2,
        "models": [{"name": name, "description": f"{name}: one row per item.", "columns": cols}],
    }


def _product(domain: str, j: int, upstream: str | None) -> dict:
    inputs = (
        [{"name": "erp_items", "kind": "landing", "location": f"{domain}/items_*.parquet"}]
        if j == 0
        else [{"name": "metrics_00", "kind": "port", "product": f"{domain}/metrics_00"}]
    )
    if j == 1 and upstream:
        inputs.append({"name": "upstream", "kind": "port", "product": f"{upstream}/metrics_00"})
    return {
        "name": f"metrics_{j:02d}",
        "kind": "source-aligned" if j == 0 else "aggregate",
        "description": f"Metrics {j} of {domain}.",
        "tier": "gold",
        "tags": ["bench"],
        "input_ports": inputs,
        "output_ports": [
            {
                "name": f"metrics_{j:02d}",
                "model": f"metrics_{j:02d}",
                "visibility": "public",
                "version": 1,
            }
        ],
        "slos": {"freshness_hours": 24, "availability": 99.5},
    }


def generate(root: Path, n_domains: int, n_products: int) -> None:
    """Write the synthetic mesh under ``root`` (domains/ and contracts/)."""
    for i in range(n_domains):
        domain = f"domain_{i:03d}"
        upstream = f"domain_{i - 1:03d}" if i else None
        ddir = root / "domains" / domain
        _dump(
            ddir / "domain.yaml",
            {
                "name": domain,
                "team": f"Team {i}",
                "owners": [f"team:{domain}"],
                "description": f"Domain {i} of the benchmark mesh.",
            },
        )
        models = ddir / "dbt/models"
        _dump(
            root / f"contracts/{domain}/sources/erp_items.odcs.yaml",
            _contract(domain, "erp_items", source=True),
        )
        if upstream:
            stg = f"stg_{upstream}__metrics_00"
            (models / "staging").mkdir(parents=True, exist_ok=True)
            (models / f"staging/{stg}.sql").write_text(
                f"select * from {{{{ source('{upstream}', 'metrics_00') }}}}\n"
            )
            _dump(
                models / "staging/_ports__sources.yml",
                {
                    "version": 2,
                    "sources": [
                        {
                            "name": upstream,
                            "tables": [
                                {
                                    "name": "metrics_00",
                                    "meta": {"mesh_port": f"{upstream}/metrics_00"},
                                }
                            ],
                        }
                    ],
                },
            )
        for j in range(n_products):
            name = f"metrics_{j:02d}"
            _dump(ddir / f"products/{name}.yaml", _product(domain, j, upstream))
            (models / "marts").mkdir(parents=True, exist_ok=True)
            (models / f"marts/{name}.sql").write_text("select 1 as item_id\n")
            _dump(models / f"marts/{name}.yml", _model_yml(name))
            _dump(root / f"contracts/{domain}/{name}.odcs.yaml", _contract(domain, name))
        if i % 10 == 0:
            _dump(
                ddir / "governance.yaml",
                {
                    "severities": {"naming": "error"},
                    "policies": [{"use": "min_tier", "params": {"tier": "gold"}}],
                },
            )
    # fmt: skip


def _cpu() -> float:
    """CPU seconds (user + sys) of this process and its finished children: robust to load."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _median(fn, repeat: int) -> tuple[float, list[float], float]:
    """Median wall seconds, every run's wall seconds, and the median CPU seconds."""
    times, cpu = [], []
    for _ in range(repeat):
        start, c0 = time.perf_counter(), _cpu()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(_cpu() - c0)
    return statistics.median(times), times, statistics.median(cpu)


def _cli(root: Path, home: Path, *args: str) -> float:
    env = {**os.environ, "MESH_PROJECT_ROOT": str(root), "MESH_HOME": str(home)}
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "mesh_platform.cli", *args], env=env,
                         capture_output=True, text=True)  # fmt: skip
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"mesh {' '.join(args)} exited {run.returncode}:\n{run.stderr[-2000:]}")
    return elapsed


def main() -> None:
    """Generate, time, print and save."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--domains", type=int, default=100)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated mesh")
    args = parser.parse_args()

    from mesh_platform.contracts.conformance import validate_mesh
    from mesh_platform.governance.engine import run_governance
    from mesh_platform.settings import MeshPaths

    tmp = Path(tempfile.mkdtemp(prefix="bench-govern-"))
    root, home = tmp / "repo", tmp / "home"
    try:
        start = time.perf_counter()
        generate(root, args.domains, args.products)
        gen_s = time.perf_counter() - start
        files = sum(1 for p in root.rglob("*") if p.is_file())
        paths = MeshPaths(root=root, home=home)
        result = run_governance(root, paths=paths)
        errors = [str(f) for f in result.findings if f.severity.name != "info"]
        if errors or result.spec_errors:
            raise SystemExit("generated mesh does not pass:\n" + "\n".join(
                (errors + result.spec_errors)[:20]))  # fmt: skip

        def validate() -> None:
            assert not validate_mesh(root)[1]

        figures = {
            "govern_inproc_s": _median(lambda: run_governance(root, paths=paths), args.repeat),
            "validate_inproc_s": _median(validate, args.repeat),
            "govern_cli_s": _median(lambda: _cli(root, home, "govern", "--format", "json",
                                                 "--output", str(tmp / "g.json")), args.repeat),
            "validate_cli_s": _median(lambda: _cli(root, home, "validate"), args.repeat),
        }  # fmt: skip
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    products = args.domains * args.products
    print(f"mesh: {args.domains} domains x {args.products} products = {products} products, "
          f"{files} files (generated in {gen_s:.1f} s); findings: {len(result.findings)} "
          f"(all info); load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    for key, (median, runs, cpu) in figures.items():
        print(f"{key:28s} {median:7.2f} s wall, {cpu:6.2f} s CPU   "
              f"runs: {', '.join(f'{t:.2f}' for t in runs)}")  # fmt: skip
    g, v, g_cpu = (
        figures["govern_cli_s"][0],
        figures["validate_cli_s"][0],
        figures["govern_cli_s"][2],
    )
    print(f"govern / validate (CLI, wall): {g / v:.2f}x; target govern < {TARGET_S:g} s: "
          f"{'met' if g < TARGET_S else 'MISSED'} wall, "
          f"{'met' if g_cpu < TARGET_S else 'MISSED'} CPU ({g_cpu:.2f} s)")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "at": datetime.now(UTC).isoformat(), "domains": args.domains, "products": products,
        "files": files, "repeat": args.repeat, "load_average": os.getloadavg()[0],
        **{k: {"median": m, "runs": r, "cpu_median": c} for k, (m, r, c) in figures.items()},
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
