"""Training-time defences as recipes, so that a defended model and its reference models are
trained the same way (a distilled variant's reference models are distilled too):

- :class:`HardenedRecipe`: a recipe's model behind an output policy (``label-only``, ...).
- :class:`EnsembleRecipe`: subsample-and-aggregate — ``m`` models on disjoint shards,
  averaged or voted.
- :class:`DistillRecipe`: knowledge distillation — a student that never sees the training
  records, fitted to the teacher's soft labels (its log-probabilities) of separate transfer
  records.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.signals.classifier import log_probabilities
from miaudit.targets.ensemble import AGGREGATES, EnsembleTarget
from miaudit.targets.exposure import OutputKind
from miaudit.targets.interface import ClassifierTarget, Target
from miaudit.training.recipe import Recipe, _digest


def _rows(features: Any, rows: np.ndarray) -> Any:
    return features.iloc[rows] if hasattr(features, "iloc") else np.asarray(features)[rows]


class HardenedRecipe(Recipe):
    """``base``'s model, answering through the output ``policy`` (see :func:`miaudit.harden`)."""

    def __init__(self, base: Recipe, policy: str) -> None:
        from miaudit.targets.harden import OutputPolicy

        self.base, self.policy = base, str(OutputPolicy.parse(policy))
        self.dp_epsilon = getattr(base, "dp_epsilon", None)

    def fit(self, features: Any, labels: np.ndarray, seed: int, classes: np.ndarray) -> Target:
        return self.wrap(self.base.fit(features, labels, seed, classes), seed)

    def wrap(self, model: Target, seed: int) -> Target:
        """An already trained ``model`` of this recipe's base, behind the policy."""
        from miaudit.targets.harden import harden

        return harden(model, self.policy, seed)

    def fingerprint(self) -> str:
        return _digest("hardened", self.base.fingerprint(), self.policy)

    def __repr__(self) -> str:
        return f"{self.base!r} behind the output policy {self.policy}"

    def prepare_worker(self) -> None:
        self.base.prepare_worker()


class EnsembleRecipe(Recipe):
    """``members`` models of ``base``, each trained on its own shard (a seeded random split of
    the training records into equal parts), answering by ``aggregate``: ``average`` of
    probabilities or the share of ``vote`` s."""

    def __init__(self, base: Recipe, members: int = 5, aggregate: str = "average") -> None:
        if int(members) < 2:
            raise InputError(f"an ensemble needs at least 2 members, got {members}")
        if aggregate not in AGGREGATES:
            raise InputError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {aggregate!r}")
        self.base, self.members, self.aggregate = base, int(members), aggregate
        self.dp_epsilon = None

    def fit(self, features: Any, labels: np.ndarray, seed: int, classes: np.ndarray) -> Target:
        order = np.random.default_rng(seed).permutation(len(labels))
        shards = np.array_split(order, self.members)
        if min(len(s) for s in shards) < 2:
            raise InputError(
                f"{len(labels)} records cannot make {self.members} shards of 2 or more records"
            )
        models = []
        for i, shard in enumerate(shards):
            shard = np.sort(shard)
            shard_seed = int(np.random.default_rng([seed, i]).integers(2**31))
            model = self.base.fit(_rows(features, shard), labels[shard], shard_seed, classes)
            if not isinstance(model, ClassifierTarget):
                raise InputError("ensemble members must be classifiers")
            models.append(model)
        return EnsembleTarget(models, classes, self.aggregate)

    def fingerprint(self) -> str:
        return _digest("ensemble", self.base.fingerprint(), self.members, self.aggregate)

    def __repr__(self) -> str:
        return f"ensemble of {self.members} × {self.base!r} on disjoint shards ({self.aggregate})"

    def prepare_worker(self) -> None:
        self.base.prepare_worker()


class DistillRecipe(Recipe):
    """A ``teacher`` (a recipe) trained on the records; a ``student`` — a scikit-learn
    regressor (default: an MLP with one hidden layer of 128) — fitted to the teacher's centred
    log-probabilities at ``temperature`` on the ``transfer`` features, and queried for logits.
    The transfer records must be kept out of the audit (they train the student)."""

    def __init__(
        self,
        teacher: Recipe,
        transfer: Any,
        student: Any = None,
        temperature: float = 1.0,
    ) -> None:
        from sklearn.base import clone
        from sklearn.neural_network import MLPRegressor

        if not temperature > 0:
            raise InputError(f"distillation temperature must be positive, got {temperature}")
        x = np.asarray(transfer, dtype=np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise InputError(f"transfer features must be (n, d) with n ≥ 2, got shape {x.shape}")
        self.teacher, self.transfer, self.temperature = teacher, x, float(temperature)
        template = (
            student
            if student is not None
            else MLPRegressor(hidden_layer_sizes=(128,), max_iter=300)
        )
        try:
            self.student = clone(template)
        except Exception as exc:
            raise InputError(f"the student must be a scikit-learn regressor: {exc}") from exc
        self.dp_epsilon = None

    def fit(self, features: Any, labels: np.ndarray, seed: int, classes: np.ndarray) -> Target:
        import warnings

        from sklearn.base import clone
        from sklearn.exceptions import ConvergenceWarning

        from miaudit.targets.callable import CallableTarget

        teacher = self.teacher.fit(features, labels, seed, classes)
        dummy = np.asarray(classes)[np.zeros(len(self.transfer), dtype=np.int64)]
        taught = teacher.outputs(RecordSet.from_arrays(self.transfer, dummy))
        if taught.kind is OutputKind.LABEL:
            raise InputError("a teacher that returns only labels has no soft labels to distil")
        logp = log_probabilities(taught.values, taught.kind) / self.temperature
        target = logp - logp.mean(axis=1, keepdims=True)
        student = clone(self.student)
        if "random_state" in student.get_params():
            student.set_params(random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            student.fit(self.transfer, target)
        return CallableTarget(_Predict(student), classes, output="logits")

    def fingerprint(self) -> str:
        data = hashlib.sha256(np.ascontiguousarray(self.transfer).tobytes()).hexdigest()[:16]
        params = sorted((k, repr(v)) for k, v in self.student.get_params().items())
        return _digest("distill", self.teacher.fingerprint(), data, self.temperature, params)

    def prepare_worker(self) -> None:
        self.teacher.prepare_worker()

    def __repr__(self) -> str:
        return (
            f"{self.student!r} distilled from {self.teacher!r} on {len(self.transfer)} transfer "
            f"records (temperature {self.temperature:g})"
        )


class _Predict:
    """A fitted regressor's ``predict`` on float features (picklable, unlike a lambda)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, features: Any) -> np.ndarray:
        return np.asarray(self.model.predict(np.asarray(features, dtype=np.float64)))
