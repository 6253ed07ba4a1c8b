"""Ray, the one module that starts it (``--dist loadfile`` runs a module's tests in one worker,
so two Rays never share the machine): first a local Ray started in the test process
(``ray.init``) under ``audit`` and ``compare``; then Ray as teams run it — a cluster started
beforehand (``ray start --head``, a second node with ``ray start --address``), token
authentication on, and ``miaudit audit --executor ray --ray-address HOST:PORT`` from another
process — quiet, and giving the local executor's scores."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from overfit import overfit_task
from sklearn.neural_network import MLPClassifier

import miaudit
from cli_in_process import run_in_process
from miaudit import audit
from miaudit.errors import InputError
from miaudit.executors.ray import ray_session
from miaudit.training import EnsembleRecipe, SklearnRecipe

# never skipped: ray is a test extra, and its command lies beside this Python
RAY = shutil.which("ray", path=str(Path(sys.executable).parent))
if RAY is None:
    raise RuntimeError("the ray command is missing: pip install -c constraints.txt -e '.[test]'")


@pytest.fixture(scope="class")
def local_ray() -> Iterator[None]:
    """A local Ray in the test process, started as miaudit starts one for a run
    (``ray_session`` without an address), shared by the tests of one class and shut down
    before the cluster below starts."""
    pytest.importorskip("ray")
    with ray_session(None):
        yield


def _purchase_like(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Binary records around 10 prototypes (as in tests/defences/test_compare.py)."""
    rng = np.random.default_rng(0)
    prototypes = rng.random((10, 60)) < 0.25
    y = rng.integers(0, 10, n)
    return (prototypes[y] ^ (rng.random((n, 60)) < 0.3)).astype(np.float64), y


def _mlp(alpha: float = 0.0) -> MLPClassifier:
    return MLPClassifier((32,), alpha=alpha, max_iter=150, random_state=0)


