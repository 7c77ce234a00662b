"""Tuning keeps its time budget: no trial starts that would, at the pace so far, overrun it."""

from __future__ import annotations

import time

import optuna
from mesh_platform.ml.tune import _stop_before_overrun


def _search(timeout_s: float, with_guard: bool) -> tuple[int, float]:
    def objective(trial: optuna.Trial) -> float:
        time.sleep(0.3)
        return trial.suggest_float("x", 0, 1)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    started = time.perf_counter()
    guard = [_stop_before_overrun(started, timeout_s)] if with_guard else []
    study.optimize(objective, n_trials=10, timeout=timeout_s, callbacks=guard)
    return len(study.trials), time.perf_counter() - started


def test_a_trial_that_would_overrun_the_budget_is_not_started():
    trials, seconds = _search(0.5, with_guard=True)
    assert trials == 1 and seconds < 0.5
    unguarded, overran = _search(0.5, with_guard=False)  # optuna's own timeout: between trials
    assert unguarded == 2 and overran > 0.5
