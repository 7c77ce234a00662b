"""The real-time loop: seconds from an event posted to the API to a served answer reflecting it.

Builds a demo mesh (or uses --home), starts `mesh ui` and `mesh serve`, and with nothing typed
posts interaction events, then follows them hop by hop: landed by the server, ingested by `web`'s
run (launched by its landing sensor), published, `personalization` rebuilt and re-scored (its run
launched by the port sensor), and the server swapping to the new predictions snapshot. Prints the
UI's start time and its process tree's RSS idle, each hop, and the total (target at scale 1:
under 180 s).

    uv run python bench/bench_live_loop.py --scale 1 [--repeat 3] [--home DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.live import HOPS, LiveMesh, follow_event, hop_seconds  # noqa: E402
from tests.support import run_mesh  # noqa: E402

TARGET_S = 180


def _build(home: Path, scale: float) -> None:
    started = time.monotonic()
    proc = run_mesh(home, "up", "--scale", str(scale), timeout=3600)
    if proc.returncode != 0:
        sys.exit(f"mesh up failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    print(f"built scale {scale} in {time.monotonic() - started:.0f} s ({home})")


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=1, help="events followed one after another")
    parser.add_argument("--home", type=Path, help="a built MESH_HOME (default: build one)")
    parser.add_argument("--idle", type=float, default=30, help="seconds idle before measuring RSS")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-live-")) / "mesh"
    if args.home is None:
        _build(home, args.scale)
    with LiveMesh(home) as live:
        time.sleep(args.idle)
        print(f"mesh ui: answering with every location loaded after {live.ui_started_s:.1f} s; "
              f"process tree RSS {live.ui_rss_mib():,.0f} MiB after {args.idle:.0f} s idle")  # fmt: skip
        results = []
        for i in range(args.repeat):
            posted = time.time()
            assert live.post_events(7 + i, [12, 13, 14]) == 202
            results.append(hop_seconds(follow_event(live, posted)))
            time.sleep(15)  # let the sensors see the loop settle before the next event
    print(f"\nevent -> served answer at scale {args.scale} (median of {len(results)}), seconds")
    for name in [h[0] for h in HOPS] + ["total"]:
        values = [r[name] for r in results]
        print(f"  {name:<32} {statistics.median(values):>7.1f}   runs: {values}")
    total = statistics.median(r["total"] for r in results)
    print(f"target under {TARGET_S} s: {'met' if total < TARGET_S else 'NOT met'} ({total:.1f} s)")


if __name__ == "__main__":
    main()
