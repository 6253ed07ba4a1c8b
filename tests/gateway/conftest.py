"""A real gateway: ``miaudit serve`` as a uvicorn subprocess on 127.0.0.1, serving a small
scikit-learn model saved as a skops file, its keys made with ``miaudit keys add``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from gateway_run import Postgres, Redis, Server
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression


@pytest.fixture(scope="module")
def iris_model(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, LogisticRegression, np.ndarray]:
    skops = pytest.importorskip("skops.io")
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(x, y)
    path = tmp_path_factory.mktemp("model") / "iris.skops"
    skops.dump(model, path)
    return path, model, x


class FakeClock:
    """A clock the test moves by hand (``advance``), injected where the code reads the time:
    no test waits for real seconds to pass."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def server_factory() -> Iterator:
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        server = Server(list(args), env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A real PostgreSQL server's URL (a test that needs one and cannot start one fails)."""
    server = Postgres()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis server's URL."""
    server = Redis()
    yield server.url
    server.stop()
