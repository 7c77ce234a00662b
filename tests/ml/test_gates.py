"""Gate expressions: parsing, malformed gates named, every failure reported."""

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
