"""The README's commands are the ones CI runs, and the package metadata is consistent."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
import pytest

import miaudit

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert "miaudit demo" in commands[0]
    assert "pytest" in commands[1]
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci_lines


def test_version_matches_pyproject() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{miaudit.__version__}"' in pyproject


def test_torch_is_optional_and_pinned_only_for_tests() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    core = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert "torch" not in core
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text()


def _audit_flags() -> set[str]:
    from miaudit.cli import main

    audit = main.get_command(click.Context(main), "audit")  # loaded on first use
    return {opt for param in audit.params for opt in param.opts}


def test_the_action_and_the_ci_docs_use_real_flags() -> None:
    import yaml

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    runs = " ".join(step.get("run", "") for step in action["runs"]["steps"])
    docs = (ROOT / "docs" / "ci.md").read_text()
    workflows = re.findall(r"```yaml\n(.+?)\n```", docs, re.S)
    for workflow in workflows:
        yaml.safe_load(workflow)  # every snippet is valid YAML
    used = set(
        re.findall(
            r"(--[a-z][a-z-]+)",
            runs
            + " ".join(
                line
                for w in workflows
                for line in w.splitlines()
                if "miaudit audit" in line or line.strip().startswith("--")
            ),
        )
    )
    assert {"--config", "--format", "--baseline", "--cache-dir"} <= used
    assert used <= _audit_flags(), used - _audit_flags()


def test_the_all_extra_installs_every_extra() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    (everything,) = extras["all"]
    named = set(everything.split("[", 1)[1].rstrip("]").split(","))
    assert named == set(extras) - {"all", "test"}


def test_the_pytest_plugin_entry_point_loads() -> None:
    from importlib.metadata import entry_points

    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "miaudit"]
    assert hasattr(plugin.load(), "miaudit_leakage")


def test_the_code_is_ruff_formatted_and_clean() -> None:
    import shutil
    import subprocess

    # the venv's own ruff, whether or not the venv is on PATH (python -m pytest from outside it)
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff is not None, "ruff is part of the test extra"
    paths = [str(ROOT / p) for p in ("src", "tests", "bench")]
    formatted = subprocess.run([ruff, "format", "--check", *paths], capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout
    checked = subprocess.run([ruff, "check", *paths], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout


def test_the_readme_python_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overfit_model: tuple
) -> None:
    readme = (ROOT / "README.md").read_text()
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    model, (x_train, x_heldout, y_train, y_heldout) = overfit_model
    monkeypatch.chdir(tmp_path)
    names = {"model": model, "X_train": x_train, "y_train": y_train}
    names.update(X_heldout=x_heldout, y_heldout=y_heldout)
    exec(compile(code, "README.md", "exec"), names)
    assert names["report"]["schema"] == "miaudit.report/1"
    assert sorted(p.name for p in (tmp_path / "miaudit-report").iterdir()) == [
        "report.html",
        "report.json",
        "report.md",
        "scores.csv",
    ]
