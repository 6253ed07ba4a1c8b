"""Label-only attacks (Choquette-Choo et al. 2021): a model is surer of its training records,
so their predicted label survives more perturbation. Both read nothing but predicted labels,
so they run on any target that answers queries — an HTTP endpoint, a hardened API returning
only labels — and rounding or hiding scores does not change them.

- ``label-noise``: the share of ``k`` perturbed copies of a record (Gaussian noise on numeric
  columns, swapped values in categorical and two-valued ones; flips and shifts for images)
  still given the record's true label. Its noise strength is a default measured on
  benchmarks, never on the audit's data; the copies are the same whoever is a member.
- ``label-boundary``: the distance from a record to the decision boundary, in standard
  deviations of the features: random directions, each searched by bisection within the
  shortest distance found so far, under a budget of queries per record. The search radius is
  twice the median distance between two of the audit's records, pooled blind to membership.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from miaudit.attacks.params import Param
from miaudit.attacks.perturb import FeatureSpace, parse_image_shape, predictions
from miaudit.attacks.probing import CannotProbe, Probe, ProbingAttack, pooled, take
from miaudit.attacks.requirements import Access, Requirements
from miaudit.errors import InputError
from miaudit.targets.interface import ClassifierTarget, ProgressCallback, label_indices

#: The default noise strength (× a numeric column's standard deviation; the probability of
#: swapping a categorical or two-valued value): the best of 0.025-0.8 on two of three benchmarks
#: and within 0.006 AUC of the best on the third (docs/label-only.md). Set with ``strength``.
STRENGTH = 0.2
#: Directions ``label-boundary`` searches at once per record (fewer, larger queries).
GROUP = 4
#: The most perturbed copies (``label-noise.k``) or random directions (``label-boundary``'s
#: ``directions``) per record: each is a query (each direction up to 1 + ``steps``), so
#: 10,000 is over 300× the default of 32, and copies are made per record, so memory grows with
#: it. A larger value is a typo (``1e12`` asked for terabytes), refused before any copy is made.
MAX_QUERIES = 10_000
#: The most bisection steps per direction: 64 halvings narrow the boundary to 2⁻⁶⁴ of the
#: search radius, past the precision of a float64 feature (53 bits); more only spend queries.
MAX_STEPS = 64


def _classifier(target: Any) -> ClassifierTarget:
    if not isinstance(target, ClassifierTarget):  # pragma: no cover - the registry prevents it
        raise InputError("label-only attacks query classifiers")
    return target


class LabelNoiseAttack(ProbingAttack):
    name = "label-noise"
    description = (
        "share of k perturbed copies still given the true label (Choquette-Choo et al. 2021)"
    )
    requires = Requirements(access=Access.LABEL, signals=("label_noise",), queries=True)
    signal = "label_noise"
    parameters = (
        Param("k", int, 32, "perturbed copies per record", low=1, high=MAX_QUERIES),
        Param(
            "strength",
            float,
            STRENGTH,
            "× each numeric column's standard deviation; the probability of swapping a "
            "categorical or two-valued value",
            low=0.0,
            high=10.0,
            low_open=True,
        ),
        Param(
            "image_shape",
            str,
            None,
            "HxW or CxHxW (channels first): perturb records as images, by flips and shifts",
            optional=True,
        ),
    )
    k: int
    strength: float
    image_shape: str | None

    def __init__(
        self, k: int = 32, strength: float = STRENGTH, image_shape: str | None = None
    ) -> None:
        self._defaults(k=k, strength=strength, image_shape=image_shape)

    def check(self) -> None:
        try:
            parse_image_shape(self.image_shape)
        except InputError as exc:
            raise InputError(f"attack {self.name}: {exc}") from exc

    def probe(
        self,
        target: Any,
        sets: list[Any],
        population: Any | None,
        seed: int,
        advance: ProgressCallback | None = None,
    ) -> Probe:
        model = _classifier(target)
        shape = parse_image_shape(self.image_shape)
        space = FeatureSpace.of([s.features for s in sets], shape)
        x, labels = pooled(sets)
        y = label_indices(labels, model.classes)
        score, queries = robustness(
            model, space, x, labels, y, self.strength, self.k, seed, advance
        )
        if shape is not None:
            k = len(space.noisy(take(x, np.arange(1)), 0.0, self.k, seed))
            note = f"{k} flipped and shifted copies per image"
        else:
            note = (
                f"{self.k} noisy copies per record at strength {self.strength:g} (Gaussian noise "
                f"of {self.strength:g} × each numeric column's standard deviation; categorical "
                f"and two-valued columns swapped with probability {min(self.strength, 0.5):g})"
            )
        return Probe({self.signal: score}, queries, note, {"strength": self.strength, "k": self.k})


def robustness(
    model: ClassifierTarget,
    space: FeatureSpace,
    x: Any,
    labels: np.ndarray,
    y: np.ndarray,
    strength: float,
    k: int,
    seed: int,
    advance: ProgressCallback | None = None,
) -> tuple[np.ndarray, int]:
    """Per record: 1 if the model gives its true label, plus the share of its noisy copies
    given the true label (so a misclassified record scores below every correct one); and the
    queries spent."""
    correct = predictions(model, x, labels) == y
    kept = np.zeros(len(y))
    per_chunk = max(1, 8192 // max(k, 1))
    queries = len(y)
    for number, start in enumerate(range(0, len(y), per_chunk)):
        rows = np.arange(start, min(start + per_chunk, len(y)))
        copies = space.noisy(take(x, rows), strength, k, seed * 100_003 + number)
        k_made = len(copies) // len(rows)
        predicted = predictions(model, copies, np.repeat(labels[rows], k_made))
        kept[rows] = (predicted.reshape(len(rows), k_made) == y[rows, None]).mean(axis=1)
        queries += len(copies)
        if advance is not None:
            advance(len(rows))
    return correct + kept, queries


class LabelBoundaryAttack(ProbingAttack):
    name = "label-boundary"
    description = (
        "distance to the decision boundary from labels alone (random directions, bisection)"
    )
    requires = Requirements(access=Access.LABEL, signals=("boundary_distance",), queries=True)
    signal = "boundary_distance"
    parameters = (
        Param(
            "directions", int, 32, "random directions searched per record", low=1, high=MAX_QUERIES
        ),
        Param(
            "steps",
            int,
            6,
            "bisection steps along each direction that crosses",
            low=1,
            high=MAX_STEPS,
        ),
    )
    directions: int
    steps: int

    def __init__(self, directions: int = 32, steps: int = 6) -> None:
        self._defaults(directions=directions, steps=steps)

    @property
    def budget(self) -> int:
        """The most queries spent on one record."""
        return 1 + self.directions * (1 + self.steps)

    def probe(
        self,
        target: Any,
        sets: list[Any],
        population: Any | None,
        seed: int,
        advance: ProgressCallback | None = None,
    ) -> Probe:
        model = _classifier(target)
        space = FeatureSpace.of([s.features for s in sets], None)
        if space.movable == 0:
            raise CannotProbe(
                "label-boundary needs numeric features that vary to move along; these records "
                "have none (use label-noise)"
            )
        x, labels = pooled(sets)
        y = label_indices(labels, model.classes)
        radius = 2.0 * space.typical_distance(x, seed)
        distance = np.zeros(len(y))
        queries = 0
        for start in range(0, len(y), 4096):
            rows = np.arange(start, min(start + 4096, len(y)))
            found, spent = self.search(
                model, space, take(x, rows), labels[rows], y[rows], radius, seed + start
            )
            distance[rows], queries = found, queries + spent
            if advance is not None:
                advance(len(rows))
        note = (
            f"{self.directions} random directions per record, {self.steps} bisection steps "
            f"each, within {radius:.3g} standard deviations (twice the median distance between "
            f"two records); at most {self.budget} queries per record"
        )
        return Probe({self.signal: distance}, queries, note, {"radius": radius})

    def search(
        self,
        model: ClassifierTarget,
        space: FeatureSpace,
        x: Any,
        labels: np.ndarray,
        y: np.ndarray,
        radius: float,
        seed: int,
    ) -> tuple[np.ndarray, int]:
        """Shortest distance found per record (0 if misclassified), and the queries spent."""
        rng = np.random.default_rng(seed)
        correct = predictions(model, x, labels) == y
        queries = len(y)
        best = np.full(len(y), radius)
        active = np.nonzero(correct)[0]
        for first in range(0, self.directions if len(active) else 0, GROUP):
            # GROUP directions per record at once: one query each at the shortest distance
            # found so far, then bisection of those that cross sooner
            rows = np.repeat(active, min(GROUP, self.directions - first))
            d = space.directions(len(rows), rng)
            moved = space.moved(take(x, rows), d, best[rows])
            crossed = predictions(model, moved, labels[rows]) != y[rows]
            queries += len(rows)
            rows, d = rows[crossed], d[crossed]
            low, high = np.zeros(len(rows)), best[rows].copy()
            for _ in range(self.steps if len(rows) else 0):
                middle = (low + high) / 2
                moved = space.moved(take(x, rows), d, middle)
                flipped = predictions(model, moved, labels[rows]) != y[rows]
                queries += len(rows)
                high = np.where(flipped, middle, high)
                low = np.where(flipped, low, middle)
            np.minimum.at(best, rows, high)
        return np.where(correct, best, 0.0), queries
