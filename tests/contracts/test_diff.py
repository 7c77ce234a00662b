"""Contract diff: each kind of change, its verdict with a minor and a major bump, and the CLI."""

from __future__ import annotations

import pytest
import typer
from mesh_platform.cli.contracts import register
from mesh_platform.contracts.diff import diff_contracts, verdict, widens
from mesh_platform.contracts.odcs import load_contract

from tests.contracts import prop, write_contract
from tests.support import git, invoke


def _bump(version, port=None):
    def edit(d):
        d["version"] = version
        if port is not None:
            d["customProperties"] = [{"property": "portVersion", "value": port}]

    return edit


def _props(edit):
    return lambda d: edit(d["schema"][0]["properties"])


def _col(column, /, **changes):
    return lambda d: prop(d, column).update(changes)


def _col_rule(name, **args):
    return lambda d: prop(d, name)["quality"][0]["arguments"].update(args)


def _delete(name):
    return _props(lambda ps: ps.remove(next(p for p in ps if p["name"] == name)))


def _append(**column):
    base = {"description": "New.", "logicalType": "string", "physicalType": "VARCHAR"}
    return _props(lambda ps: ps.append({**base, "classification": "internal", **column}))


def _table_rule(index, **changes):
    return lambda d: d["schema"][0]["quality"][index].update(changes)


NEW_RULE = {"name": "has_customers", "type": "sql", "mustBe": 0,
            "query": "SELECT count(*) FROM {object} WHERE customer_id IS NULL"}  # fmt: skip

BREAKING = [
    ("removed", _delete("promotion_id"), "removed"),
    ("renamed", _col("promotion_id", name="promo_id"), "renamed"),
    ("bigint_to_integer", _col("order_id", physicalType="INTEGER"), "type_narrowed"),
    ("double_to_float", _col("discount_pct", physicalType="FLOAT"), "type_narrowed"),
    ("decimal_narrower", _col("line_revenue", physicalType="DECIMAL(10,2)"), "type_narrowed"),
    ("varchar_to_sized", _col("channel", physicalType="VARCHAR(5)"), "type_narrowed"),
    (
        "timestamp_to_date",
        _col("ordered_at", logicalType="date", physicalType="DATE"),
        "type_changed",
    ),  # fmt: skip
    ("newly_required", _col("promotion_id", required=True), "newly_required"),
    ("added_required", _append(name="coupon", required=True), "added_required"),
    (
        "maximum_lowered",
        lambda d: prop(d, "quantity")["logicalTypeOptions"].update(maximum=500),
        "rule_tightened",
    ),  # fmt: skip
    (
        "minimum_raised",
        lambda d: prop(d, "unit_price")["logicalTypeOptions"].update(minimum=1),
        "rule_tightened",
    ),  # fmt: skip
    ("valid_values_reduced", _col_rule("channel", validValues=["web", "app"]), "rule_tightened"),
    ("pattern_added", _col_rule("status", pattern="^[a-z]+$"), "rule_tightened"),
    ("threshold_tightened", _table_rule(0, mustBeGreaterThan=10), "rule_tightened"),
    ("rule_added", lambda d: d["schema"][0]["quality"].append(NEW_RULE), "rule_added"),
    ("unique_added", _col("customer_id", unique=True), "rule_tightened"),
    (
        "pk_reordered",
        lambda d: (
            _col("order_id", primaryKeyPosition=2)(d),
            _col("line_number", primaryKeyPosition=1)(d),
        ),
        "primary_key",
    ),  # fmt: skip
    ("pk_extended", _col("product_id", primaryKey=True, primaryKeyPosition=3), "primary_key"),
    ("stricter_class", _col("product_id", classification="pii"), "classification"),
]

COMPATIBLE = [
    ("added_optional", _append(name="coupon", required=False), "added"),
    ("integer_to_bigint", _col("quantity", physicalType="BIGINT"), "type_widened"),
    ("decimal_wider", _col("unit_price", physicalType="decimal(14, 2)"), "type_widened"),
    (
        "int_to_double",
        _col("quantity", logicalType="number", physicalType="DOUBLE"),
        "type_widened",
    ),  # fmt: skip
    ("alias_spelling", _col("channel", physicalType="STRING"), None),  # same type: no change
    (
        "maximum_raised",
        lambda d: prop(d, "quantity")["logicalTypeOptions"].update(maximum=5000),
        "rule_loosened",
    ),  # fmt: skip
    (
        "valid_values_added",
        _col_rule("status", validValues=["completed", "returned", "cancelled", "pending"]),
        "rule_loosened",
    ),  # fmt: skip
    ("rule_removed", lambda d: d["schema"][0]["quality"].pop(1), "rule_removed"),
    ("no_longer_required", _col("customer_id", required=False), "no_longer_required"),
    ("description", _col("status", description="Where the order stands."), "description"),
    ("looser_class", _col("status", classification="public"), "classification"),
    ("freshness", lambda d: d["slaProperties"][0].update(value=48), "sla"),
]


