"""Gate expressions: parsing, malformed gates named, failures reported, baseline-relative."""

from __future__ import annotations

import pytest
from mesh_platform.ml.gates import check_gates, parse_gate, parse_gates

GATES = {"roc_auc": ">= 0.65", "f1": "> 0.3"}


def test_gate_expressions_parse():
    gates = parse_gates({"roc_auc": ">= 0.65", "f1": ">0.3", "log_loss": " <= 6e-1 ", "n": "== 1"})
    assert [(g.metric, g.op, g.threshold) for g in gates] == [
        ("roc_auc", ">=", 0.65), ("f1", ">", 0.3), ("log_loss", "<=", 0.6), ("n", "==", 1.0)
    ]  # fmt: skip


@pytest.mark.parametrize("text", ["=> 0.65", "0.65", ">= abc", "", ">= 0.6 0.7", "> nan", None])
def test_malformed_gate_names_metric_and_text(text):
    with pytest.raises(ValueError, match="roc_auc") as err:
        parse_gate("roc_auc", text)  # type: ignore[arg-type]
    assert repr(text) in str(err.value)


def test_check_gates_reports_every_failure():
    failures = check_gates({"roc_auc": 0.6, "f1": float("nan")}, {**GATES, "log_loss": "<= 0.6"})
    assert failures == [
        "gate roc_auc >= 0.65 failed: roc_auc = 0.6",
        "gate f1 > 0.3 failed: f1 = nan",
        "gate log_loss <= 0.6 failed: metric 'log_loss' was not evaluated",
    ]
    assert check_gates({"roc_auc": 0.65, "f1": 0.31}, GATES) == []
    with pytest.raises(ValueError, match="f1"):
        check_gates({"f1": 0.5}, {"f1": ">> 0.3"})


def test_a_relative_gate_compares_with_the_baselines_value_of_the_same_metric():
    gates = {"mae": "< baseline", "rmse": "<= 0.95 * baseline"}
    assert (
        check_gates({"mae": 5.0, "baseline_mae": 6.0, "rmse": 7.0, "baseline_rmse": 8.0}, gates)
        == []
    )
    failed = check_gates(
        {"mae": 6.0, "baseline_mae": 6.0, "rmse": 7.8, "baseline_rmse": 8.0}, gates
    )
    assert failed == [
        "gate mae < baseline failed: mae = 6 against baseline 6",
        "gate rmse <= 0.95 * baseline failed: rmse = 7.8 against baseline 8",
    ]


def test_a_relative_gate_without_a_baseline_fails_and_says_so():
    assert check_gates({"mae": 1.0}, {"mae": "< baseline"}) == [
        "gate mae < baseline failed: the baseline's mae was not evaluated"
    ]


@pytest.mark.parametrize("text", ["< basline", "< baseline * 2", "baseline", "< 2 * baseline 1"])
def test_a_malformed_relative_gate_is_refused_with_an_example(text):
    with pytest.raises(ValueError, match="or '< baseline'"):
        parse_gate("mae", text)


def test_a_relative_gate_reads_back_as_written():
    assert str(parse_gate("mae", "<= 0.9*baseline")) == "mae <= 0.9 * baseline"
    assert str(parse_gate("ndcg@10", "> baseline")) == "ndcg@10 > baseline"
