"""miaudit in CI: policy gate, baselines, SARIF, JUnit, GitHub Actions, MLflow — from the command
line, as a CI job runs it: the gate's exit 1 in a real subprocess (``python -m miaudit``), the
rest in process through the same ``main`` (``ci_run``), and the pytest plugin in an inner
pytest session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

ATTACKS = "loss,margin,logit-confidence,gap"

#: ``miaudit ARGS`` run by the ``cli`` fixture (tests/conftest.py) or by :func:`run`
Run = Callable[..., subprocess.CompletedProcess[str]]


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m miaudit ARGS`` in a subprocess, outside GitHub Actions (no ``GITHUB_*``
    variables) unless ``env`` adds some."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return subprocess.run(
        [sys.executable, "-m", "miaudit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**environment, **(env or {})},
    )


@pytest.fixture()
def ci_run(cli: Run) -> Run:
    """:func:`run`, in process: the same environment, exit codes and output."""

    def run_here(
        *args: str, cwd: Path, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        hidden: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GITHUB_")}
        return cli(*args, cwd=cwd, env={**hidden, **(env or {})})

    return run_here


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, overfit_model: tuple) -> Path:
    """A leaky model and a well-regularised one on the same records, with configs."""
    root = tmp_path_factory.mktemp("ci")
    leaky, (x_in, x_out, y_in, y_out) = overfit_model
    regularised = LogisticRegression(C=0.01, max_iter=1000).fit(x_in, y_in)
    for name, model in (("leaky", leaky), ("regularised", regularised)):
        joblib.dump(model, root / f"{name}.joblib")
    columns = [f"f{i}" for i in range(x_in.shape[1])]
    for name, x, y in (("members", x_in, y_in), ("nonmembers", x_out, y_out)):
        frame = pd.DataFrame(x, columns=columns)
        frame["label"] = y
        frame.to_csv(root / f"{name}.csv", index=False)
    for name in ("leaky", "regularised"):
        (root / f"{name}.toml").write_text(f"""
[target]
kind = "sklearn"
path = "{name}.joblib"
trust = true

[data]
members = "members.csv"
nonmembers = "nonmembers.csv"

[audit]
attacks = {json.dumps(ATTACKS.split(","))}

