"""Perturbed copies of records, for attacks that probe a model with inputs of their own making.

A :class:`FeatureSpace` is learnt from every record of an audit pooled together, blind to who
is a member: which columns are numeric (Gaussian noise, scaled by the column's spread; moved
along directions when searching for the decision boundary), which are categories or binary
(swapped for another value the column takes), and, for records declared as images, the
flips and shifts that make augmented copies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.targets.interface import ClassifierTarget, predicted_indices

#: Rows sent to the model per query batch when probing.
PROBE_BATCH = 8192


def parse_image_shape(text: str | None) -> tuple[int, ...] | None:
    """``"28x28"`` or ``"3x32x32"`` (channels first) → a shape; ``None`` or ``""``: not images."""
    if text is None or text == "":
        return None
    try:
        shape = tuple(int(part) for part in str(text).lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise InputError(f"image_shape={text!r}; write HxW or CxHxW, e.g. 28x28 or 3x32x32")
    return shape


def _frame(features: np.ndarray | pd.DataFrame) -> pd.DataFrame | None:
    return features if isinstance(features, pd.DataFrame) else None


@dataclass(frozen=True, eq=False)
class FeatureSpace:
    """How to perturb records like these: numeric column positions and spreads, two-valued
    and categorical columns with the values each takes, and an image shape if declared."""

    columns: list[str] | None  # DataFrame column names (None: an array)
    numeric: np.ndarray  # positions of numeric columns
    spread: np.ndarray  # standard deviation of each numeric column (0 for constants)
    swapped: np.ndarray  # positions of categorical or two-valued columns
    values: tuple[np.ndarray, ...]  # the values each swapped column takes (pooled records)
    image_shape: tuple[int, ...] | None = None

    @classmethod
    def of(
        cls, features: list[np.ndarray | pd.DataFrame], image_shape: tuple[int, ...] | None
    ) -> FeatureSpace:
        frames = [f for f in features if isinstance(f, pd.DataFrame)]
        pooled: pd.DataFrame = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(np.concatenate([np.asarray(f) for f in features]))
        )
        if image_shape is not None and int(np.prod(image_shape)) != pooled.shape[1]:
            raise InputError(
                f"image_shape {'x'.join(map(str, image_shape))} has {int(np.prod(image_shape))} "
                f"pixels but the records have {pooled.shape[1]} features"
            )
        numeric, spread, swapped, values = [], [], [], []
        for position, column in enumerate(pooled.columns):
            series = pooled[column]
            distinct = pd.unique(series)
            is_number = pd.api.types.is_numeric_dtype(series)
            if image_shape is None and (not is_number or len(distinct) == 2):
                swapped.append(position)
                values.append(np.asarray(distinct))
            if is_number:
                numeric.append(position)
                spread.append(float(series.astype(np.float64).std()))
        return cls(
            [str(c) for c in pooled.columns] if frames else None,
            np.asarray(numeric, dtype=np.int64),
            np.nan_to_num(np.asarray(spread, dtype=np.float64)),
            np.asarray(swapped, dtype=np.int64),
            tuple(values),
            image_shape,
        )

    # ------------------------------------------------------------------ noisy copies
    def noisy(
        self, features: np.ndarray | pd.DataFrame, strength: float, k: int, seed: int
    ) -> np.ndarray | pd.DataFrame:
        """``k`` copies of every record (record-major: row i*k + j is copy j of record i):
        numeric columns plus Gaussian noise of ``strength`` × their spread, categorical and
        two-valued columns swapped for another of their values with probability
        ``min(strength, 0.5)``; for images, ``k`` flips and shifts (``strength`` unused)."""
        rng = np.random.default_rng(seed)
        if self.image_shape is not None:
            return self._augmented(np.asarray(features, dtype=np.float64), k)
        frame = _frame(features)
        if frame is None:
            repeated = np.repeat(np.asarray(features, np.float64), k, axis=0)
            return self._noisy_array(repeated, strength, rng)
        copies = frame.iloc[np.repeat(np.arange(len(frame)), k)].reset_index(drop=True)
        n = len(copies)
        for position, sd in self._gaussian():
            column = copies.columns[position]
            values = copies[column].to_numpy(dtype=np.float64)
            copies[column] = values + rng.normal(0.0, strength * sd, n)
        p = min(strength, 0.5)
        for position, options in zip(self.swapped, self.values, strict=True):
            column = copies.columns[position]
            hit = rng.random(n) < p
            if not hit.any() or len(options) < 2:
                continue
            current = copies[column].to_numpy()
            # another of the column's values, drawn uniformly from the others
            index = pd.Index(options).get_indexer(current[hit])
            shift = rng.integers(1, len(options), int(hit.sum()))
            changed = current.copy()
            changed[hit] = options[(index + shift) % len(options)]
            copies[column] = changed
        return copies

    def _gaussian(self) -> list[tuple[int, float]]:
        """Numeric columns that take Gaussian noise (not two-valued, not constant)."""
        two_valued = {int(p) for p in self.swapped}
        return [
            (int(p), float(sd))
            for p, sd in zip(self.numeric, self.spread, strict=True)
            if int(p) not in two_valued and sd > 0
        ]

    def _noisy_array(self, x: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
        gaussian = self._gaussian()
        if gaussian:
            positions = np.array([p for p, _ in gaussian])
            sd = np.array([s for _, s in gaussian])
            x[:, positions] += rng.standard_normal((len(x), len(positions))) * (strength * sd)
        if len(self.swapped):
            low = np.array([v.min() for v in self.values])
            high = np.array([v.max() for v in self.values])
            hit = rng.random((len(x), len(self.swapped))) < min(strength, 0.5)
            current = x[:, self.swapped]
            x[:, self.swapped] = np.where(hit, low + high - current, current)  # the other value
        return x

    def _augmented(self, features: np.ndarray, k: int) -> np.ndarray:
        shape = self.image_shape
        assert shape is not None
        images = features.reshape((len(features), *((1, *shape) if len(shape) == 2 else shape)))
        moves = augmentations(k)
        out = np.empty((len(features), len(moves), *images.shape[1:]))
        for j, (flip, dy, dx) in enumerate(moves):
            moved = images[..., ::-1] if flip else images
            out[:, j] = _shift(moved, dy, dx)
        return out.reshape(len(features) * len(moves), -1)

    # ------------------------------------------------------------------ directions
    @property
    def movable(self) -> int:
        """How many columns a boundary search can move along (numeric columns that vary)."""
        return int((self.spread > 0).sum())

    def directions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` random unit directions in the numeric columns, standardised by spread, (n, d)."""
        z = rng.standard_normal((n, len(self.numeric))) * (self.spread > 0)
        z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
        return z

    def moved(
        self, features: np.ndarray | pd.DataFrame, direction: np.ndarray, radius: np.ndarray
    ) -> np.ndarray | pd.DataFrame:
        """Each record moved ``radius`` (in standard deviations) along its ``direction``."""
        step = direction * (radius[:, None] * self.spread[None, :])
        frame = _frame(features)
        if frame is None:
            x = np.asarray(features, dtype=np.float64).copy()
            x[:, self.numeric] += step
            return x
        out = frame.copy()
        for j, position in enumerate(self.numeric):
            column = out.columns[position]
            out[column] = out[column].to_numpy(dtype=np.float64) + step[:, j]
        return out

    def typical_distance(self, features: np.ndarray | pd.DataFrame, seed: int) -> float:
        """Median standardised distance between two records (pairs drawn at random): a radius
        that crosses the decision boundary almost surely."""
        x = _numeric(features, self.numeric)
        rng = np.random.default_rng(seed)
        a, b = rng.integers(0, len(x), (2, min(2000, 4 * len(x))))
        scale = np.where(self.spread > 0, self.spread, 1.0)
        d = np.linalg.norm((x[a] - x[b]) / scale, axis=1)
        d = d[d > 0]
        return float(np.median(d)) if len(d) else 1.0


