"""Metric gates: parse `{"roc_auc": ">= 0.65"}` expressions and check metrics against them."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}
# Longest operators first so ">=" is not read as ">" followed by "=0.65".
_EXPRESSION = re.compile(r"^\s*(>=|<=|==|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class Gate:
    """One parsed gate: `metric op threshold`."""

    metric: str
    op: str
    threshold: float

    def passes(self, value: float) -> bool:
        """Whether a metric value meets the gate (NaN never does)."""
        return not math.isnan(value) and _OPERATORS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


def parse_gate(metric: str, expression: str) -> Gate:
    """Parse one gate expression such as `>= 0.65`.

    Args:
        metric: Name of the metric the gate applies to.
        expression: Comparison operator (>=, >, <=, <, ==) followed by a number.

    Returns:
        The parsed gate.

    Raises:
        ValueError: The expression is malformed; the message names the metric and the text.
    """
    match = _EXPRESSION.match(expression) if isinstance(expression, str) else None
    if not match:
        raise ValueError(
            f"gate for metric '{metric}' is malformed: {expression!r} "
            "(expected an operator >=, >, <=, < or == followed by a number, e.g. '>= 0.65')"
        )
    threshold = float(match.group(2))
    if not math.isfinite(threshold):
        raise ValueError(f"gate for metric '{metric}' has a non-finite threshold: {expression!r}")
    return Gate(metric=metric, op=match.group(1), threshold=threshold)


def parse_gates(gates: Mapping[str, str]) -> list[Gate]:
    """Parse a descriptor's gates (metric -> expression); raises ValueError on the first bad one."""
    return [parse_gate(metric, expression) for metric, expression in gates.items()]


def check_gates(metrics: Mapping[str, float], gates: Mapping[str, str] | list[Gate]) -> list[str]:
    """Check metrics against gates.

    Args:
        metrics: Metric name -> value of the model being judged.
        gates: Descriptor gates (metric -> expression) or already parsed gates.

    Returns:
        One message per failed gate (empty when all pass); a missing metric is a failure.

    Raises:
        ValueError: A gate expression is malformed.
    """
    parsed = parse_gates(gates) if isinstance(gates, Mapping) else gates
    failures = []
    for gate in parsed:
        if gate.metric not in metrics or metrics[gate.metric] is None:
            failures.append(f"gate {gate} failed: metric '{gate.metric}' was not evaluated")
            continue
        value = float(metrics[gate.metric])
        if not gate.passes(value):
            failures.append(f"gate {gate} failed: {gate.metric} = {value:.4g}")
    return failures


def compare_with_champion(
    candidate: Mapping[str, float],
    champion: Mapping[str, float],
    primary_metric: str,
    higher_is_better: bool = True,
    champion_label: str = "champion",
) -> tuple[bool, str]:
    """Whether a candidate beats the champion on the primary metric, and by how much.

    Args:
        candidate: The candidate's metrics.
        champion: The champion's metrics on the candidate's evaluation window.
        primary_metric: The metric compared.
        higher_is_better: Whether a larger value is better (False for log_loss and the like).
        champion_label: How to name the champion in the message, e.g. `champion v3`.

    Returns:
        (beats, message); a tie does not beat the champion, which keeps its place.
    """
    ours, theirs = _finite(candidate.get(primary_metric)), _finite(champion.get(primary_metric))
    if ours is None:
        return False, f"candidate has no {primary_metric} to compare with the {champion_label}"
    if theirs is None:
        return False, f"{champion_label} has no {primary_metric} on the candidate's window"
    delta = ours - theirs
    if delta > 0 if higher_is_better else delta < 0:
        return True, (
            f"{primary_metric} {ours:.4f} beats the {champion_label}'s {theirs:.4f} "
            f"by {abs(delta):.4f}"
        )
    direction = "higher" if higher_is_better else "lower"
    return False, (
        f"{primary_metric} {ours:.4f} does not beat the {champion_label}'s {theirs:.4f}: "
        f"lost by {abs(delta):.4f} ({direction} is better)"
    )


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)
