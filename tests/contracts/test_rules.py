"""ODCS -> rule IR: the reference contract compiles and every construct yields its rule."""

from __future__ import annotations

import textwrap

import pandera.polars as pa
import pytest
import yaml
from mesh_platform.contracts.pandera_schema import to_pandera
from mesh_platform.contracts.rules import (
    ContractCompileError,
    compile_rules,
    expectation_met,
)
from mesh_platform.contracts.sql import checked_sql, violation_counts_sql
from open_data_contract_standard.model import OpenDataContractStandard

from tests.contracts import REFERENCE

ALL_CONSTRUCTS = textwrap.dedent("""
    apiVersion: v3.1.0
    kind: DataContract
    id: urn:datacontract:test:everything
    version: 0.3.0
    status: draft
    schema:
      - name: things
        quality:
          - {name: size, metric: rowCount, mustBeBetween: [1, 100]}
          - {name: cheap, type: sql, query: "SELECT max(price) FROM {object}", mustBeLessThan: 50}
          - {type: text, description: only documentation}
        properties:
          - {name: shop, physicalType: int, primaryKey: true, primaryKeyPosition: 2}
          - {name: thing_id, physicalType: BIGINT, primaryKey: true, primaryKeyPosition: 1,
             required: true}
          - name: price
            physicalType: decimal(10, 2)
            logicalTypeOptions: {exclusiveMinimum: 0, exclusiveMaximum: 1000}
          - {name: sku, logicalType: string, unique: true,
             logicalTypeOptions: {pattern: "^[A-Z]{3}-[0-9]+$", minLength: 5, maxLength: 12}}
          - {name: contact, physicalType: VARCHAR, logicalTypeOptions: {format: email}}
          - name: colour
            physicalType: VARCHAR
            quality:
              - {name: known_colour, metric: invalidValues,
                 arguments: {validValues: [red, "o'range"]}, mustBe: 0}
              - {metric: invalidValues, arguments: {pattern: "^[a-z']+$"}, mustBeLessThan: 3}
              - {metric: nullValues, mustBe: 0}
              - {metric: missingValues, arguments: {missingValues: ["", "n/a"]}, mustBe: 0}
              - {metric: duplicateValues, mustBe: 0}
          - {name: made_on, logicalType: date, logicalTypeOptions: {minimum: "2020-01-01"}}
""")


def load(text: str) -> OpenDataContractStandard:
    return OpenDataContractStandard.model_validate(yaml.safe_load(text))


@pytest.fixture(scope="module")
def everything():
    return {r.id: r for r in compile_rules(load(ALL_CONSTRUCTS)).rules}


def test_reference_contract_compiles():
    text = REFERENCE.read_text()
    rules = compile_rules(load(text), source="contracts/sales/order_lines.odcs.yaml")
    assert rules.label == "urn:datacontract:sales:order_lines v1.0.0"
    ids = {r.id for r in rules.rules}
    assert {"order_lines.quantity.maximum", "order_lines.primary_key",
            "order_lines.channel.valid_channel", "order_lines.not_empty",
            "order_lines.no_future_orders", "order_lines.unit_price.type"} <= ids  # fmt: skip
    assert len(ids) == len(rules.rules)
    assert isinstance(to_pandera(rules), pa.DataFrameSchema)
    assert violation_counts_sql(rules, "t").count("FILTER") > 15


def test_types_are_normalised():
    rules = compile_rules(load(ALL_CONSTRUCTS))
    types = {c.name: c.duckdb_type for c in rules.columns}
    assert types == {"shop": "INTEGER", "thing_id": "BIGINT", "price": "DECIMAL(10,2)",
                     "sku": "VARCHAR", "contact": "VARCHAR", "colour": "VARCHAR",
                     "made_on": "DATE"}  # fmt: skip
    assert {r.id for r in rules.of_level("schema")} >= {"things.price.type", "things.sku.present",
                                                        "things.no_extra_columns"}  # fmt: skip


