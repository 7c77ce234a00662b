"""Bring your own dbt project, end to end: import, decide, consume, validate, up, govern.

One fresh mesh per fixture project, driven through the `mesh` command as a person would type it.
The person's edits are only the decisions `mesh import dbt` marks `TODO(decide)` and a consumer's
few lines; the test counts them by diffing every declaration and SQL file before and after.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import env_with

MESH = Path(sys.executable).with_name("mesh")
MAX_HAND_WRITTEN = 40  # issue 12's bound for the whole onboarding
UNDECIDED = re.compile(r"^(\s*-?\s*)(\w+): '?TODO\(decide\):.*$")


@dataclass(frozen=True)
class Case:
    """One onboarding: the project, its domain, the consumer and what the person decides."""

    project: str
    domain: str
    public: tuple[str, str]
    team: str
    about: str
    cast: tuple[str, str, str]  # model, the SQL of the HUGEINT column, the same cast to BIGINT
    consumer: str
    product: str
    sql: str  # the consumer's model: joins the two public ports


CASES = [
    Case("shop_a", "shop", ("customers", "orders"), "Web shop", "Customers and orders of the shop.",
         ("customers", "sum(o.items) as", "sum(o.items)::bigint as"), "crm", "last_orders",
         "-- Each customer with the day of their last order.\n"
         "select c.customer_id, c.name, max(o.ordered_at) as last_ordered_at\n"
         "from {{ mesh_port('shop/customers') }} c\n"
         "left join {{ mesh_port('shop/orders') }} o using (customer_id)\n"
         "group by all\n"),
    Case("shop_b", "stores", ("daily_store_sales", "store_directory"), "Store operations",
         "Sales and footfall of the stores.",
         ("daily_store_sales", "sum(s.quantity) as", "sum(s.quantity)::bigint as"), "regions",
         "region_sales",
         "-- Units sold per region and day.\n"
         "select d.region, s.sold_on, sum(s.units) as units\n"
         "from {{ mesh_port('stores/daily_store_sales') }} s\n"
         "join {{ mesh_port('stores/store_directory') }} d using (store_id)\n"
         "group by all\n"),
]  # fmt: skip


def _mesh(root: Path, home: Path, *args: str) -> str:
    """Run `mesh` in the mesh root as a person would; any failure fails the test with its output."""
    env = env_with(MESH_PROJECT_ROOT=str(root), MESH_HOME=str(home), MESH_ML="off",
                   DAGSTER_HOME=str(home / "dagster"), COLUMNS="200")  # fmt: skip
    proc = subprocess.run([str(MESH), *args], cwd=root, env=env, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mesh {' '.join(args)} exited {proc.returncode}:\n{out}"
    assert "Traceback" not in out, out
    return out


def _texts(root: Path) -> dict[Path, str]:
    """Every declaration and SQL file of the mesh (what a person edits), by path."""
    files = [p for top in ("domains", "contracts") for p in (root / top).rglob("*") if p.is_file()]
    return {p.relative_to(root): p.read_text(encoding="utf-8") for p in files}


def hand_written(before: dict[Path, str], after: dict[Path, str]) -> int:
    """Lines written, changed or deleted between two states: a changed line counts once."""
    count = 0
    for path in before.keys() | after.keys():
        old = before.get(path, "").splitlines()
        new = after.get(path, "").splitlines()
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes():
            count += 0 if op == "equal" else max(i2 - i1, j2 - j1)
    return count


def _decide(text: str, case: Case) -> str:
    """The person's answer to each TODO(decide) line; a HUGEINT column is declared BIGINT."""
    text = re.sub(r" *customProperties:\n *- property: typeDecision\n *value: 'TODO.*\n", "", text)
    text = text.replace("physicalType: HUGEINT", "physicalType: BIGINT")  # the model casts it
    answers = {"team": case.team, "description": case.about, "classification": "internal"}
    out = []
    for line in text.splitlines(keepends=True):
        found = UNDECIDED.match(line)
        out.append(
            f"{found.group(1)}{found.group(2)}: {answers[found.group(2)]}\n" if found else line
        )
    return "".join(out)


def _decide_all(root: Path, case: Case) -> None:
    """The person's decisions: every TODO(decide), and the cast the HUGEINT decision needs."""
    for path in [*root.glob("domains/*/*.yaml"), *root.glob("domains/*/products/*.yaml"),
                 *root.glob("contracts/*/*.odcs.yaml")]:  # fmt: skip
        path.write_text(_decide(path.read_text(encoding="utf-8"), case), encoding="utf-8")
    model, naive, cast = case.cast
    sql = next((root / "domains" / case.domain / "dbt").rglob(f"{model}.sql"))
    sql.write_text(sql.read_text().replace(naive, cast))


def _consume(root: Path, case: Case) -> None:
    """The consumer's lines `mesh new product` cannot write: the second read and the SQL."""
    descriptor = root / "domains" / case.consumer / "products" / f"{case.product}.yaml"
    port = f"{case.domain}/{case.public[1]}"
    read = f"  - name: {case.public[1]}\n    kind: port\n    product: {port}\n"
    descriptor.write_text(
        descriptor.read_text().replace("output_ports:\n", read + "output_ports:\n")
    )
    marts = root / "domains" / case.consumer / "dbt" / "models" / "marts"
    (marts / f"{case.product}.sql").write_text(case.sql)


def _edited(root: Path, edit, case: Case) -> int:
    """Apply the person's ``edit`` to the mesh at ``root``; the lines it wrote or changed."""
    before = _texts(root)
    edit(root, case)
    return hand_written(before, _texts(root))


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.project for c in CASES])
def test_bring_your_own_dbt_project(tmp_path: Path, projects: Path, case: Case):
    root, home = tmp_path / "mesh", tmp_path / "home"
    _mesh(tmp_path, home, "init", str(root))
    public = [a for m in case.public for a in ("--public", m)]
    _mesh(root, home, "import", "dbt", str(projects / case.project), "--domain", case.domain,
          "--owner", f"team:{case.domain}", *public)  # fmt: skip
    written = _edited(root, _decide_all, case)
    assert not [p for p, t in _texts(root).items() if "TODO(decide)" in t]
    team = ["--team", case.consumer.upper(), "--owner", f"team:{case.consumer}"]
    _mesh(root, home, "new", "domain", case.consumer, *team, "--description", "Its team's views.")
    about = case.sql.splitlines()[0].removeprefix("-- ")
    first = f"{case.domain}/{case.public[0]}"
    _mesh(root, home, "new", "product", case.consumer, case.product, "--from", first,
          "--description", about)  # fmt: skip
    consumer = _edited(root, _consume, case)
    # The figure docs/tutorial.md quotes (run with -s to see it).
    print(f"{case.project}: {written} decision + {consumer} consumer = {written + consumer} lines")
    written += consumer
    assert written <= MAX_HAND_WRITTEN
    assert _mesh(root, home, "validate").startswith("valid: 2 domains, 3 products")
    up = _mesh(root, home, "up")
    assert "2 of 2 domains ok" in up, up
    ports = json.loads(_mesh(root, home, "ports", "--format", "json"))
    published = {(p["domain"], p["product"]): p["rows"] for p in ports["ports"]}
    expected = {*((case.domain, m) for m in case.public), (case.consumer, case.product)}
    assert set(published) == expected and all(published.values()), published
    _mesh(root, home, "govern")
