"""Fuzzing every reader through the command line (in process, with click's runner): outputs
tables (CSV, Parquet, NPZ), record files (CSV, Parquet, NPZ; JSON Lines texts through their
reader), configs (TOML, YAML), baselines and reference-outputs files. Each generated file is
malformed by construction — a valid file with one corruption that makes it invalid, or bytes
that are no table at all — and must give exit 2 with an ``error:`` line, never a traceback
(click's runner returns the uncaught exception) and never exit 1 (CI reads 1 as a failed gate).
Configs and baselines whose random values can be valid may also exit 0 (or 1 for a baseline
regression); they must never raise. Examples are derandomised: the same files on every run."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miaudit.cli import main
from miaudit.errors import InputError

#: MIAUDIT_FUZZ_EXAMPLES=2000 MIAUDIT_FUZZ_RANDOM=1 for a longer, fresh hunt;
#: MIAUDIT_FUZZ_LOG=FILE tallies every run's exit code.
FUZZ = settings(
    max_examples=int(os.environ.get("MIAUDIT_FUZZ_EXAMPLES", "100")),
    deadline=None,
    derandomize=not os.environ.get("MIAUDIT_FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
N = 60  # records in the valid base files: 30 members, 30 non-members


def run(*args: str) -> Any:
    """The command in process; an audit writes into a fresh folder, never the working one."""
    extra = ["--out", str(fresh(""))] if args[0] == "audit" and "--out" not in args else []
    result = CliRunner().invoke(main, [*args, *extra], catch_exceptions=True)
    log = os.environ.get("MIAUDIT_FUZZ_LOG")  # a tally for the record: test, exit code, raised
    if log:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").split("::")[-1].split(" ")[0]
        raised = result.exception is not None and not isinstance(result.exception, SystemExit)
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{test}\t{result.exit_code}\t{int(raised)}\n")
    return result


def assert_clear_exit_2(result: Any, what: str) -> None:
    """Exit 2 and an ``error:`` line; an uncaught exception fails with its traceback."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{what}: uncaught {result.exception!r}") from result.exception
    assert result.exit_code == 2, (what, result.exit_code, result.output)
    assert "error" in result.output.lower(), (what, result.output)


def assert_never_raises(result: Any, what: str, allowed: tuple[int, ...] = (0, 2)) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{what}: uncaught {result.exception!r}") from result.exception
    assert result.exit_code in allowed, (what, result.exit_code, result.output)


# ------------------------------------------------------------------ base files
def base_outputs() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(N, 3))
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(N)],
            "label": rng.integers(0, 3, N),
            "member": [1] * (N // 2) + [0] * (N // 2),
            **{f"logit_{k}": logits[:, k] for k in range(3)},
        }
    )


