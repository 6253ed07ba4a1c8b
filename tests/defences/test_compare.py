"""Defences compared: every variant trained and audited on the same records, privacy beside
utility, the Pareto front, the recommendation, the files and the command line. Small
purchase-like data generated here; every model is trained in the test."""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

import miaudit
from cli_in_process import run_in_process
from miaudit.errors import InputError
from miaudit.targets import CallableTarget
from miaudit.targets.ensemble import EnsembleTarget
from miaudit.training import DistillRecipe, EnsembleRecipe, FunctionRecipe, SklearnRecipe

warnings.filterwarnings("ignore", category=ConvergenceWarning)


def _data(n: int = 2000, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    prototypes = rng.random((10, 60)) < 0.25
    y = rng.integers(0, 10, n)
    x = (prototypes[y] ^ (rng.random((n, 60)) < 0.3)).astype(np.float64)
    return x, y


def _mlp(alpha: float = 0.0) -> MLPClassifier:
    return MLPClassifier((32,), alpha=alpha, max_iter=150, random_state=0)


@pytest.fixture(scope="module")
def comparison() -> miaudit.Comparison:
    x, y = _data()
    variants = {
        "baseline": _mlp(),
        "l2 <b>": _mlp(alpha=3.0),  # a name that must be escaped in HTML
        "ensemble": EnsembleRecipe(SklearnRecipe(_mlp()), members=4),
        "distilled": DistillRecipe(SklearnRecipe(_mlp()), x[1500:]),
        "label-only API": ("baseline", "label-only"),
        "rounded API": ("baseline", "round:1"),
    }
    return miaudit.compare(
        variants,
        (x[:500], y[:500]),
        (x[500:1000], y[500:1000]),
        (x[1000:1500], y[1000:1500]),
        attacks=["loss", "gap", "label-boundary", "classifier"],
        fail_on=["tpr@0.01>0.05"],
    )


def test_every_variant_is_audited_beside_its_utility(comparison: miaudit.Comparison) -> None:
    report = comparison.to_dict()
    assert report["schema"] == "miaudit.compare/1"
    names = [v["name"] for v in report["variants"]]
    assert names == ["baseline", "l2 <b>", "ensemble", "distilled", "label-only API", "rounded API"]
    for v in report["variants"]:
        assert set(v) >= {"name", "utility", "privacy", "dp_epsilon", "pareto", "train_seconds"}
        assert v["utility"]["test_accuracy"]["ci"][0] <= v["utility"]["test_accuracy"]["value"]
        assert set(v["privacy"]) >= {"attack", "auc", "tpr_at_fpr", "epsilon_lower_bound"}
    base = comparison.variant("baseline")
    for api in ("label-only API", "rounded API"):
        # the same fitted model behind a policy: exactly the base's accuracy
        assert comparison.variant(api).result.model == base.result.model
    # hiding scores leaves only the label attacks
    assert report["variants"][4]["attacks_run"] == ["gap", "label-boundary"]
    assert json.loads(comparison.render("json")) == report


def test_the_pareto_front_and_the_recommendation(comparison: miaudit.Comparison) -> None:
    leak = {v.name: comparison.leakage_of(v) for v in comparison.variants}
    acc = {v.name: v.accuracy for v in comparison.variants}

    def dominated(name: str) -> bool:
        return any(
            leak[o] <= leak[name]
            and acc[o] >= acc[name]
            and (leak[o], acc[o]) != (leak[name], acc[name])
            for o in leak
        )

    assert comparison.pareto == {n for n in leak if not dominated(n)}
    assert comparison.pareto  # a front is never empty
    passing = [v for v in comparison.variants if v.verdict is not None and v.verdict.passed]
    # the worst TPR at 1% FPR is 3.4% (ensemble), under the policy's 5%: every variant passes
    assert len(passing) == 6
    assert comparison.recommended == max(passing, key=lambda v: v.accuracy).name == "l2 <b>"


def test_files_are_written_and_escaped(comparison: miaudit.Comparison, tmp_path: Path) -> None:
    paths = comparison.write(tmp_path / "out")
    assert sorted(p.name for p in paths) == ["compare.html", "compare.json", "compare.md"]
    page = (tmp_path / "out" / "compare.html").read_text()
    assert "l2 &lt;b&gt;" in page and "l2 <b>" not in page
    assert "data:image/svg+xml;base64," in page
    assert "| baseline |" in (tmp_path / "out" / "compare.md").read_text()


def test_reference_models_are_trained_with_the_variants_own_recipe() -> None:
    """A label-only variant's reference models answer with labels too: the score-reading
    reference attacks then cannot run, and say why."""
    x, y = _data(1200)
    found = miaudit.compare(
        {"base": LogisticRegression(max_iter=500), "labels": ("base", "label-only")},
        (x[:400], y[:400]),
        (x[400:800], y[400:800]),
        (x[800:], y[800:]),
        attacks=["loss", "lira-offline"],
        reference_models=2,
        executor="inline",
    )
    assert found.variant("base").result.attack("lira-offline") is not None
    skipped = {s.name: s.reason for s in found.variant("labels").result.skipped}
    assert "lira-offline" in skipped


def test_ensembles_train_on_disjoint_shards_and_distillation_never_sees_the_members() -> None:
    x, y = _data(900)
    seen: list[int] = []

    def fit(records: miaudit.RecordSet) -> LogisticRegression:
        seen.append(len(records))
        return LogisticRegression(max_iter=500).fit(records.features, records.labels)

    ensemble = EnsembleRecipe(FunctionRecipe(fit), members=3).fit(
        x[:300], y[:300], 0, np.arange(10)
    )
    assert isinstance(ensemble, EnsembleTarget) and seen == [100, 100, 100]
    voted = EnsembleTarget(ensemble.members, np.arange(10), "vote")
    shares = voted.outputs(miaudit.RecordSet.from_arrays(x[:5], y[:5])).values
    assert np.allclose(shares * 3, np.round(shares * 3))  # vote shares are thirds
    seen.clear()
    student = DistillRecipe(FunctionRecipe(fit), x[600:]).fit(x[:300], y[:300], 0, np.arange(10))
    assert seen == [300] and isinstance(student, CallableTarget)  # only the teacher saw them
    teacher = LogisticRegression(max_iter=500).fit(x[:300], y[:300])
    records = miaudit.RecordSet.from_arrays(x[300:600], y[300:600])
    agree = (student.outputs(records).values.argmax(1) == teacher.predict(x[300:600])).mean()
    assert agree > 0.8, agree  # the student learnt the teacher's decisions (observed 0.95)
    with pytest.raises(InputError, match="at least 2 members"):
        EnsembleRecipe(FunctionRecipe(fit), members=1)


def test_bad_variants_are_clear_errors() -> None:
    x, y = _data(400)
    train, test = (x[:200], y[:200]), (x[200:], y[200:])
    with pytest.raises(InputError, match="at least one variant"):
        miaudit.compare({}, train, test)
    with pytest.raises(InputError, match="must name a variant that trains a model"):
        miaudit.compare({"api": ("nope", "label-only")}, train, test)
    with pytest.raises(InputError, match="pass a scikit-learn estimator"):
        miaudit.compare({"x": 3}, train, test)
    with pytest.raises(InputError, match="unknown item"):
        miaudit.compare({"b": _mlp(), "api": ("b", "top-3")}, train, test)


INTERRUPT = {"now": False}


def _fit_interruptible(records: miaudit.RecordSet) -> CallableTarget:
    """A logistic regression whose answers raise KeyboardInterrupt while INTERRUPT is set: a
    user pressing Ctrl-C in the middle of this variant's audit."""
    model = LogisticRegression(max_iter=200).fit(records.features, records.labels)

    def answer(features: np.ndarray) -> np.ndarray:
        if INTERRUPT["now"]:
            raise KeyboardInterrupt
        return model.predict_proba(features)

    return CallableTarget(answer, classes=model.classes_, output="probabilities")


def test_an_interrupted_comparison_resumes_where_it_stopped(tmp_path: Path) -> None:
    x, y = _data(1200)
    sets = ((x[:400], y[:400]), (x[400:800], y[400:800]), (x[800:], y[800:]))
    variants = {
        "baseline": _mlp(),
        "label-only API": ("baseline", "label-only"),
        "custom": FunctionRecipe(_fit_interruptible),
    }
    kwargs = dict(attacks=["loss", "gap"], reference_models=2, cache_dir=tmp_path, seed=3)
    INTERRUPT["now"] = True
    try:
        with pytest.raises(KeyboardInterrupt):
            miaudit.compare(variants, *sets, executor="inline", **kwargs)
    finally:
        INTERRUPT["now"] = False
    saved = sorted(tmp_path.glob("variant-*.json"))
    assert len(saved) == 2  # the two variants audited before the interruption
    resumed = miaudit.compare(variants, *sets, executor="inline", **kwargs)
    assert resumed.settings["resumed"] == ["baseline", "label-only API"]
    # again, nothing left to do: every variant from the cache, the same table
    again = miaudit.compare(variants, *sets, executor="inline", **kwargs)
    assert again.settings["resumed"] == list(variants)
    assert again.to_dict()["variants"] == resumed.to_dict()["variants"]
    # another seed is another comparison: nothing reused
    other = miaudit.compare(variants, *sets, executor="inline", **{**kwargs, "seed": 4})
    assert other.settings["resumed"] == []
    # an unreadable entry is audited again, not trusted
    saved[0].write_text("{broken")
    repaired = miaudit.compare(variants, *sets, executor="inline", **kwargs)
    assert len(repaired.settings["resumed"]) == 2


def _write(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
    frame["label"] = y
    frame.to_csv(path, index=False)


def test_compare_from_the_command_line(tmp_path: Path) -> None:
    x, y = _data(1400)
    for name, rows in (
        ("train", slice(0, 400)),
        ("test", slice(400, 800)),
        ("transfer", slice(800, 1400)),
    ):
        _write(tmp_path / f"{name}.csv", x[rows], y[rows])
    (tmp_path / "compare.toml").write_text(
        """
[data]
members = "train.csv"
nonmembers = "test.csv"
transfer = "transfer.csv"

[compare]
attacks = ["loss", "gap"]
fail_on = ["auc>0.99"]

[[variants]]
name = "baseline"
estimator = "sklearn.neural_network:MLPClassifier"
params = { hidden_layer_sizes = [32], max_iter = 150, random_state = 0 }

[[variants]]
name = "labels"
base = "baseline"
output_policy = "label-only"

[[variants]]
name = "ensemble"
ensemble = { base = "baseline", members = 2 }

[[variants]]
name = "distilled"
distill = { teacher = "baseline" }
"""
    )

    def run(config: str, *args: str) -> subprocess.CompletedProcess[str]:
        return run_in_process(["compare", "--config", config, *args], cwd=tmp_path)

    done = run("compare.toml", "--out", "out")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert [v["name"] for v in report["variants"]] == [
        "baseline",
        "labels",
        "ensemble",
        "distilled",
    ]
    assert report["recommended"] is not None and report["policy"] == ["auc>0.99"]
    failed = run("compare.toml", "--out", "strict", "--fail-on", "auc>0.5")
    assert failed.returncode == 1 and "no variant meets" in failed.stdout
    head = '[data]\nmembers = "train.csv"\nnonmembers = "test.csv"\n[[variants]]\nname = "x"\n'
    for config, body, message in (
        ("bad.toml", "", "give exactly one of"),
        (
            "params.toml",
            'estimator = "sklearn.linear_model:LogisticRegression"\nparams = { C = "abc" }\n',
            "'C' parameter",
        ),
        ("import.toml", 'estimator = "sklearn.nope:X"\n', "cannot import estimator"),
    ):
        (tmp_path / config).write_text(head + body)
        bad = run(config)
        assert bad.returncode == 2 and message in bad.stderr, (config, bad.stderr)
        assert "Traceback" not in bad.stderr
