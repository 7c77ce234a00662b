"""Model registry on MLflow: runs, versions, champion alias moved only by gates, rollback."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
from mesh_platform.ml import promotion, registry, tracking
from mesh_platform.ml.registry import NotFoundError, RegistryError

GATES = {"roc_auc": ">= 0.65", "f1": "> 0.3"}
WINDOW = {"start": "2026-08-01", "end": "2026-09-01"}
TRIALS = [{"number": n, "value": 0.6 + n / 100, "params": {"num_leaves": 7 + n},
           "state": "COMPLETE", "seconds": 0.1} for n in range(3)]  # fmt: skip


def _booster(seed: int) -> lgb.Booster:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, 3))
    y = (x[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    params = {"objective": "binary", "num_threads": 1, "verbose": -1, "seed": seed}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=5)


@pytest.fixture
def root(fresh_registry, tmp_path) -> Path:
    return fresh_registry(tmp_path / "mlflow")


def _register(root: Path, model, roc_auc: float, f1: float = 0.5, window=WINDOW, name="churn",
              **kwargs):  # fmt: skip
    return registry.register(
        root, name, model, params={"num_leaves": 7}, metrics={"roc_auc": roc_auc, "f1": f1},
        features={"x0": "float", "x1": "float", "x2": "float"},
        data_snapshots={"sales/order_lines@v1": "snap-1"}, code_version="abc123",
        lineage_run_id="run-1", evaluation_window=window, baseline_metrics={"roc_auc": 0.5},
        gates=GATES, **kwargs,
    )  # fmt: skip


def _promote(root: Path, version: int, **kwargs):
    return promotion.promote_if_better(root, "churn", version, GATES, "roc_auc", **kwargs)


def test_a_version_is_an_mlflow_run_with_its_model_params_metrics_and_tags(root):
    booster = _booster(1)
    v1 = _register(
        root,
        booster,
        0.70,
        trials=TRIALS,
        tuning_metric="roc_auc",
        dagster_run_id="dagster-1",
        artifacts={"reference_profile.json": {"a": 1}},
    )
    assert (v1.version, v1.status, v1.uri) == (1, "challenger", "models:/churn/1")
    assert {"model.txt", "meta.json", "reference_profile.json"} <= {
        p.name for p in v1.path.iterdir()
    }
    run = tracking.client(root).get_run(v1.run_id)  # type: ignore[arg-type]
    assert run.data.params["num_leaves"] == "7"
    assert run.data.metrics["roc_auc"] == 0.7 and run.data.metrics["baseline_roc_auc"] == 0.5
    assert run.data.tags["mesh.snapshot.sales/order_lines_v1"] == "snap-1"
    assert run.data.tags["mesh.dagster_run_id"] == "dagster-1"
    assert json.loads(run.data.tags["mesh.evaluation_window"]) == WINDOW
    assert run.data.tags["mesh.code_version"] == "abc123"
    children = tracking.client(root).search_runs(
        [run.info.experiment_id], f"tags.mlflow.parentRunId = '{v1.run_id}'"
    )
    assert sorted(c.data.params["num_leaves"] for c in children) == ["7", "8", "9"]
    history = tracking.client(root).get_metric_history(v1.run_id, "tuning_roc_auc")
    assert [m.step for m in history] == [0, 1, 2]
    x = np.random.default_rng(9).normal(size=(20, 3))
    np.testing.assert_allclose(v1.load_booster().predict(x), booster.predict(x))


def test_champion_loads_with_mlflow_from_the_alias(root, monkeypatch):
    import mlflow.lightgbm

    booster = _booster(2)
    _register(root, booster, 0.70)
    assert _promote(root, 1).promoted
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking.tracking_uri(root))
    loaded = mlflow.lightgbm.load_model("models:/churn@champion")
    x = np.random.default_rng(9).normal(size=(20, 3))
    np.testing.assert_allclose(loaded.predict(x), booster.predict(x))


def test_first_model_passing_gates_becomes_champion(root, model_file):
    _register(root, model_file, 0.70)
    assert registry.champion(root, "churn") is None
    decision = _promote(root, 1)
    assert decision.promoted and "no champion yet" in decision.reasons
    best = registry.champion(root, "churn")
    assert best is not None and best.version == 1 and best.status == "champion"
    assert best.meta["decisions"][-1]["promoted"] is True
    assert best.meta["data_snapshots"] == {"sales/order_lines@v1": "snap-1"}
    model = tracking.client(root).get_registered_model("churn")
    assert model.aliases == {"champion": 1}


def test_worse_candidate_stays_challenger_and_says_by_how_much(root, model_file):
    _register(root, model_file, 0.70)
    _promote(root, 1)
    _register(root, model_file, 0.68)
    decision = _promote(root, 2)
    assert not decision.promoted
    assert any("does not beat the champion v1's 0.7000: lost by 0.0200" in r
               for r in decision.reasons)  # fmt: skip
    assert registry.champion(root, "churn").version == 1  # type: ignore[union-attr]
    v2 = registry.show(root, "churn", 2)
    assert v2.status == "challenger" and v2.meta["decisions"][-1]["promoted"] is False


def test_better_candidate_replaces_champion_lower_is_better(root, model_file):
    for loss in (0.50, 0.45):
        registry.register(root, "m", model_file, {}, {"log_loss": loss}, {}, {}, "c", None,
                          WINDOW, {})  # fmt: skip
    gates = {"log_loss": "<= 0.6"}
    assert promotion.promote_if_better(root, "m", 1, gates, "log_loss", False).promoted
    decision = promotion.promote_if_better(root, "m", 2, gates, "log_loss", False)
    assert decision.promoted and decision.previous_champion == 1
    assert registry.aliases(root, "m")["history"][-1]["version"] == 1
    assert registry.show(root, "m", 1).status == "retired"


def test_failing_gates_and_other_windows_keep_the_champion(root, model_file):
    _register(root, model_file, 0.60)
    first = _promote(root, 1)
    assert not first.promoted and first.reasons == ["gate roc_auc >= 0.65 failed: roc_auc = 0.6"]
    _register(root, model_file, 0.75)
    _promote(root, 2)
    _register(root, model_file, 0.80, f1=0.2)  # better AUC, but fails the f1 gate
    assert "gate f1 > 0.3 failed: f1 = 0.2" in _promote(root, 3).reasons
    later = {"start": "2026-09-01", "end": "2026-10-01"}
    _register(root, model_file, 0.70, window=later)  # a harder month: lower AUC for everyone
    refused = _promote(root, 4)
    assert not refused.promoted and "champion_metrics_on_window" in refused.reasons[-1]
    assert registry.champion(root, "churn").version == 2  # type: ignore[union-attr]
    assert _promote(root, 4, champion_metrics_on_window={"roc_auc": 0.66}).promoted
    assert registry.show(root, "churn", 4).meta["decisions"][-1]["champion_metrics_on_window"]


def test_rollback_restores_the_previous_champion(root, model_file):
    for auc in (0.70, 0.72, 0.74):
        assert _promote(root, _register(root, model_file, auc).version).promoted
    assert promotion.rollback(root, "churn").version == 2
    assert registry.show(root, "churn", 3).status == "rolled_back"
    assert promotion.rollback(root, "churn").version == 1
    assert registry.champion(root, "churn").status == "champion"  # type: ignore[union-attr]
    assert tracking.client(root).get_registered_model("churn").aliases == {"champion": 1}
    with pytest.raises(RegistryError, match="no previous champion"):
        promotion.rollback(root, "churn")


def test_manual_promotion_is_gate_checked_unless_forced(root, model_file):
    _register(root, model_file, 0.70)
    _register(root, model_file, 0.60)
    assert promotion.promote(root, "churn", 1).promoted
    refused = promotion.promote(root, "churn", 2)
    assert not refused.promoted and "roc_auc >= 0.65" in refused.reasons[0]
    forced = promotion.promote(root, "churn", 2, force=True)
    assert forced.promoted and forced.reasons[1].startswith("forced past: gate roc_auc")
    assert registry.champion(root, "churn").version == 2  # type: ignore[union-attr]


def test_unknown_models_and_versions(root, model_file, tmp_path):
    assert registry.list_models(tmp_path / "never") == []  # no store yet: nothing registered
    assert registry.aliases(tmp_path / "never", "churn") == {"champion": None, "history": []}
    assert not (tmp_path / "never" / tracking.DB_FILE).exists()
    _register(root, model_file, 0.7)
    with pytest.raises(NotFoundError, match=r"no version 9 \(versions: \[1\]\)"):
        registry.show(root, "churn", 9)
    with pytest.raises(NotFoundError, match="no model 'nope'"):
        registry.list_versions(root, "nope")
    assert registry.list_models(root) == ["churn"]


def test_register_rejects_what_is_not_a_lightgbm_model(root, tmp_path):
    bogus = tmp_path / "bogus.txt"
    bogus.write_text("not a model")
    with pytest.raises(RegistryError, match="not a LightGBM text model"):
        _register(root, bogus, 0.7)
    with pytest.raises(RegistryError, match="invalid model name"):
        _register(root, bogus, 0.7, name="../escape")
    assert registry.list_models(root) == []


def test_failure_mid_register_leaves_no_version(root, model_file, monkeypatch):
    from mesh_platform.ml import runs

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(runs.mlflow_lightgbm, "log_model", failing)  # the last step: registering
    with pytest.raises(OSError, match="disk full"):
        _register(root, model_file, 0.7)
    monkeypatch.undo()
    assert registry.list_models(root) == []
    failed = tracking.client(root).search_runs([tracking.experiment_id(root, "churn")])
    assert [r.info.status for r in failed] == ["FAILED"]
    assert _register(root, model_file, 0.7).version == 1


def test_files_after_register_are_logged_into_the_run(root, model_file, tmp_path):
    version = _register(root, model_file, 0.7)
    (version.path / "roc.png").write_bytes(b"png")  # written into the version's folder
    outside = tmp_path / "importance.png"
    outside.write_bytes(b"png")
    registry.log_files(version, [version.path / "roc.png", outside])
    logged = tracking.client(root).list_artifacts(version.run_id)  # type: ignore[arg-type]
    assert {"roc.png", "importance.png", "model.txt"} <= {a.path for a in logged}


def test_tracking_uri_from_the_environment(fresh_registry, tmp_path, model_file, monkeypatch):
    elsewhere = fresh_registry(tmp_path / "server")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{elsewhere / tracking.DB_FILE}")
    root = tmp_path / "home"
    assert not tracking.embedded(root)
    version = _register(root, model_file, 0.7)
    assert registry.list_models(root) == ["churn"]
    assert not (root / tracking.DB_FILE).exists()
    assert root / tracking.ARTIFACTS in version.path.parents  # not MLflow's ./mlruns
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert registry.list_models(elsewhere) == ["churn"]


def test_a_training_leaves_nothing_in_the_temporary_folder(root, model_file, tmp_path,
                                                           monkeypatch):  # fmt: skip
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    version = _register(root, model_file, 0.7, trials=TRIALS)
    _promote(root, version.version)
    registry.log_files(version, [version.path / "model.txt"])
    assert list(temp.iterdir()) == []


def test_code_locations_and_the_cli_do_not_import_mlflow():
    code = (
        "import sys, mesh_platform.orchestration.domain_location, mesh_platform.cli, "
        "mesh_platform.ml.assets\nprint([m for m in sys.modules if m.startswith('mlflow')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _worker(root: str, model_file: str, aucs: list[float]) -> None:
    for auc in aucs:
        version = _register(Path(root), model_file, auc).version
        _promote(Path(root), version)


def _check_consistent(root: Path, aucs: list[float]) -> None:
    versions = registry.list_versions(root, "churn")
    assert [v.version for v in versions] == list(range(1, len(aucs) + 1))
    assert sorted(v.metrics["roc_auc"] for v in versions) == sorted(aucs)
    best = max(versions, key=lambda v: v.metrics["roc_auc"])
    state = registry.aliases(root, "churn")
    assert state["champion"] == best.version  # every promotion compared with the real champion
    chain = [registry.show(root, "churn", h["version"]).metrics["roc_auc"]
             for h in state["history"]]  # fmt: skip
    assert chain == sorted(chain) and len(set(chain)) == len(chain)


def test_concurrent_threads_keep_aliases_valid(root, model_file):
    aucs = [0.70, 0.74, 0.72, 0.71]
    threads = [threading.Thread(target=_worker, args=(str(root), str(model_file), aucs[i::2]))
               for i in range(2)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    _check_consistent(root, aucs)


@pytest.mark.slow
def test_concurrent_processes_keep_aliases_valid(root, model_file):
    aucs = [round(0.66 + 0.001 * i, 3) for i in range(6)]
    np.random.default_rng(3).shuffle(aucs)
    ctx = multiprocessing.get_context("spawn")  # no SQLite connection or OpenMP across a fork
    procs = [ctx.Process(target=_worker, args=(str(root), str(model_file), aucs[i::2]))
             for i in range(2)]  # fmt: skip
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0
    _check_consistent(root, aucs)
