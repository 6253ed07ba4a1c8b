"""scikit-learn estimators, and anything with their API (xgboost, lightgbm)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from miaudit.errors import InputError
from miaudit.targets.interface import Exposure, Target


class SklearnTarget(Target):
    """A fitted estimator queried through ``predict_proba``, else ``decision_function`` (taken
    as logits), else ``predict`` (label only)."""

    kind = "sklearn"

    def __init__(self, estimator: Any, batch_size: int = 8192) -> None:
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            raise InputError(
                f"{type(estimator).__name__} has no classes_: pass a fitted classifier"
            )
        self.estimator = estimator
        self.batch_size = batch_size
        self._classes = np.asarray(classes)
        if hasattr(estimator, "predict_proba"):
            self._exposes = Exposure.PROBABILITIES
        elif hasattr(estimator, "decision_function"):
            self._exposes = Exposure.LOGITS
        elif hasattr(estimator, "predict"):
            self._exposes = Exposure.LABEL
        else:
            raise InputError(f"{type(estimator).__name__} has no predict method")

    @classmethod
    def from_file(cls, path: str | Path, trust: bool = False) -> SklearnTarget:
        """Load a joblib/pickle file. Loading runs code from the file, so ``trust`` must be set."""
        path = Path(path)
        if not trust:
            raise InputError(
                f"refusing to load {path}: joblib/pickle files run arbitrary code when loaded. "
                "If you trust this file, pass trust=True (CLI: --trust-model-file, config: "
                "target.trust = true)"
            )
        if not path.is_file():
            raise InputError(f"model file not found: {path}")
        import joblib

        try:
            estimator = joblib.load(path)
        except Exception as exc:  # a corrupt file can raise nearly anything
            raise InputError(f"cannot load model file {path}: {exc}") from exc
        return cls(estimator)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "estimator": type(self.estimator).__name__}

    def _predict(self, features: Any) -> np.ndarray:
        if hasattr(features, "columns"):
            expected = getattr(self.estimator, "feature_names_in_", None)
            if expected is None:  # fitted on arrays: pass an array, as it was trained
                features = features.to_numpy()
            elif list(expected) != list(features.columns):
                raise InputError(
                    f"the model was fitted on columns {list(expected)[:10]}, but the records "
                    f"have {list(features.columns)[:10]}")
        try:
            return self._query(features)
        except ValueError as exc:  # sklearn's way of refusing data of the wrong shape or type
            raise InputError(f"the model rejected the records: {exc}") from exc

    def _query(self, features: Any) -> np.ndarray:
        if self._exposes is Exposure.PROBABILITIES:
            return self.estimator.predict_proba(features)
        if self._exposes is Exposure.LOGITS:
            scores = np.asarray(self.estimator.decision_function(features), dtype=np.float64)
            if scores.ndim == 1:  # binary: the score is the logit of the positive class
                scores = np.column_stack([np.zeros_like(scores), scores])
            return scores
        return self.estimator.predict(features)
