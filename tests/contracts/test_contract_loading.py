"""Contract loading: the repo's contracts are valid; every lint rule names the file and field."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from mesh_platform.contracts.odcs import load_contract, load_contracts
from mesh_platform.descriptors.errors import SpecErrors

from tests.contracts import REFERENCE, prop, write_contract
from tests.support import FIXTURES, REPO


def test_every_repo_contract_loads():
    contracts, errors = load_contracts(REPO / "contracts")
    assert errors == []
    assert len(contracts) == len(list((REPO / "contracts").rglob("*.odcs.yaml")))
    assert "sales/order_lines" in contracts


def test_reference_contract_facts():
    c = load_contract(REFERENCE)
    assert (c.key, c.domain, c.product, c.is_source) == (
        "sales/order_lines",
        "sales",
        "order_lines",
        False,
    )
    assert (c.version, c.major, c.port_version) == ("1.0.0", 1, 1)
    assert c.primary_key == ["order_id", "line_number"]
    assert c.freshness_hours == 24
    assert c.deprecation_date is None
    assert c.table.name == "order_lines" and c.columns[0].name == "order_id"


def test_custom_properties_and_days(tmp_path):
    def edit(d):
        d["slaProperties"][0].update(value=2, unit="d")
        d["customProperties"] = [
            {"property": "portVersion", "value": 3},
            {"property": "deprecationDate", "value": "2026-06-30"},
        ]

    c = load_contract(write_contract(tmp_path, edit))
    assert (c.freshness_hours, c.port_version, c.deprecation_date) == (48, 3, date(2026, 6, 30))


def test_source_contract_needs_no_freshness(tmp_path):
    def edit(d):
        d["id"] = "urn:datacontract:sales:source:erp_orders"
        del d["slaProperties"]

    c = load_contract(write_contract(tmp_path, edit, rel="sales/sources/erp_orders.odcs.yaml"))
    assert (c.key, c.is_source, c.product) == ("sales/source/erp_orders", True, "erp_orders")


def _set(field, value):
    return lambda d: d.__setitem__(field, value)


def _prop(name, **changes):
    return lambda d: prop(d, name).update(changes)


def _drop(name, key):
    return lambda d: prop(d, name).pop(key)


def _rule(index, **changes):
    return lambda d: d["schema"][0]["quality"][index].update(changes)


def _drop_rule_key(index, key):
    return lambda d: d["schema"][0]["quality"][index].pop(key)


def _col_rule(name, **changes):
    return lambda d: prop(d, name)["quality"][0].update(changes)


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        (_set("id", "urn:datacontract:sales:orders"), "id", "to match the file's place"),
        (_set("id", "order_lines"), "id", "urn:datacontract:<domain>:<product>"),
        (_set("version", "1.0"), "version", "MAJOR.MINOR.PATCH"),
        (_set("apiVersion", "v2.2.2"), "apiVersion", "v3.x"),
        (_set("kind", "DataProduct"), "kind", "'DataContract'"),
        (_set("domain", "web"), "domain", "differs from the id's domain"),
        (lambda d: d["schema"].append(dict(d["schema"][0])), "schema", "exactly one"),
        (_drop("order_id", "name"), "schema[0].properties[0].name", "is required"),
        (_prop("channel", logicalType="text"), "schema[0].properties[6].logicalType", "one of"),
        (_drop("channel", "physicalType"), "schema[0].properties[6].physicalType", "required"),
        (_drop("channel", "description"), "schema[0].properties[6].description", "required"),
        (
            _prop("status", classification="secret"),
            "schema[0].properties[7].classification",
            "one of public, internal",
        ),  # fmt: skip
        (_drop("status", "classification"), "schema[0].properties[7].classification", "None"),
        (_prop("order_id", primaryKeyPosition=2), "schema[0].properties", "distinct"),
        (
            _prop("order_id", logicalType=[1]),
            "schema[0].properties[0].logicalType",
            "valid string",
        ),  # fmt: skip
        (_set("colour", "red"), "colour", "Extra inputs are not permitted"),
        (_prop("order_id", primarykey=True), "schema[0].properties[0].primarykey", "unknown"),
        (
            _rule(1, query="SELECT count(*) FROM order_lines"),
            "schema[0].quality[1].query",
            "{object}",
        ),  # fmt: skip
        (_drop_rule_key(1, "mustBe"), "schema[0].quality[1]", "needs one of mustBe"),
        (_rule(1, type="custom"), "schema[0].quality[1].type", "library, sql or text"),
        (_rule(0, metric="nullValues"), "schema[0].quality[0].metric", "rowCount"),
        (
            _col_rule("channel", metric="rowCount"),
            "schema[0].properties[6].quality[0].metric",
            "invalidValues",
        ),  # fmt: skip
        (
            _col_rule("channel", arguments={}),
            "schema[0].properties[6].quality[0].arguments",
            "validValues or pattern",
        ),  # fmt: skip
        (
            _set("slaProperties", [{"property": "retention", "value": 2, "unit": "y"}]),
            "slaProperties",
            "'freshness'",
        ),  # fmt: skip
        (lambda d: d["slaProperties"][0].update(unit="m"), "slaProperties[0]", "h or d"),
        (
            _set("customProperties", [{"property": "portVersion", "value": 0}]),
            "customProperties[0].value",
            "portVersion",
        ),  # fmt: skip
        (
            _set("customProperties", [{"property": "deprecationDate", "value": "soon"}]),
            "customProperties[0].value",
            "ISO date",
        ),  # fmt: skip
    ],
)
def test_lint_rule_names_file_and_field(tmp_path, edit, field, words):
    path = write_contract(tmp_path, edit)
    with pytest.raises(SpecErrors) as info:
        load_contract(path)
    found = [(e.file, e.field, e.message) for e in info.value.errors]
    assert any(f == path and fld == field and words in msg for f, fld, msg in found), found
    assert str(path) in str(info.value)


def test_source_id_must_match_sources_folder(tmp_path):
    path = write_contract(tmp_path, rel="sales/sources/erp_orders.odcs.yaml")
    with pytest.raises(SpecErrors, match="urn:datacontract:sales:source:erp_orders"):
        load_contract(path)


def test_check_path_false_accepts_a_draft_anywhere(tmp_path):
    path = write_contract(tmp_path, rel="drafts/new_order_lines.odcs.yaml")
    assert load_contract(path, check_path=False).key == "sales/order_lines"


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "contracts" / "sales" / "order_lines.odcs.yaml"
    path.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "contracts" / "broken_yaml.odcs.yaml", path)
    with pytest.raises(SpecErrors) as info:
        load_contract(path)
    [error] = info.value.errors
    assert (error.file, error.field) == (path, "line 10")
    assert "not valid YAML" in error.message


def test_load_contracts_collects_errors_of_every_file(tmp_path):
    write_contract(tmp_path)
    write_contract(tmp_path, _set("version", "2"), rel="sales/daily_revenue.odcs.yaml")
    (tmp_path / "contracts" / "sales" / "notes.yaml").write_text("a: 1\n")
    contracts, errors = load_contracts(tmp_path / "contracts")
    assert list(contracts) == ["sales/order_lines"]
    fields = {(e.file.name, e.field) for e in errors}
    assert {("daily_revenue.odcs.yaml", "id"), ("daily_revenue.odcs.yaml", "version")} <= fields
    assert ("notes.yaml", "") in fields