[report]
fail_on = ["auc>0.6", "gap>0.3"]
formats = ["json", "md", "html", "sarif", "junit"]
""")
    return root


def test_policy_gate_fails_a_leaky_model_and_passes_a_regularised_one(
    models: Path, tmp_path: Path, ci_run: Run
) -> None:
    leaky = run(  # the real entry point: exit 1 from `python -m miaudit`
        "audit", "--config", "leaky.toml", "--out", str(tmp_path / "leaky"), "--quiet", cwd=models
    )
    assert leaky.returncode == 1, leaky.stderr
    assert "gate failed:" in leaky.stderr and "auc>0.6" in leaky.stderr
    page = (tmp_path / "leaky" / "report.html").read_text()
    assert "Gate: failed" in page and "MIA001" in page and "MembershipLeakageAbovePolicy" in page
    summary = (tmp_path / "leaky" / "report.md").read_text()
    assert "AML.T0024.000" in summary and "**Gate: failed**" in summary
    good = ci_run(
        "audit",
        "--config",
        "regularised.toml",
        "--out",
        str(tmp_path / "good"),
        "--quiet",
        cwd=models,
    )
    assert good.returncode == 0, good.stderr
    gate = json.loads((tmp_path / "good" / "report.json").read_text())["gate"]
    assert gate["passed"] and len(gate["checks"]) == 2
    assert all("within the limit" in c["detail"] for c in gate["checks"])
    soft = ci_run(
        "audit",
        "--config",
        "leaky.toml",
        "--out",
        str(tmp_path / "soft"),
        "--quiet",
        "--soft-fail",
        cwd=models,
    )
    assert soft.returncode == 0 and "--soft-fail" in soft.stderr
    assert not json.loads((tmp_path / "soft" / "report.json").read_text())["gate"]["passed"]


def test_baseline_catches_a_regression_but_not_a_new_seed(
    models: Path, tmp_path: Path, ci_run: Run
) -> None:
    base = tmp_path / "baseline.json"
    saved = ci_run(
        "audit",
        "--config",
        "regularised.toml",
        "--out",
        str(tmp_path / "a"),
        "--quiet",
        "--save-baseline",
        str(base),
        cwd=models,
    )
    assert saved.returncode == 0, saved.stderr
    assert json.loads(base.read_text())["schema"] == "miaudit.report/1"
    same = ci_run(
        "audit",
        "--config",
        "regularised.toml",
        "--out",
        str(tmp_path / "b"),
        "--quiet",
        "--seed",
        "1",
        "--baseline",
        str(base),
        cwd=models,
    )
    assert same.returncode == 0, same.stderr  # another seed: intervals overlap
    gate = json.loads((tmp_path / "b" / "report.json").read_text())["gate"]
    regressions = [c for c in gate["checks"] if c["kind"] == "regression"]
    assert len(regressions) >= 4 * 2 + 1 and all(c["passed"] for c in regressions)
    assert gate["baseline"] == str(base)
    # the leaky model against the regularised baseline, with a policy loose enough to pass:
    # only the baseline comparison can fail it
    worse = ci_run(
        "audit",
        "--config",
        "leaky.toml",
        "--out",
        str(tmp_path / "c"),
        "--quiet",
        "--fail-on",
        "auc>0.99",
        "--baseline",
        str(base),
        cwd=models,
    )
    assert worse.returncode == 1, worse.stderr
    assert "a significant regression" in worse.stderr and "vs baseline" in worse.stderr
    report = (tmp_path / "c" / "report.md").read_text()
    assert f"compared with baseline `{base}`" in report and "**FAIL**" in report


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--baseline", "absent.json"], "does not exist"),
        (["--baseline", "leaky.toml"], "not a JSON report"),
        (["--baseline", "members.csv"], "not a JSON report"),
        (["--tolerance", "1.5"], "1.5"),
    ],
)
def test_bad_baseline_input(
    models: Path, tmp_path: Path, flags: list[str], message: str, ci_run: Run
) -> None:
    done = ci_run(
        "audit",
        "--config",
        "regularised.toml",
        "--out",
        str(tmp_path),
        "--quiet",
        *flags,
        cwd=models,
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


#: The SARIF 2.1.0 properties GitHub code scanning requires or reads, as a JSON schema
#: (written for these tests from GitHub's "SARIF support for code scanning" page; no download).
_LEVEL = {"enum": ["none", "note", "warning", "error"]}
_TEXT = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": {"type": "string", "minLength": 1}},
}
_RULE = {
    "type": "object",
    "required": ["id", "shortDescription", "fullDescription", "help", "properties"],
    "properties": {
        "id": {"type": "string", "pattern": "^MIA[0-9]{3}$"},
        "shortDescription": _TEXT,
        "fullDescription": _TEXT,
        "help": _TEXT,
        "defaultConfiguration": {"type": "object", "properties": {"level": _LEVEL}},
        "properties": {
            "type": "object",
            "required": ["security-severity", "tags"],
            "properties": {
                "security-severity": {"type": "string", "pattern": r"^(10(\.0)?|[0-9](\.[0-9])?)$"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}
_LOCATION = {
    "type": "object",
    "required": ["physicalLocation"],
    "properties": {
        "physicalLocation": {
            "type": "object",
            "required": ["artifactLocation"],
            "properties": {
                # repository-relative: neither absolute nor a URI scheme
                "artifactLocation": {
                    "type": "object",
                    "required": ["uri"],
                    "properties": {
                        "uri": {
                            "type": "string",
                            "minLength": 1,
                            "not": {"pattern": "^(/|[a-z]+:)"},
                        }
                    },
                },
                "region": {
                    "type": "object",
                    "properties": {"startLine": {"type": "integer", "minimum": 1}},
                },
            },
        }
    },
}
_RESULT = {
    "type": "object",
    "required": ["ruleId", "message", "locations", "partialFingerprints"],
    "properties": {
        "ruleId": {"type": "string"},
        "ruleIndex": {"type": "integer", "minimum": 0},
        "level": _LEVEL,
        "message": _TEXT,
        "locations": {"type": "array", "minItems": 1, "maxItems": 10, "items": _LOCATION},
        "partialFingerprints": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "string"},
        },
    },
}
GITHUB_SARIF_SCHEMA = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "name": {"type": "string", "minLength": 1},
                                    "semanticVersion": {"type": "string"},
                                    "rules": {"type": "array", "items": _RULE},
                                },
                            }
                        },
                    },
                    "automationDetails": {
                        "type": "object",
                        "properties": {"id": {"type": "string"}},
                    },
                    "results": {"type": "array", "items": _RESULT},
                },
            },
        },
    },
}


def test_sarif_validates_and_junit_parses(models: Path, tmp_path: Path, ci_run: Run) -> None:
    import jsonschema

    out = tmp_path / "r"
    done = ci_run("audit", "--config", "leaky.toml", "--out", str(out), "--quiet", cwd=models)
    assert done.returncode == 1
    sarif = json.loads((out / "report.sarif").read_text())
    jsonschema.validate(sarif, GITHUB_SARIF_SCHEMA)
    run_ = sarif["runs"][0]
    rules = {r["id"]: r for r in run_["tool"]["driver"]["rules"]}
    assert all(
        "MITRE-ATLAS/AML.T0024.000" in r["properties"]["tags"]
        and "OWASP-ML/ML04:2023" in r["properties"]["tags"]
        for r in rules.values()
    )
    found = {r["ruleId"] for r in run_["results"]}
    assert {"MIA001", "MIA005", "MIA003", "MIA004"} <= found  # policy, risk, exposure, no DP
    assert {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run_["results"]
    } == {"leaky.toml"}
    # the same audit again: the same fingerprints, so code scanning sees the same findings
    again = ci_run(
        "audit", "--config", "leaky.toml", "--out", str(tmp_path / "s"), "--quiet", cwd=models
    )
    assert again.returncode == 1
    second = json.loads((tmp_path / "s" / "report.sarif").read_text())["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in second] == [
        r["partialFingerprints"] for r in run_["results"]
    ]

    suite = ET.parse(out / "report.junit.xml").getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["auc>0.6", "gap>0.3"]  # one per policy check
    failed = [c for c in cases if c.find("failure") is not None]
    assert suite.get("failures") == str(len(failed)) and len(failed) >= 1
    assert "auc>0.6" in failed[0].find("failure").get("message")


def test_sensitive_data_without_dp_is_a_finding(models: Path, tmp_path: Path, ci_run: Run) -> None:
    def rules(*flags: str) -> set[str]:
        out = tmp_path / "-".join(flags or ("plain",))
        done = ci_run(
            "audit",
            "--config",
            "regularised.toml",
            "--out",
            str(out),
            "--quiet",
            "--format",
            "sarif",
            *flags,
            cwd=models,
        )
        assert done.returncode == 0, done.stderr
        return {
            r["ruleId"]
            for r in json.loads((out / "report.sarif").read_text())["runs"][0]["results"]
        }

    assert "MIA004" not in rules()  # no leakage detected, data not marked sensitive
    assert "MIA004" in rules("--sensitive-data")
    assert "MIA004" not in rules("--sensitive-data", "--dp-epsilon", "8")  # DP declared


def test_github_actions_annotations_and_summary(models: Path, tmp_path: Path, ci_run: Run) -> None:
    summary = tmp_path / "summary.md"
    done = ci_run(
        "audit",
        "--config",
        "leaky.toml",
        "--out",
        str(tmp_path / "r"),
        "--quiet",
        cwd=models,
        env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert done.returncode == 1
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error ")]
    assert errors and all(
        line.startswith("::error file=leaky.toml,line=1,title=miaudit MIA") for line in errors
    )
    assert any("auc>0.6" in line for line in errors)
    assert "**Gate: failed**" in summary.read_text()
    quiet = ci_run(
        "audit", "--config", "leaky.toml", "--out", str(tmp_path / "q"), "--quiet", cwd=models
    )
    assert "::error" not in quiet.stdout  # outside GitHub Actions: no workflow commands


def test_mlflow_run_holds_the_metrics(models: Path, tmp_path: Path, ci_run: Run) -> None:
    mlflow = pytest.importorskip("mlflow")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # run from tmp_path: the store's artifacts go to ./mlruns there
    done = ci_run(
        "audit",
        "--config",
        str(models / "leaky.toml"),
        "--out",
        str(tmp_path / "r"),
        "--quiet",
        "--mlflow",
        cwd=tmp_path,
        env={"MLFLOW_TRACKING_URI": uri},
    )
    assert done.returncode == 1, done.stderr  # the gate still fails; the run is logged first
    client = mlflow.MlflowClient(tracking_uri=uri)
    runs = client.search_runs(experiment_ids=["0"])
    assert len(runs) == 1
    logged = runs[0]
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    strongest = max(report["attacks"], key=lambda a: a["auc"])
    assert logged.data.metrics["miaudit/strongest/auc"] == pytest.approx(strongest["auc"])
    assert logged.data.metrics["miaudit/loss/auc"] == pytest.approx(
        next(a["auc"] for a in report["attacks"] if a["name"] == "loss")
    )
    assert logged.data.tags["miaudit.gate"] == "failed"
    assert logged.data.tags["mitre_atlas"] == "AML.T0024.000"
    artifacts = {a.path for a in client.list_artifacts(logged.info.run_id, "miaudit-report")}
    assert {"miaudit-report/report.json", "miaudit-report/report.sarif"} <= artifacts


def test_pytest_plugin_fails_a_test_with_a_clear_message(
    pytester: pytest.Pytester, overfit_model: tuple
) -> None:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    np.savez(pytester.path / "data.npz", x_in=x_in, x_out=x_out, y_in=y_in, y_out=y_out)
    joblib.dump(model, pytester.path / "model.joblib")
    pytester.makepyfile(
        test_model_privacy="""
        import joblib
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        from miaudit.testing import assert_no_membership_leakage

        data = np.load("data.npz")
        members, nonmembers = (data["x_in"], data["y_in"]), (data["x_out"], data["y_out"])

        def test_leaky_model(miaudit_leakage):
            miaudit_leakage(joblib.load("model.joblib"), members, nonmembers, max_auc=0.6,
                            attacks=["loss", "gap"])

        def test_regularised_model(tmp_path):
            model = LogisticRegression(C=0.01, max_iter=1000).fit(*members)
            result = assert_no_membership_leakage(model, members, nonmembers, max_auc=0.6,
                                                  attacks=["loss", "gap"], report_dir=tmp_path)
            assert (tmp_path / "report.html").is_file() and result.gate.passed
    """
    )
    # in process: pytest loads the plugin from its `pytest11` entry point there too
    outcome = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=1, failed=1)
    text = outcome.stdout.str()
    assert "membership-inference leakage above the limits" in text
    assert "auc>0.6: loss auc = " in text and "report: " in text and "report.html" in text
