"""Thread pools while the attacks fit their own scikit-learn models.

The attack classifier, the shadow attack's classifiers and the blind baseline fit small models
(at most 100,000 rows of a dozen signals, or a few thousand short texts). OpenMP and BLAS start
a thread per core for each fit and spin while they wait: on shared or busy cores that turned a
20-second test into 217 s. One thread fits these models in seconds and gives the same numbers
(histogram gradient boosting sums each feature's histogram in one thread whatever the pool;
measured: identical probabilities, 0.8 s instead of 3.0 s on two busy cores).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from threadpoolctl import threadpool_limits

#: Threads of each BLAS and OpenMP pool while an attack fits its models.
FIT_THREADS = 1

F = TypeVar("F", bound=Callable[..., object])


def fit_threads(method: F) -> F:
    """``method`` run with BLAS and OpenMP limited to :data:`FIT_THREADS` threads (the
    pools' sizes restored after)."""

    @functools.wraps(method)
    def limited(*args: object, **kwargs: object) -> object:
        with threadpool_limits(limits=FIT_THREADS):
            return method(*args, **kwargs)

    return limited  # type: ignore[return-value]
