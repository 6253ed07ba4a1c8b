"""What every command shares: errors as exit code 2, progress bars, the common options, the
summary table, and the end of a run (gate, reports, CI, exit code)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from miaudit._io import check_writable
from miaudit.assess import Assessment, assess
from miaudit.audit.options import Design
from miaudit.cli.choices import choice, format_help
from miaudit.cli.exits import EXIT_GATE
from miaudit.errors import InputError
from miaudit.executors import ExecutorName
from miaudit.gate import Baseline, GateOptions, evaluate
from miaudit.report import DEFAULT_FORMATS, FORMATS, get_format, save_json, write
from miaudit.report.evidence import table_groups
from miaudit.report.sections import text_lines
from miaudit.report.text import compact, estimate, fpr_label, measured_fpr
from miaudit.results import AuditResult

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_OUT = "miaudit-report"
SUMMARY_WIDTH = 110  # the summary table's intervals need this much; rich assumes 80 off a tty


class RichProgress:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def task(self, description: str, total: int) -> Callable[[int], None]:
        task_id = self.progress.add_task(description, total=total)
        return lambda n: self.progress.advance(task_id, n)


@contextmanager
def progress_bars(quiet: bool) -> Iterator[RichProgress | None]:
    if quiet:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bars:
        yield RichProgress(bars)


def split_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def formats(value: str | None, configured: tuple[str, ...] | None) -> list[str]:
    names = split_list(value) if value is not None else list(configured or [])
    if not names:
        return list(DEFAULT_FORMATS)
    if names == ["all"]:
        return list(FORMATS)
    for name in names:
        get_format(name)
    return names


def attack_params(items: tuple[str, ...]) -> dict[str, dict[str, str]] | None:
    """``("rmia-offline.a=0.5", ...)`` → ``{"rmia-offline": {"a": "0.5"}}``."""
    params: dict[str, dict[str, str]] = {}
    for item in items:
        name, _, value = item.partition("=")
        attack, _, key = name.strip().rpartition(".")
        if not attack or not key or not value.strip():
            raise InputError(
                f"--attack-param {item!r}: expected ATTACK.NAME=VALUE, e.g. rmia-offline.a=0.5"
            )
        params.setdefault(attack, {})[key] = value.strip()
    return params or None


COMMON_OPTIONS = [
    click.option(
        "--reference-design",
        type=choice(Design),
        default=None,
        help="Where reference models draw their training records: all records evenly "
        "(default), audited (each member and non-member IN for half of the models, population "
        "fills up), or the population only (offline attacks).",
    ),
    click.option(
        "--out",
        type=click.Path(file_okay=False),
        default=None,
        help=f"Report folder (default ./{DEFAULT_OUT}/).",
    ),
    click.option(
        "--format",
        "formats",
        default=None,
        help=format_help(),
    ),
    click.option("--attacks", default=None, help="Comma-separated attack names (default: all)."),
    click.option(
        "--fail-on",
        "fail_on",
        default=None,
        help="Comma-separated conditions, e.g. 'auc>0.6,tpr@0.001>0.01'; exit 1 if any holds.",
    ),
    click.option(
        "--seed", type=int, default=None, help="Seed for every random choice (default 0)."
    ),
    click.option(
        "--class-names",
        default=None,
        help="Names for the classes, comma-separated in the model's class order "
        "(e.g. malignant,benign): the report shows them instead of 0, 1.",
    ),
    click.option(
        "--subjects",
        default=None,
        help="What one record is, in the plural, for the report's plain-words summary "
        "(default: records; e.g. patients).",
    ),
    click.option("--quiet", is_flag=True, help="No progress bars or summary table."),
    click.option(
        "--verbose",
        is_flag=True,
        help="Let Ray's own log lines through (--executor ray); silenced by default.",
    ),
    click.option(
        "--reference-models",
        type=click.IntRange(min=0),
        default=None,
        help="Train N models like the target for shadow, LiRA and RMIA (default 0).",
    ),
    click.option(
        "--reference-train-size",
        type=click.IntRange(min=1),
        default=None,
        help="Records each reference model trains on (default: number of members).",
    ),
    click.option(
        "--executor",
        type=choice(ExecutorName),
        default=None,
        help="Where reference models train: local process pool (default), inline, "
        "or a Ray cluster.",
    ),
    click.option(
        "--ray-address",
        default=None,
        help="Ray cluster address for --executor ray (default: RAY_ADDRESS, or a local cluster).",
    ),
    click.option(
        "--cache-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Keep reference-model outputs here; a re-run trains nothing twice.",
    ),
    click.option(
        "--reference-outputs",
        type=click.Path(dir_okay=False),
        default=None,
        help="Reference models' outputs trained elsewhere (NPZ; see "
        "docs/reference-models.md), instead of --reference-models.",
    ),
    click.option(
        "--attack-param",
        "attack_param",
        multiple=True,
        help="An attack parameter, ATTACK.NAME=VALUE, e.g. rmia-offline.a=0.5 (repeatable).",
    ),
    click.option(
        "--no-tune",
        "no_tune",
        is_flag=True,
        default=None,
        help="Keep the reference attacks' default (or --attack-param) settings instead of "
        "tuning them by leave-one-reference-out replay.",
    ),
    click.option(
        "--baseline",
        type=click.Path(dir_okay=False),
        default=None,
        help="Fail on a significant regression against this saved report.",
    ),
    click.option(
        "--save-baseline",
        type=click.Path(dir_okay=False),
        default=None,
        help="Save this audit as a baseline for later runs.",
    ),
    click.option(
        "--tolerance",
        type=click.FloatRange(0, 1, max_open=True),
        default=None,
        help="How far above the baseline's interval a new interval must lie to fail (default 0).",
    ),
    click.option(
        "--soft-fail", is_flag=True, default=None, help="Report gate failures but exit 0."
    ),
    click.option(
        "--sensitive-data",
        "sensitive_data",
        is_flag=True,
        default=None,
        help="The training data are sensitive: flag a missing DP guarantee even "
        "without measured leakage.",
    ),
    click.option(
        "--mlflow",
        "mlflow",
        is_flag=True,
        default=None,
        help="Log metrics, the verdict and the report to the active MLflow tracking "
        "URI (MLFLOW_TRACKING_URI).",
    ),
]

#: Common options that set the audit (keywords of :func:`miaudit.audit`) and the gate.
REFERENCE_OPTIONS = (
    "reference_design",
    "reference_models",
    "reference_train_size",
    "executor",
    "ray_address",
    "cache_dir",
    "reference_outputs",
)
GATE_OPTIONS = ("baseline", "save_baseline", "tolerance", "soft_fail")


def with_common(command: F) -> F:
    for option in reversed(COMMON_OPTIONS):
        command = option(command)
    return command


def audit_settings(
    options: dict[str, Any], attacks: str | None, seed: int | None
) -> dict[str, Any]:
    """The :func:`miaudit.audit` keywords the common flags set (``None``: not given)."""
    from miaudit.training.ray_cluster import set_verbose

    set_verbose(options["verbose"])
    settings = {k: options[k] for k in REFERENCE_OPTIONS}
    settings.update(
        attack_params=attack_params(options["attack_param"]),
        sensitive_data=options["sensitive_data"] or None,
        tune=False if options["no_tune"] else None,
        attacks=split_list(attacks),
        seed=seed,
        class_names=split_list(options["class_names"]),
        subjects=options["subjects"],
    )
    return settings


def gate_settings(options: dict[str, Any], fail_on: str | None) -> dict[str, Any]:
    settings = {k: options[k] for k in GATE_OPTIONS}
    settings["fail_on"] = tuple(split_list(fail_on)) if fail_on is not None else None
    settings["soft_fail"] = options["soft_fail"] or None
    return settings


def _summary(
    result: AuditResult, assessment: Assessment, paths: list[Path], console: Console
) -> None:
    risk, plain = assessment.risk, assessment.plain
    table = Table(
        title=f"Membership-inference audit ({result.settings.confidence:.0%} intervals)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("attack", no_wrap=True)
    table.add_column("AUC", no_wrap=True)
    for f in result.settings.fprs:
        table.add_column(f"TPR@{fpr_label(f)}", no_wrap=True)
    table.add_column("advantage", no_wrap=True)
    table.add_column("ε ≥", no_wrap=True)
    for group in table_groups(result):
        a = group.first
        cells = [_rate(a.tpr(f)) for f in result.settings.fprs]
        table.add_row(
            "\n".join(group.names),
            compact(a.auc),
            *cells,
            compact(a.advantage),
            f"{a.epsilon.value:.2f}",
            end_section=True,
        )
    console.print(table)
    for s in result.skipped:
        console.print(escape(f"  not run: {s.name} — {s.reason}"), highlight=False)
    m = result.model
    console.print(
        f"model: train accuracy {estimate(m.train_accuracy, True)}, held-out "
        f"{estimate(m.test_accuracy, True)}, gap {estimate(m.generalization_gap, True)}",
        highlight=False,
    )
    for line in text_lines(result, assessment):  # the result's extra sections
        console.print(escape(line), highlight=False)
    colour = {"high": "red", "elevated": "yellow"}.get(risk.level, "green")
    console.print(f"[bold {colour}]risk: {risk.level}[/] — {escape(risk.reason)}", highlight=False)
    console.print(escape(plain.headline), highlight=False)
    console.print(f"[bold]next:[/] {escape(plain.next_step)}", highlight=False)
    for path in paths:
        console.print(escape(f"wrote {path}"), highlight=False)


def _rate(t: Any) -> str:
    """``17.3% (8–30)`` and, below it, the FPR its threshold reached."""
    if t is None:
        return "n/a"
    at = measured_fpr(t)
    return compact(t.tpr, percent=True) + (f"\n{at}" if at else "")


def check_outputs(out: str, gate: GateOptions) -> Baseline | None:
    """Before any work: the report folder and a baseline to save can be written, and a
    baseline to compare with reads (an audit that ran for an hour is not lost at the end)."""
    check_writable(out, "--out", folder=True)
    if gate.save_baseline:
        check_writable(gate.save_baseline, "--save-baseline", folder=False)
    return Baseline.load(gate.baseline) if gate.baseline else None


def finish(
    result: AuditResult,
    gate: GateOptions,
    out: str,
    chosen_formats: list[str],
    quiet: bool,
    mlflow: bool = False,
) -> None:
    """Check the gate, attach the verdict, write the reports, tell CI, set the exit code."""
    from miaudit.integrations.github import github_actions

    baseline = check_outputs(out, gate)
    verdict = evaluate(result, gate.conditions, baseline, gate.tolerance, gate.soft_fail)
    result = dataclasses.replace(result, gate=verdict)
    assessment = assess(result)  # once: the reports, the summary, MLflow and CI share it
    paths = write(result, out, chosen_formats, assessment)
    if gate.save_baseline:
        paths.append(save_json(result, gate.save_baseline))
    if mlflow:
        from miaudit.integrations.mlflow import log_to_mlflow

        run_id = log_to_mlflow(result, out, assessment.risk)
        if not quiet:
            Console(stderr=True).print(f"logged to MLflow run {run_id}", highlight=False)
    console = Console(width=max(Console().width, SUMMARY_WIDTH))
    if not quiet:
        _summary(result, assessment, paths, console)
    github_actions(result, assessment=assessment)  # annotations and a summary, when there
    _verdict(verdict, console, quiet)


def _verdict(verdict: Any, console: Console, quiet: bool) -> None:
    errors = Console(stderr=True)
    for check in verdict.checks:
        if not check.passed:
            errors.print(f"[bold red]gate failed:[/] {escape(check.detail)}", highlight=False)
    if verdict.checks and not quiet:
        passed = sum(c.passed for c in verdict.checks)
        console.print(
            f"gate: {passed} of {len(verdict.checks)} checks passed"
            + (escape(f" (baseline {verdict.baseline})") if verdict.baseline else ""),
            highlight=False,
        )
    if not verdict.passed:
        if verdict.soft:
            errors.print(
                "--soft-fail: reporting the failure without failing the job", highlight=False
            )
            return
        sys.exit(EXIT_GATE)
