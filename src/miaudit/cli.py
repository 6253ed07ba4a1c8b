"""The ``miaudit`` command line. Exit codes: 0 success, 1 a ``--fail-on`` gate failed,
2 bad input or usage."""

from __future__ import annotations

import functools
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

from miaudit import __version__
from miaudit.errors import InputError, MissingExtraError

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_OUT = "miaudit-report"
EXIT_GATE, EXIT_INPUT = 1, 2
SUMMARY_WIDTH = 110  # the summary table's intervals need this much; rich assumes 80 off a tty


def _input_errors_exit_2(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (InputError, MissingExtraError) as exc:
            Console(stderr=True).print(
                f"[bold red]error:[/] {escape(str(exc))}",
                highlight=False,
                markup=True,
                soft_wrap=True,
            )
            sys.exit(EXIT_INPUT)

    return wrapper  # type: ignore[return-value]


class _RichProgress:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def task(self, description: str, total: int) -> Callable[[int], None]:
        task_id = self.progress.add_task(description, total=total)
        return lambda n: self.progress.advance(task_id, n)


@contextmanager
def _progress(quiet: bool) -> Iterator[_RichProgress | None]:
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
        yield _RichProgress(bars)


def _split_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _formats(value: str | None, configured: list[str] | None) -> list[str]:
    from miaudit.report import DEFAULT_FORMATS, FORMATS, get_format

    names = _split_list(value) if value is not None else configured
    if not names:
        return list(DEFAULT_FORMATS)
    if names == ["all"]:
        return list(FORMATS)
    for name in names:
        get_format(name)
    return names


def _summary(result: Any, paths: list[Path], console: Console) -> None:
    from miaudit.report.questions import risk_level
    from miaudit.report.text import compact, estimate, fpr_label

    risk = risk_level(result)
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
    for a in sorted(result.attacks, key=lambda a: -(a.auc.value or 0)):
        cells = [
            compact(t.tpr, percent=True) if (t := a.tpr(f)) else "n/a" for f in result.settings.fprs
        ]
        table.add_row(
            a.name, compact(a.auc), *cells, compact(a.advantage), f"{a.epsilon.value:.2f}"
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
    colour = {"high": "red", "elevated": "yellow"}.get(risk.level, "green")
    console.print(f"[bold {colour}]risk: {risk.level}[/] — {escape(risk.reason)}", highlight=False)
    for path in paths:
        console.print(escape(f"wrote {path}"), highlight=False)


def _finish(
    result: Any,
    out: str,
    formats: list[str],
    fail_on: list[str],
    quiet: bool,
    gate: dict[str, Any],
    source: str | None = None,
) -> None:
    """Check the gate, attach the verdict, write the reports, tell CI, set the exit code."""
    import dataclasses

    from miaudit.baseline import Baseline, save_baseline
    from miaudit.ci import github_actions
    from miaudit.gate import evaluate, parse_conditions

    conditions = parse_conditions(fail_on)
    baseline = Baseline.load(gate["baseline"]) if gate.get("baseline") else None
    verdict = evaluate(
        result, conditions, baseline, gate.get("tolerance") or 0.0, bool(gate.get("soft_fail"))
    )
    result = dataclasses.replace(
        result,
        gate=verdict,
        source=source,
        sensitive_data=bool(gate.get("sensitive_data")) or result.sensitive_data,
    )
    paths = result.write(out, formats)
    if gate.get("save_baseline"):
        paths.append(save_baseline(result, gate["save_baseline"]))
    if gate.get("mlflow"):
        from miaudit.mlflow_log import log_to_mlflow

        run_id = log_to_mlflow(result, out)
        if not quiet:
            Console(stderr=True).print(f"logged to MLflow run {run_id}", highlight=False)
    console = Console(width=max(Console().width, SUMMARY_WIDTH))
    if not quiet:
        _summary(result, paths, console)
    github_actions(result)  # annotations and a job summary, when running there
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


_common = [
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
        help="Comma-separated: json,html,md,csv,sarif,junit or all (default: json,html,md,csv).",
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
    click.option("--quiet", is_flag=True, help="No progress bars or summary table."),
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
        type=click.Choice(["local", "inline", "ray"]),
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

_GATE_OPTIONS = ("baseline", "save_baseline", "tolerance", "soft_fail", "mlflow", "sensitive_data")

_REFERENCE_OPTIONS = (
    "reference_models",
    "reference_train_size",
    "executor",
    "ray_address",
    "cache_dir",
    "reference_outputs",
)


def _attack_params(items: tuple[str, ...]) -> dict[str, dict[str, str]] | None:
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


def _reference_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The reference-model keyword arguments of ``audit`` from the common CLI options."""
    settings = {k: options[k] for k in _REFERENCE_OPTIONS}
    settings["attack_params"] = _attack_params(options["attack_param"])
    return settings


def _with_common(command: F) -> F:
    for option in reversed(_common):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="miaudit")
def main() -> None:
    """Audit machine-learning models for membership inference (MITRE ATLAS AML.T0024.000)."""


@main.command()
@click.argument("example", required=False, type=click.Choice(["llm"]))
@_with_common
@_input_errors_exit_2
def demo(
    example: str | None,
    out: str | None,
    formats: str | None,
    attacks: str | None,
    fail_on: str | None,
    seed: int | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Train the bundled over-fitted hospital model, audit it and write a report.

    EXAMPLE "llm": train a tiny language model from scratch on generated text and audit it
    with the language-model attacks (a minute or two on 2 cores; needs miaudit[llm])."""
    from miaudit.audit import audit
    from miaudit.demo import demo_setup
    from miaudit.gate import parse_conditions, required_fprs
    from miaudit.metrics import DEFAULT_FPRS

    conditions = _split_list(fail_on) or []
    fprs = sorted(set(DEFAULT_FPRS) | set(required_fprs(parse_conditions(conditions))))
    chosen_formats = _formats(formats, None)
    if example == "llm":
        if any(options[k] for k in _REFERENCE_OPTIONS) or options["attack_param"]:
            raise InputError("reference-model options are for classifiers, not the llm demo")
        from miaudit.lm_demo import demo_lm

        with _progress(quiet) as bars:
            trained = (
                bars.task("training a tiny language model on generated text", 1)
                if bars is not None
                else None
            )
            target, members, nonmembers, _ = demo_lm(seed or 0)
            if trained is not None:
                trained(1)
            result = audit(
                target,
                members,
                nonmembers,
                attacks=_split_list(attacks),
                seed=seed or 0,
                fprs=fprs,
                progress=bars,
            )
        _finish(
            result,
            out or DEFAULT_OUT,
            chosen_formats,
            conditions,
            quiet,
            {k: options[k] for k in _GATE_OPTIONS},
        )
        return
    with _progress(quiet) as bars:
        trained = (
            bars.task("training the demo model (MLP on breast-cancer data)", 1)
            if bars is not None
            else None
        )
        target, members, nonmembers = demo_setup(seed or 0)
        if trained is not None:
            trained(1)
        settings = _reference_settings(options)
        settings["reference_models"] = settings["reference_models"] or 0
        result = audit(
            target,
            members,
            nonmembers,
            attacks=_split_list(attacks),
            seed=seed or 0,
            fprs=fprs,
            progress=bars,
            **settings,
        )
    _finish(
        result,
        out or DEFAULT_OUT,
        chosen_formats,
        conditions,
        quiet,
        {k: options[k] for k in _GATE_OPTIONS},
    )


@main.command(name="audit")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML or YAML audit config (see docs/config.md).",
)
@click.option(
    "--outputs",
    "outputs_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Precomputed outputs table (CSV, Parquet or NPZ; see docs).",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="A joblib/pickle scikit-learn model (needs --trust-model-file).",
)
@click.option("--trust-model-file", is_flag=True, help="Allow loading --model (it runs code).")
@click.option("--members", default=None, help="Member records (CSV/Parquet/NPZ) for --model.")
@click.option("--nonmembers", default=None, help="Non-member records for --model.")
@click.option("--population", default=None, help="Optional population records for calibration.")
@click.option("--label-column", default="label", show_default=True)
@click.option("--id-column", default=None)
@click.option("--categorical", default=None, help="Comma-separated non-numeric feature columns.")
@click.option(
    "--allow-overlap",
    is_flag=True,
    help="Allow identical feature rows among members and non-members.",
)
@click.option(
    "--dp-epsilon",
    type=float,
    default=None,
    help="The ε the model owner declares; checked against the measured bound.",
)
@_with_common
@_input_errors_exit_2
def audit_command(
    config_path: str | None,
    outputs_path: str | None,
    model_path: str | None,
    trust_model_file: bool,
    members: str | None,
    nonmembers: str | None,
    population: str | None,
    label_column: str,
    id_column: str | None,
    categorical: str | None,
    allow_overlap: bool,
    dp_epsilon: float | None,
    out: str | None,
    formats: str | None,
    attacks: str | None,
    fail_on: str | None,
    seed: int | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Audit your own model: from --config, from --outputs, or from --model with records."""
    for flag in ("soft_fail", "mlflow", "sensitive_data"):
        if not options[flag]:
            options[flag] = None  # an absent flag must not override the config
    from miaudit.cli_sources import AuditPlan, plan_from_config, plan_from_flags

    sources = [p for p in (config_path, outputs_path, model_path) if p]
    if len(sources) != 1:
        raise click.UsageError("give exactly one of --config, --outputs or --model")
    if config_path:
        stray = [
            flag
            for flag, value in (
                ("--members", members),
                ("--nonmembers", nonmembers),
                ("--population", population),
                ("--id-column", id_column),
                ("--categorical", categorical),
                ("--trust-model-file", trust_model_file),
            )
            if value
        ]
        if stray:
            raise click.UsageError(
                f"{', '.join(stray)} go with --model; with --config the "
                "config file's [target] and [data] sections say this"
            )
        plan: AuditPlan = plan_from_config(config_path)
        plan = plan.override(dp_epsilon=dp_epsilon, allow_overlap=allow_overlap or None)
    else:
        plan = plan_from_flags(
            outputs_path,
            model_path,
            trust_model_file,
            members,
            nonmembers,
            population,
            label_column,
            id_column,
            _split_list(categorical) or [],
            allow_overlap,
            dp_epsilon,
        )
    plan = plan.override(
        attacks=_split_list(attacks),
        fail_on=_split_list(fail_on),
        seed=seed,
        out=out,
        **_reference_settings(options),
        **{k: options[k] for k in _GATE_OPTIONS},
    )
    chosen_formats = _formats(formats, plan.formats)
    with _progress(quiet) as bars:
        result = plan.run(bars)
    _finish(
        result,
        plan.out or DEFAULT_OUT,
        chosen_formats,
        plan.fail_on,
        quiet,
        {k: getattr(plan, k) for k in _GATE_OPTIONS},
        plan.source,
    )


@main.command(name="attacks")
def list_attacks() -> None:
    """List the attacks and what each needs from the target."""
    from miaudit.attacks import REGISTRY

    table = Table(title="miaudit attacks", title_justify="left")
    table.add_column("name")
    table.add_column("needs")
    table.add_column("what it does")
    for name, attack in REGISTRY.items():
        needs = "predicted label" if attack.needs == ("correct",) else "probabilities or logits"
        if attack.min_reference_models:
            needs += f", ≥ {attack.min_reference_models} reference model(s)"
        if "population" in attack.needs:
            needs += ", a population"
        table.add_row(name, needs, attack.description)
    Console().print(table)


if __name__ == "__main__":  # pragma: no cover
    main()
