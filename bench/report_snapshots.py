"""Write every report file of fixed audits — report.json without version and timestamps, the
other formats with timestamps blanked — so a refactor can be checked to change no number and
no word: run it on the old and the new code, then diff the two folders.

    git worktree add /tmp/old <commit>
    (cd /tmp/old && PYTHONPATH=/tmp/old/src python /path/to/bench/report_snapshots.py /tmp/before)
    python bench/report_snapshots.py /tmp/after
    diff -r /tmp/before /tmp/after && echo identical

The audits: ``miaudit demo`` (seed 0), ``miaudit demo llm`` (seed 0), ``miaudit demo
--reference-models 4`` (shadow, LiRA; RMIA not run), a Python reference-model audit with a
population (every shadow/LiRA/RMIA variant, an attack parameter), and ``miaudit audit
--outputs`` with a gate (policy checks and findings); each in json, html, md, csv, sarif and
junit.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

VOLATILE = ("miaudit_version", "created")
SVG = re.compile(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)")
SVG_ID = re.compile(r"(#|id=\")[a-z][0-9a-f]{10}\b")
DATE = re.compile(r"\s*<dc:date>[^<]*</dc:date>")


def _svg_without_date(match: re.Match[str]) -> str:
    """An embedded plot without matplotlib's creation date and random element ids (reports
    before the refactor carried both)."""
    svg = DATE.sub("", base64.b64decode(match.group(1)).decode())
    svg = SVG_ID.sub(r"\1<id>", svg)  # older reports drew element ids at random
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\+00:00|Z)")


def _normalise(report: dict) -> dict:
    for key in VOLATILE:
        report.pop(key, None)
    return report


def _save(folder: Path, out: Path, name: str) -> None:
    """report.json normalised; every other report file with its timestamps blanked."""
    report = json.loads((folder / "report.json").read_text())
    (out / f"{name}.json").write_text(json.dumps(_normalise(report), indent=2, sort_keys=True))
    for path in sorted(folder.iterdir()):
        if path.name != "report.json":
            text = TIMESTAMP.sub("<time>", SVG.sub(_svg_without_date, path.read_text()))
            (out / f"{name}.{path.name}").write_text(text)


def _cli(args: list[str], out: Path, name: str, env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [sys.executable, "-m", "miaudit", *args, "--out", folder, "--quiet", "--format", "all"],
            env=env,
            cwd=tempfile.gettempdir(),  # SARIF locations are relative to the working folder
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode not in (0, 1):
            raise SystemExit(f"{name}: exit {done.returncode}\n{done.stderr}")
        _save(Path(folder), out, name)


def _reference_audit(out: Path) -> None:
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    import miaudit

    x, y = make_classification(
        n_samples=900, n_features=12, n_informative=6, n_classes=3, flip_y=0.1, random_state=1
    )
    model = MLPClassifier((64,), alpha=0.0, max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x[:300], y[:300])
        result = miaudit.audit(
            miaudit.SklearnTarget(model),
            (x[:300], y[:300]),
            (x[300:600], y[300:600]),
            (x[600:], y[600:]),
            reference_models=4,
            executor="inline",
            seed=0,
            attack_params={"rmia-offline": {"a": 0.5}},
        )
    with tempfile.TemporaryDirectory() as folder:
        result.write(folder, ["json", "html", "md", "csv", "sarif", "junit"])
        _save(Path(folder), out, "reference-python")


def _outputs_table(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    n, k = 400, 4
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    member = np.r_[np.ones(150), np.zeros(150), np.full(100, np.nan)]
    logits[np.arange(n), labels] += np.where(member == 1, 1.5, 0.5)
    lines = ["id,label,member," + ",".join(f"logit_{j}" for j in range(k))]
    for i in range(n):
        m = "" if np.isnan(member[i]) else str(int(member[i]))
        lines.append(f"r{i},{labels[i]},{m}," + ",".join(f"{v:.6f}" for v in logits[i]))
    path = folder / "outputs.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "report-snapshots")
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "GITHUB_ACTIONS": "false"}
    _cli(["demo"], out, "demo", env)
    _cli(["demo", "llm"], out, "demo-llm", env)
    _cli(["demo", "--reference-models", "4", "--executor", "inline"], out, "demo-reference", env)
    _reference_audit(out)
    folder = Path(tempfile.gettempdir()) / "miaudit-snapshot"  # a fixed path: it is in the report
    folder.mkdir(exist_ok=True)
    table = _outputs_table(folder)
    _cli(
        ["audit", "--outputs", str(table), "--fail-on", "auc>0.6,gap>0.5"], out, "outputs-gate", env
    )
    print(f"wrote {len(list(out.glob('*.json')))} reports to {out}")


if __name__ == "__main__":
    main()
