"""Executors for real (inline and a local process pool; Ray through the running cluster of
tests/training/test_ray_cluster.py): results, order, the shared payload sent and prepared once
per worker, one native thread per worker, errors, the registry, and sharded target scoring."""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_info, threadpool_limits

from miaudit.data import RecordSet
from miaudit.errors import InputError, MissingExtraError
from miaudit.executors import Executor, ExecutorName, create, in_worker
from miaudit.executors.interface import portable_error
from miaudit.targets.lm import TokenStats
from miaudit.targets.sklearn import SklearnTarget
from miaudit.training.sharded import join_answers, shard_records, sharded_outputs

EXECUTORS = [create("inline"), create("local", workers=2)]


def _square(offset: int, item: int) -> int:
    return item * item + offset


def _slow_reverse(_shared: None, item: int) -> int:
    time.sleep(0.02 * (5 - item))  # the first items finish last
    return item


def _log_prepare(log: Path) -> Path:
    with log.open("a") as handle:
        handle.write(f"{os.getpid()}\n")
    return log


def _pid(log: Path, _item: int) -> int:
    return os.getpid()


def _worker_facts(_shared: None, _item: int) -> tuple[bool, set[int]]:
    time.sleep(0.05)  # both workers take an item
    return in_worker(), {int(p["num_threads"]) for p in threadpool_info()}


def _fails(_shared: None, item: int) -> int:
    if item == 3:
        raise InputError("item 3 is bad")
    return item


@pytest.mark.parametrize("executor", EXECUTORS, ids=lambda e: e.name)
def test_map_gives_every_result_and_map_ordered_keeps_the_order(executor: Executor) -> None:
    items = list(range(10))
    assert sorted(executor.map(_square, items, shared=1)) == [i * i + 1 for i in items]
    assert executor.map_ordered(_slow_reverse, [0, 1, 2, 3, 4]) == [0, 1, 2, 3, 4]
    assert list(executor.map(_square, [], shared=1)) == []


def _held_until_released(release: Path, item: int) -> tuple[int, float]:
    """Item 0 waits (up to two minutes) until the caller has received another item's result and
    released it; the others return at once. Also how long it waited."""
    start = time.monotonic()
    while item == 0 and not release.exists() and time.monotonic() - start < 120:
        time.sleep(0.01)
    return item, time.monotonic() - start


def test_the_local_pool_yields_results_as_they_finish(tmp_path: Path) -> None:
    """No clock to lose to a busy machine: item 0 is held until the caller has a result of
    another item in hand, which a pool that yields in submission order never gives it."""
    release = tmp_path / "release"
    results = create("local", workers=2).map(_held_until_released, [0, 1, 2], shared=release)
    first, _ = next(results)
    release.touch()
    rest = list(results)
    assert first != 0, f"item 0 came first, after waiting {rest}"
    assert sorted([first, *(item for item, _ in rest)]) == [0, 1, 2]


@pytest.mark.parametrize("executor", EXECUTORS, ids=lambda e: e.name)
def test_the_shared_payload_is_prepared_once_per_worker(executor: Executor, tmp_path: Path) -> None:
    log = tmp_path / "prepared.txt"
    pids = list(executor.map(_pid, list(range(12)), shared=log, prepare=_log_prepare))
    prepared = [int(line) for line in log.read_text().split()]
    assert len(prepared) == len(set(prepared))  # no worker prepared twice
    assert set(pids) <= set(prepared)  # every item ran with its worker's prepared state
    assert len(prepared) == (1 if executor.name == "inline" else 2)
    if executor.name == "inline":
        assert prepared == [os.getpid()]


def test_local_workers_run_one_native_thread_each_and_know_they_are_workers() -> None:
    with threadpool_limits(limits=2):  # the workers start from the caller's settings
        facts = list(create("local", workers=2).map(_worker_facts, [0, 1]))
    assert all(inside for inside, _ in facts)
    assert all(threads == {1} for _, threads in facts), facts
    assert not in_worker()
    assert list(create("inline").map(_worker_facts, [0])) == [(False, _worker_facts(None, 0)[1])]


