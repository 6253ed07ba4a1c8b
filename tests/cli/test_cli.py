"""The command line end to end. A few commands run as a user runs them, ``python -m miaudit`` in
a subprocess (the entry point, a fresh interpreter); the rest run in process through the same
``main`` with click's runner (the ``cli`` fixture of tests/conftest.py): the same exit codes and
messages without seconds of imports for each."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

#: the ``cli`` fixture (tests/conftest.py): ``miaudit ARGS`` in this process
CliRun = Callable[..., subprocess.CompletedProcess[str]]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m miaudit ARGS`` in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "miaudit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, overfit_model: tuple) -> Path:
    """A user's project: a model file, member and non-member CSVs, an outputs table."""
    root = tmp_path_factory.mktemp("project")
    model, (x_in, x_out, y_in, y_out) = overfit_model
    joblib.dump(model, root / "model.joblib")
    columns = [f"f{i}" for i in range(x_in.shape[1])]
    for name, x, y in (("members", x_in, y_in), ("nonmembers", x_out, y_out)):
        frame = pd.DataFrame(x, columns=columns)
        frame.insert(0, "patient", [f"{name[:1]}{i}" for i in range(len(y))])
        frame["diagnosis"] = y
        frame.to_csv(root / f"{name}.csv", index=False)
    logits = np.log(np.r_[model.predict_proba(x_in), model.predict_proba(x_out)] + 1e-12)
    table = pd.DataFrame(logits, columns=[f"logit_{k}" for k in range(3)])
    table.insert(0, "id", range(len(table)))
    table.insert(1, "label", np.r_[y_in, y_out])
    table.insert(2, "member", np.r_[np.ones(len(y_in)), np.zeros(len(y_out))].astype(int))
    table.to_csv(root / "outputs.csv", index=False)
    (root / "audit.toml").write_text(
        '[target]\nkind = "sklearn"\npath = "model.joblib"\ntrust = true\n\n'
        '[data]\nmembers = "members.csv"\nnonmembers = "nonmembers.csv"\n'
        'label = "diagnosis"\nid = "patient"\n\n[report]\nout = "report"\n'
    )
    return root


