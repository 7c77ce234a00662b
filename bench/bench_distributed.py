"""Benchmark: `mesh up` on the distributed profile against the embedded default, same run.

For each scale, in fresh MESH_HOMEs with the same generated landing data (`mesh generate` once,
copied) and `mesh prepare` done untimed in each:

* embedded: `mesh up` as a subprocess (SQLite instance, in-process steps, file catalog), as
  `make demo` runs it; the figure is its own total, as it prints it.
* distributed: `mesh stack --exit --replicas 0`: PostgreSQL, Redis, NATS, S3, two Celery workers,
  a code server per location, the daemon and the webserver start (their start-up is printed
  apart), then `mesh up` submits each domain's run to the queue; the daemon launches it and its
  steps run on the workers. The figure is `mesh up`'s own total, as it prints it.

Prints seconds per contender and the ratio distributed / embedded; both must exit 0.

    flock /tmp/mesh-heavy.lock uv run python bench/bench_distributed.py            # scale 1
    flock /tmp/mesh-heavy.lock uv run python bench/bench_distributed.py --scales 1,10
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MESH = str(Path(sys.executable).with_name("mesh"))
TOTAL = re.compile(r"total ([\d.]+)s")
STACK_UP = re.compile(r"stack up in ([\d.]+)s")


def _mesh(home: Path, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    env = {**os.environ, "MESH_HOME": str(home), "MESH_PROJECT_ROOT": str(REPO), "COLUMNS": "200"}
    env.pop("MESH_PROFILE", None)  # each contender's profile is set by what it runs
    proc = subprocess.run([MESH, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    if proc.returncode != 0:
        sys.exit(f"`mesh {' '.join(args)}` failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def _homes(base: Path, scale: str) -> tuple[Path, Path]:
    """Two homes with the same landing data, dbt manifests prepared in each."""
    embedded, distributed = base / f"embedded-{scale}", base / f"distributed-{scale}"
    _mesh(embedded, "generate", "--scale", scale, "--seed", "42")
    shutil.copytree(embedded / "landing", distributed / "landing")
    for home in (embedded, distributed):
        _mesh(home, "prepare")
    return embedded, distributed


def bench(scale: str, base: Path) -> dict[str, float]:
    """Seconds of `mesh up` embedded and distributed at ``scale``, and the stack's start-up."""
    embedded, distributed = _homes(base, scale)
    alone = TOTAL.search(_mesh(embedded, "up").stdout)
    out = _mesh(distributed, "stack", "--exit", "--replicas", "0").stdout
    up, stack = TOTAL.search(out), STACK_UP.search(out)
    if not alone or not up or not stack:
        sys.exit(f"no timings in the output:\n{out[-3000:]}")
    return {"embedded": float(alone.group(1)), "distributed": float(up.group(1)),
            "stack_start": float(stack.group(1))}  # fmt: skip


def main() -> None:
    """Run the benchmark for each scale and print one line per scale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1", help="comma-separated scales (10: ~10 min)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-dist-"))
    try:
        for scale in args.scales.split(","):
            r = bench(scale, base)
            print(f"scale {scale}: mesh up embedded {r['embedded']:.1f} s, distributed "
                  f"{r['distributed']:.1f} s (ratio {r['distributed'] / r['embedded']:.2f}); "
                  f"stack start-up {r['stack_start']:.1f} s", flush=True)  # fmt: skip
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
