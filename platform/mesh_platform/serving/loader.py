"""Build a RecIndex from the published ports a ``serving:`` block names.

Ranked predictions, the item catalogue (item -> group) and a popularity port, each read by the
columns `ServedPorts` names.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import duckdb

from mesh_platform.ml import registry
from mesh_platform.ports import snapshots as ports
from mesh_platform.serving.config import ServeConfig, ServedPorts
from mesh_platform.serving.index import MODEL, POPULARITY, ApiNames, Item, ModelInfo, RecIndex
from mesh_platform.settings import MeshPaths


class NothingToServe(Exception):
    """Neither predictions nor the popularity port are published yet: nothing to answer with."""


def pointer(lake: Path, ref: ports.PortRef | None) -> str | None:
    """The snapshot id the port's ``current`` pointer names (one readlink), or None."""
    if ref is None:
        return None
    try:
        return Path(os.readlink(ports.port_dir(lake, ref) / ports.CURRENT)).name
    except OSError:
        return None


def registry_champion(paths: MeshPaths, served: ServedPorts) -> int | None:
    """The served model's champion version in the registry, or None (none, or unreadable)."""
    try:
        return registry.aliases(paths.registry, served.model_name)["champion"]
    except (OSError, ValueError, KeyError):
        return None


def source_key(paths: MeshPaths, served: ServedPorts) -> tuple[str | None, ...]:
    """What an index depends on; the watcher rebuilds when this changes."""
    champ = registry_champion(paths, served)
    snaps = tuple(pointer(paths.lake, r) for r in served.refs())
    return (*snaps, None if champ is None else str(champ))


def _glob(lake: Path, ref: ports.PortRef | None, snapshot_id: str) -> str:
    # Read the snapshot folder itself, not `current`: the pointer may move while we read.
    assert ref is not None
    folder = ports.port_dir(lake, ref) / "snapshots" / snapshot_id
    return "'" + str(folder / "*.parquet").replace("'", "''") + "'"


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _groups(con, lake: Path, served: ServedPorts, snap: str | None) -> dict[int, str]:
    if snap is None:
        return {}
    key, group = _q(served.catalogue_key), _q(served.group)
    rows = con.execute(f"SELECT {key}, {group} FROM {_glob(lake, served.refs()[1], snap)}")
    return {int(p): str(c) for p, c in rows.fetchall() if c is not None}


def _predictions(con, lake: Path, served: ServedPorts, snap: str | None, groups: dict[int, str]):
    """Entity -> items in rank order, and the model that scored them."""
    if snap is None:
        return {}, ModelInfo(served.model_name, None, None, None)
    s, source = served, _glob(lake, served.refs()[0], snap)
    # Columns as NumPy then lists: ~3x faster than row tuples, and the build holds the GIL.
    cols = con.execute(f"SELECT {_q(s.entity)} AS e, {_q(s.item)} AS i, {_q(s.score)} AS s "
                       f"FROM {source} ORDER BY e, {_q(s.rank)}").fetchnumpy()  # fmt: skip
    personal: dict[int, list[Item]] = defaultdict(list)
    columns = (cols["e"].tolist(), cols["i"].tolist(), cols["s"].tolist())
    for entity, item, score in zip(*columns, strict=True):
        personal[entity].append(Item(item, score, groups.get(item), MODEL))
    meta = con.execute(f"SELECT any_value(model_name), max(model_version), "
                       f"CAST(max({_q(s.as_of)}) AS VARCHAR) FROM {source}").fetchone()  # fmt: skip
    name, version, as_of = meta if meta else (None, None, None)
    info = ModelInfo(name or s.model_name, None if version is None else int(version), snap, as_of)
    return {c: tuple(items) for c, items in personal.items()}, info


def _popularity_sql(lake: Path, served: ServedPorts, snap: str, window: int) -> str:
    s = served
    keep = " AND ".join(f"{_q(c)} NOT IN ({', '.join(_lit(v) for v in vals)})"
                        for c, vals in s.popularity_exclude) or "TRUE"  # fmt: skip
    weight = f"sum({_q(s.popularity_weight)})" if s.popularity_weight else "count(*)"
    t = _q(s.popularity_time)
    return (f"WITH l AS (SELECT * FROM {_glob(lake, s.refs()[2], snap)} WHERE {keep}) "
            f"SELECT {_q(s.popularity_item)} AS i, {weight} AS n FROM l "
            f"WHERE {t} > (SELECT max({t}) FROM l) - INTERVAL {int(window)} DAY "
            "GROUP BY 1 ORDER BY n DESC, i LIMIT ?")  # fmt: skip


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _popularity(con, lake: Path, served: ServedPorts, snaps: tuple, window: int, limit: int):
    """(item, share) by weight over the last ``window`` days of the popularity port.

    Falls back to how often the champion ranks an item when that port is not published.
    """
    preds, pop = snaps
    if pop is not None:
        sql = _popularity_sql(lake, served, pop, window)
    elif preds is not None:
        sql = (
            f"SELECT {_q(served.item)} AS i, sum(1.0 / {_q(served.rank)}) AS n FROM "
            f"{_glob(lake, served.refs()[0], preds)} GROUP BY 1 ORDER BY n DESC, i LIMIT ?"
        )
    else:
        return []
    rows = con.execute(sql, [limit]).fetchall()
    total = sum(float(n) for _, n in rows) or 1.0
    return [(int(p), round(float(n) / total, 6)) for p, n in rows]


def build_index(paths: MeshPaths, config: ServeConfig) -> RecIndex:
    """Read the current ports and the registry into a new immutable index.

    Raises:
        NothingToServe: neither the predictions nor the popularity port is published.
    """
    served = config.ports
    key = source_key(paths, served)
    preds, groups_snap, pop = key[:3]
    if preds is None and pop is None:
        refs = served.refs()
        names = ", ".join(r.relative_dir for r in (refs[0], refs[2]) if r is not None)
        raise NothingToServe(f"no snapshot of {names} under {paths.lake}: run `mesh up` "
                             f"(or {served.model_name}'s scoring asset) first")  # fmt: skip
    with duckdb.connect() as con:
        groups = _groups(con, paths.lake, served, groups_snap)
        personal, info = _predictions(con, paths.lake, served, preds, groups)
        window = config.popular_window_days
        ranked = _popularity(con, paths.lake, served, (preds, pop), window, 1000)
    popular = [Item(p, s, groups.get(p), POPULARITY) for p, s in ranked]
    by_group: dict[str, list[Item]] = defaultdict(list)
    for item in popular:
        if item.group is not None and len(by_group[item.group]) < config.max_k:
            by_group[item.group].append(item)
    champ = registry_champion(paths, served)
    info = ModelInfo(info.name, info.version, info.snapshot_id, info.as_of_date, champ)
    return RecIndex(
        model=info, personal=personal, popular=tuple(popular[: config.max_k]),
        popular_by_group={c: tuple(v) for c, v in by_group.items()}, groups=groups,
        default_k=config.default_k, sources=key,
        names=ApiNames(served.entity, served.item, served.group),
    )  # fmt: skip