def _pair(tmp_path, *edits):
    old = load_contract(write_contract(tmp_path / "old"))
    new = load_contract(write_contract(tmp_path / "new", *edits))
    return old, new


@pytest.mark.parametrize(("name", "edit", "kind"), BREAKING, ids=[c[0] for c in BREAKING])
def test_breaking_change_needs_major_bump(tmp_path, name, edit, kind):
    old, minor = _pair(tmp_path, edit, _bump("1.1.0"))
    changes = diff_contracts(old, minor)
    assert any(c.kind == kind and c.breaking for c in changes), changes
    assert not verdict(changes, old, minor).ok
    _, major = _pair(tmp_path, edit, _bump("2.0.0", port=2))
    result = verdict(diff_contracts(old, major), old, major)
    assert result.ok, result.message


@pytest.mark.parametrize(("name", "edit", "kind"), COMPATIBLE, ids=[c[0] for c in COMPATIBLE])
def test_compatible_change_passes_with_minor_bump(tmp_path, name, edit, kind):
    old, new = _pair(tmp_path, edit, _bump("1.1.0"))
    changes = diff_contracts(old, new)
    assert not any(c.breaking for c in changes), changes
    assert [c.kind for c in changes] == ([kind] if kind else [])
    assert verdict(changes, old, new).ok


def test_rename_is_one_change_not_remove_and_add(tmp_path):
    old, new = _pair(tmp_path, _col("promotion_id", name="promo_id"), _bump("2.0.0", port=2))
    assert [(c.kind, c.column) for c in diff_contracts(old, new)] == [("renamed", "promotion_id")]


@pytest.mark.parametrize(
    ("edits", "words"),
    [
        ([_col("status", description="Changed.")], "needs a higher version"),
        ([_bump("0.9.0")], "needs a higher version"),
        (
            [
                _delete("promotion_id"),
                _bump("2.0.0"),
                lambda d: d.update(customProperties=[{"property": "portVersion", "value": 1}]),
            ],
            "keeps port version 1",
        ),
        ([lambda d: d.update(id="urn:datacontract:sales:orders")], "not the same contract"),
    ],
)
def test_versioning_mistakes_fail(tmp_path, edits, words):
    path = write_contract(tmp_path / "new", *edits)
    old = load_contract(write_contract(tmp_path / "old"))
    new = load_contract(path, check_path=False)
    result = verdict(diff_contracts(old, new), old, new)
    assert not result.ok and words in result.message


def test_unchanged_contract_and_major_bump_without_breaking_pass(tmp_path):
    old, same = _pair(tmp_path)
    assert diff_contracts(old, same) == [] and verdict([], old, same).ok
    _, major = _pair(tmp_path, _bump("2.0.0", port=2))
    assert verdict(diff_contracts(old, major), old, major).ok


@pytest.mark.parametrize(
    ("old", "new", "wider"),
    [("INT", "INT8", True), ("BIGINT", "DOUBLE", False), ("INTEGER", "DECIMAL(10,0)", True),
     ("INTEGER", "DECIMAL(12,3)", False), ("VARCHAR(5)", "VARCHAR(9)", True),
     ("VARCHAR", "VARCHAR(9)", False), ("UINTEGER", "BIGINT", True), ("DATE", "TIMESTAMP", False)],
)  # fmt: skip
def test_widens(old, new, wider):
    assert widens(old, new) is wider


def _cli(args):
    app = typer.Typer()
    register(app)
    app.callback()(lambda: None)  # keep `contracts` a sub-command even with one group
    return invoke(app, *args)


def test_cli_diff_exit_codes(tmp_path):
    old = write_contract(tmp_path / "old")
    minor = write_contract(tmp_path / "minor", _delete("promotion_id"), _bump("1.1.0"))
    major = write_contract(tmp_path / "major", _delete("promotion_id"), _bump("2.0.0", port=2))
    result = _cli(["contracts", "diff", str(old), str(minor)])
    assert result.exit_code == 1, result.output
    assert "promotion_id" in result.output and "breaking" in result.output
    assert "need a major version bump" in result.output
    result = _cli(["contracts", "diff", str(old), str(major)])
    assert result.exit_code == 0, result.output


def test_cli_diff_reads_a_committed_version(tmp_path, monkeypatch):
    path = write_contract(tmp_path)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "v1")
    write_contract(tmp_path, _col("status", description="Changed."), _bump("1.0.1"))
    monkeypatch.chdir(tmp_path)
    ref = "git:HEAD:contracts/sales/order_lines.odcs.yaml"
    result = _cli(["contracts", "diff", ref, str(path)])
    assert result.exit_code == 0, result.output
    assert "description" in result.output and "1.0.0 -> 1.0.1" in result.output


def test_cli_diff_invalid_contract_exits_2(tmp_path):
    old = write_contract(tmp_path / "old")
    bad = write_contract(tmp_path / "bad", _bump("two"))
    result = _cli(["contracts", "diff", str(old), str(bad)])
    assert result.exit_code == 2
    assert "version" in result.output and "Traceback" not in result.output
