"""Gates relative to the naive baseline: `mae: "< baseline"`, `rmse: "<= 0.95 * baseline"`."""

import pytest
from mesh_platform.ml.gates import check_gates, parse_gate


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
