"""Evaluation: one attack's scores → every metric, with thresholds chosen on data other than
the data the rates are reported on (docs/statistics.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from miaudit import metrics as m
from miaudit.data import MEMBER
from miaudit.results import AttackResult, ClassSlice, ModelUtility, RecordRisk


def calibration_split(membership: np.ndarray, seed: int) -> np.ndarray:
    """A seeded half of the members and half of the non-members: where thresholds are chosen
    (the other half is where rates are reported)."""
    rng = np.random.default_rng(seed)
    calibration = np.zeros(len(membership), dtype=bool)
    is_member = membership == MEMBER
    for group in (np.nonzero(is_member)[0], np.nonzero(~is_member)[0]):
        calibration[rng.permutation(group)[: len(group) // 2]] = True
    return calibration


HALF_OF_NONMEMBERS = "half of the non-members (seeded split)"
#: Where a reference attack's TPR-at-FPR thresholds are set when the population's scores are
#: not exchangeable with the non-members' (see :meth:`Evaluation.attack`).
ALL_NONMEMBERS = (
    "the audited non-members for TPR at fixed FPR (population records are OUT for every "
    "reference model, audited records IN for some: their scores are not exchangeable); "
    "half of the non-members for advantage and ε"
)


def calibrated_by(has_population: bool) -> str:
    return "population" if has_population else HALF_OF_NONMEMBERS


def utility(
    train_correct: int, n_train: int, test_correct: int, n_test: int, confidence: float
) -> ModelUtility:
    """Accuracy on members and non-members with intervals, and their difference."""
    train = m.rate(train_correct, n_train, confidence)
    test = m.rate(test_correct, n_test, confidence)
    assert train.ci is not None and test.ci is not None
    gap = m.Estimate(
        train.value - test.value,  # type: ignore[operator]
        (train.ci[0] - test.ci[1], train.ci[1] - test.ci[0]),
        "interval: difference of the two accuracy intervals",
    )
    return ModelUtility(train, test, gap)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """What every attack is evaluated against: the audited records' membership, labels and
    ids, the calibration half, and the settings of the metrics."""

    membership: np.ndarray  # members, non-members, then population
    n_audit: int
    calibration: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    has_population: bool
    fprs: tuple[float, ...]
    delta: float
    confidence: float
    top_records: int

    @cached_property
    def class_rows(self) -> dict[str, np.ndarray]:
        names, index = np.unique(self.labels, return_inverse=True)
        by_class = np.argsort(index, kind="stable")
        split = np.cumsum(np.bincount(index, minlength=len(names)))[:-1]
        return dict(zip(names.tolist(), np.split(by_class, split), strict=True))

    def epsilon_ceiling(self) -> float:
        """The largest ε lower bound this audit's evaluation split can show."""
        is_member = self.membership[: self.n_audit] == MEMBER
        held = ~self.calibration
        return m.epsilon_ceiling(
            int((is_member & held).sum()),
            int((~is_member & held).sum()),
            self.delta,
            self.confidence,
        )

    def attack(
        self, name: str, description: str, scores: np.ndarray, population_alike: bool = True
    ) -> AttackResult:
        """Every metric of one attack's scores. ``population_alike``: the population's scores
        are exchangeable with the audited non-members'. If they are not, TPR-at-FPR thresholds
        are set on every audited non-member instead: only non-members place the threshold and
        members are counted against it, so the interval holds as with a population (there is
        then no held-out check of the achieved FPR)."""
        audit_scores = scores[: self.n_audit]
        is_member = self.membership[: self.n_audit] == MEMBER
        members, nonmembers = audit_scores[is_member], audit_scores[~is_member]
        cal_mask, ev_mask = self.calibration, ~self.calibration
        cal = (audit_scores[is_member & cal_mask], audit_scores[~is_member & cal_mask])
        ev = (audit_scores[is_member & ev_mask], audit_scores[~is_member & ev_mask])
        on_population = self.has_population and population_alike
        if on_population:
            threshold_pool, fpr_check = scores[self.n_audit :], nonmembers
        elif self.has_population:
            threshold_pool, fpr_check = nonmembers, None
        else:
            threshold_pool, fpr_check = cal[1], ev[1]
        adv, balanced, adv_threshold = m.advantage(cal, ev, self.confidence)
        roc_fpr, roc_tpr = m.roc_points(members, nonmembers)
        return AttackResult(
            name=name,
            description=description,
            auc=m.auc_with_ci(members, nonmembers, self.confidence),
            tpr_at_fpr=tuple(
                m.tpr_at_fpr(members, threshold_pool, fpr_check, f, self.confidence)
                for f in self.fprs
            ),
            advantage=adv,
            balanced_accuracy=balanced,
            advantage_threshold=adv_threshold,
            epsilon=m.epsilon_lower_bound(cal, ev, self.delta, self.confidence),
            epsilon_gdp=m.gdp_lower_bound(cal, ev, self.delta, self.confidence),
            roc_fpr=tuple(float(x) for x in roc_fpr),
            roc_tpr=tuple(float(x) for x in roc_tpr),
            at_risk=self._at_risk(audit_scores, is_member, nonmembers),
            slices=self._slices(audit_scores, is_member),
            calibrated_by=ALL_NONMEMBERS if self.has_population and not on_population else "",
        )

    def _at_risk(
        self, audit_scores: np.ndarray, is_member: np.ndarray, nonmembers: np.ndarray
    ) -> tuple[RecordRisk, ...]:
        member_rows = np.nonzero(is_member)[0]
        order = np.argsort(-audit_scores[member_rows], kind="stable")
        top = member_rows[order[: self.top_records]]
        p_values = m.nonmember_pvalues(audit_scores[top], nonmembers)
        return tuple(
            RecordRisk(str(self.ids[i]), str(self.labels[i]), float(audit_scores[i]), float(p))
            for i, p in zip(top, p_values, strict=True)
        )

    def _slices(self, audit_scores: np.ndarray, is_member: np.ndarray) -> tuple[ClassSlice, ...]:
        slices = []
        for label, rows in self.class_rows.items():
            in_member = is_member[rows]
            cm, cn = audit_scores[rows[in_member]], audit_scores[rows[~in_member]]
            if len(cm) >= 2 and len(cn) >= 2:
                slice_auc = m.auc_with_ci(cm, cn, self.confidence)
            else:
                slice_auc = m.Estimate(None, reason="fewer than 2 members or non-members in class")
            slices.append(ClassSlice(label, len(cm), len(cn), slice_auc))
        return tuple(slices)
