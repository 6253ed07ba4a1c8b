"""The bundled example: a "hospital diagnostic model" that over-fits its patients.

A 256×256 MLP with no regularisation, trained on half of scikit-learn's bundled breast-cancer
data set (569 patients) using the eight cell texture and shape measurements (the size features,
which make the task nearly separable, are left out); the other half of the patients is held out.
It fits its training patients perfectly and generalises noticeably worse — the over-fitting that
membership inference feeds on. Nothing is downloaded; training takes a few seconds on 2 cores.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from miaudit.data import RecordSet
from miaudit.targets.sklearn import SklearnTarget

#: mean texture, smoothness, symmetry, fractal dimension, and the standard errors of each.
FEATURES = (1, 4, 8, 9, 11, 14, 18, 19)
#: The data set's own names for its classes 0 and 1, and what one record is.
CLASS_NAMES = tuple(str(n) for n in load_breast_cancer().target_names)
SUBJECTS = "patients"


def demo_setup(seed: int = 0) -> tuple[SklearnTarget, RecordSet, RecordSet]:
    """Train the demo model; return it as a target with its members and held-out non-members."""
    bunch = load_breast_cancer()
    ids = np.array([f"patient-{i:04d}" for i in range(len(bunch.target))])
    x_in, x_out, y_in, y_out, id_in, id_out = train_test_split(
        bunch.data[:, FEATURES],
        bunch.target,
        ids,
        train_size=0.5,
        stratify=bunch.target,
        random_state=seed,
    )
    model = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(256, 256),
            alpha=0.0,
            max_iter=1000,
            tol=1e-6,
            n_iter_no_change=50,
            random_state=seed,
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_in, y_in)
    members = RecordSet.from_arrays(x_in, y_in, id_in, name="members")
    nonmembers = RecordSet.from_arrays(x_out, y_out, id_out, name="non-members")
    return SklearnTarget(model), members, nonmembers
