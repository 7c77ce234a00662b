"""Metric gates: parse `{"roc_auc": ">= 0.65", "mae": "< baseline"}` and check metrics."""

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
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_EXPRESSION = re.compile(rf"^\s*(>=|<=|==|>|<)\s*({_NUMBER})\s*$")
# "< baseline" or "<= 0.95 * baseline": relative to the naive baseline on the same window.
_RELATIVE = re.compile(rf"^\s*(>=|<=|==|>|<)\s*(?:({_NUMBER})\s*\*\s*)?baseline\s*$")
BASELINE_PREFIX = "baseline_"  # a version's metrics carry the baseline's as baseline_<metric>


@dataclass(frozen=True)
class Gate:
    """One parsed gate: `metric op threshold`, a number or a multiple of the baseline."""

    metric: str
    op: str
    threshold: float
    relative: bool = False  # threshold multiplies the baseline's value of the same metric

    def passes(self, value: float, baseline: float | None = None) -> bool:
        """Whether a metric value meets the gate (NaN, or a missing baseline, never does)."""
        if self.relative:
            if baseline is None or math.isnan(baseline):
                return False
            return not math.isnan(value) and _OPERATORS[self.op](value, self.threshold * baseline)
        return not math.isnan(value) and _OPERATORS[self.op](value, self.threshold)

    def __str__(self) -> str:
        if self.relative:
            factor = "" if self.threshold == 1 else f"{self.threshold:g} * "
            return f"{self.metric} {self.op} {factor}baseline"
        return f"{self.metric} {self.op} {self.threshold:g}"


def parse_gate(metric: str, expression: str) -> Gate:
    """Parse one gate expression such as `>= 0.65`.

    Args:
        metric: Name of the metric the gate applies to.
        expression: Comparison operator (>=, >, <=, <, ==) followed by a number, by
            ``baseline`` (the naive baseline's value of the metric on the same window) or by
            ``<number> * baseline``.

    Returns:
        The parsed gate.

    Raises:
        ValueError: The expression is malformed; the message names the metric and the text.
    """
    text = expression if isinstance(expression, str) else ""
    relative = _RELATIVE.match(text)
    if relative:
        factor = float(relative.group(2) or 1)
        return Gate(metric=metric, op=relative.group(1), threshold=factor, relative=True)
    match = _EXPRESSION.match(text)
    if not match:
        raise ValueError(
            f"gate for metric '{metric}' is malformed: {expression!r} (expected an operator >=, "
            ">, <=, < or == followed by a number or baseline, e.g. '>= 0.65' or '< baseline')"
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
        metrics: Metric name -> value of the model being judged; a relative gate reads the
            baseline's value from ``baseline_<metric>``.
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
        base = metrics.get(BASELINE_PREFIX + gate.metric)
        if gate.relative and base is None:
            failures.append(f"gate {gate} failed: the baseline's {gate.metric} was not evaluated")
        elif not gate.passes(value, None if base is None else float(base)):
            against = f" against baseline {float(base):.4g}" if gate.relative and base else ""
            failures.append(f"gate {gate} failed: {gate.metric} = {value:.4g}{against}")
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
