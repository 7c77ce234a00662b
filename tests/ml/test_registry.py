"""Model registry: gated promotion, rollback, concurrency, atomic writes; gate parsing; CLI."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import typer
from mesh_platform.cli import models as models_cli
from mesh_platform.ml import promotion, registry
from mesh_platform.ml.gates import check_gates, parse_gate, parse_gates
from mesh_platform.ml.registry import RegistryError
from typer.testing import CliRunner

GATES = {"roc_auc": ">= 0.65", "f1": "> 0.3"}
WINDOW = {"start": "2026-08-01", "end": "2026-09-01"}


def _booster(seed: int) -> lgb.Booster:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, 3))
    y = (x[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    params = {"objective": "binary", "num_threads": 1, "verbose": -1, "seed": seed}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=5)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "model.txt"
    _booster(0).save_model(str(path))
    return path


def _register(root: Path, model, roc_auc: float, f1: float = 0.5, window=WINDOW, name="churn"):
    return registry.register(
        root, name, model, params={"num_leaves": 7}, metrics={"roc_auc": roc_auc, "f1": f1},
        features={"x0": "float", "x1": "float", "x2": "float"},
        data_snapshots={"sales/order_lines@v1": "snap-1"}, code_version="abc123",
        lineage_run_id="run-1", evaluation_window=window, baseline_metrics={"roc_auc": 0.5},
        gates=GATES,
    )  # fmt: skip


def _promote(root: Path, version: int, **kwargs):
    return promotion.promote_if_better(root, "churn", version, GATES, "roc_auc", **kwargs)


def test_first_model_passing_gates_becomes_champion(tmp_path):
    booster = _booster(1)
    v1 = _register(tmp_path, booster, 0.70)
    assert (v1.version, v1.status) == (1, "challenger")
    decision = _promote(tmp_path, 1)
    assert decision.promoted and "no champion yet" in decision.reasons
    best = registry.champion(tmp_path, "churn")
    assert best is not None and best.version == 1 and best.status == "champion"
    assert best.meta["decisions"][-1]["promoted"] is True
    assert best.meta["data_snapshots"] == {"sales/order_lines@v1": "snap-1"}
    x = np.random.default_rng(9).normal(size=(20, 3))
    np.testing.assert_allclose(
        np.asarray(best.load_booster().predict(x)), np.asarray(booster.predict(x))
    )


def test_worse_candidate_stays_challenger_and_says_by_how_much(tmp_path, model_file):
    _register(tmp_path, model_file, 0.70)
    _promote(tmp_path, 1)
    _register(tmp_path, model_file, 0.68)
    decision = _promote(tmp_path, 2)
    assert not decision.promoted
    assert any(
        "does not beat the champion v1's 0.7000: lost by 0.0200" in r for r in decision.reasons
    )
    assert registry.champion(tmp_path, "churn").version == 1  # type: ignore[union-attr]
    v2 = registry.show(tmp_path, "churn", 2)
    assert v2.status == "challenger" and v2.meta["decisions"][-1]["promoted"] is False


def test_better_candidate_replaces_champion_lower_is_better(tmp_path, model_file):
    for loss in (0.50, 0.45):
        registry.register(tmp_path, "m", model_file, {}, {"log_loss": loss}, {}, {}, "c", None,
                          WINDOW, {})  # fmt: skip
    gates = {"log_loss": "<= 0.6"}
    assert promotion.promote_if_better(tmp_path, "m", 1, gates, "log_loss", False).promoted
    decision = promotion.promote_if_better(tmp_path, "m", 2, gates, "log_loss", False)
    assert decision.promoted and decision.previous_champion == 1
    assert registry.aliases(tmp_path, "m")["history"][-1]["version"] == 1
    assert registry.show(tmp_path, "m", 1).status == "retired"


def test_candidate_failing_a_gate_stays_challenger(tmp_path, model_file):
    _register(tmp_path, model_file, 0.70)
    _promote(tmp_path, 1)
    _register(tmp_path, model_file, 0.80, f1=0.2)  # better AUC, but fails the f1 gate
    decision = _promote(tmp_path, 2)
    assert not decision.promoted
    assert "gate f1 > 0.3 failed: f1 = 0.2" in decision.reasons
    assert registry.champion(tmp_path, "churn").version == 1  # type: ignore[union-attr]


def test_first_model_failing_a_gate_is_not_champion(tmp_path, model_file):
    _register(tmp_path, model_file, 0.60)
    decision = _promote(tmp_path, 1)
    assert not decision.promoted and decision.reasons == [
        "gate roc_auc >= 0.65 failed: roc_auc = 0.6"
    ]
    assert registry.champion(tmp_path, "churn") is None


def test_champion_on_another_window_needs_a_reevaluation(tmp_path, model_file):
    _register(tmp_path, model_file, 0.75)
    _promote(tmp_path, 1)
    later = {"start": "2026-09-01", "end": "2026-10-01"}
    _register(tmp_path, model_file, 0.70, window=later)  # a harder month: lower AUC for everyone
    refused = _promote(tmp_path, 2)
    assert not refused.promoted and "champion_metrics_on_window" in refused.reasons[-1]
    accepted = _promote(tmp_path, 2, champion_metrics_on_window={"roc_auc": 0.66})
    assert accepted.promoted
    assert registry.show(tmp_path, "churn", 2).meta["decisions"][-1]["champion_metrics_on_window"]


def test_rollback_restores_the_previous_champion(tmp_path, model_file):
    for auc in (0.70, 0.72, 0.74):
        version = _register(tmp_path, model_file, auc).version
        assert _promote(tmp_path, version).promoted
    assert promotion.rollback(tmp_path, "churn").version == 2
    assert registry.show(tmp_path, "churn", 3).status == "rolled_back"
    assert promotion.rollback(tmp_path, "churn").version == 1
    assert registry.champion(tmp_path, "churn").status == "champion"  # type: ignore[union-attr]
    with pytest.raises(RegistryError, match="no previous champion"):
        promotion.rollback(tmp_path, "churn")


def test_manual_promotion_is_gate_checked_unless_forced(tmp_path, model_file):
    _register(tmp_path, model_file, 0.70)
    _register(tmp_path, model_file, 0.60)
    assert promotion.promote(tmp_path, "churn", 1).promoted
    refused = promotion.promote(tmp_path, "churn", 2)
    assert not refused.promoted and "roc_auc >= 0.65" in refused.reasons[0]
    forced = promotion.promote(tmp_path, "churn", 2, force=True)
    assert forced.promoted and forced.reasons[1].startswith("forced past: gate roc_auc")
    assert registry.champion(tmp_path, "churn").version == 2  # type: ignore[union-attr]


def _worker(root: str, model_file: str, aucs: list[float]) -> None:
    for auc in aucs:
        version = _register(Path(root), model_file, auc).version
        _promote(Path(root), version)


def _check_consistent(root: Path, aucs: list[float]) -> None:
    state = json.loads((root / "churn" / "aliases.json").read_text())  # valid JSON
    versions = registry.list_versions(root, "churn")
    assert [v.version for v in versions] == list(range(1, len(aucs) + 1))
    assert sorted(v.metrics["roc_auc"] for v in versions) == sorted(aucs)
    best = max(versions, key=lambda v: v.metrics["roc_auc"])
    assert state["champion"] == best.version  # every promotion compared with the real champion
    chain = [
        registry.show(root, "churn", h["version"]).metrics["roc_auc"] for h in state["history"]
    ]
    assert chain == sorted(chain) and len(set(chain)) == len(chain)
    assert not list((root / "churn" / "versions").glob(".tmp-*"))


def test_concurrent_processes_keep_aliases_valid(tmp_path, model_file):
    aucs = [round(0.66 + 0.001 * i, 3) for i in range(24)]
    np.random.default_rng(3).shuffle(aucs)
    ctx = multiprocessing.get_context("fork")  # workers only copy files: no OpenMP after fork
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), str(model_file), aucs[i::4]))
             for i in range(4)]  # fmt: skip
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    _check_consistent(tmp_path, aucs)


def test_concurrent_threads_keep_aliases_valid(tmp_path, model_file):
    aucs = [round(0.70 + 0.002 * i, 3) for i in range(12)]
    np.random.default_rng(4).shuffle(aucs)
    threads = [threading.Thread(target=_worker, args=(str(tmp_path), str(model_file), aucs[i::3]))
               for i in range(3)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    _check_consistent(tmp_path, aucs)


def test_failure_mid_register_leaves_no_half_version(tmp_path, model_file, monkeypatch):
    real = registry._write_json

    def failing(path: Path, data) -> None:
        if path.name == "meta.json":
            raise OSError("disk full")
        real(path, data)

    monkeypatch.setattr(registry, "_write_json", failing)
    with pytest.raises(OSError, match="disk full"):
        _register(tmp_path, model_file, 0.7)
    monkeypatch.undo()
    assert list((tmp_path / "churn" / "versions").iterdir()) == []
    # A crash leaves at worst a hidden temporary folder, which is never read as a version.
    (tmp_path / "churn" / "versions" / ".tmp-crashed").mkdir()
    assert registry.list_versions(tmp_path, "churn") == []
    assert _register(tmp_path, model_file, 0.7).version == 1


def test_failed_alias_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "aliases.json"
    path.write_text('{"champion": 1, "history": []}')
    with pytest.raises(TypeError):
        registry._write_json(path, {"champion": object()})  # fails while serialising
    assert json.loads(path.read_text())["champion"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["aliases.json"]


def test_register_rejects_what_is_not_a_lightgbm_model(tmp_path):
    bogus = tmp_path / "bogus.txt"
    bogus.write_text("not a model")
    with pytest.raises(RegistryError, match="not a LightGBM text model"):
        _register(tmp_path / "reg", bogus, 0.7)
    with pytest.raises(RegistryError, match="invalid model name"):
        _register(tmp_path / "reg", bogus, 0.7, name="../escape")
    assert registry.list_versions(tmp_path / "reg", "churn") == []


# --- gates ---------------------------------------------------------------------------------


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


# --- CLI -----------------------------------------------------------------------------------


@pytest.fixture
def cli(mesh_home):
    app = typer.Typer()
    models_cli.register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["models", *args])


def test_cli_list_show_promote_rollback(cli, mesh_home, model_file):
    root = mesh_home / "registry"
    _register(root, model_file, 0.70)
    _register(root, model_file, 0.72)
    _register(root, model_file, 0.60)
    assert cli("promote", "churn", "1").exit_code == 0
    assert cli("promote", "churn", "2").exit_code == 0
    listed = json.loads(cli("list", "--format", "json").stdout)
    assert listed[0]["name"] == "churn" and listed[0]["champion"] == 2
    assert [v["status"] for v in listed[0]["versions"]] == ["retired", "champion", "challenger"]
    assert "roc_auc=0.72" in cli("list").stdout
    shown = json.loads(cli("show", "churn", "2", "--format", "json").stdout)
    assert shown["code_version"] == "abc123"
    assert cli("show", "churn").exit_code == 0
    refused = cli("promote", "churn", "3")
    assert refused.exit_code == 1 and "roc_auc >= 0.65" in refused.output
    assert cli("rollback", "churn").exit_code == 0
    assert registry.champion(root, "churn").version == 1  # type: ignore[union-attr]
    assert cli("rollback", "churn").exit_code == 1  # nothing left to roll back to


def test_cli_unknown_model_or_version_exits_2(cli, mesh_home, model_file):
    _register(mesh_home / "registry", model_file, 0.70)
    assert cli("show", "nope").exit_code == 2
    assert cli("show", "churn", "9").exit_code == 2
    assert cli("promote", "churn", "9").exit_code == 2
    assert cli("rollback", "nope").exit_code == 2
    assert cli("list").exit_code == 0
