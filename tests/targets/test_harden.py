"""Output hardening: one policy vocabulary, applied to what a target returns, declared in
what it exposes, and audited like any other target."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cli_run import audit_cli, write_records
from scipy.special import softmax
from sklearn.datasets import load_breast_cancer
from sklearn.neural_network import MLPClassifier

import miaudit
from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.targets import Exposure, OutputKind, OutputPolicy, harden
from miaudit.targets.harden import HardenedTarget


@pytest.fixture(scope="module")
def task():
    x, y = load_breast_cancer(return_X_y=True)
    x = (x - x.mean(0)) / x.std(0)
    model = MLPClassifier((64,), max_iter=500, random_state=0).fit(x[:284], y[:284])
    return model, (x[:284], y[:284]), (x[284:], y[284:])


def _records(x: np.ndarray, y: np.ndarray) -> RecordSet:
    return RecordSet.from_arrays(x, y)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("full", "full"),
        ("label-only", "label-only"),
        ("round:2,top-k:3", "top-k:3,round:2"),  # applied in a fixed order, whatever is written
        (" Temperature:2 , noise:0.05 ", "temperature:2,noise:0.05"),
        ("top-k:1", "top-k:1"),
    ],
)
def test_policies_parse_to_one_canonical_text(text: str, canonical: str) -> None:
    assert str(OutputPolicy.parse(text)) == canonical
    assert str(OutputPolicy.parse(canonical)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("top-3", "unknown item"),
        ("top-k:0", "whole number, 1 or more"),
        ("top-k:2.5", "whole number"),
        ("round:-1", "0 or more"),
        ("noise:0", "positive"),
        ("temperature:x", "needs a number"),
        ("label-only,round:2", "stands alone"),
        ("full:1", "takes no value"),
        ("round:2,round:3", "given twice"),
        ("", "expected e.g."),
    ],
)
def test_a_bad_policy_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        OutputPolicy.parse(text)


def test_each_policy_changes_the_outputs_as_declared(task) -> None:
    model, members, _ = task
    records = _records(*members)
    full = miaudit.SklearnTarget(model)
    logits = full.outputs(records).values
    assert full.exposes is Exposure.LOGITS  # an MLP's logits, found on the first query
    p = softmax(logits, axis=1)

    label = harden(full, "label-only").outputs(records)
    assert label.kind is OutputKind.LABEL
    np.testing.assert_array_equal(label.values, p.argmax(axis=1))

    hot = harden(full, "temperature:2")
    assert hot.exposes.temperature == 2.0 and hot.exposes.complete
    np.testing.assert_allclose(hot.outputs(records).values, softmax(logits / 2, axis=1))

    top = harden(full, "top-k:1,round:2")
    values = top.outputs(records).values
    assert (np.count_nonzero(values, axis=1) <= 1).all()  # the top class only
    np.testing.assert_array_equal(values, np.round(values, 2))
    assert top.exposes.value == "top-1 probabilities rounded to 2 decimals"
    assert not top.exposes.complete and top.exposes.partial

    blurred = harden(full, "noise:0.1", seed=3)
    once, twice = blurred.outputs(records).values, blurred.outputs(records).values
    np.testing.assert_allclose(once.sum(axis=1), 1.0)  # renormalised
    assert not np.allclose(once, twice)  # fresh noise for every query ...
    again = harden(full, "noise:0.1", seed=3).outputs(records).values
    np.testing.assert_array_equal(once, again)  # ... from a seeded generator
    assert 0.05 < np.std(once - p) < 0.1  # clipped at 0 and 1, then renormalised

    assert harden(full, "full") is full
    with pytest.raises(InputError, match="labels only"):
        harden(harden(full, "label-only"), "round:2")


def test_an_audit_says_which_attacks_a_hardened_api_defeats(task) -> None:
    model, members, nonmembers = task
    label_only = miaudit.audit(harden(model, "label-only"), members, nonmembers)
    assert [a.name for a in label_only.attacks] == ["gap", "label-noise", "label-boundary"]
    skipped = {s.name: s.reason for s in label_only.skipped}
    assert "loss" in skipped and "label" in skipped["loss"]
    assert label_only.target["exposes"] == "label"
    assert label_only.target["output_policy"] == "label-only"
    rounded = miaudit.audit(harden(model, "top-k:1,round:1"), members, nonmembers)
    assert [s.name for s in rounded.skipped] == ["gradient-norm"]  # not a PyTorch module
    assert rounded.attack("loss") is not None
    assert rounded.target["exposes"] == "top-1 probabilities rounded to 1 decimal"
    full = miaudit.audit(model, members, nonmembers)
    # rounding to one decimal ties most records: the loss attack loses most of its signal
    assert rounded.attack("loss").auc.value < full.attack("loss").auc.value
    questions = {q.question: q.answer for q in miaudit.assess.assess(label_only).questions}
    assert questions["Are confidence scores exposed?"] == "no"


def test_the_policy_from_a_config_and_from_the_command_line(task, tmp_path: Path) -> None:
    import joblib

    model, members, nonmembers = task
    joblib.dump(model, tmp_path / "model.joblib")
    write_records(tmp_path, "members", *members)
    write_records(tmp_path, "nonmembers", *nonmembers)
    (tmp_path / "audit.toml").write_text(
        '[target]\nkind = "sklearn"\npath = "model.joblib"\ntrust = true\n'
        'output_policy = "top-k:1,round:2"\n'
        '[data]\nmembers = "members.csv"\nnonmembers = "nonmembers.csv"\nlabel = "label"\n'
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return audit_cli(tmp_path, *args)

    done = run("--config", "audit.toml", "--out", "a")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["target"]["output_policy"] == "top-k:1,round:2"
    flag = run("--config", "audit.toml", "--out", "b", "--output-policy", "label-only")
    assert flag.returncode == 0, flag.stderr
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["target"]["output_policy"] == "label-only"  # the flag replaces the config's
    assert [a["name"] for a in report["attacks"]] == ["gap", "label-noise", "label-boundary"]
    bad = run("--config", "audit.toml", "--out", "c", "--output-policy", "top-3")
    assert bad.returncode == 2 and "unknown item 'top-3'" in bad.stderr
    assert "Traceback" not in bad.stderr
    (tmp_path / "bad.toml").write_text(
        (tmp_path / "audit.toml").read_text().replace("top-k:1,round:2", "noise:-1")
    )
    wrong = run("--config", "bad.toml", "--out", "d")
    assert wrong.returncode == 2 and "target.output_policy" in wrong.stderr


def test_hardened_targets_keep_the_inner_target(task) -> None:
    model, _, _ = task
    inner = miaudit.SklearnTarget(model)
    hard = harden(inner, OutputPolicy(top_k=1))
    assert isinstance(hard, HardenedTarget) and hard.inner is inner
    np.testing.assert_array_equal(hard.classes, inner.classes)
    assert hard.describe()["kind"] == "sklearn"


def test_the_report_states_what_each_attack_reads(task) -> None:
    model, members, nonmembers = task
    result = miaudit.audit(model, members, nonmembers, attacks=["loss", "gap"])
    loss, gap = result.attack("loss"), result.attack("gap")
    assert loss.access == "probabilities or logits" and loss.queries_per_record == 1.0
    assert gap.access == "predicted label"
    # the strongest attack at each level of access, least access first
    assert [access for access, _ in result.by_access()] == [
        "predicted label",
        "probabilities or logits",
    ]
    report = result.to_dict()
    assert report["access_levels"][0] == {
        "access": "predicted label",
        "strongest": "gap",
        "auc": gap.auc.value,
        "auc_ci": list(gap.auc.ci),
    }
    assert report["attacks"][0]["access"] == "probabilities or logits"
    markdown = result.render("md")
    assert "| what the attacker reads | strongest attack | AUC |" in markdown
    assert "reads: predicted label; 1 query per record" in result.render("html")
