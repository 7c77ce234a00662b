"""The distributed profile end to end: `mesh stack` runs the demo through the queue and workers."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from mesh_platform.stack.postgres import bindir
from pyiceberg.catalog.sql import SqlCatalog

from tests.integration.test_mesh_e2e import LOCATIONS, PORTS
from tests.serving.test_events import event
from tests.support import pid_alive, run_mesh, start_mesh, wait_for

pytestmark = pytest.mark.slow

SCALE = "0.2"  # what `make demo-distributed` runs
UP_TIMEOUT = 900.0


@dataclass
class RunningStack:
    """`mesh stack` while it serves: its output so far, its endpoints and its services' PIDs."""

    proc: subprocess.Popen
    home: Path
    output: str
    env: dict[str, str]
    pids: list[int]


def _read_env(path: Path) -> dict[str, str]:
    return {
        k: shlex.split(v)[0] if v else ""
        for k, _, v in (line.partition("=") for line in path.read_text().splitlines())
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[RunningStack]:
    home = tmp_path_factory.mktemp("dist") / "mesh"
    log = home.parent / "stack.out"
    with log.open("w") as out:
        # --no-live: the fault tests below want no sensor-launched run beside their own; the
        # last test turns the automation on as `mesh stack` does by default
        proc = start_mesh(home, "stack", "--scale", SCALE, "--replicas", "2", "--no-live",
                          stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    done = re.compile(r"Ctrl-C stops every service")
    try:
        ok = wait_for(lambda: done.search(log.read_text()) or proc.poll() is not None,
                      timeout=UP_TIMEOUT, step=1)  # fmt: skip
        output = log.read_text()
        assert ok and proc.poll() is None, output[-6000:]
        pids = [int(p) for row in re.findall(r"│\s*([\d,]+)\s*│\s*$", output, re.M)
                for p in row.split(",")]  # fmt: skip
        env = _read_env(home / "stack" / "stack.env")
        yield RunningStack(proc, home, output, env, pids)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))


def test_the_demo_runs_through_the_queue_every_domain_ok(stack):
    assert f"{len(LOCATIONS)} of {len(LOCATIONS)} domains ok" in stack.output, stack.output[-4000:]
    with _engine(stack.env["MESH_DAGSTER_PG_URL"]).connect() as con:
        runs = con.execute(sa.text("SELECT status, run_body FROM runs")).fetchall()
    mesh_up = [json.loads(body) for status, body in runs
               if '"mesh up"' in body and status == "SUCCESS"]  # fmt: skip
    assert len(mesh_up) >= len(LOCATIONS), [status for status, _ in runs]
    assert not (stack.home / "dagster" / "history").exists()  # no SQLite run storage


def test_every_step_ran_in_a_celery_worker(stack):
    with _engine(stack.env["MESH_DAGSTER_PG_URL"]).connect() as con:
        rows = con.execute(sa.text(
            "SELECT step_key, event FROM event_logs WHERE dagster_event_type IN "
            "('STEP_START', 'ENGINE_EVENT') AND step_key IS NOT NULL"
        )).fetchall()  # fmt: skip
    started = {key for key, body in rows if '"STEP_START"' in body}
    in_worker = {key for key, body in rows if "in celery worker" in body}
    workers = set(re.findall(r"mesh-worker-\d@", " ".join(body for _, body in rows)))
    assert started and started <= in_worker, started - in_worker
    assert workers <= {"mesh-worker-1@", "mesh-worker-2@"} and workers, workers


def test_every_port_is_an_iceberg_table_in_the_postgres_catalog_on_s3(stack):
    listed = run_mesh(stack.home, "ports", "--format", "json", **stack.env)
    assert listed.returncode == 0, listed.stderr
    ports = json.loads(listed.stdout)["ports"]
    assert {(p["domain"], p["product"]) for p in ports} == PORTS
    prefix = "PYICEBERG_CATALOG__MESH__"
    s3 = {k.removeprefix(prefix).lower().replace("__", ".").replace("_", "-"): v
          for k, v in stack.env.items() if k.startswith(prefix + "S3")}  # fmt: skip
    lake = SqlCatalog(
        "mesh", uri=stack.env["PYICEBERG_CATALOG__MESH__URI"],
        warehouse=stack.env["PYICEBERG_CATALOG__MESH__WAREHOUSE"], **s3,
    )  # fmt: skip
    for port in ports:
        table = lake.load_table((port["domain"], f"{port['product']}_v{port['version']}"))
        assert str(table.current_snapshot().snapshot_id) == port["snapshot_id"]
        assert table.scan().to_arrow().num_rows == port["rows"] > 0
        files = [t.file.file_path for t in table.scan().plan_files()]
        assert files and all(f.startswith("s3://") for f in files), files
    assert not (stack.home / "iceberg").exists()  # no embedded SQLite catalog


def _serving_url(stack: RunningStack) -> str:
    url = re.search(r"serving: HAProxy before 2 replicas\s*│\s*(http://\S+)", stack.output)
    assert url, stack.output[-3000:]
    return url.group(1)


def test_serving_answers_behind_haproxy(stack):
    with urllib.request.urlopen(f"{_serving_url(stack)}/v1/ready", timeout=10) as answer:
        assert answer.status == 200


def _snapshots(stack: RunningStack) -> dict[tuple[str, str], str]:
    listed = run_mesh(stack.home, "ports", "--format", "json", **stack.env)
    assert listed.returncode == 0, listed.stderr
    return {
        (p["domain"], p["product"]): p["snapshot_id"] for p in json.loads(listed.stdout)["ports"]
    }


