"""``miaudit demo [llm]``: train a bundled example and audit it."""

from __future__ import annotations

from typing import Any

import click

from miaudit.audit import AuditOptions, audit
from miaudit.cli import common
from miaudit.cli.exits import input_errors_exit_2
from miaudit.cli.sources import with_keywords
from miaudit.errors import InputError
from miaudit.gate import GateOptions


@click.command()
@click.argument("example", required=False, type=click.Choice(["llm"]))
@common.with_common
@input_errors_exit_2
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
    gate = GateOptions(
        **{k: v for k, v in common.gate_settings(options, fail_on).items() if v is not None}
    )
    settings = common.audit_settings(options, attacks, seed)
    if example != "llm":  # the bundled data's class names, and who its records are
        from miaudit.demo.classifier import CLASS_NAMES, SUBJECTS

        settings["class_names"] = settings["class_names"] or list(CLASS_NAMES)
        settings["subjects"] = settings["subjects"] or SUBJECTS
    audit_options = with_keywords(AuditOptions(), settings)
    audit_options = audit_options.replace(fprs=sorted(set(audit_options.fprs) | set(gate.fprs)))
    chosen_formats = common.formats(formats, None)
    common.check_outputs(out or common.DEFAULT_OUT, gate)
    if example == "llm" and (audit_options.reference.given or audit_options.attack_params):
        raise InputError("reference-model options are for classifiers, not the llm demo")
    with common.progress_bars(quiet) as bars:
        target, members, nonmembers = _train(example, audit_options.seed, bars)
        result = audit(target, members, nonmembers, options=audit_options, progress=bars)
    common.finish(
        result, gate, out or common.DEFAULT_OUT, chosen_formats, quiet, bool(options["mlflow"])
    )


def _train(example: str | None, seed: int, bars: Any) -> tuple[Any, Any, Any]:
    if example == "llm":
        from miaudit.demo.lm import demo_lm

        what = "training a tiny language model on generated text"
    else:
        from miaudit.demo.classifier import demo_setup

        what = "training the demo model (MLP on breast-cancer data)"
    advance = bars.task(what, 1) if bars is not None else None
    if example == "llm":
        target, members, nonmembers, _ = demo_lm(seed)
    else:
        target, members, nonmembers = demo_setup(seed)
    if advance is not None:
        advance(1)
    return target, members, nonmembers
