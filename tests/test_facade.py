"""``import miaudit`` is light (PEP 562: each public name is imported on first use), and the
names behave as when they were imported eagerly."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("scipy.stats", "sklearn", "miaudit.report", "miaudit.attacks", "miaudit.metrics")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_importing_the_package_and_its_pytest_plugin_loads_no_heavy_module() -> None:
    # the pytest plugin is loaded by every pytest run where miaudit is installed
    done = _run(
        "import sys, miaudit, miaudit.integrations.pytest_plugin\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_public_name_resolves_to_its_modules_object() -> None:
    import importlib

    import miaudit

    assert set(miaudit.__all__) == {*miaudit._HOMES, "InputError", "MissingExtraError",
                                    "__version__"}  # fmt: skip
    for name, home in miaudit._HOMES.items():
        assert getattr(miaudit, name) is getattr(importlib.import_module(home), name), name
    assert set(miaudit.__all__) <= set(dir(miaudit))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = miaudit.nothing_here


def test_audit_stays_the_function_when_the_subpackage_loads_first() -> None:
    # the import system binds a loaded subpackage to its parent's attribute of the same name
    done = _run(
        "import miaudit.audit.pipeline, miaudit\n"
        "from miaudit import audit\n"
        "import miaudit.cli\n"
        "print(callable(audit), audit is miaudit.audit, type(miaudit.report).__name__)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "module"]


def test_a_result_read_back_renders_without_importing_the_report_layer(tmp_path) -> None:
    # results never import a format: the facade's loader brings the report layer on first use
    from sklearn.datasets import load_breast_cancer
    from sklearn.tree import DecisionTreeClassifier

    import miaudit

    x, y = load_breast_cancer(return_X_y=True)
    model = DecisionTreeClassifier(random_state=0).fit(x[:200], y[:200])
    result = miaudit.audit(model, members=(x[:200], y[:200]), nonmembers=(x[200:400], y[200:400]),
                           attacks=["loss"])  # fmt: skip
    result.write(tmp_path, formats=("json",))
    done = _run(
        "import sys\n"
        "from miaudit.results import read_result\n"
        f"result = read_result({str(tmp_path / 'report.json')!r})\n"
        "assert 'miaudit.report' not in sys.modules\n"
        "print(result.render('md').splitlines()[0])\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("#")


def test_the_monitor_command_loads_neither_attacks_nor_reports() -> None:
    # commands load when run: `miaudit monitor` (often a subprocess per log) starts fast
    done = _run(
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from miaudit.cli import COMMANDS, main\n"
        "assert CliRunner().invoke(main, ['monitor', '--help']).exit_code == 0\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
        "import click\n"
        "names = main.list_commands(click.Context(main))\n"
        "assert names == sorted(COMMANDS), names\n"
        "assert all(main.get_command(click.Context(main), n).name == n for n in names)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