@pytest.mark.parametrize("executor", EXECUTORS, ids=lambda e: e.name)
def test_an_error_in_one_item_is_raised_to_the_caller(executor: Executor) -> None:
    with pytest.raises(InputError, match="item 3 is bad"):
        list(executor.map(_fails, list(range(6))))


def _corrupt_model(_shared: None) -> None:
    raise InputError("cannot load the target in the worker: model.onnx is corrupt")


def _needs_onnx(_shared: None, item: int) -> int:
    if item == 1:
        raise MissingExtraError("onnxruntime", "onnx", "Loading ONNX")
    return item


class _OddError(Exception):
    """An error pickle cannot rebuild (its ``__init__`` takes two arguments, ``args`` holds
    one): sent back as it is, it would break the pool."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def _odd(_shared: None, item: int) -> int:
    if item == 2:
        raise _OddError("item 2", "odd")
    return item


@pytest.mark.parametrize("executor", EXECUTORS, ids=lambda e: e.name)
def test_an_error_in_prepare_reaches_the_caller_as_itself(executor: Executor) -> None:
    # the pool used to report "terminated abruptly" (BrokenProcessPool); the message only
    # reached the worker's stderr
    with pytest.raises(InputError, match=r"model\.onnx is corrupt"):
        executor.map_ordered(_square, [1, 2, 3, 4], None, _corrupt_model)


@pytest.mark.parametrize("executor", EXECUTORS, ids=lambda e: e.name)
def test_a_missing_extra_in_a_worker_reaches_the_caller_whole(executor: Executor) -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'miaudit\[onnx\]'") as caught:
        executor.map_ordered(_needs_onnx, [1, 2, 3, 4])
    assert (caught.value.package, caught.value.extra) == ("onnxruntime", "onnx")
    assert caught.value.feature == "Loading ONNX"


def test_an_error_pickle_cannot_rebuild_arrives_named() -> None:
    with pytest.raises(RuntimeError, match=r"_OddError: item 2: odd"):
        create("local", workers=2).map_ordered(_odd, [1, 2, 3, 4])
    fine = InputError("x")
    assert portable_error(fine) is fine


@pytest.mark.parametrize("executor", EXECUTORS, ids=lambda e: e.name)
def test_a_factory_that_builds_no_target_is_named_from_any_executor(executor: Executor) -> None:
    with pytest.raises(InputError, match="not a miaudit target"):
        sharded_outputs(partial(np.zeros, 3), _records(), executor, shards=4)


def test_what_cannot_be_pickled_is_refused_by_the_pool_and_fine_inline() -> None:
    closure = lambda state, item: state + item  # noqa: E731
    with pytest.raises(InputError, match="the function cannot be sent to worker processes"):
        list(create("local", workers=2).map(closure, [1, 2], shared=1))
    with pytest.raises(InputError, match="the shared payload cannot be sent"):
        list(create("local", workers=2).map(_square, [1, 2], shared=lambda: 0))
    assert sorted(create("inline").map(closure, [1, 2], shared=1)) == [2, 3]
    # one worker, or one item: no pool, nothing to pickle
    assert list(create("local", workers=1).map(closure, [1, 2], shared=1)) == [2, 3]
    assert create("local", workers=2).pickles(2) and not create("local").pickles(1)


def test_the_registry_by_name_and_its_messages() -> None:
    assert [e.value for e in ExecutorName] == ["local", "inline", "ray"]
    assert type(create()).__name__ == "LocalExecutor"
    for name in ExecutorName:
        assert create(name).name == name.value == create(name.value).name
    ray = create("ray", address="127.0.0.1:6379", workers=3)
    assert (ray.address, ray.workers) == ("127.0.0.1:6379", 3)  # type: ignore[attr-defined]
    with pytest.raises(InputError, match=r"executor 'x' is not available; use one of local, "):
        create("x")
    with pytest.raises(InputError, match="a cluster address is for executor 'ray', not 'local'"):
        create(None, address="127.0.0.1:6379")
    with pytest.raises(InputError, match="a cluster address is for executor 'ray', not 'inline'"):
        create("inline", address="127.0.0.1:6379")
    with pytest.raises(InputError, match="workers must be at least 1"):
        create("local", workers=0)


# ---------------------------------------------------------------- sharded target scoring
def _records(n: int = 203) -> RecordSet:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 5))
    return RecordSet.from_arrays(x, (x[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int))


def _fitted_tree(log: Path | None = None) -> SklearnTarget:
    """The factory each worker calls once (it logs its process id to count the loads): a
    tree answers row by row, so any cut gives the same bits."""
    if log is not None:
        with log.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
    records = _records()
    tree = DecisionTreeClassifier(max_depth=4, random_state=0)
    return SklearnTarget(tree.fit(records.features, records.labels))


def _fitted_linear(batch_size: int) -> SklearnTarget:
    """A linear model (BLAS), queried in batches of ``batch_size`` rows."""
    records = _records()
    model = LogisticRegression().fit(records.features, records.labels)
    return SklearnTarget(model, batch_size=batch_size)


@pytest.mark.parametrize("executor", EXECUTORS, ids=lambda e: e.name)
def test_sharded_scoring_equals_one_call_and_loads_once_per_worker(
    executor: Executor, tmp_path: Path
) -> None:
    records = _records()
    whole = _fitted_tree().outputs(records)
    log = tmp_path / "loads.txt"
    for shards in (1, 3, 7, 500):
        log.unlink(missing_ok=True)
        sharded = sharded_outputs(partial(_fitted_tree, log), records, executor, shards)
        assert sharded.kind is whole.kind and sharded.n_classes == whole.n_classes
        np.testing.assert_array_equal(sharded.values, whole.values)  # identical, in order
        loads = [int(line) for line in log.read_text().split()]
        assert len(loads) == len(set(loads)) <= (executor.workers or 1)  # once per worker


@pytest.mark.parametrize("executor", EXECUTORS, ids=lambda e: e.name)
def test_shards_in_multiples_of_the_batch_round_as_one_call(executor: Executor) -> None:
    records = _records()
    whole = _fitted_linear(40).outputs(records)
    factory = partial(_fitted_linear, 40)
    sharded = sharded_outputs(factory, records, executor, shards=3, multiple=40)
    np.testing.assert_array_equal(sharded.values, whole.values)  # to the last bit
    loose = sharded_outputs(factory, records, executor, shards=7)  # cut inside batches
    np.testing.assert_allclose(loose.values, whole.values, rtol=1e-12, atol=1e-12)


def test_sharded_scoring_refuses_a_factory_that_builds_no_target() -> None:
    with pytest.raises(InputError, match="not a miaudit target"):
        sharded_outputs(partial(np.zeros, 3), _records(), create("inline"))


def test_records_are_cut_into_contiguous_shards_in_order() -> None:
    records = _records(10)
    pieces = shard_records(records, 3)
    assert [len(p) for p in pieces] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([p.ids for p in pieces]), records.ids)
    np.testing.assert_array_equal(np.concatenate([p.features for p in pieces]), records.features)
    assert len(shard_records(records, 50)) == 10
    assert [len(p) for p in shard_records(records, 3, multiple=3)] == [6, 4]


def test_token_statistics_of_shards_join_text_after_text() -> None:
    def stats(counts: list[int], start: float) -> TokenStats:
        n = sum(counts)
        values = np.arange(n, dtype=np.float64) + start
        return TokenStats(np.r_[0, np.cumsum(counts)], values, values + 1, values + 2, values > 0)

    joined = join_answers([stats([2, 3], 0.0), stats([1], 5.0), stats([4, 1], 6.0)])
    whole = stats([2, 3, 1, 4, 1], 0.0)
    for name in ("offsets", "logp", "mean", "std", "correct"):
        np.testing.assert_array_equal(getattr(joined, name), getattr(whole, name))
