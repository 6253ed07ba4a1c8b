"""``miaudit audit``: audit your own model from a config file, a table of outputs, or a model
file with record files."""

from __future__ import annotations

from typing import Any

import click

from miaudit._io import check_writable
from miaudit.audit import audit
from miaudit.cli import common
from miaudit.cli.choices import choice
from miaudit.cli.exits import input_errors_exit_2
from miaudit.cli.sources import AuditJob, job_from_config, job_from_flags
from miaudit.targets.exposure import ClassifierOutput
from miaudit.targets.kserve import Protocol


@click.command(name="audit")
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
    help="A model file, by its suffix: scikit-learn .skops (safe format) or joblib/pickle, "
    "ONNX .onnx, torch.export .pt2 (with --classes); joblib/pickle and torch files need "
    "--trust-model-file.",
)
@click.option("--trust-model-file", is_flag=True, help="Allow loading --model (it runs code).")
@click.option(
    "--endpoint",
    default=None,
    help="A model served over HTTP: KServe V1 ('.../v1/models/NAME:predict') or Open "
    "Inference v2 ('.../v2/models/NAME/infer'); needs --classes and record files.",
)
@click.option(
    "--endpoint-header",
    multiple=True,
    help="A request header, 'Name: value' (repeatable); ${VAR} takes the value from the "
    "environment. Never written to reports.",
)
@click.option("--endpoint-protocol", type=choice(Protocol), default=Protocol.V1.value)
@click.option("--endpoint-output", type=choice(ClassifierOutput), default="probabilities")
@click.option(
    "--classes",
    default=None,
    help="--endpoint or a --model .pt2 file: number of classes, or a list: 0,1.",
)
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
@click.option(
    "--output-policy",
    default=None,
    help="Audit the model as an API applying this policy would serve it: full, top-k:K, "
    "round:D, label-only, noise:SIGMA, temperature:T, combinable ('top-k:3,round:2').",
)
@common.with_common
@input_errors_exit_2
def audit_command(
    config_path: str | None,
    outputs_path: str | None,
    model_path: str | None,
    trust_model_file: bool,
    endpoint: str | None,
    members: str | None,
    nonmembers: str | None,
    population: str | None,
    label_column: str,
    id_column: str | None,
    categorical: str | None,
    allow_overlap: bool,
    dp_epsilon: float | None,
    output_policy: str | None,
    out: str | None,
    formats: str | None,
    attacks: str | None,
    fail_on: str | None,
    seed: int | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Audit your own model: from --config, from --outputs, or from --model with records."""
    sources = [p for p in (config_path, outputs_path, model_path, endpoint) if p]
    if len(sources) != 1:
        raise click.UsageError("give exactly one of --config, --outputs, --model or --endpoint")
    records = {"members": members, "nonmembers": nonmembers, "population": population}
    if out:  # before the model or the records are read; a config's folder is checked below
        check_writable(out, "--out", folder=True)
    if config_path:
        _no_record_flags(records, id_column, categorical, trust_model_file)
        job: AuditJob = job_from_config(config_path)
    else:
        job = job_from_flags(
            outputs_path,
            model_path,
            trust_model_file,
            records,
            label_column,
            id_column,
            common.split_list(categorical) or [],
            _endpoint_flags(endpoint, options),
            options["classes"],
        )
    settings = common.audit_settings(options, attacks, seed)
    settings.update(dp_epsilon=dp_epsilon, allow_overlap=allow_overlap or None)
    job = job.override(
        settings,
        common.gate_settings(options, fail_on),
        {"out": out, "mlflow": options["mlflow"] or None},
    ).with_output_policy(output_policy)
    fprs = sorted(set(job.options.fprs) | set(job.gate.fprs))
    chosen_formats = common.formats(formats, job.output.formats)
    common.check_outputs(job.output.out or common.DEFAULT_OUT, job.gate)
    with common.progress_bars(quiet) as bars:
        result = audit(
            job.target,
            job.members,
            job.nonmembers,
            job.population,
            options=job.options.replace(fprs=fprs),
            progress=bars,
        )
    result = result if job.source is None else _with_source(result, job.source)
    common.finish(
        result,
        job.gate,
        job.output.out or common.DEFAULT_OUT,
        chosen_formats,
        quiet,
        job.output.mlflow,
    )


def _endpoint_flags(endpoint: str | None, options: dict[str, Any]) -> dict[str, Any] | None:
    """``--endpoint`` and the flags that describe it (``None``: no endpoint)."""
    if not endpoint:
        return None
    return {
        "url": endpoint,
        "headers": options["endpoint_header"],
        "protocol": options["endpoint_protocol"],
        "output": options["endpoint_output"],
        "classes": options["classes"],
    }


def _with_source(result: Any, source: str) -> Any:
    import dataclasses

    return dataclasses.replace(result, source=source)


def _no_record_flags(
    records: dict[str, str | None],
    id_column: str | None,
    categorical: str | None,
    trust_model_file: bool,
) -> None:
    stray = [
        flag
        for flag, value in (
            ("--members", records["members"]),
            ("--nonmembers", records["nonmembers"]),
            ("--population", records["population"]),
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