@pytest.mark.usefixtures("local_ray")
class TestLocalRay:
    def test_audit_gives_the_same_scores_as_inline(self) -> None:
        task = overfit_task(0)  # target, members, non-members, population
        kwargs = dict(
            attacks=["lira-offline", "rmia-offline", "shadow"], reference_models=2, seed=0
        )
        inline = audit(*task, executor="inline", **kwargs)
        on_ray = audit(*task, executor="ray", **kwargs)
        assert on_ray.reference["trained"] == 2
        for name in kwargs["attacks"]:
            np.testing.assert_array_equal(
                on_ray.score_table.scores[name], inline.score_table.scores[name]
            )
        with pytest.raises(InputError, match="not 'local'"):
            audit(*task, executor="local", ray_address="127.0.0.1:1", **kwargs)
        # connected already (the fixture's Ray), asked for another cluster: never a silent run
        # on the wrong one
        with socket.socket() as other:
            other.bind(("127.0.0.1", 0))
            other.listen()
            elsewhere = f"127.0.0.1:{other.getsockname()[1]}"
            for address in (elsewhere, f"ray://{elsewhere}"):  # a client port: unverifiable
                with pytest.raises(InputError, match="already connected to the Ray cluster at"):
                    audit(*task, executor="ray", ray_address=address, **kwargs)
        # an address nobody answers at fails at once (ray.init alone would retry forever)
        for address, message in [
            ("127.0.0.1:1", "cannot reach the Ray cluster"),
            ("head-node", "expected HOST:PORT"),
        ]:
            with pytest.raises(InputError, match=message):
                audit(*task, executor="ray", ray_address=address, **kwargs)

    def test_its_workers_are_not_niced(self) -> None:
        """Ray's default worker niceness (15) starves the workers beside any other work (a
        12-task map beside four busy loops: not done in 200 s; at 0, 39 s): the local Ray
        miaudit starts runs them at 0, as the local executor's processes run."""
        import ray

        def niceness() -> int:  # defined here: Ray sends it by value
            return os.nice(0)

        assert ray.get(ray.remote(niceness).remote()) == 0

    def test_every_executor_trains_the_same_variants(self) -> None:
        x, y = _purchase_like(1200)
        sets = ((x[:400], y[:400]), (x[400:800], y[400:800]), (x[800:], y[800:]))
        variants = {
            "baseline": _mlp(),
            "l2": _mlp(alpha=3.0),
            "ensemble": EnsembleRecipe(SklearnRecipe(_mlp()), members=2),
            "rounded API": ("baseline", "round:1"),
        }
        kwargs = dict(attacks=["loss", "gap", "lira-offline"], reference_models=2)
        tables = {}
        for executor in ("inline", "local", "ray"):
            found = miaudit.compare(variants, *sets, executor=executor, **kwargs)
            tables[executor] = [
                {k: v for k, v in row.items() if k != "train_seconds"}
                for row in found.to_dict()["variants"]
            ]
        assert tables["local"] == tables["inline"]
        assert tables["ray"] == tables["inline"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ray(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([RAY, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A two-node cluster on 127.0.0.1 with a token of its own (HOME is a fresh folder, so
    ~/.ray/auth_token is this cluster's). Stopped after the module."""
    home = tmp_path_factory.mktemp("ray-home")
    env = {
        **os.environ,
        "HOME": str(home),
        "OMP_WAIT_POLICY": "PASSIVE",
        "RAY_USAGE_STATS_ENABLED": "0",
        # Ray's default worker niceness (15) starves the workers while the other test worker
        # or anything else runs (the map test below timed out beside four busy loops)
        "RAY_worker_niceness": "0",
    }
    env.pop("RAY_AUTH_MODE", None)
    env.pop("RAY_ADDRESS", None)
    _ray(env, "get-auth-token", "--generate")  # ray start --head then turns tokens on
    assert (home / ".ray" / "auth_token").is_file()
    address = f"127.0.0.1:{_free_port()}"
    node = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
    try:
        _ray(
            env,
            "start",
            "--head",
            "--port",
            address.split(":")[1],
            "--include-dashboard",
            "false",
            *node,
        )
        # a worker node joins with the token, as Ray's docs say: RAY_AUTH_MODE=token
        _ray({**env, "RAY_AUTH_MODE": "token"}, "start", "--address", address, *node)
        yield address, env
    finally:
        subprocess.run([RAY, "stop", "--force", "--grace-period", "1"], env=env,
                       capture_output=True, timeout=120)  # fmt: skip


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory, overfit_model: tuple) -> Path:
    root = tmp_path_factory.mktemp("ray-records")
    model, (x_in, x_out, y_in, y_out) = overfit_model
    joblib.dump(model, root / "model.joblib")
    for name, x, y in (("members", x_in, y_in), ("nonmembers", x_out, y_out)):
        frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
        frame["label"] = y
        frame.to_csv(root / f"{name}.csv", index=False)
    return root


def _audit_args(root: Path, out: Path, *extra: str) -> list[str]:
    return [
        "audit", "--model", str(root / "model.joblib"),
        "--trust-model-file", "--members", str(root / "members.csv"), "--nonmembers",
        str(root / "nonmembers.csv"), "--reference-models", "4", "--attacks",
        "loss,shadow,lira-offline", "--no-tune", "--format", "csv", "--quiet", "--out", str(out),
        *extra,
    ]  # fmt: skip


def _audit(root: Path, env: dict[str, str], out: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "miaudit", *_audit_args(root, out, *extra)]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)


def test_an_audit_on_a_running_cluster_by_address(
    cluster: tuple[str, dict[str, str]], records: Path, tmp_path: Path
) -> None:
    address, env = cluster
    on_ray = _audit(records, env, tmp_path / "ray", "--executor", "ray", "--ray-address", address)
    # RAY_AUTH_MODE is not set: miaudit finds the token and sends it
    assert on_ray.returncode == 0, on_ray.stderr
    assert on_ray.stderr == "", on_ray.stderr  # --quiet: not one Ray log line
    # the same audit here, in this process, without Ray (the executors agree: tests/executors)
    local = run_in_process(_audit_args(records, tmp_path / "local", "--executor", "inline"))
    assert local.returncode == 0, local.stderr
    scores = pd.read_csv(tmp_path / "ray" / "scores.csv")
    pd.testing.assert_frame_equal(scores, pd.read_csv(tmp_path / "local" / "scores.csv"))
    assert {"score_shadow", "score_lira-offline"} <= set(scores.columns)


#: Run in a process of its own (the cluster's HOME and token): the Ray executor's map on the
#: running cluster, its payload prepared once per worker process.
_MAP_ON_THE_CLUSTER = """
import os, sys
from pathlib import Path
from miaudit.executors import create

log = Path(sys.argv[2])

def prepare(shared):
    with log.open("a") as handle:
        handle.write(f"{os.getpid()}\\n")
    return shared, os.getpid()

def work(state, item):
    (factor, prepared_in), pid = state, os.getpid()
    assert prepared_in == pid, "state prepared in another process"
    return item * factor, pid

executor = create("ray", address=sys.argv[1])
results = list(executor.map(work, list(range(12)), shared=10, prepare=prepare))
assert sorted(value for value, _ in results) == [10 * i for i in range(12)], results
ordered = create("ray", address=sys.argv[1], workers=1).map_ordered(work, [3, 1, 2], 2, prepare)
assert [value for value, _ in ordered] == [6, 2, 4], ordered
loads = log.read_text().split()
assert len(loads) == len(set(loads)), loads  # each worker process prepared it once per map
assert {pid for _, pid in results} <= {int(p) for p in loads}
print("ok", len(set(loads)))
"""


def test_the_ray_executor_maps_with_a_payload_prepared_once_per_worker(
    cluster: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    address, env = cluster
    script = tmp_path / "map.py"
    script.write_text(_MAP_ON_THE_CLUSTER)
    done = subprocess.run(
        [sys.executable, str(script), address, str(tmp_path / "prepared.txt")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok"), done.stdout


def test_a_refused_token_is_explained() -> None:
    """What Ray 2.60 writes when the head refuses a token (copied from a real run against the
    cluster above, which takes Ray's 20-s connection timeout to fail) becomes the fix."""
    from miaudit.executors.ray import _explain

    ray_log = (
        "[2026-11-30 05:10:38,460 W 20670 20670] gcs_client.cc:210: Failed to get cluster ID "
        "from GCS server: Unauthenticated: RPC error: InvalidAuthToken: Authentication token "
        "is missing or incorrect\n"
    )
    message = _explain("127.0.0.1:6379", ConnectionError("Failed to connect"), ray_log)
    assert "refused this client's token" in message and "ray get-auth-token" in message
    assert "RAY_AUTH_TOKEN" in message
    other = _explain("127.0.0.1:6379", ConnectionError("boom"), "some other line\n")
    assert "cannot connect" in other and "some other line" in other


def test_no_other_module_starts_ray() -> None:
    """The other half of the one-Ray rule: ``ray.init`` and ``ray start`` appear in this
    module only (other tests may name the executor, but only to see it refused)."""
    here = Path(__file__).resolve()
    starts = [
        path.relative_to(here.parents[2])
        for path in here.parents[1].rglob("*.py")
        if path != here
        and ("ray.init(" in path.read_text() or '"start", "--head"' in path.read_text())
    ]
    assert starts == [], f"move these Ray tests into {here.name}: {starts}"