def _numeric(features: np.ndarray | pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    frame = _frame(features)
    if frame is None:
        return np.asarray(features, dtype=np.float64)[:, positions]
    return frame.iloc[:, positions].to_numpy(dtype=np.float64)


def augmentations(k: int) -> list[tuple[bool, int, int]]:
    """The ``k`` image moves the augmentation attack queries: identity and a horizontal flip,
    then shifts by one pixel, then by two, ... (with and without the flip)."""
    moves: list[tuple[bool, int, int]] = []
    radius = 0
    while len(moves) < k:
        ring = [
            (dy, dx)
            for dy in range(-radius, radius + 1)
            for dx in range(-radius, radius + 1)
            if max(abs(dy), abs(dx)) == radius
        ]
        for dy, dx in ring:
            for flip in (False, True):
                if len(moves) < k:
                    moves.append((flip, dy, dx))
        radius += 1
    return moves


def _shift(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images moved ``dy`` rows and ``dx`` columns, the uncovered border filled with zeros."""
    out = np.zeros_like(images)
    h, w = images.shape[-2:]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., yd, xd] = images[..., ys, xs]
    return out


def predictions(
    target: ClassifierTarget,
    features: np.ndarray | pd.DataFrame,
    labels: np.ndarray,
) -> np.ndarray:
    """The class index the target predicts for each row, queried in batches."""
    parts = []
    for start, stop in _chunks(len(labels), PROBE_BATCH):
        frame = _frame(features)
        rows = frame.iloc[start:stop].reset_index(drop=True) if frame is not None else None
        batch = RecordSet(
            rows if rows is not None else np.asarray(features[start:stop]),
            labels[start:stop],
            np.arange(start, stop).astype(str),
            "perturbed copies",
        )
        parts.append(predicted_indices(target.outputs(batch)))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(start + size, n)
