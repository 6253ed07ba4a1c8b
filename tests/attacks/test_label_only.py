"""Label-only attacks: they find members from predicted labels alone, hiding or rounding scores
does not change them, their settings never see who is a member, and they say what they spent.
Every model is trained here (scikit-learn's bundled or generated data)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import miaudit
from miaudit.attacks import create
from miaudit.attacks.perturb import FeatureSpace, _shift, augmentations, parse_image_shape
from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.targets import PrecomputedTarget

LABEL_ONLY = ["label-noise", "label-boundary"]


def _sets(overfit_model: tuple) -> tuple:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    # the first 200 non-members audit, the last 100 are the population the settings are chosen on
    return model, (x_in[:200], y_in[:200]), (x_out[:200], y_out[:200]), (x_out[200:], y_out[200:])


def test_label_only_attacks_find_members_and_say_what_they_spent(overfit_model: tuple) -> None:
    model, members, nonmembers, population = _sets(overfit_model)
    result = miaudit.audit(model, members, nonmembers, population, attacks=[*LABEL_ONLY, "gap"])
    for name in LABEL_ONLY:
        found = result.attack(name)
        # 200 memorised records (of 300 trained on, 20% labels flipped) vs 200 fresh ones:
        # observed AUC 0.74 (noise), 0.72 (boundary), intervals ± 0.05; chance is 0.5
        assert found.auc.ci[0] > 0.6, (name, found.auc)
        assert found.access == "predicted label"
        assert found.method
    # both beat the one-query gap attack (0.68), which reads the same labels
    assert min(result.attack(n).auc.value for n in LABEL_ONLY) > result.attack("gap").auc.value
    boundary = result.attack("label-boundary")
    assert 1 < boundary.queries_per_record <= create("label-boundary").budget
    noise = result.attack("label-noise")
    assert noise.queries_per_record == 33  # the record and 32 noisy copies
    report = result.render("json")
    assert '"method"' in report and '"queries_per_record"' in report


def _purchase_like() -> tuple:
    """A small purchase-like task (binary features, 20 classes): 400 members, 400 non-members,
    400 population records; an MLP that fits its members in 0.2 s."""
    rng = np.random.default_rng(0)
    prototypes = rng.random((20, 100)) < 0.25
    y = rng.integers(0, 20, 1200)
    x = (prototypes[y] ^ (rng.random((1200, 100)) < 0.3)).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier((64,), alpha=0.0, max_iter=200, random_state=0).fit(x[:400], y[:400])
    return model, (x[:400], y[:400]), (x[400:800], y[400:800]), (x[800:], y[800:])


def test_hiding_or_rounding_scores_leaves_label_only_attacks_unchanged() -> None:
    model, members, nonmembers, population = _purchase_like()
    chosen = [*LABEL_ONLY, "loss", "confidence"]

    def run(policy: str) -> miaudit.AuditResult:
        hardened = miaudit.harden(model, policy)
        return miaudit.audit(hardened, members, nonmembers, population, attacks=chosen)

    full, labels, rounded = run("full"), run("label-only"), run("round:0")
    for name in LABEL_ONLY:
        # the same labels come back, so the same scores, to the last bit
        assert labels.attack(name).auc.value == full.attack(name).auc.value
        # probabilities rounded to 0 or 1 tie a few classes, so a few argmaxes move: observed
        # 0.796 -> 0.783 (noise), 0.821 -> 0.831 (boundary), within the ± 0.03 intervals
        a, b = full.attack(name).auc, rounded.attack(name).auc
        assert a.ci[0] <= b.value <= a.ci[1], (name, a, b)
    # confidence attacks cannot run on labels, and lose power on rounded scores: observed
    # 0.847 [0.815, 0.874] -> 0.659 [0.636, 0.681], disjoint intervals
    assert {s.name for s in labels.skipped} >= {"loss", "confidence"}
    before, after = full.attack("confidence").auc, rounded.attack("confidence").auc
    assert after.ci[1] < before.ci[0], (before, after)
    assert rounded.strongest().name in LABEL_ONLY
    levels = dict(labels.by_access())
    assert levels["predicted label"].name in LABEL_ONLY


def test_settings_never_see_who_is_a_member(overfit_model: tuple) -> None:
    """Probing is never told who is a member: swapping members and non-members (same records,
    same population) only swaps the sides the scores count for."""
    model, members, nonmembers, population = _sets(overfit_model)
    a = miaudit.audit(model, members, nonmembers, population, attacks=LABEL_ONLY)
    b = miaudit.audit(model, nonmembers, members, population, attacks=LABEL_ONLY)
    assert a.attack("label-noise").method == b.attack("label-noise").method
    for name in LABEL_ONLY:
        # the copies and directions are drawn per position, so the scores are not bit-equal;
        # AUC and 1 - AUC agree within the interval (± 0.05 at 200 + 200)
        x, y = a.attack(name).auc, b.attack(name).auc
        assert x.ci[0] <= 1 - y.value <= x.ci[1], (name, x, y)


def test_categorical_columns_are_swapped_and_numeric_ones_moved() -> None:
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.normal(50, 15, n),
            "city": rng.choice(["north", "south", "east", "west"], n),
            "member": rng.integers(0, 2, n),
        }
    )
    y = ((frame.age + 5 * (frame.city == "north") + rng.normal(0, 8, n)) > 42).astype(int)
    encode = make_column_transformer(
        (OneHotEncoder(), ["city"]), (StandardScaler(), ["age", "income", "member"])
    )
    model = make_pipeline(encode, MLPClassifier((64,), max_iter=600, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(frame[:200], y[:200])
    table = frame.assign(label=y)
    members = RecordSet.from_frame(table[:200], "label", categorical=["city"], name="members")
    nonmembers = RecordSet.from_frame(table[200:], "label", categorical=["city"], name="nonmembers")
    result = miaudit.audit(model, members, nonmembers, attacks=LABEL_ONLY)
    assert {a.name for a in result.attacks} == set(LABEL_ONLY)
    space = FeatureSpace.of([frame], None)
    copies = space.noisy(frame[:50], 0.3, 8, seed=1)
    assert len(copies) == 400 and set(copies.city) <= {"north", "south", "east", "west"}
    assert set(copies.member) <= {0, 1}  # two-valued: swapped, never noised
    changed = (copies.city.to_numpy() != np.repeat(frame.city[:50].to_numpy(), 8)).mean()
    assert 0.2 < changed < 0.4  # swap probability 0.3 over 400 cells: ± 0.07 at 3 s.d.
    moved = space.moved(frame[:3], np.ones((3, len(space.numeric))) / 2, np.array([0.0, 1, 2]))
    assert moved.city.tolist() == frame.city[:3].tolist()
    assert moved.age[0] == frame.age[0] and moved.age[2] > frame.age[2]


def test_images_get_flips_and_shifts() -> None:
    assert parse_image_shape("8x8") == (8, 8) and parse_image_shape("3x4x4") == (3, 4, 4)
    with pytest.raises(InputError, match="HxW"):
        parse_image_shape("eight")
    image = np.arange(16.0).reshape(1, 4, 4)
    shifted = _shift(image, 1, -1)
    assert shifted[0, 0].tolist() == [0, 0, 0, 0] and shifted[0, 1].tolist() == [1, 2, 3, 0]
    moves = augmentations(10)
    assert moves[:2] == [(False, 0, 0), (True, 0, 0)] and len(set(moves)) == 10
    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    model = LogisticRegression(max_iter=2000).fit(x[:300], y[:300])
    result = miaudit.audit(
        model,
        (x[:300], y[:300]),
        (x[300:600], y[300:600]),
        attacks=["label-noise"],
        attack_params={"label-noise": {"k": 10, "image_shape": "8x8"}},
    )
    found = result.attack("label-noise")
    assert "10 flipped and shifted copies per image" in found.method
    assert found.queries_per_record == 11
    with pytest.raises(InputError, match="64 features"):
        miaudit.audit(
            model,
            (x[:300], y[:300]),
            (x[300:600], y[300:600]),
            attacks=["label-noise"],
            attack_params={"label-noise": {"image_shape": "9x9"}},
        )


def test_what_cannot_be_probed_says_why(overfit_model: tuple, tmp_path) -> None:
    model, members, nonmembers, _ = _sets(overfit_model)
    table = pd.DataFrame(model.predict_proba(np.r_[members[0], nonmembers[0]]))
    table.columns = [f"prob_{c}" for c in table.columns]
    table.insert(0, "label", np.r_[members[1], nonmembers[1]])
    table.insert(0, "member", [1] * 200 + [0] * 200)
    table.insert(0, "id", range(400))
    path = tmp_path / "outputs.csv"
    table.to_csv(path, index=False)
    result = miaudit.audit(PrecomputedTarget.from_file(path), attacks=[*LABEL_ONLY, "loss"])
    reasons = {s.name: s.reason for s in result.skipped}
    assert set(reasons) == set(LABEL_ONLY)
    assert "precomputed outputs cannot answer" in reasons["label-noise"]
    with pytest.raises(InputError, match=r"parameter k must be in \[1, 10000\]"):
        create("label-noise", k=0)
    with pytest.raises(InputError, match="has no parameter radius; it takes directions, steps"):
        create("label-boundary", radius=3)