def test_demo(tmp_path: Path, cli: CliRun) -> None:
    # in process: the demo trains and audits for most of its time, and `demo llm` runs as a
    # real subprocess in test_a_missing_extra_names_its_pip_line
    done = cli("demo", "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert "Membership-inference audit" in done.stdout and "risk:" in done.stdout
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert names == ["report.html", "report.json", "report.md", "scores.csv"]
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["records"] == {"n_members": 284, "n_nonmembers": 285, "n_population": 0}
    assert report["model"]["train_accuracy"] > report["model"]["test_accuracy"]


def test_audit_from_config(project: Path) -> None:
    done = run(
        "audit",
        "--config",
        str(project / "audit.toml"),
        "--format",
        "json,md",
        "--attacks",
        "loss,margin",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((project / "report" / "report.json").read_text())
    assert [a["name"] for a in report["attacks"]] == ["loss", "margin"]
    assert report["attacks"][0]["at_risk"][0]["id"][0] == "m"  # ids from the 'patient' column
    assert not (project / "report" / "report.html").exists()


def test_audit_from_yaml_config_and_flags_agree(project: Path, tmp_path: Path, cli: CliRun) -> None:
    (project / "audit.yaml").write_text(
        "target: {kind: sklearn, path: model.joblib, trust: true}\n"
        "data: {members: members.csv, nonmembers: nonmembers.csv, label: diagnosis, "
        "id: patient}\n"
    )
    a = cli(
        "audit",
        "--config",
        str(project / "audit.yaml"),
        "--out",
        str(tmp_path / "a"),
        "--format",
        "json",
        "--attacks",
        "loss",
        "--quiet",
    )
    b = cli(
        "audit",
        "--model",
        str(project / "model.joblib"),
        "--trust-model-file",
        "--members",
        str(project / "members.csv"),
        "--nonmembers",
        str(project / "nonmembers.csv"),
        "--label-column",
        "diagnosis",
        "--id-column",
        "patient",
        "--out",
        str(tmp_path / "b"),
        "--format",
        "json",
        "--attacks",
        "loss",
        "--quiet",
    )
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    assert a.stdout == "" and b.stdout == ""  # --quiet
    ra, rb = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("a", "b"))
    assert ra["attacks"] == rb["attacks"]


def test_audit_from_precomputed_outputs(project: Path, tmp_path: Path, cli: CliRun) -> None:
    done = cli(
        "audit",
        "--outputs",
        str(project / "outputs.csv"),
        "--out",
        str(tmp_path),
        "--format",
        "json",
        "--attacks",
        "loss,gap",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["target"]["kind"] == "precomputed"
    assert report["attacks"][0]["auc"] > 0.6


def test_reference_models_from_the_command_line(project: Path, tmp_path: Path, cli: CliRun) -> None:
    args = [
        "audit",
        "--config",
        str(project / "audit.toml"),
        "--out",
        str(tmp_path / "r"),
        "--format",
        "json",
        "--attacks",
        "loss,lira-offline,lira-online",
        "--reference-models",
        "2",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--quiet",
    ]
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["reference_models"]["trained"] == 2
    assert [a["name"] for a in report["attacks"]] == ["loss", "lira-offline", "lira-online"]
    second = cli(*args)
    assert second.returncode == 0, second.stderr
    again = json.loads((tmp_path / "r" / "report.json").read_text())
    assert again["reference_models"]["cache_hits"] == 2 and again["attacks"] == report["attacks"]
    # tuned by default, and the report says what was chosen (or why nothing could be)
    tuning = report["reference_models"]["tuning"]
    assert set(tuning) == {"lira-offline", "lira-online"}
    assert all("tuned" in t for t in tuning.values())
    untuned = cli(*args, "--no-tune", "--attack-param", "lira-offline.variance=global")
    assert untuned.returncode == 0, untuned.stderr
    plain = json.loads((tmp_path / "r" / "report.json").read_text())["reference_models"]
    assert plain["tuning"] == {} and "global variance" in plain["variants"]["lira-offline"]


def test_gate_exit_codes(project: Path, tmp_path: Path, cli: CliRun) -> None:
    failing = cli(
        "audit",
        "--outputs",
        str(project / "outputs.csv"),
        "--out",
        str(tmp_path),
        "--attacks",
        "loss",
        "--fail-on",
        "auc>0.55",
        "--quiet",
    )
    assert failing.returncode == 1 and "gate failed" in failing.stderr
    passing = cli(
        "audit",
        "--outputs",
        str(project / "outputs.csv"),
        "--out",
        str(tmp_path),
        "--attacks",
        "loss",
        "--fail-on",
        "auc>0.99,gap>0.9",
        "--quiet",
    )
    assert passing.returncode == 0, passing.stderr
    unresolvable = cli(
        "audit",
        "--outputs",
        str(project / "outputs.csv"),
        "--out",
        str(tmp_path),
        "--attacks",
        "loss",
        "--fail-on",
        "tpr@0.001>0.01",
    )
    assert unresolvable.returncode == 2 and "1,000" in unresolvable.stderr


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _pickled_npz(path: Path) -> Path:
    """An NPZ whose arrays hold Python objects (loading them would unpickle)."""
    np.savez(path, id=np.array(["a", 1], dtype=object), features=np.array([None, 1]))
    return path


def _outputs(path: Path, rows: Iterable[str]) -> list[str]:
    """An outputs table whose rows give id,label,member and constant logits (0, 1)."""
    path.write_text("id,label,member,logit_0,logit_1\n" + "".join(f"{r},0,1\n" for r in rows))
    return ["audit", "--outputs", str(path)]


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda p, t: ["audit"], "exactly one of"),
        (
            lambda p, t: [
                "audit",
                "--outputs",
                str(p / "outputs.csv"),
                "--config",
                str(p / "audit.toml"),
            ],
            "exactly one of",
        ),
        (lambda p, t: ["audit", "--config", str(t / "missing.toml")], "config file not found"),
        (
            lambda p, t: [
                "audit",
                "--model",
                str(p / "model.joblib"),
                "--members",
                str(p / "members.csv"),
                "--nonmembers",
                str(p / "nonmembers.csv"),
            ],
            "arbitrary code",
        ),
        (
            lambda p, t: [
                "audit",
                "--config",
                str(_write(t / "c.toml", "[target]\nkind = 'keras'\n")),
            ],
            "target.kind",
        ),
        (
            lambda p, t: ["audit", "--outputs", str(p / "outputs.csv"), "--attacks", "lira"],
            "unknown attacks",
        ),
        (
            lambda p, t: ["audit", "--outputs", str(p / "outputs.csv"), "--format", "pdf"],
            "unknown report format",
        ),
        (
            lambda p, t: ["audit", "--outputs", str(p / "outputs.csv"), "--fail-on", "auc>>1"],
            "cannot parse",
        ),
        (
            lambda p, t: [
                "audit",
                "--outputs",
                str(
                    _write(
                        t / "o.csv",
                        "id,label,member,prob_0,prob_1\n"
                        + "".join(f"{i},0,{i % 2},0.5,0.4\n" for i in range(50)),
                    )
                ),
            ],
            "do not sum to one",
        ),
        (
            lambda p, t: [
                "audit",
                "--model",
                str(p / "model.joblib"),
                "--trust-model-file",
                "--members",
                str(p / "members.csv"),
                "--nonmembers",
                str(p / "members.csv"),
                "--label-column",
                "diagnosis",
                "--id-column",
                "patient",
            ],
            "share 300 record ids",
        ),
        (
            lambda p, t: [
                "audit",
                "--model",
                str(p / "model.joblib"),
                "--trust-model-file",
                "--members",
                str(p / "members.csv"),
                "--nonmembers",
                str(p / "nonmembers.csv"),
            ],
            "no label column 'label'",
        ),
        (
            lambda p, t: [
                "audit",
                "--model",
                str(p / "model.joblib"),
                "--trust-model-file",
                "--members",
                str(_write(t / "nan.csv", "f0,diagnosis\nnan,1\n")),
                "--nonmembers",
                str(p / "nonmembers.csv"),
                "--label-column",
                "diagnosis",
            ],
            "NaN/inf",
        ),
        (lambda p, t: ["demo", "--attacks", ""], "the list is empty"),
        (
            lambda p, t: _outputs(t / "dup.csv", (f"{i % 40},{i % 2},{i % 2}" for i in range(50))),
            "duplicate record ids",
        ),
        (
            lambda p, t: _outputs(
                t / "tiny.csv", (f"{i},{i % 2},{int(i < 10)}" for i in range(50))
            ),
            "only 10 records",
        ),
        (
            lambda p, t: _outputs(t / "one.csv", (f"{i},1,{i % 2}" for i in range(50))),
            "single class",
        ),
        (  # a non-numeric cell: was a pandas traceback and exit 1 (read by CI as a failed gate)
            lambda p, t: [
                "audit",
                "--outputs",
                str(
                    _write(
                        t / "text.csv",
                        "id,label,member,logit_0,logit_1\n"
                        + "".join(
                            f"r{i},0,{i % 2},0.5,{'high' if i == 7 else 0.1}\n" for i in range(50)
                        ),
                    )
                ),
            ],
            "row 8 (id 'r7'), column 'logit_1': 'high' is not a number",
        ),
        (
            lambda p, t: [
                "audit",
                "--outputs",
                str(
                    _write(
                        t / "member.csv",
                        "id,label,member,logit_0,logit_1\n"
                        + "".join(f"r{i},0,{'yes' if i == 3 else i % 2},0,1\n" for i in range(50)),
                    )
                ),
            ],
            "row 4 (id 'r3'), column 'member': 'yes' is not a number",
        ),
        (
            lambda p, t: ["audit", "--outputs", str(_write(t / "o.npz", "not a zip file"))],
            "cannot read",
        ),
        (
            lambda p, t: ["audit", "--outputs", str(_pickled_npz(t / "obj.npz"))],
            "needs pickle",
        ),
        (
            lambda p, t: ["audit", "--outputs", str(_write(t / "o.parquet", "not parquet"))],
            "cannot read",
        ),
        (
            lambda p, t: [
                "audit",
                "--model",
                str(p / "model.joblib"),
                "--trust-model-file",
                "--members",
                str(_pickled_npz(t / "members.npz")),
                "--nonmembers",
                str(p / "nonmembers.csv"),
            ],
            "needs pickle",
        ),
    ],
)
def test_bad_input_exits_2_with_a_message(
    project: Path, tmp_path: Path, make_args: object, message: str, cli: CliRun
) -> None:
    done = cli(*make_args(project, tmp_path))  # type: ignore[operator]
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_attacks_listing() -> None:
    done = run("attacks")
    assert done.returncode == 0 and "modified-entropy" in done.stdout
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if "│" in line}
    assert "language model" in rows["neighbourhood"] and "classifier" in rows["rmia-online"]
    assert "never queries" in done.stdout  # the blind baseline's access, from its requirements


