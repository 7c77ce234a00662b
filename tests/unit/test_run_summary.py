"""`mesh up`'s failure summary: each failed check on one line, errors without module paths."""

from __future__ import annotations

from types import SimpleNamespace

import dagster as dg
from mesh_platform.orchestration.run_summary import (
    exception_message,
    failed_checks,
    one_line,
    root_message,
)


def evaluation(key, name, passed, description=None, metadata=None):
    return SimpleNamespace(asset_key=dg.AssetKey(key), check_name=name, passed=passed,
                           description=description, metadata=metadata or {})  # fmt: skip


def test_every_failed_check_is_named_with_a_one_line_reason():
    report = "urn:x v1.0.0: 10 rows: FAILED 2 rule(s)\n  - rule a failed\n  - rule b failed"
    result = SimpleNamespace(get_asset_check_evaluations=lambda: [
        evaluation(["sales", "order_lines"], "contract", False, report),
        evaluation(["sales", "order_lines"], "not_null_order_id", True),
        evaluation(["sales", "daily_revenue"], "unique_day", False, None,
                   {"dagster_dbt/failed_row_count": dg.IntMetadataValue(3)}),
    ])  # fmt: skip
    assert [str(c) for c in failed_checks(result)] == [
        "sales/order_lines contract: rule a failed; rule b failed",
        "sales/daily_revenue unique_day: 3 failing row(s)",
    ]


def test_one_line_cuts_long_reasons():
    assert one_line("a\n- b\n\n", 80) == "a; b"
    assert len(one_line("x" * 500)) == 240


def test_user_errors_lose_their_module_path_platform_errors_keep_their_type():
    message = "dagster._core.definitions.events.Failure: port refused\n"
    inner = SimpleNamespace(cause=None, cls_name="Failure", message=message)
    assert root_message(SimpleNamespace(cause=inner, cls_name="X", message="outer")) == (
        "port refused"
    )
    assert exception_message(ValueError("dbt source erp.returns")) == "dbt source erp.returns"
    assert exception_message(KeyError("x")).startswith("KeyError: 'x' (a platform error")


def test_a_failed_service_is_told_by_its_own_error_not_by_the_client_error_it_wraps():
    client = SimpleNamespace(cause=None, cls_name="OSError", message="OSError: AWS Error ...")
    message = "mesh_platform.ports.store_errors.WarehouseUnavailable: d/p/v1: not published: ..."
    service = SimpleNamespace(cause=client, cls_name="WarehouseUnavailable", message=message)
    step = SimpleNamespace(cause=service, cls_name="DagsterExecutionStepExecutionError", message="")
    assert root_message(step) == "d/p/v1: not published: ..."
