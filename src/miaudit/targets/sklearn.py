"""scikit-learn estimators, and anything with their API (xgboost, lightgbm)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from miaudit.data import RecordSet
from miaudit.errors import InputError, require
from miaudit.targets._sklearn_logits import LogitFunction, logit_function, verified
from miaudit.targets.interface import ClassifierTarget, Exposure, Outputs, ProgressCallback


class SklearnTarget(ClassifierTarget):
    """A fitted estimator queried through ``predict_proba``, else ``decision_function`` (taken
    as logits), else ``predict`` (label only).

    With ``exact_logits=True`` (default), a model with ``predict_proba`` whose logits can be
    computed exactly in float64 (MLPs, logistic regression; see ``_sklearn_logits``) exposes
    those logits instead, once they are verified to reproduce ``predict_proba`` on the audited
    records: saturated probabilities hide exactly the records that leak most.
    """

    kind = "sklearn"

    def __init__(self, estimator: Any, batch_size: int = 8192, exact_logits: bool = True) -> None:
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            raise InputError(
                f"{type(estimator).__name__} has no classes_: pass a fitted classifier"
            )
        self.estimator = estimator
        self.batch_size = batch_size
        self._classes = np.asarray(classes)
        self._logits: LogitFunction | None = None
        self._logit_note: str | None = None
        self._logits_checked = not exact_logits
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
        """Load a model file. A ``.skops`` file (the safe skops format, ``pip install
        'miaudit[skops]'``) loads without ``trust`` when it holds only the types skops trusts;
        a joblib/pickle file runs code when loaded, so ``trust`` must be set."""
        path = Path(path)
        if path.suffix.lower() == ".skops":
            return cls(_load_skops(path, trust))
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
            raise InputError(
                f"cannot load model file {path}: it is not a readable joblib/pickle file "
                f"({type(exc).__name__}: {exc}); save the model with joblib.dump(model, path) "
                "or, safer, skops (a .skops file)"
            ) from exc
        return cls(estimator)

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (to worker processes and Ray tasks) once queried too: the exact-logit
        function is a closure, so it is dropped and chosen again, the same way, on arrival.
        Exposures compare by value, so the unpickled copy answers as the original."""
        state = dict(self.__dict__)
        if state.get("_logits") is not None:
            state.update(
                _logits=None,
                _logit_note=None,
                _logits_checked=False,
                _exposes=Exposure.PROBABILITIES,
            )
        return state

    def describe(self) -> dict[str, Any]:
        out = {**super().describe(), "estimator": type(self.estimator).__name__}
        if self._logit_note:
            out["outputs_note"] = self._logit_note
        return out

    def outputs(self, records: RecordSet, progress: ProgressCallback | None = None) -> Outputs:
        if not self._logits_checked and self._exposes == Exposure.PROBABILITIES:
            self._choose_logits(records)
        return super().outputs(records, progress)

    def _choose_logits(self, records: RecordSet) -> None:
        """Switch to exact logits if they verifiably reproduce predict_proba (decided once)."""
        self._logits_checked = True
        function = logit_function(self.estimator)
        if function is None:
            return
        probe = records.features[:256]
        if hasattr(probe, "columns") and getattr(self.estimator, "feature_names_in_", None) is None:
            probe = probe.to_numpy()
        problem = verified(function, self.estimator, probe)
        if problem is None:
            self._logits, self._exposes = function, Exposure.LOGITS
            self._logit_note = (
                "float64 logits computed from the fitted model, verified against predict_proba"
            )
        else:
            self._logit_note = f"probabilities used: {problem}"

    def _predict(self, features: Any) -> np.ndarray:
        if hasattr(features, "columns"):
            expected = getattr(self.estimator, "feature_names_in_", None)
            if expected is None:  # fitted on arrays: pass an array, as it was trained
                features = features.to_numpy()
            elif list(expected) != list(features.columns):
                raise InputError(
                    f"the model was fitted on columns {list(expected)[:10]}, but the records "
                    f"have {list(features.columns)[:10]}"
                )
        try:
            return self._query(features)
        except ValueError as exc:  # sklearn's way of refusing data of the wrong shape or type
            raise InputError(f"the model rejected the records: {exc}") from exc

    def _query(self, features: Any) -> np.ndarray:
        if self._logits is not None:
            return self._logits(features)
        if self._exposes == Exposure.PROBABILITIES:
            return self.estimator.predict_proba(features)
        if self._exposes == Exposure.LOGITS:
            scores = np.asarray(self.estimator.decision_function(features), dtype=np.float64)
            if scores.ndim == 1:  # binary: the score is the logit of the positive class
                scores = np.column_stack([np.zeros_like(scores), scores])
            return scores
        return self.estimator.predict(features)


def _load_skops(path: Path, trust: bool) -> Any:
    """A scikit-learn model from a skops file: the types skops trusts load; any other type is
    refused, by name, unless ``trust`` (then the file's own types are allowed)."""
    sio: Any = require("skops.io", "skops", "Loading .skops model files")
    if not path.is_file():
        raise InputError(f"model file not found: {path}")
    try:
        untrusted = list(sio.get_untrusted_types(file=path))
    except Exception as exc:  # a corrupt archive can raise nearly anything
        raise InputError(f"cannot read skops file {path}: {exc}") from exc
    if untrusted and not trust:
        raise InputError(
            f"refusing to load {path}: it holds types skops does not trust "
            f"({', '.join(untrusted)}), which could run code. If you trust this file, pass "
            "trust=True (CLI: --trust-model-file, config: target.trust = true)"
        )
    try:
        return sio.load(path, trusted=untrusted or None)
    except Exception as exc:
        raise InputError(f"cannot load skops file {path}: {exc}") from exc