def _step_start(stack: RunningStack, step: str, runs_before: set[str]) -> tuple[str, int] | None:
    """(run id, pid) of the step's start in a run newer than ``runs_before``, once it started."""
    with _engine(stack.env["MESH_DAGSTER_PG_URL"]).connect() as con:
        rows = con.execute(sa.text(
            "SELECT run_id, event FROM event_logs WHERE dagster_event_type = 'STEP_START' "
            "AND step_key = :step"), {"step": step}).fetchall()  # fmt: skip
    fresh = [(run, json.loads(body)) for run, body in rows if run not in runs_before]
    return (fresh[0][0], fresh[0][1]["dagster_event"]["pid"]) if fresh else None


def _descendants(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    children = [int(p) for p in found.split()]
    return [grand for child in children for grand in _descendants(child)] + children


def _run_ids(stack: RunningStack) -> dict[str, str]:
    with _engine(stack.env["MESH_DAGSTER_PG_URL"]).connect() as con:
        return dict(con.execute(sa.text("SELECT run_id, status FROM runs")).fetchall())


def test_a_worker_killed_mid_step_fails_the_run_cleanly_and_the_next_run_publishes(stack):
    domain = "customers"
    before, runs_before = _snapshots(stack), set(_run_ids(stack))
    up = start_mesh(stack.home, "up", "-d", domain, env=stack.env, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, text=True)  # fmt: skip
    step = f"{domain}_dbt_build"  # the step that publishes the domain's port
    assert wait_for(lambda: _step_start(stack, step, runs_before), timeout=300, step=0.2)
    run_id, pid = _step_start(stack, step, runs_before) or ("", 0)
    cmdline = _cmdline(pid)
    assert "celery" in cmdline and "worker" in cmdline, cmdline  # a worker's pool process
    for child in [*_descendants(pid), pid]:  # the step dies as in a crash, dbt with it
        os.kill(child, signal.SIGKILL)
    out, _ = up.communicate(timeout=300)
    assert up.returncode == 1, out[-3000:]
    assert _run_ids(stack)[run_id] == "FAILURE"
    assert _snapshots(stack) == before  # consumers still see the last publish
    again = run_mesh(stack.home, "up", "-d", domain, timeout=600, **stack.env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-2000:]
    after = _snapshots(stack)
    changed = {port for port in after if after[port] != before[port]}
    assert changed == {p for p in PORTS if p[0] == domain}, changed


def _postgres_data(stack: RunningStack) -> Path:
    """The data folder of the stack's PostgreSQL, from its server's command line."""
    for pid in subprocess.run(
        ["pgrep", "-x", "postgres"], capture_output=True, text=True
    ).stdout.split():
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if f"{_port(stack)}".encode() in args and b"-D" in args:
            return Path(args[args.index(b"-D") + 1].decode())
    raise AssertionError("the stack's PostgreSQL is not running")


def _port(stack: RunningStack) -> int:
    return int(re.search(r"@127.0.0.1:(\d+)/", stack.env["MESH_DAGSTER_PG_URL"]).group(1))


def test_postgresql_restarted_under_the_daemon_and_the_next_run_recovers(stack):
    data = _postgres_data(stack)
    daemon = next(p for p in stack.pids if "dagster-daemon" in _cmdline(p))
    restart = [str(bindir() / "pg_ctl"), "restart", "-D", str(data), "-m", "fast", "-w",
               "-l", str(data.parent / "restart.log")]  # fmt: skip
    done = subprocess.run(["runuser", "-u", "postgres", "--", *restart], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    again = run_mesh(stack.home, "up", "-d", "web", timeout=600, **stack.env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-2000:]
    assert pid_alive(daemon)  # the daemon rode it out and dequeued the run


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _landed(stack: RunningStack, event_id: str) -> bool:
    files = (stack.home / "landing" / "web").glob("events_api-*.jsonl")
    return any(event_id in f.read_text() for f in files)


def test_automation_goes_on_and_a_served_event_lands_through_the_broker(stack):
    started = run_mesh(stack.home, "automation", "start", **stack.env)
    assert started.returncode == 0, started.stdout + started.stderr
    assert "started sensor web/web_landing_sensor" in started.stdout, started.stdout
    again = run_mesh(stack.home, "automation", "start", **stack.env)  # all on: nothing to do
    assert again.returncode == 0 and "\n0 sensor(s)" in "\n" + again.stdout, again.stdout
    body = json.dumps({"events": [event(7, 12, event_id="dist-live-1")]}).encode()
    post = urllib.request.Request(f"{_serving_url(stack)}/v1/events", body,
                                  {"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(post, timeout=10) as answer:
        assert answer.status == 202
    # served -> NATS JetStream -> web's landing sensor (now running) lands it as a file
    assert wait_for(lambda: _landed(stack, "dist-live-1"), timeout=180, step=1)


def test_ctrl_c_stops_every_service_it_started(stack):
    data = _postgres_data(stack)
    # What Ctrl-C in its terminal sends it (its services run in sessions of their own, so the
    # terminal's signal reaches only `mesh stack`); SIGTERM takes the same way out.
    stack.proc.send_signal(signal.SIGINT)
    assert stack.proc.wait(timeout=120) == 0
    assert wait_for(lambda: not any(pid_alive(pid) for pid in stack.pids), timeout=10)
    assert not (stack.home / "stack" / "stack.env").exists()
    for mark in (str(stack.home), str(data)):  # a restarted PostgreSQL is no child: still stopped
        leftovers = subprocess.run(["pgrep", "-f", mark], capture_output=True, text=True)
        assert leftovers.stdout.strip() == "", _cmdline(int(leftovers.stdout.split()[0]))
