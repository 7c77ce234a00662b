"""An object store failing a publish: one error that names its endpoint and the port's state."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from mesh_platform.access.redact import masked_uri
from mesh_platform.ports.lakehouse import catalog_properties, table_version, warehouse
from mesh_platform.ports.refs import PortRef

# pyarrow's S3 errors: "When <doing> ... in bucket 'b': AWS Error <CODE> during <Op> operation:
# <curl's or the server's text>; Details: ...". The code, operation and text say what happened.
_AWS_ERROR = re.compile(r"AWS Error (?P<code>\S+) during (?P<op>\S+) operation: (?P<text>[^;]*)")
_STATE = {
    False: "the port keeps its previous snapshot",
    True: "the catalog commit had landed: the port's new snapshot is current",
    None: "whether the catalog commit landed is unknown until the store answers (`mesh ports`)",
}
P = ParamSpec("P")
R = TypeVar("R")
_NEVER = "the port is still unpublished"  # no table in the catalog before, none after


class WarehouseUnavailable(Exception):
    """The warehouse's object store failed: not the data's fault; the message names the store.

    Attributes:
        endpoint: The store's endpoint (credentials masked).
        landed: For a publish, whether its catalog commit landed before the failure (None:
            unknown, or not a publish).
    """

    def __init__(self, subject: str, where: tuple[str, str], reason: str, outcome: str = "",
                 landed: bool | None = None):  # fmt: skip
        location, self.endpoint = where
        self.landed = landed
        tail = f"; {outcome}" if outcome else ""
        super().__init__(
            f"{subject}: the warehouse {location} at {self.endpoint} failed: {reason}{tail}"
        )


def _publish_error(ref: PortRef, where: tuple[str, str], reason: str, landed: bool | None,
                   existed: bool) -> WarehouseUnavailable:  # fmt: skip
    head = "failed after the publish" if landed else "not published"
    outcome = _STATE[landed] if existed or landed is not False else _NEVER
    return WarehouseUnavailable(f"{ref.relative_dir}: {head}", where, reason, outcome, landed)


def endpoint(home: Path) -> str:
    """Where the warehouse's S3 client connects: ``s3.endpoint``, else AWS's for the region."""
    props = catalog_properties(home)
    configured = props.get("s3.endpoint")
    if configured:
        return masked_uri(configured)
    return f"AWS S3 ({props.get('s3.region') or props.get('client.region') or 'region unset'})"


def store_error(exc: BaseException) -> str | None:
    """The short reason of an S3 client's error, or None for any other error."""
    if not isinstance(exc, OSError) or "AWS Error" not in str(exc):
        return None
    found = _AWS_ERROR.search(str(exc))
    if found is None:
        return str(exc).splitlines()[0]
    return f"{found['code']} during {found['op']}: {found['text'].strip()}"


@contextmanager
def reporting(home: Path, ref: PortRef) -> Iterator[None]:
    """Turn an S3 client's error inside the block into :class:`WarehouseUnavailable`.

    It says whether the port kept its snapshot by comparing the catalog's metadata location
    before and after: on a SQL catalog that is one row of the catalog database, so the answer
    needs no object store.

    Args:
        home: The mesh home.
        ref: The port major being published.

    Raises:
        WarehouseUnavailable: An S3 error; the original is its ``__cause__``, for the logs.
    """
    before: str | None | bool = False  # False: not read (the store failed first)
    try:
        before = table_version(home, ref)
        yield
    except OSError as exc:
        reason = store_error(exc)
        if reason is None:
            raise
        landed = None if before is False else _landed(home, ref, before)
        where = (warehouse(home), endpoint(home))
        raise _publish_error(ref, where, reason, landed, before is not None) from exc


def reads_store(fn: Callable[Concatenate[Path, P], R]) -> Callable[Concatenate[Path, P], R]:
    """Make a reader of ports (first argument: the mesh home) report a failing object store.

    An S3 client's error becomes :class:`WarehouseUnavailable`, naming the port read (its first
    :class:`PortRef` argument), the warehouse and its endpoint.
    """

    @functools.wraps(fn)
    def read(home: Path, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(home, *args, **kwargs)
        except OSError as exc:
            reason = store_error(exc)
            if reason is None:
                raise
            ref = next((a for a in (*args, *kwargs.values()) if isinstance(a, PortRef)), None)
            subject = f"reading {ref.relative_dir if ref else 'the ports'}"
            where = (warehouse(home), endpoint(home))
            raise WarehouseUnavailable(subject, where, reason) from exc

    return read


def _landed(home: Path, ref: PortRef, before: str | None | bool) -> bool | None:
    try:
        after = table_version(home, ref)
    except OSError:  # a catalog that reads its metadata from the store too
        return None
    return after != before
