"""Attacks: orientation, the registry, and cross-fitting that really keeps records out."""

from __future__ import annotations

import numpy as np
import pytest

from miaudit import metrics as m
from miaudit.attacks import REGISTRY, create, select
from miaudit.attacks.interface import AttackInput
from miaudit.audit import AuditOptions
from miaudit.errors import InputError
from miaudit.signals.classifier import SCORE_SIGNALS
from miaudit.targets import Modality
from miaudit.training.design import balanced_design


def test_registry_names_are_the_contract() -> None:
    assert list(REGISTRY)[:16] == [
        "loss",
        "confidence",
        "entropy",
        "modified-entropy",
        "logit-confidence",
        "margin",
        "gap",
        "classifier",
        "shadow",
        "lira-offline",
        "lira-online",
        "rmia-offline",
        "rmia-online",
        "label-noise",
        "label-boundary",
        "gradient-norm",
    ]
    assert list(REGISTRY)[16:] == [
        "lm-loss",
        "zlib",
        "lowercase",
        "reference",
        "min-k",
        "neighbourhood",
        "min-k++",
        "blind-baseline",
        "lm-gradient-norm",
    ]
    without_reference = [a.name for a in select(None, Modality.CLASSIFIER)]
    assert without_reference == list(REGISTRY)[:8] + list(REGISTRY)[13:16]
    assert len(select(None, Modality.CLASSIFIER, with_reference=True)) == 16
    # the white-box LM attack (a backward pass per text) runs only when named
    assert [a.name for a in select(None, Modality.LANGUAGE_MODEL)] == list(REGISTRY)[16:-1]
    with pytest.raises(InputError, match="unknown attacks"):
        select(["loss", "lira"], Modality.CLASSIFIER)
    with pytest.raises(InputError, match=r"lm-loss: for another kind of model"):
        select(["loss", "lm-loss"], Modality.CLASSIFIER)
    with pytest.raises(InputError, match="repeated"):
        AuditOptions(attacks=["loss", "loss"])


@pytest.mark.parametrize(
    "name", ["loss", "confidence", "entropy", "modified-entropy", "logit-confidence", "margin"]
)
def test_threshold_attacks_score_confident_records_higher(name: str) -> None:
    # Two records: one predicted with p_y = 0.99, one with p_y = 0.6 (3 classes, rest spread).
    signals = {
        "confidence": np.array([0.99, 0.6]),
        "loss": -np.log([0.99, 0.6]),
        "entropy": np.array([0.06, 0.95]),
        "modified_entropy": np.array([0.05, 1.2]),
        "logit_confidence": np.log([0.99 / 0.01, 0.6 / 0.4]),
        "margin": np.array([5.3, 1.1]),
    }
    scores = REGISTRY[name].scores(AttackInput(signals, np.array([1, 0])))
    assert scores[0] > scores[1]


def test_classifier_is_cross_fitted_on_pure_noise() -> None:
    # Signals carry no membership information. A classifier scored on its own training
    # records would reach AUC ≈ 0.9 here (gradient boosting memorises noise); cross-fitted
    # scores must stay at chance. n = 4,000 per class: s.e. of the AUC ≈ 0.0065, so 0.03 is
    # more than 4 standard errors.
    rng = np.random.default_rng(0)
    n = 4000
    signals = {s: rng.normal(size=2 * n) for s in SCORE_SIGNALS}
    membership = np.r_[np.ones(n, np.int8), np.zeros(n, np.int8)]
    scores = REGISTRY["classifier"].scores(AttackInput(signals, membership, seed=0))
    assert abs(m.auc(scores[:n], scores[n:]) - 0.5) < 0.03


def test_classifier_finds_real_signal_and_scores_population() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    loss = np.r_[rng.exponential(0.2, n), rng.exponential(1.0, n), rng.exponential(1.0, 500)]
    signals = {s: rng.normal(size=2 * n + 500) for s in SCORE_SIGNALS}
    signals["loss"] = loss
    membership = np.r_[np.ones(n, np.int8), np.zeros(n, np.int8), -np.ones(500, np.int8)]
    scores = REGISTRY["classifier"].scores(AttackInput(signals, membership, seed=0))
    assert np.all(np.isfinite(scores)) and scores.shape == (2 * n + 500,)
    # Theoretical AUC of Exp(0.2) vs Exp(1) members-lower-loss is 1/(1+0.2) ≈ 0.833.
    assert m.auc(scores[:n], scores[n : 2 * n]) > 0.78
    # Population records are non-members: they must look like the audit non-members.
    assert abs(m.auc(scores[2 * n :], scores[n : 2 * n]) - 0.5) < 0.06