def test_required_and_primary_key(everything):
    assert everything["things.thing_id.required"].predicate == '"thing_id" IS NULL'
    pk = everything["things.primary_key"]
    assert pk.columns == ("thing_id", "shop") and not pk.row_level
    assert everything["things.shop.required"].kind == "not_null"  # key columns are never null


def test_bounds(everything):
    assert everything["things.price.exclusive_minimum"].predicate == '"price" <= 0'
    assert everything["things.price.exclusive_maximum"].predicate == '"price" >= 1000'
    assert everything["things.made_on.minimum"].predicate == "\"made_on\" < DATE '2020-01-01'"
    assert everything["things.made_on.minimum"].params == {"check": "ge", "value": "2020-01-01"}


def test_strings(everything):
    assert everything["things.sku.pattern"].predicate.startswith('NOT regexp_matches("sku"')
    assert everything["things.sku.min_length"].predicate == 'length("sku") < 5'
    assert everything["things.sku.max_length"].predicate == 'length("sku") > 12'
    assert everything["things.sku.unique"].columns == ("sku",)
    assert everything["things.contact.format_email"].kind == "email"


def test_property_quality_metrics(everything):
    enum = everything["things.colour.known_colour"]
    assert enum.predicate == "\"colour\" NOT IN ('red', 'o''range')"
    assert enum.params == {"values": ["red", "o'range"]} and enum.row_level
    pattern = everything["things.colour.invalidValues"]
    assert pattern.kind == "pattern" and pattern.expect == ("mustBeLessThan", 3)
    assert everything["things.colour.nullValues"].predicate == '"colour" IS NULL'
    assert everything["things.colour.missingValues"].predicate == (
        "\"colour\" IS NULL OR \"colour\" IN ('', 'n/a')"
    )
    assert everything["things.colour.duplicateValues"].kind == "unique"


def test_table_quality(everything):
    size = everything["things.size"]
    assert (size.kind, size.expect, size.row_level) == ("row_count", ("mustBeBetween", [1, 100]),
                                                        False)  # fmt: skip
    cheap = everything["things.cheap"]
    assert cheap.kind == "sql" and "{object}" in (cheap.query or "")
    assert cheap.expect == ("mustBeLessThan", 50)
    assert not [r for r in everything.values() if "text" in r.id]


def test_every_row_rule_reaches_both_backends():
    rules = compile_rules(load(ALL_CONSTRUCTS))
    schema = to_pandera(rules)
    pandera_checks = {c.name for col in schema.columns.values() for c in col.checks}
    row_ids = {r.id for r in rules.of_level("row") if r.kind != "not_null"}
    assert row_ids - {"things.colour.nullValues"} <= pandera_checks | {
        "things.colour.missingValues"
    }
    assert schema.unique == ["thing_id", "shop"] and schema.strict is True
    split = checked_sql(rules, "t")
    assert all(r.id in split for r in rules.of_level("row"))


@pytest.mark.parametrize(
    ("expect", "value", "met"),
    [(("mustBe", 0), 0, True), (("mustBe", 0), 1, False), (("mustBeGreaterThan", 0), 0, False),
     (("mustBeBetween", [1, 3]), 3, True), (("mustNotBeBetween", [1, 3]), 2, False),
     (("mustBeLessOrEqualTo", 2), 2, True), (("mustNotBe", 1), 2, True)],
)  # fmt: skip
def test_expectations(expect, value, met):
    assert expectation_met(expect, value) is met


def test_unsupported_check_is_an_error_not_a_silent_pass():
    bad = ALL_CONSTRUCTS.replace("metric: duplicateValues", "metric: somethingNew")
    with pytest.raises(ContractCompileError, match="things.colour"):
        compile_rules(load(bad))


def test_several_tables_need_a_choice():
    data = yaml.safe_load(ALL_CONSTRUCTS)
    data["schema"].append({"name": "other", "properties": [{"name": "x"}]})
    contract = OpenDataContractStandard.model_validate(data)
    with pytest.raises(ContractCompileError, match="choose one table"):
        compile_rules(contract)
    assert compile_rules(contract, table="other").table == "other"