def test_callable_and_torch_targets_from_config(
    project: Path, tmp_path: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "serving.py").write_text(
        "import joblib\n"
        f"_model = joblib.load({str(project / 'model.joblib')!r})\n"
        "def predict(x):\n    return _model.predict_proba(x)\n"
    )
    data = (
        f'[data]\nmembers = "{project}/members.csv"\n'
        f'nonmembers = "{project}/nonmembers.csv"\nlabel = "diagnosis"\nid = "patient"\n'
    )
    config = _write(
        tmp_path / "callable.toml",
        '[target]\nkind = "callable"\nfunction = "serving:predict"\nclasses = 3\n'
        f"trust = true\n\n{data}",
    )
    monkeypatch.syspath_prepend(str(tmp_path))  # the user's module, importable as `serving`
    monkeypatch.delitem(sys.modules, "serving", raising=False)
    try:
        done = cli(
            "audit", "--config", str(config), "--out", str(tmp_path / "c"), "--format", "json",
            "--quiet", cwd=tmp_path,
        )  # fmt: skip
    finally:
        sys.modules.pop("serving", None)  # another test's `serving` must be its own
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "c" / "report.json").read_text())["target"]["kind"] == "callable"

    torch = pytest.importorskip("torch")
    linear = torch.nn.Linear(20, 3)
    batch = torch.export.Dim("batch")
    program = torch.export.export(linear, (torch.zeros(2, 20),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(tmp_path / "model.pt2"))
    config = _write(
        tmp_path / "torch.toml",
        '[target]\nkind = "torch"\npath = "model.pt2"\nclasses = 3\n'
        f'output = "logits"\ntrust = true\n\n{data}',
    )
    done = cli(
        "audit",
        "--config",
        str(config),
        "--out",
        str(tmp_path / "t"),
        "--format",
        "json",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "t" / "report.json").read_text())
    assert report["target"] == {"kind": "torch", "exposes": "logits", "n_classes": 3}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--attack-param", "rmia-offline"], "expected ATTACK.NAME=VALUE"),
        (["--attacks", "loss", "--attack-param", "loss.a=1"], "takes no parameters"),
        (["--attacks", "loss", "--attack-param", "rmia-offline.a=0.5"], "does not run"),
        (["--reference-outputs", "absent.npz"], "does not exist"),
        (["--executor", "local", "--ray-address", "127.0.0.1:1"], "for executor 'ray'"),
        (["--members", "members.csv"], "go with --model"),
        (
            ["--reference-models", "2", "--executor", "ray", "--ray-address", "127.0.0.1:1"],
            "cannot reach the Ray cluster",
        ),
    ],
)
def test_reference_flags_reject_bad_input(
    project: Path, tmp_path: Path, flags: list[str], message: str, cli: CliRun
) -> None:
    done = cli(
        "audit",
        "--config",
        str(project / "audit.toml"),
        "--out",
        str(tmp_path),
        *flags,
        "--quiet",
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_missing_extra_names_its_pip_line(tmp_path: Path) -> None:
    # as if the llm extra were not installed: the error must keep "[llm]" (rich markup would
    # eat an unescaped "[llm]")
    script = (
        "import sys; sys.modules['tokenizers'] = None; from miaudit.cli import main; "
        "main(['demo', 'llm', '--quiet', '--out', sys.argv[1]])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2
    assert "pip install 'miaudit[llm]'" in done.stderr and "Traceback" not in done.stderr


def test_precomputed_outputs_with_reference_outputs(
    project: Path, overfit_model: tuple, tmp_path: Path, cli: CliRun
) -> None:
    """A table of the target's outputs plus a file of reference models' outputs, both made
    elsewhere: the reference attacks run from the command line alone."""
    from sklearn.linear_model import LogisticRegression

    from miaudit.training import save_reference_outputs

    _, (x_in, x_out, y_in, y_out) = overfit_model
    x, y = np.r_[x_in, x_out], np.r_[y_in, y_out]
    rng = np.random.default_rng(0)
    # each record IN for exactly 4 of the 8 models (LiRA needs every record OUT for some)
    trained_on = np.argsort(rng.random((8, len(y))), axis=0) < 4
    logits = np.stack(
        [
            LogisticRegression(max_iter=500).fit(x[rows], y[rows]).decision_function(x)
            for rows in trained_on
        ]
    )
    save_reference_outputs(
        tmp_path / "ref.npz", np.arange(len(y)), logits, trained_on, "logits", [0, 1, 2]
    )
    done = cli(
        "audit", "--outputs", str(project / "outputs.csv"), "--reference-outputs",
        str(tmp_path / "ref.npz"), "--attacks", "loss,shadow,lira-offline", "--no-tune",
        "--format", "json", "--quiet", "--out", str(tmp_path / "r"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["reference_models"]["n_models"] == 8
    assert {a["name"] for a in report["attacks"]} == {"loss", "shadow", "lira-offline"}


@pytest.mark.parametrize(
    ("fault", "code", "message"),
    [
        (RuntimeError("boom"), 3, "internal error: RuntimeError: boom"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_a_bug_is_one_paragraph_and_exit_3(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    fault: BaseException,
    code: int,
    message: str,
    cli: CliRun,
) -> None:
    """An exception no check anticipated (injected into the audit) is exit 3 with one paragraph,
    never a traceback that CI would read as a failed gate (exit 1); Ctrl-C is 130."""
    import miaudit.cli.audit as command

    def broken(*args: object, **kwargs: object) -> None:
        raise fault

    monkeypatch.setattr(command, "audit", broken)
    done = cli("audit", "--outputs", str(project / "outputs.csv"), "--quiet")
    assert done.returncode == code, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    if code == 3:
        assert "MIAUDIT_DEBUG=1" in done.stderr
        monkeypatch.setenv("MIAUDIT_DEBUG", "1")
        shown = cli("audit", "--outputs", str(project / "outputs.csv"), "--quiet")
        assert "Traceback" in shown.stderr and "boom" in shown.stderr