def base_records(members: bool) -> pd.DataFrame:
    rng = np.random.default_rng(1 if members else 2)
    frame = pd.DataFrame(rng.normal(size=(N // 2, 4)), columns=[f"f{i}" for i in range(4)])
    frame["label"] = rng.integers(0, 2, N // 2)
    return frame


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid outputs table, a model, member and non-member files, and a valid report."""
    import joblib
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("fuzz")
    base_outputs().to_csv(root / "outputs.csv", index=False)
    members, nonmembers = base_records(True), base_records(False)
    members.to_csv(root / "members.csv", index=False)
    nonmembers.to_csv(root / "nonmembers.csv", index=False)
    model = LogisticRegression().fit(members.drop(columns="label"), members["label"])
    joblib.dump(model, root / "model.joblib")
    done = run(
        "audit", "--outputs", str(root / "outputs.csv"), "--attacks", "loss", "--format",
        "json", "--quiet", "--out", str(root / "report"),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    return root


#: This module's folder for one-off files, under pytest's own temporary folders (which pytest
#: prunes): Hypothesis' examples cannot take a function-scoped ``tmp_path``.
_FRESH: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _fresh_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    _FRESH[:] = [tmp_path_factory.mktemp("fresh")]


def fresh(suffix: str) -> Path:
    """A path no example used before (in a folder of its own)."""
    return Path(tempfile.mkdtemp(dir=_FRESH[0])) / f"file{suffix}"


# ------------------------------------------------------------------ corruptions
NOT_NUMBERS = st.one_of(
    st.text(min_size=1, max_size=12).filter(lambda s: not _is_number(s)),
    st.sampled_from(["nan", "inf", "-inf", "", "1e400", "0x1F", "1,5", "true", "∞"]),
)


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


@st.composite
def broken_table(draw: Callable[..., Any], base: pd.DataFrame, numeric: list[str]) -> Any:
    """The base table with one corruption that makes it invalid."""
    frame = base.copy().astype(object)
    how = draw(st.sampled_from(["cell", "drop", "duplicate-id", "out-of-range", "header", "few"]))
    if how == "cell":
        row = draw(st.integers(0, len(frame) - 1))
        frame.loc[row, draw(st.sampled_from(numeric))] = draw(NOT_NUMBERS)
    elif how == "drop":
        frame = frame.drop(columns=draw(st.sampled_from(["label", *numeric[:1]])))
    elif how == "duplicate-id" and "id" in frame:
        frame.loc[draw(st.integers(1, len(frame) - 1)), "id"] = frame.loc[0, "id"]
    elif how in ("out-of-range", "duplicate-id"):
        value = draw(st.sampled_from([-1, 7, 2.5, 10**30]))
        frame.loc[draw(st.integers(0, len(frame) - 1)), "label"] = value
    elif how == "header":
        frame.columns = [draw(st.text(max_size=8)) + f"x{i}" for i in range(frame.shape[1])]
    else:
        frame = frame.head(draw(st.integers(0, 3)))
    return frame


def _write_table(frame: pd.DataFrame, suffix: str) -> Path:
    path = fresh(suffix)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:  # Parquet: mixed columns as strings, as a careless export would write them
        frame.astype({c: str for c in frame.columns if frame[c].dtype == object}).to_parquet(path)
    return path


RANDOM_BYTES = st.binary(min_size=0, max_size=400)


# ------------------------------------------------------------------ outputs tables
@FUZZ
@given(data=st.data(), suffix=st.sampled_from([".csv", ".parquet"]))
def test_fuzzed_outputs_tables_exit_2(project: Path, data: Any, suffix: str) -> None:
    numeric = ["label", "logit_0", "logit_1", "logit_2"]  # an empty member cell is valid
    frame = data.draw(broken_table(base_outputs(), numeric))
    if data.draw(st.booleans()) and "member" in frame:
        frame.loc[0, "member"] = data.draw(st.sampled_from([2, -1, 0.5, "yes", "member"]))
    path = _write_table(frame, suffix)
    assert_clear_exit_2(run("audit", "--outputs", str(path), "--quiet"), f"{suffix} {frame}")


@FUZZ
@given(raw=RANDOM_BYTES, suffix=st.sampled_from([".csv", ".parquet", ".npz"]))
def test_random_bytes_as_an_outputs_table_exit_2(project: Path, raw: bytes, suffix: str) -> None:
    path = fresh(suffix)
    path.write_bytes(raw)
    assert_clear_exit_2(run("audit", "--outputs", str(path), "--quiet"), repr(raw[:60]))


def _weird_array(draw: Callable[..., Any], n: int) -> np.ndarray:
    return draw(
        st.sampled_from(
            [
                np.zeros(n),
                np.zeros((n, 3, 2)),
                np.zeros((n, 1)),
                np.zeros((n + 1, 3)),
                np.zeros((0,)),
                np.array(5.0),
                np.array(["a"] * n),
                np.full((n, 3), np.nan),
                np.full((n, 3), 1j),
                np.zeros((n, 3), dtype=bool),
                np.array([b"x"] * n),
                np.datetime64("2020-01-01") + np.arange(n),
            ]
        )
    )


@FUZZ
@given(data=st.data())
def test_fuzzed_outputs_npz_exit_2(project: Path, data: Any) -> None:
    frame = base_outputs()
    arrays: dict[str, Any] = {
        "id": frame["id"].to_numpy().astype(str),
        "label": frame["label"].to_numpy(),
        "member": frame["member"].to_numpy(),
        "logits": frame[[f"logit_{k}" for k in range(3)]].to_numpy(),
    }
    how = data.draw(st.sampled_from(["replace", "drop", "extra", "both"]))
    key = data.draw(st.sampled_from(sorted(arrays)))
    if how == "replace":
        arrays[key] = _weird_array(data.draw, N)
        if key == "id" and arrays[key].ndim == 1 and len(arrays[key]) == N:
            arrays[key] = np.zeros(N)  # N equal ids: duplicates
        if key == "logits" and arrays[key].dtype == bool:
            arrays[key] = np.zeros((N, 1))
    elif how == "drop":
        del arrays[key]
    elif how == "extra":
        arrays[data.draw(st.text(min_size=1, max_size=8).filter(str.isidentifier))] = np.zeros(N)
        arrays.setdefault("probs", np.zeros((N, 3)))
    else:
        arrays["probs"] = np.full((N, 3), 1 / 3)
    path = fresh(".npz")
    np.savez(path, **arrays)
    assert_clear_exit_2(run("audit", "--outputs", str(path), "--quiet"), f"{how} {key}")


# ------------------------------------------------------------------ record files
@FUZZ
@given(data=st.data(), suffix=st.sampled_from([".csv", ".parquet"]))
def test_fuzzed_record_files_exit_2(project: Path, data: Any, suffix: str) -> None:
    frame = data.draw(broken_table(base_records(True), ["label", "f0", "f1", "f2", "f3"]))
    if data.draw(st.booleans()):
        frame = frame.assign(**{"sample id": [f"s{i}" for i in range(len(frame))]})
    path = _write_table(frame, suffix)
    result = run(
        "audit", "--model", str(project / "model.joblib"), "--trust-model-file", "--members",
        str(path), "--nonmembers", str(project / "nonmembers.csv"), "--quiet",
    )  # fmt: skip
    assert_clear_exit_2(result, f"{suffix} {frame}")


@FUZZ
@given(data=st.data())
def test_fuzzed_record_npz_exit_2(project: Path, data: Any) -> None:
    records = base_records(True)
    arrays: dict[str, Any] = {
        "features": records.drop(columns="label").to_numpy(),
        "labels": records["label"].to_numpy(),
    }
    key = data.draw(st.sampled_from(["features", "labels", "ids"]))
    arrays[key] = _weird_array(data.draw, N // 2)
    if key == "ids" and arrays[key].ndim == 1 and len(arrays[key]) == N // 2:
        arrays[key] = np.zeros(N // 2)  # duplicate ids
    if key == "labels" and arrays[key].ndim == 1 and len(arrays[key]) == N // 2:
        arrays[key] = np.full(N // 2, np.nan)
    path = fresh(".npz")
    np.savez(path, **arrays)
    result = run(
        "audit", "--model", str(project / "model.joblib"), "--trust-model-file", "--members",
        str(path), "--nonmembers", str(project / "nonmembers.csv"), "--quiet",
    )  # fmt: skip
    assert_clear_exit_2(result, f"{key} {arrays[key]!r:.80}")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
JSONL_LINES = st.one_of(
    st.text(max_size=30),
    st.builds(json.dumps, JSON_VALUES),
    st.builds(
        lambda text, id_: json.dumps({"text": text, "id": id_}),
        st.one_of(st.text(max_size=20), JSON_VALUES),
        JSON_VALUES,
    ),
)


@FUZZ
@given(lines=st.lists(JSONL_LINES, max_size=6), with_ids=st.booleans())
def test_fuzzed_jsonl_texts_raise_input_errors_only(lines: list[str], with_ids: bool) -> None:
    """JSON Lines texts (language-model records) through their reader: each file is read or
    refused with an InputError naming the problem; nothing else escapes."""
    from miaudit.data.texts import TextRecords

    path = fresh(".jsonl")
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        texts = TextRecords.from_file(path, id_column="id" if with_ids else None, name="members")
    except InputError as exc:
        assert str(exc)
    else:
        assert len(texts) > 0 and all(isinstance(t, str) for t in texts.texts)


# ------------------------------------------------------------------ configs
AUDIT_KEYS = [
    "seed", "delta", "confidence", "fprs", "dp_epsilon", "top_records", "reference_models",
    "reference_train_size", "executor", "attacks", "allow_overlap", "sensitive_data", "tune",
    "attack_params", "reference_design", "ray_address", "cache_dir",
]  # fmt: skip
NASTY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.one_of(st.integers(), st.floats(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)


@FUZZ
@given(data=st.data(), suffix=st.sampled_from([".yaml", ".toml"]))
def test_fuzzed_config_values(project: Path, data: Any, suffix: str) -> None:
    """A valid config (outputs target, the loss attack) with random values in 1–3 audit fields:
    exit 0 when they happen to be valid, else exit 2 naming the field."""
    fields = data.draw(st.dictionaries(st.sampled_from(AUDIT_KEYS), NASTY, min_size=1, max_size=3))
    config = {
        "target": {"kind": "outputs", "path": str(project / "outputs.csv")},
        "audit": {"attacks": ["loss"], **fields},
        "report": {"out": str(fresh("")), "formats": ["json"]},
    }
    path = fresh(suffix)
    if suffix == ".yaml":
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
    else:
        path.write_text(_toml(config), encoding="utf-8")
    result = run("audit", "--config", str(path), "--quiet")
    assert_never_raises(result, json.dumps(fields, default=str))


def _toml(config: dict[str, Any]) -> str:
    """A TOML writer for these configs; values TOML cannot hold (null, NaN as a string) are
    written as TOML would spell them or dropped."""
    lines = []
    for section, body in config.items():
        lines.append(f"[{section}]")
        for key, value in body.items():
            if value is not None and not isinstance(value, dict):
                lines.append(f"{key} = {_toml_value(value)}")
        for key, value in body.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items())
                lines.append(f"{key} = {{{inner}}}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else str(value)


@FUZZ
@given(raw=RANDOM_BYTES, suffix=st.sampled_from([".yaml", ".toml", ".yml"]))
def test_random_bytes_as_a_config_exit_2(raw: bytes, suffix: str) -> None:
    path = fresh(suffix)
    path.write_bytes(raw)
    assert_clear_exit_2(run("audit", "--config", str(path), "--quiet"), repr(raw[:60]))


@FUZZ
@given(
    document=st.recursive(
        NASTY, lambda inner: st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8
    )
)
def test_random_yaml_documents_as_a_config_exit_2(document: Any) -> None:
    """Any YAML document without a complete target is refused."""
    path = fresh(".yaml")
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert_clear_exit_2(run("audit", "--config", str(path), "--quiet"), repr(document)[:200])


# ------------------------------------------------------------------ baselines
def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))] or [path]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))] or [path]
    return [path]


@FUZZ
@given(data=st.data())
def test_fuzzed_baselines_never_raise(project: Path, data: Any) -> None:
    """A saved report with 1–3 values replaced by random ones (or keys removed): it loads and
    compares (exit 0, or 1 for a regression), or is refused with exit 2."""
    report = json.loads((project / "report" / "report.json").read_text())
    paths = _leaves(report)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(paths))
        node = report
        for step in where[:-1]:
            node = node[step]
        if not where:
            report = data.draw(NASTY)
            break
        if data.draw(st.booleans()) and isinstance(node, dict):
            node.pop(where[-1], None)
        else:
            node[where[-1]] = data.draw(NASTY)
        paths = _leaves(report) if isinstance(report, (dict, list)) else paths
    path = fresh(".json")
    path.write_text(json.dumps(report), encoding="utf-8")
    result = run(
        "audit", "--outputs", str(project / "outputs.csv"), "--attacks", "loss", "--format",
        "json", "--quiet", "--out", str(fresh("")), "--baseline", str(path),
    )  # fmt: skip
    assert_never_raises(result, json.dumps(report)[:300], allowed=(0, 1, 2))


@FUZZ
@given(raw=RANDOM_BYTES)
def test_random_bytes_as_a_baseline_exit_2(project: Path, raw: bytes) -> None:
    path = fresh(".json")
    path.write_bytes(raw)
    result = run(
        "audit", "--outputs", str(project / "outputs.csv"), "--quiet", "--baseline", str(path)
    )
    assert_clear_exit_2(result, repr(raw[:60]))


# ------------------------------------------------------------------ reference outputs
@FUZZ
@given(data=st.data())
def test_fuzzed_reference_outputs_exit_2(project: Path, data: Any) -> None:
    frame = base_outputs()
    m = 4
    arrays: dict[str, Any] = {
        "format": np.array("miaudit.reference-file/1"),
        "ids": frame["id"].to_numpy().astype(str),
        "kind": np.array("logits"),
        "outputs": np.zeros((m, N, 3)),
        "trained_on": np.arange(m * N).reshape(m, N) % 2 == 0,
        "classes": np.array(["0", "1", "2"]),
    }
    key = data.draw(st.sampled_from(sorted(arrays)))
    how = data.draw(st.sampled_from(["replace", "drop", "text"]))
    if how == "drop" and key != "classes":
        del arrays[key]
    elif how == "text":
        arrays[key] = np.array(data.draw(st.text(max_size=10)) + "?")
    else:
        arrays[key] = _weird_array(data.draw, N)
        if key == "classes":
            arrays[key] = np.array(["a", "b"])
    path = fresh(".npz")
    np.savez(path, **arrays)
    result = run(
        "audit", "--outputs", str(project / "outputs.csv"), "--quiet", "--reference-outputs",
        str(path),
    )  # fmt: skip
    assert_clear_exit_2(result, f"{how} {key}")


# ------------------------------------------------------------------ the first-hour cases
def _npz(path: Path, **arrays: Any) -> str:
    np.savez(path, **arrays)
    return str(path)


def _text(path: Path, text: str | bytes) -> str:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def _first_hour_cases(p: Path, t: Path) -> list[tuple[list[str], str]]:
    """The malformed inputs a new user tried (issue 15), each with what its message must say."""
    outputs = ["audit", "--outputs", str(p / "outputs.csv")]
    model = ["audit", "--model", str(p / "model.joblib"), "--trust-model-file"]
    records = ["--members", str(p / "members.csv"), "--nonmembers", str(p / "nonmembers.csv")]
    frame = base_outputs()
    outputs_cfg = f'[target]\nkind = "outputs"\npath = "{p / "outputs.csv"}"\n'
    ids = frame["id"].to_numpy().astype(str)
    labels, member = frame["label"].to_numpy(), frame["member"].to_numpy()
    logits = frame[[f"logit_{k}" for k in range(3)]].to_numpy()
    with_id = base_records(True).assign(sample_id=[f"s{i}" for i in range(N // 2)])
    with_id.to_csv(t / "with_id.csv", index=False)
    (t / "callable_mod.py").write_text(
        "import numpy as np\ndef predict(x):\n    return np.full((len(x) + 1, 2), 0.5)\n"
    )
    return [
        ([*outputs[:2], _npz(t / "a.npz", id=ids, label=labels, member=member,
                             logits=logits[:, 0])], "'logits' must be 2-D"),
        ([*outputs[:2], _npz(t / "b.npz", id=ids.astype(object), label=labels, member=member,
                             logits=logits)], "needs pickle"),
        ([*outputs, "--seed", "-1"], "seed must be from 0 to 2**32 - 1"),
        ([*outputs, "--seed", str(2**70)], "seed must be from 0 to 2**32 - 1"),
        (["audit", "--config", _text(t / "s.toml", outputs_cfg + "[audit]\nseed = 1e20\n")],
         "audit.seed"),
        (["audit", "--config", _text(t / "bin.toml", b"\x00\xff\xfe[target]\x80")],
         "must be UTF-8 text"),
        (["audit", "--config", _text(t / "r.toml", outputs_cfg + "[audit]\nreference_models"
                                     " = 1e17\n")], "reference_models"),
        ([*outputs, "--out", _text(t / "file", "") + "/report"], "--out"),
        ([*outputs, "--save-baseline", str(t / "file" / "b.json")], "--save-baseline"),
        ([*outputs, "--dp-epsilon", "nan"], "finite positive"),
        ([*outputs, "--dp-epsilon", "-1"], "finite positive"),
        ([*outputs, "--dp-epsilon", "inf"], "finite positive"),
        ([*outputs, "--dp-epsilon", "0"], "finite positive"),
        ([*model, "--members", str(t / "with_id.csv"), "--nonmembers",
          str(p / "nonmembers.csv")], "--id-column sample_id"),
        (["audit", "--model", _text(t / "m.pkl", b"not a pickle at all"), "--trust-model-file",
          *records], "not a readable joblib/pickle file"),
        ([*outputs, "--reference-models", "4"], "--reference-outputs FILE"),
        (["audit", "--config", _text(t / "c.toml", '[target]\nkind = "callable"\nfunction = '
          '"callable_mod:predict"\ntrust = true\nclasses = 2\n[data]\nmembers = "'
          f'{p / "members.csv"}"\nnonmembers = "{p / "nonmembers.csv"}"\n')],
         "returned 31 rows for 30 records"),
    ]  # fmt: skip


def test_the_first_hour_bad_inputs_exit_2(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))  # the callable target's module
    for args, message in _first_hour_cases(project, tmp_path):
        result = run(*args, "--quiet")
        assert_clear_exit_2(result, " ".join(args))
        assert message in result.output, (args, result.output)


def test_an_unwritable_out_is_refused_before_the_audit_runs(project: Path, tmp_path: Path) -> None:
    """The report folder is checked first: nothing is trained or scored for a run whose results
    could not be saved (the model file is never even loaded)."""
    (tmp_path / "file").write_text("")
    result = run(
        "audit", "--model", str(tmp_path / "never-read.joblib"), "--trust-model-file",
        "--members", str(project / "members.csv"), "--nonmembers",
        str(project / "nonmembers.csv"), "--out", str(tmp_path / "file" / "r"), "--quiet",
    )  # fmt: skip
    assert_clear_exit_2(result, "out under a file")
    assert "--out" in result.output and "never-read" not in result.output
