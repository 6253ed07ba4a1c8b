"""``miaudit compare --config compare.toml``: train each variant of a model, audit each, and
write privacy beside utility (docs/defences.md).

An estimator named by import path (``sklearn.linear_model:LogisticRegression``) is code the
user asked to run: the command imports that module, as Python would."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel, ConfigDict, Field, model_validator
from rich.console import Console

from miaudit._io import check_writable
from miaudit.cli.common import split_list
from miaudit.cli.config import DataConfig, read_validated
from miaudit.cli.exits import EXIT_GATE, input_errors_exit_2
from miaudit.data import RecordSet
from miaudit.defences import compare
from miaudit.defences.render import DEFAULT_FORMATS, FORMATS, write
from miaudit.errors import InputError
from miaudit.training import DistillRecipe, EnsembleRecipe, SklearnRecipe


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariantConfig(_Strict):
    """One ``[[variants]]`` entry: exactly one of ``estimator`` (with ``params``), ``base``
    with ``output_policy``, ``ensemble`` or ``distill``."""

    name: str = Field(min_length=1)
    estimator: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    base: str | None = None
    output_policy: str | None = None
    ensemble: dict[str, Any] | None = None
    distill: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> VariantConfig:
        kinds = [self.estimator, self.base, self.ensemble, self.distill]
        if sum(k is not None for k in kinds) != 1:
            raise ValueError(
                "give exactly one of estimator, base (+ output_policy), ensemble, distill"
            )
        if (self.base is None) != (self.output_policy is None):
            raise ValueError("base and output_policy go together")
        return self


class CompareData(DataConfig):
    """``[data]``: ``members`` is the training set, ``nonmembers`` the held-out test set;
    ``transfer`` the records distillation labels with the teacher (kept out of the audit)."""

    transfer: str | None = None


class CompareSettings(_Strict):
    attacks: list[str] | None = None
    reference_models: int = Field(0, ge=0)
    seed: int = 0
    fail_on: list[str] = Field(default_factory=list)
    fprs: list[float] = Field(default_factory=lambda: [0.001, 0.01, 0.1])
    executor: str = "local"
    ray_address: str | None = None
    cache_dir: str | None = None
    out: str = "miaudit-compare"


class CompareConfig(_Strict):
    data: CompareData
    compare: CompareSettings = Field(default_factory=CompareSettings)
    variants: list[VariantConfig] = Field(min_length=1)


def load(path: Path) -> CompareConfig:
    return read_validated(path, CompareConfig)


def estimator(spec: str, params: dict[str, Any]) -> Any:
    """Import ``package.module:Class`` and construct it with ``params``."""
    module, _, name = spec.partition(":")
    if not module or not name:
        raise InputError(f"estimator must look like 'package.module:Class', got {spec!r}")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot import estimator {spec!r}: {exc}") from None
    try:
        made = cls(**params)
        if hasattr(made, "_validate_params"):  # scikit-learn checks parameters only at fit
            made._validate_params()
        return made
    except (TypeError, ValueError) as exc:
        raise InputError(f"estimator {spec!r}: {exc}") from None


def variants(config: CompareConfig, base_dir: Path) -> dict[str, Any]:
    built: dict[str, Any] = {}
    d = config.data
    for v in config.variants:
        if v.name in built:
            raise InputError(f"variant {v.name!r} is declared twice")
        if v.estimator is not None:
            built[v.name] = estimator(v.estimator, v.params)
        elif v.base is not None:
            built[v.name] = (v.base, v.output_policy)
        else:
            spec = dict(v.ensemble or v.distill or {})
            base = spec.pop("base", None) or spec.pop("teacher", None)
            if base not in built or isinstance(built[base], tuple):
                raise InputError(f"variant {v.name!r}: name an estimator variant as its base")
            recipe = SklearnRecipe(built[base])
            if v.ensemble is not None:
                built[v.name] = EnsembleRecipe(recipe, **spec)
            else:
                if d.transfer is None:
                    raise InputError("distillation needs data.transfer: records to label")
                path = _resolve(base_dir, d.transfer)
                transfer = RecordSet.from_file(path, d.label, d.id, d.categorical, "transfer")
                built[v.name] = DistillRecipe(recipe, transfer.features, **spec)
    return built


def _resolve(base: Path, path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


@click.command("compare")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="folder for compare.json/md/html")
@click.option("--fail-on", help="policy the recommended variant must meet, e.g. 'tpr@0.001>0.01'")
@click.option(
    "--format",
    "format_list",
    default=",".join(DEFAULT_FORMATS),
    show_default=True,
    help=f"comma-separated: {', '.join(FORMATS)} or all",
)
@input_errors_exit_2
def compare_command(
    config_path: Path, out: Path | None, fail_on: str | None, format_list: str
) -> None:
    """Train and audit each variant of a model; privacy beside utility, the Pareto front, and
    the most accurate variant that meets a policy. Exit 1 if none meets it."""
    formats = split_list(format_list) or list(DEFAULT_FORMATS)
    FORMATS.select(formats)  # an unknown format fails before any training
    config = load(config_path)
    base_dir = config_path.parent.resolve()
    s, d = config.compare, config.data
    target_dir = out or _resolve(base_dir, s.out)
    check_writable(target_dir, "--out", folder=True)
    sets = [
        RecordSet.from_file(_resolve(base_dir, p), d.label, d.id, d.categorical, name)
        if p
        else None
        for p, name in ((d.members, "train"), (d.nonmembers, "test"), (d.population, "population"))
    ]
    policy = split_list(fail_on) or s.fail_on
    found = compare(
        variants(config, base_dir),
        sets[0],
        sets[1],
        sets[2],
        attacks=s.attacks,
        reference_models=s.reference_models,
        seed=s.seed,
        fail_on=policy,
        fprs=s.fprs,
        executor=s.executor,
        ray_address=s.ray_address,
        cache_dir=_resolve(base_dir, s.cache_dir) if s.cache_dir else None,
    )
    paths = write(found, target_dir, formats, source=str(config_path))
    console = Console(width=120)
    console.print(found.render("md"), markup=False, highlight=False)
    for p in paths:
        console.print(f"wrote {p}", markup=False, highlight=False)
    if policy and found.recommended is None:
        raise SystemExit(EXIT_GATE)
