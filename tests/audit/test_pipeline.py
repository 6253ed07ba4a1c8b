"""The Python API end to end on real models trained here."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import miaudit
from miaudit import CallableTarget, InputError, RecordSet, SklearnTarget, audit
from miaudit.targets import OutputsTable, PrecomputedTarget


def test_overfit_model_leaks_and_result_is_consistent(overfit_model: tuple) -> None:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    result = audit(SklearnTarget(model), (x_in, y_in), (x_out, y_out), seed=0)
    assert isinstance(result, miaudit.AuditResult)
    every = [a.name for a in miaudit.attacks.select(None, miaudit.targets.Modality.CLASSIFIER)]
    # all but the white-box attack, which needs a PyTorch module's parameters
    assert [a.name for a in result.attacks] == [n for n in every if n != "gradient-norm"]
    assert [s.name for s in result.skipped] == ["gradient-norm"]
    # 300 vs 300 records: the AUC s.e. is ≈ 0.02; a memorising model on 20% label noise sits
    # far above 0.5, so requiring the interval to exclude 0.6 cannot pass by luck.
    loss = result.attack("loss")
    assert loss is not None and loss.auc.ci is not None and loss.auc.ci[0] > 0.6
    assert result.model.train_accuracy.value == pytest.approx(model.score(x_in, y_in))
    assert result.model.test_accuracy.value == pytest.approx(model.score(x_out, y_out))
    report = result.to_dict()
    assert report["schema"] == "miaudit.report/1"
    assert report["records"] == {"n_members": 300, "n_nonmembers": 300, "n_population": 0}
    first = report["attacks"][0]
    assert set(first["tpr_at_fpr"]) == {"0.001", "0.01", "0.1"}
    assert first["tpr_at_fpr"]["0.001"]["value"] is None  # 150 calibration non-members
    assert "reason" in first["tpr_at_fpr"]["0.001"]
    assert len(first["auc_ci"]) == 2 and first["epsilon_lower_bound"] >= 0
    assert json.loads(result.render("json")) == report
    assert len(loss.at_risk) == 20
    assert {s.label for s in loss.slices} == {"0", "1", "2"}


def test_generalising_model_shows_no_leak(breast_cancer_split: tuple) -> None:
    x_in, x_out, y_in, y_out = breast_cancer_split
    model = LogisticRegression(C=0.05, max_iter=1000).fit(x_in, y_in)
    result = audit(SklearnTarget(model), (x_in, y_in), (x_out, y_out), attacks=["loss"])
    loss = result.attack("loss")
    assert loss is not None and loss.auc.ci is not None and loss.auc.ci[0] < 0.5 < loss.auc.ci[1]


def test_label_only_target_runs_label_attacks_and_says_why_others_cannot(
    overfit_model: tuple,
) -> None:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    target = CallableTarget(model.predict, classes=model.classes_, output="label")
    result = audit(target, (x_in, y_in), (x_out, y_out))
    label_attacks = ["gap", "label-noise", "label-boundary"]
    assert [a.name for a in result.attacks] == label_attacks
    skipped = {s.name: s.reason for s in result.skipped}
    assert set(skipped) == {
        a.name for a in miaudit.attacks.select(None, miaudit.targets.Modality.CLASSIFIER)
    } - set(label_attacks)
    assert "exposing label" in skipped["loss"]
    questions = {q["question"]: q["answer"] for q in result.to_dict()["audit_questions"]}
    assert questions["Are confidence scores exposed?"] == "no"


def test_no_runnable_attack_is_reported_as_untested(overfit_model: tuple) -> None:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    target = CallableTarget(model.predict, classes=model.classes_, output="label")
    result = audit(target, (x_in, y_in), (x_out, y_out), attacks=["loss"])
    report = result.to_dict()
    assert report["attacks"] == [] and report["risk"]["level"] == "unknown"
    answers = {q["question"]: q["answer"] for q in report["audit_questions"]}
    assert answers["Has the model been tested for membership inference?"] == "no"
    assert answers["Is differential privacy applied?"] == "unknown"
    for fmt in ("html", "md", "csv"):
        assert result.render(fmt)


def test_population_calibrates_thresholds(overfit_model: tuple) -> None:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    members = RecordSet.from_arrays(x_in, y_in, name="members")
    nonmembers = RecordSet.from_arrays(x_out[:150], y_out[:150], name="non-members")
    population = RecordSet.from_arrays(x_out[150:], y_out[150:], name="population")
    result = audit(SklearnTarget(model), members, nonmembers, population, attacks=["loss"])
    assert result.n_population == 150 and result.settings.calibration == "population"
    t = result.attacks[0].tpr(0.01)
    assert t is not None and t.tpr.value is not None and t.achieved_fpr is not None


def test_precomputed_target_needs_no_sets() -> None:
    rng = np.random.default_rng(0)
    n = 400
    member = np.r_[np.ones(n), np.zeros(n)]
    logits = rng.normal(size=(2 * n, 3))
    label = rng.integers(0, 3, 2 * n)
    logits[np.arange(2 * n), label] += 2.0 * member  # members: confident on their label
    table = OutputsTable.from_arrays(id=np.arange(2 * n), label=label, member=member, logits=logits)
    result = audit(PrecomputedTarget(table), attacks=["logit-confidence", "gap"])
    assert result.n_members == n and result.attack("logit-confidence").auc.value > 0.8


def test_bad_arguments(overfit_model: tuple) -> None:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    target = SklearnTarget(model)
    with pytest.raises(InputError, match="delta"):
        audit(target, (x_in, y_in), (x_out, y_out), delta=0)
    with pytest.raises(InputError, match="fprs"):
        audit(target, (x_in, y_in), (x_out, y_out), fprs=[0.0])
    with pytest.raises(InputError, match="unknown attacks"):
        audit(target, (x_in, y_in), (x_out, y_out), attacks=["nope"])
    with pytest.raises(InputError, match="RecordSet or an"):
        audit(target, x_in, (x_out, y_out))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="not among the model's classes"):
        audit(target, (x_in, y_in + 5), (x_out, y_out))
    with pytest.raises(InputError, match="identical feature rows"):
        audit(target, (x_in, y_in), (np.r_[x_out[:-1], x_in[:1]], y_out))


def _shifted_population(shift: float, seed: int = 0) -> PrecomputedTarget:
    """2,000 members, non-members and population records; the population's true-class logit
    is moved by ``shift`` relative to the non-members'."""
    rng = np.random.default_rng(seed)
    n = 2000
    membership = np.repeat([1, 0, -1], n)
    labels = rng.integers(0, 2, 3 * n)
    logits = rng.normal(size=(3 * n, 2))
    offset = np.select([membership == 1, membership == -1], [1.0, shift], 0.0)
    logits[np.arange(3 * n), labels] += offset
    table = OutputsTable.from_arrays(
        id=np.arange(3 * n), label=labels, member=membership, logits=logits
    )
    return PrecomputedTarget(table)


def test_a_population_unlike_the_nonmembers_is_reported() -> None:
    def drift_notes(shift: float) -> list[str]:
        result = audit(_shifted_population(shift), attacks=["logit-confidence", "loss"])
        return [n for n in result.notes if n.startswith("Thresholds set on the population")]

    # exchangeable: the 6 checks (2 attacks × 3 FPRs) stay inside their Bonferroni intervals
    assert drift_notes(0.0) == []
    # a population that scores higher than the non-members: thresholds are too strict — at
    # 10% FPR the 2,000 non-members are flagged at ≈ 4%, far outside [7.8%, 12.4%]
    (strict,) = drift_notes(1.0)
    assert "logit-confidence at 0.1:" in strict and "understated" in strict
    (loose,) = drift_notes(-1.0)
    assert "misstated" in loose
