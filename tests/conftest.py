"""Shared fixtures: small real models trained inside the tests, nothing downloaded; the tiny
language model, trained once per session; one native thread per pool; the command line in
process.

Threads: every native thread pool (OpenMP — scikit-learn's HistGradientBoosting, torch —, BLAS)
runs one thread in the test process and in every command it starts. The suite shares a few
cores with other work, and an OpenMP pool that spins on a busy core turned one 3-second test into
four minutes under load. ``OMP_NUM_THREADS`` and friends reach the libraries loaded from here on
and every subprocess (set them yourself to override); ``threadpoolctl`` limits the pools loaded
before this file (pytest's plugins import numpy, scipy and scikit-learn)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before torch or any subprocess starts

if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    # Bytecode caches (``__pycache__``, ignored by git) even where PYTHONDONTWRITEBYTECODE is
    # set, as in many container images: without them each of the four test workers rewrites
    # the asserts of every test module and of miaudit itself (the package of a pytest plugin,
    # so pytest rewrites it too), and every command the tests start compiles miaudit again.
    # (Not a PYTHONPYCACHEPREFIX: it would hide the installed packages' own caches, and each
    # worker would compile torch and scipy from source.)
    sys.dont_write_bytecode = False  # this process; the workers and commands: the variable

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_breast_cancer, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from cli_in_process import run_in_process  # noqa: E402

if TYPE_CHECKING:
    from miaudit.demo.lm import DemoLM

pytest_plugins = ["pytester"]

#: the thread count of every native pool inside the tests (``OMP_NUM_THREADS``, 1 by default)
TEST_THREADS = int(os.environ["OMP_NUM_THREADS"])


#: The slowest modules, slowest first (seconds on an idle 2-core machine, ``pytest
#: --durations=0``): they start first, so no long module is left running alone at the end. Only
#: the order changes; a module missing here runs after them in the usual order.
SLOWEST_FIRST = (
    "tests/monitor/test_campaigns.py",
    "tests/training/test_ray_cluster.py",
    "tests/gateway/test_gateway.py",
    "tests/training/test_reference.py",
    "tests/audit/test_language_models.py",
    "tests/gateway/test_scan.py",
    "tests/gateway/test_monitor_online.py",
    "tests/cli/test_cli.py",
    "tests/cli/test_ci.py",
    "tests/cli/test_fuzz.py",
    "tests/training/test_sources.py",
    "tests/attacks/test_tuning.py",
    "tests/defences/test_compare.py",
    "tests/test_metrics.py",
    "tests/targets/test_targets.py",
    "tests/report/test_browser.py",
    "tests/defences/test_one_run.py",
    "tests/monitor/test_monitor_cli.py",
    "tests/defences/test_dp.py",
    "tests/monitor/test_detectors.py",
    "tests/cli/test_config.py",
)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (pyproject.toml): three workers per core this process may use, at most 8.
    Many tests wait on a server, a subprocess or Ray, so one worker per core leaves cores idle;
    and beside other work the scheduler shares the cores per process, so more workers keep the
    suite's share (``bench/suite_time.py --load 4``: four busy processes). Measured on 2 cores,
    the same tree: 4 workers 285.8 s idle and 594.6 s at load 4 (2.08×); 6 workers 308.2 s
    and 524.4 s (1.70×); earlier, 2 workers took 2,225 s at load 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(2, min(8, 3 * cores))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Parallel runs (pytest-xdist, ``--dist loadfile`` in pyproject.toml): the tests of one
    module run in one worker, so its module-scoped fixtures (trained models, servers) are made
    once, and every test that starts Ray lives in tests/training/test_ray_cluster.py (two Rays
    on one machine contend for its ports and ``/tmp/ray``). The modules in
    :data:`SLOWEST_FIRST` are handed out first. (Not ``--dist loadgroup``: with pytest 9.2 its
    ``xdist_group`` marks no longer group anything, pytest-xdist issue 1386.)"""
    rank = {path: i for i, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(scope="session", autouse=True)
def _one_thread_per_native_pool() -> Iterator[None]:
    """Limit the pools already loaded (scikit-learn's OpenMP, numpy's and scipy's OpenBLAS)."""
    with threadpool_limits(limits=TEST_THREADS):
        yield


@pytest.fixture(scope="session")
def breast_cancer_split() -> tuple[np.ndarray, ...]:
    x, y = load_breast_cancer(return_X_y=True)
    return tuple(train_test_split(x, y, train_size=0.5, stratify=y, random_state=0))


@pytest.fixture(scope="session")
def overfit_model() -> tuple[MLPClassifier, tuple[np.ndarray, ...]]:
    """A 3-class MLP that memorises 300 noisy training records (strong membership signal)."""
    x, y = make_classification(
        n_samples=600, n_features=20, n_informative=5, n_classes=3, flip_y=0.2, random_state=0
    )
    x_in, x_out, y_in, y_out = train_test_split(x, y, train_size=0.5, stratify=y, random_state=0)
    model = MLPClassifier((128,), alpha=0.0, max_iter=800, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_in, y_in)
    return model, (x_in, x_out, y_in, y_out)


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> DemoLM:
    """The tiny causal language model of ``miaudit demo llm``, trained once per run (8 s on one
    idle core) and shared by every language-model test — and by every test worker: the first
    to need it trains and saves it (``safetensors``, under a lock in the run's temporary
    folder), the others load it.

    A :class:`miaudit.demo.lm.DemoLM`, which unpacks as ``target, members, nonmembers, other``:
    ``target`` is a ``CausalLMTarget`` (GPT-2 style, 2 layers, width 64, batch size 32) trained
    30 epochs on ``members``, 200 synthetic ledger texts; ``nonmembers`` are 200 fresh texts of
    the same generator; ``other`` are 200 more, on which the byte-level BPE tokenizer was trained
    (never on members or non-members) — use them for reference or neighbour models. Seed 0,
    trained on one torch thread: the same weights in every session on a machine. Observed:
    lm-loss AUC 0.92 ± 0.03, the blind baseline 0.54.

    Shared, so never train it further or change its weights or its tokenizer; reading, saving
    and auditing it are fine. Take ``members[:n]`` / ``nonmembers[:n]`` for a cheaper audit."""
    pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    from filelock import FileLock

    from miaudit.demo.lm import DemoLM, demo_lm, demo_texts
    from miaudit.targets.lm import CausalLMTarget

    # the run's folder (shared by the workers of this run only), or this session's without xdist
    base = tmp_path_factory.getbasetemp()
    run = base.parent if worker_id != "master" else base
    folder = run / "tiny-lm"
    with FileLock(str(run / "tiny-lm.lock")):
        if not (folder / "complete").exists():
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # the same weights whatever OMP_NUM_THREADS says
            try:
                made = demo_lm(seed=0)  # the defaults of `miaudit demo llm`: n=200, epochs=30
            finally:
                torch.set_num_threads(threads)
            made.target.model.save_pretrained(folder)
            made.target.tokenizer.save_pretrained(folder)
            (folder / "complete").touch()
            return made
    target = CausalLMTarget.from_pretrained(folder, batch_size=32)
    return DemoLM(target, *demo_texts(seed=0))  # demo_lm(seed=0)'s records


#: ``cli(*args, cwd=None, env=None)``: see :func:`cli`
CliRun = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="session")
def cli() -> CliRun:
    """Run ``miaudit ARGS`` in this process with click's runner, as ``cli(*args, cwd=PATH,
    env={NAME: VALUE or None})``, and get a ``subprocess.CompletedProcess`` back: the same exit
    code, stdout and stderr as ``python -m miaudit ARGS`` in a subprocess, without paying the
    imports again (tests/cli_in_process.py). ``env`` is laid over ``os.environ`` for the call;
    None removes a variable."""

    def run(
        *args: str, cwd: Path | None = None, env: Mapping[str, str | None] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run_in_process(args, cwd=cwd, env=env)

    return run