def _reference_input(
    n_members: int, n_population: int, n_models: int, seed: int = 0
) -> AttackInput:
    """Synthetic losses: members have lower loss under the target; reference models' losses
    scatter around each record's own difficulty, lower when they trained on it."""
    rng = np.random.default_rng(seed)
    n = 2 * n_members + n_population
    membership = np.r_[np.ones(n_members), np.zeros(n_members), -np.ones(n_population)]
    difficulty = rng.gamma(2.0, 0.5, size=n)
    trained_in = balanced_design(n, n_models, n // 2, seed)  # every record IN and OUT
    reference_loss = (
        difficulty * np.where(trained_in, 0.3, 1.0) * rng.lognormal(0, 0.2, size=(n_models, n))
    )
    target_loss = difficulty * np.where(membership == 1, 0.3, 1.0) * rng.lognormal(0, 0.2, n)

    def logit(loss: np.ndarray) -> np.ndarray:  # log(p / (1 − p)) with p = exp(−loss)
        return -np.log(np.expm1(loss))

    return AttackInput(
        {"loss": target_loss, "logit_confidence": logit(target_loss)},
        membership.astype(np.int8),
        seed,
        {"loss": reference_loss, "logit_confidence": logit(reference_loss)},
        trained_in,
        np.zeros(n, np.int64),
    )


def _rmia_brute_force(
    log_ratio: np.ndarray, membership: np.ndarray, gamma: float = 1.0
) -> np.ndarray:
    """Zarifzadeh et al. eq. 4 literally: the n × |Z| matrix of LR(x, z) ≥ γ."""
    z = log_ratio[membership == -1]
    beats = (log_ratio[:, None] - z[None, :]) >= np.log(gamma)
    return beats.mean(axis=1)


def test_rmia_matches_the_pairwise_definition() -> None:
    data = _reference_input(150, 300, 6)
    p_target = np.exp(-data.signals["loss"])
    p_ref = np.exp(-data.reference["loss"])
    out = ~data.reference_in
    marginals = {
        "rmia-online": p_ref.mean(axis=0),
        "rmia-offline": 0.5 * (1.3 * (p_ref * out).sum(0) / out.sum(0) + 0.7),
    }
    audited = data.membership >= 0
    n_z = int((data.membership == -1).sum())
    for name, marginal in marginals.items():
        log_ratio = np.log(p_target / marginal)
        for gamma in (1.0, 2.0):
            params = {name: {"gamma": gamma, "temperature": 1}}
            attack = select([name], Modality.CLASSIFIER, params=params)[0]
            expected = _rmia_brute_force(log_ratio, data.membership, gamma)
            scores = attack.scores(data)
            # the share of comparisons beaten, plus where the record lies between two of them
            gap = (scores - expected)[audited]
            assert np.abs(gap).max() < 1.0 / n_z
            # hence strictly increasing in the likelihood ratio: no ties at the top
            order = np.argsort(log_ratio[audited])
            assert (np.diff(scores[audited][order]) > 0).all()


def test_rmia_works_in_log_space_where_probabilities_saturate() -> None:
    # Confident records: losses of 1e-20 .. 1e-17 are probabilities that all round to 1.0,
    # so a ratio of probabilities ties every record. To first order in the loss,
    # log Pr(x|θ) − log Pr(x) = −loss(x) + mean(loss) (online) or + ½(1+a)·mean_out(loss).
    data = _reference_input(200, 400, 4)
    tiny = {"loss": data.signals["loss"] * 1e-20}
    reference = {"loss": data.reference["loss"] * 1e-20}
    assert (np.exp(-tiny["loss"]) == 1.0).all() and (np.exp(-reference["loss"]) == 1.0).all()
    saturated = AttackInput(
        tiny, data.membership, 0, reference, data.reference_in, data.label_index
    )
    out = ~data.reference_in
    first_order = {
        "rmia-online": reference["loss"].mean(axis=0),
        "rmia-offline": 0.65 * (reference["loss"] * out).sum(0) / out.sum(0),
    }
    audited = data.membership >= 0
    n_z = int((data.membership == -1).sum())
    for name, shift in first_order.items():
        scores = create(name, temperature=1).scores(saturated)
        expected = _rmia_brute_force((shift - tiny["loss"]) * 1e20, data.membership)
        gap = (scores - expected)[audited]
        assert np.mean(np.abs(gap) < 1.0 / n_z) > 0.99
        auc = m.auc_with_ci(scores[data.membership == 1], scores[data.membership == 0])
        assert auc.value > 0.8


def test_rmia_parameters() -> None:
    data = _reference_input(200, 400, 4)
    cold = create("rmia-offline", temperature=1)
    default = cold.scores(data)
    same = create("rmia-offline", temperature="1", a="0.3")
    np.testing.assert_array_equal(same.scores(data), default)
    bolder = create("rmia-offline", temperature=1, gamma=2)
    assert (bolder.scores(data) <= default).all()  # a higher bar beats fewer z
    assert REGISTRY["rmia-online"].temperature == 2.0  # the measured default
    hot = select(["rmia-online"], Modality.CLASSIFIER, params={"rmia-online": {"temperature": 4}})[
        0
    ]
    assert hot.requires.signals[0] == "loss@T=4" and hot.temperatures == (4.0,)
    assert hot.fixed == frozenset({"temperature"})  # set by the user: never tuned
    for params, message in [
        ({"a": 1.5}, "a must be in"),
        ({"gamma": 0}, "gamma"),
        ({"temperature": -1}, "temperature"),
        ({"beta": 1}, "no parameter"),
        ({"a": "x"}, r"parameter a must be in \[0, 1\] \(a number\), got 'x'"),
    ]:
        with pytest.raises(InputError, match=message):
            select(["rmia-offline"], Modality.CLASSIFIER, params={"rmia-offline": params})
    with pytest.raises(InputError, match="does not run"):
        select(["loss"], Modality.CLASSIFIER, params={"rmia-offline": {"a": 0.5}})
    with pytest.raises(InputError, match="takes no parameters"):
        select(["loss"], Modality.CLASSIFIER, params={"loss": {"a": 0.5}})


def test_tempered_loss_matches_a_direct_softmax() -> None:
    from miaudit.signals.classifier import compute_signals
    from miaudit.targets import OutputKind, Outputs

    logits = np.random.default_rng(0).normal(0, 3, size=(50, 4))
    y = np.arange(50) % 4
    signals = compute_signals(Outputs(OutputKind.LOGITS, logits, 4), y, (0.5, 1.0, 3.0))
    for t in (0.5, 3.0):
        z = logits / t
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(
            signals[f"loss@T={t:g}"], -np.log(p[np.arange(50), y]), rtol=1e-12
        )
    assert "loss@T=1" not in signals  # T = 1 is the loss itself


def test_rmia_never_builds_the_pairwise_matrix() -> None:
    import tracemalloc

    # 50,000 audited records against 10,000 population records: the n × |Z| matrix alone
    # would be 60,000 × 10,000 × 8 bytes = 4.8 GB.
    data = _reference_input(25_000, 10_000, 8)
    for name in ("rmia-offline", "rmia-online"):
        attack = create(name, temperature=1)
        tracemalloc.start()
        attack.scores(data)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 100 * 2**20, f"{name}: {peak / 2**20:.0f} MiB"


def test_shadow_attack_learns_in_from_out_per_class() -> None:
    data = _reference_input(300, 600, 4)
    signals = {s: data.signals["loss"] * (1 if s != "confidence" else -1) for s in SCORE_SIGNALS}
    reference = {s: data.reference["loss"] for s in SCORE_SIGNALS}
    labels = np.arange(len(data.membership)) % 3
    labels[:5] = 3  # a class with 5 records, too few for a classifier of its own
    shadow_input = AttackInput(signals, data.membership, 0, reference, data.reference_in, labels)
    attack = REGISTRY["shadow"]
    scores = attack.scores(shadow_input)
    members, nonmembers = scores[data.membership == 1], scores[data.membership == 0]
    assert m.auc_with_ci(members, nonmembers).ci[0] > 0.7
    assert "each of 3 classes; 1 class with" in attack.variant(shadow_input)
    np.testing.assert_array_equal(scores, attack.scores(shadow_input))  # seeded


def test_lira_switches_to_per_record_variance_with_enough_models() -> None:
    few, many = _reference_input(100, 0, 8), _reference_input(100, 0, 70)
    for name in ("lira-offline", "lira-online"):
        attack = REGISTRY[name]
        assert "global variance" in attack.variant(few)
        assert "per-record variance" in attack.variant(many)  # 35 IN and 35 OUT per record
        for data in (few, many):
            scores = attack.scores(data)
            assert np.isfinite(scores).all()
            auc = m.auc_with_ci(scores[data.membership == 1], scores[data.membership == 0])
            # members' loss is 0.3× their difficulty: ≈ 4.6 s.d. of the ±20% lognormal
            # noise; the per-record test separates them almost perfectly (n = 100 + 100)
            assert auc.value > 0.95, (name, auc.value)


def test_online_attacks_refuse_records_that_no_reference_model_trained_on() -> None:
    # reference models trained on population records only: no audited record is ever IN, so an
    # "online" RMIA would silently be offline RMIA with a = 1 (issue 10)
    data = _reference_input(100, 200, 4)
    population_only = data.reference_in & (data.membership == -1)[None, :]
    data = AttackInput(
        data.signals, data.membership, 0, data.reference, population_only, data.label_index
    )
    for name in ("rmia-online", "lira-online"):
        reason = REGISTRY[name].unusable(data)
        assert reason is not None and "200 records are IN for none of the 4" in reason
    assert REGISTRY["rmia-offline"].unusable(data) is None
    # population records IN for no model are fine for RMIA online: they are only compared with
    covered = data.reference_in.copy()
    covered[0, data.membership >= 0] = True
    only_audited = AttackInput(
        data.signals, data.membership, 0, data.reference, covered, data.label_index
    )
    assert REGISTRY["rmia-online"].unusable(only_audited) is None
