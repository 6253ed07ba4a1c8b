"""Compare defences: train each variant of a model, audit each with the same attacks (its
reference models trained with the variant's own recipe), and put privacy beside utility.

A variant is a scikit-learn estimator (cloned and fitted), a :class:`~miaudit.training.Recipe`
(PyTorch, distillation, an ensemble, your own ``fit``), or ``(base, policy)``: the model of
variant ``base`` answering through an output policy (the same fitted model, so the same
accuracy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from miaudit.audit import audit
from miaudit.audit.inputs import as_records
from miaudit.data import RecordSet
from miaudit.defences.store import VariantStore, records_digest, settings_key
from miaudit.errors import InputError
from miaudit.gate import evaluate, parse_conditions, required_fprs
from miaudit.results import AuditResult, Verdict
from miaudit.targets.interface import Target
from miaudit.training.defences import HardenedRecipe
from miaudit.training.executor import FitJob, fit_models
from miaudit.training.recipe import Recipe, SklearnRecipe

SCHEMA = "miaudit.compare/1"


@dataclass(frozen=True, eq=False)
class VariantResult:
    """One variant: its audit, the seconds its model took to train, the DP ε its recipe's
    accountant reports (``None``: not DP), and the policy's verdict (``None``: no policy)."""

    name: str
    recipe: str
    result: AuditResult
    train_seconds: float
    dp_epsilon: float | None = None
    verdict: Verdict | None = None

    @property
    def accuracy(self) -> float:
        return float(self.result.model.test_accuracy.value or 0.0)

    def worst_tpr(self, fpr: float) -> tuple[float | None, tuple[float, float] | None, str]:
        """The highest TPR at ``fpr`` over the attacks, its interval and the attack's name."""
        best: tuple[float | None, tuple[float, float] | None, str] = (None, None, "")
        for attack in self.result.attacks:
            found = attack.tpr(fpr)
            value = None if found is None else found.tpr.value
            if value is not None and (best[0] is None or value > best[0]):
                best = (value, found.tpr.ci, attack.name)  # type: ignore[union-attr]
        return best


@dataclass(frozen=True, eq=False)
class Comparison:
    """Every variant's privacy and utility, the Pareto front and the recommendation."""

    variants: tuple[VariantResult, ...]
    fprs: tuple[float, ...]
    #: What "leakage" means on the Pareto front: ``tpr@F`` (the worst attack's TPR at the
    #: lowest FPR every variant resolves) or ``auc`` (the strongest attack's).
    leakage: str
    pareto: frozenset[str]
    recommended: str | None
    recommendation: str
    conditions: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)

    def variant(self, name: str) -> VariantResult:
        return next(v for v in self.variants if v.name == name)

    def leakage_of(self, variant: VariantResult) -> float:
        return _leakage(variant, self.leakage)

    def to_dict(self) -> dict[str, Any]:
        from miaudit.defences.render import to_dict

        return to_dict(self)

    def render(self, fmt: str) -> str:
        from miaudit.defences.render import render

        return render(self, fmt)

    def write(
        self, directory: str | Path, formats: Sequence[str] = ("json", "md", "html")
    ) -> list[Path]:
        from miaudit.defences.render import write

        return write(self, Path(directory), formats)


def compare(
    variants: Mapping[str, Any],
    train: Any,
    test: Any,
    population: Any = None,
    *,
    attacks: Sequence[str] | None = None,
    reference_models: int = 0,
    seed: int = 0,
    fail_on: Sequence[str] = (),
    fprs: Sequence[float] = (0.001, 0.01, 0.1),
    executor: str = "local",
    ray_address: str | None = None,
    cache_dir: str | Path | None = None,
    progress: Any = None,
) -> Comparison:
    """Train and audit every variant on the same records: ``train`` (the members), ``test``
    (held out: the non-members and the utility figure), ``population`` (optional extra
    non-members for calibration and reference models). ``fail_on`` is a policy in the
    ``--fail-on`` grammar (``["tpr@0.001>0.01", "auc>0.6"]``): the recommended variant is the
    most accurate one that meets it.

    The variants' models train through ``executor`` (``local``: a process pool, one model per
    core; ``ray``; ``inline``), as do their reference models. With ``cache_dir``, reference
    models and every finished variant are kept there: run it again after an interruption (or
    with a variant added) and only what is missing is trained and audited."""
    if not variants:
        raise InputError("compare needs at least one variant")
    conditions = parse_conditions(fail_on)
    fprs = tuple(sorted({*map(float, fprs), *required_fprs(conditions)}))
    members, nonmembers = _records(train, "train"), _records(test, "test")
    pool = _records(population, "population") if population is not None else None
    classes = np.unique(np.concatenate([members.labels, nonmembers.labels]))
    recipes = _recipes(variants)
    store = VariantStore(
        cache_dir,
        records_digest(members, nonmembers, pool),
        settings_key(attacks, reference_models, seed, fprs),
    )
    finished = _finished(store, recipes)
    trained = _train_all(recipes, set(finished), members, classes, seed, executor, ray_address)
    settings = {
        "attacks": list(attacks) if attacks is not None else None,
        "reference_models": reference_models,
        "seed": seed,
        "fprs": fprs,
        "executor": executor,
        "ray_address": ray_address,
        "cache_dir": cache_dir,
        "progress": progress,
    }
    results = []
    for name, recipe in recipes.items():
        if name in finished:
            result, seconds = finished[name]
        else:
            model, seconds = trained[name]
            result = audit(
                model,
                members,
                nonmembers,
                pool,
                recipe=recipe if reference_models else None,
                dp_epsilon=_dp_epsilon(model, recipe),
                **settings,
            )
            store.put(name, recipe.fingerprint(), result, seconds)
        verdict = evaluate(result, conditions) if conditions else None
        description = _describe(variants[name], recipe)
        results.append(
            VariantResult(name, description, result, seconds, result.declared_dp_epsilon, verdict)
        )
    results = _base_utility(results, variants)
    texts = tuple(c.text for c in conditions)
    extra = {"resumed": store.loaded}
    return _assemble(tuple(results), fprs, texts, seed, reference_models, extra)


def _base_utility(results: list[VariantResult], variants: Mapping[str, Any]) -> list[VariantResult]:
    """An output-policy variant serves its base's model: its utility is the base's (a policy
    changes what a query reveals, not the model's decisions; rounding may tie an argmax)."""
    by_name = {r.name: r for r in results}
    out = []
    for r in results:
        spec = variants[r.name]
        if isinstance(spec, tuple):
            model = by_name[spec[0]].result.model
            r = replace(r, result=replace(r.result, model=model))
        out.append(r)
    return out


def _dp_epsilon(model: Target, recipe: Recipe) -> float | None:
    """The accountant's ε recorded with a DP-trained model (behind a policy: its base's), or
    the recipe's target ε."""
    found = getattr(getattr(model, "inner", model), "dp_epsilon", None)
    return found if found is not None else getattr(recipe, "dp_epsilon", None)


def _records(value: Any, name: str) -> RecordSet:
    records = as_records(value, name)
    if records is None:
        raise InputError(f"{name}: required (a RecordSet or an (X, y) pair)")
    return records


def _recipes(variants: Mapping[str, Any]) -> dict[str, Recipe]:
    """Each variant's recipe; a ``(base, policy)`` variant's is its base's behind the policy."""
    recipes: dict[str, Recipe] = {}
    for name, spec in variants.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"variant names must be non-empty text, got {name!r}")
        if isinstance(spec, tuple):
            continue
        if isinstance(spec, Recipe):
            recipes[name] = spec
        elif hasattr(spec, "fit") and hasattr(spec, "get_params"):
            recipes[name] = SklearnRecipe(spec)
        else:
            raise InputError(
                f"variant {name!r}: pass a scikit-learn estimator, a miaudit Recipe or "
                f"(base variant, output policy), got {type(spec).__name__}"
            )
    for name, spec in variants.items():
        if isinstance(spec, tuple):
            if len(spec) != 2 or spec[0] not in recipes:
                raise InputError(
                    f"variant {name!r}: (base, policy) must name a variant that trains a model "
                    f"(one of {sorted(recipes)}), got {spec!r}"
                )
            recipes[name] = HardenedRecipe(recipes[spec[0]], spec[1])
    return {name: recipes[name] for name in variants}


def _finished(
    store: VariantStore, recipes: Mapping[str, Recipe]
) -> dict[str, tuple[AuditResult, float]]:
    """Variants a previous run finished (their audit and training seconds), from the store."""
    found = {name: store.get(name, recipe.fingerprint()) for name, recipe in recipes.items()}
    return {name: entry for name, entry in found.items() if entry is not None}


def _train_all(
    recipes: Mapping[str, Recipe],
    finished: set[str],
    members: RecordSet,
    classes: np.ndarray,
    seed: int,
    executor: str,
    ray_address: str | None,
) -> dict[str, tuple[Target, float]]:
    """Every model still needed, trained through the executor: each unfinished variant's, and
    an unfinished output-policy variant's base (it serves the base's model behind the policy:
    the same model, the same accuracy, the base's training seconds)."""
    bases = {id(r): n for n, r in recipes.items() if not isinstance(r, HardenedRecipe)}
    needed: set[str] = set()
    for name, recipe in recipes.items():
        if name not in finished:
            needed.add(bases[id(recipe.base)] if isinstance(recipe, HardenedRecipe) else name)
    jobs = [
        FitJob(name, recipes[name], members.features, members.labels, seed, classes)
        for name in recipes
        if name in needed
    ]
    trained: dict[str, tuple[Target, float]] = {}
    for fitted in fit_models(jobs, executor, ray_address):
        if fitted.model is None:
            raise InputError(f"variant {fitted.name!r} failed to train: {fitted.error}")
        trained[fitted.name] = (fitted.model, fitted.seconds)
    for name, recipe in recipes.items():
        if name not in finished and isinstance(recipe, HardenedRecipe):
            model, seconds = trained[bases[id(recipe.base)]]
            trained[name] = (recipe.wrap(model, seed), seconds)
    return trained


def _describe(spec: Any, recipe: Recipe) -> str:
    if isinstance(spec, tuple):
        return f"{spec[0]} behind the output policy {recipe.policy}"  # type: ignore[attr-defined]
    return " ".join(repr(recipe).split())


def _leakage(variant: VariantResult, measure: str) -> float:
    if measure.startswith("tpr@"):
        value = variant.worst_tpr(float(measure[4:]))[0]
        return float(value if value is not None else 1.0)
    strongest = variant.result.strongest()
    return float(strongest.auc.value) if strongest is not None else 0.5


def _measure(variants: tuple[VariantResult, ...], fprs: tuple[float, ...]) -> str:
    """The lowest FPR at which every variant has a resolvable TPR; else AUC."""
    for fpr in fprs:
        if all(v.worst_tpr(fpr)[0] is not None for v in variants):
            return f"tpr@{fpr:g}"
    return "auc"


def _assemble(
    variants: tuple[VariantResult, ...],
    fprs: tuple[float, ...],
    conditions: tuple[str, ...],
    seed: int,
    reference_models: int,
    extra: dict[str, Any] | None = None,
) -> Comparison:
    measure = _measure(variants, fprs)
    front = set()
    for v in variants:
        dominated = any(
            _leakage(o, measure) <= _leakage(v, measure)
            and o.accuracy >= v.accuracy
            and (_leakage(o, measure) < _leakage(v, measure) or o.accuracy > v.accuracy)
            for o in variants
        )
        if not dominated:
            front.add(v.name)
    recommended, why = _recommend(variants, conditions)
    settings = {"seed": seed, "reference_models": reference_models, **(extra or {})}
    return Comparison(
        variants, fprs, measure, frozenset(front), recommended, why, conditions, settings
    )


def _recommend(
    variants: tuple[VariantResult, ...], conditions: tuple[str, ...]
) -> tuple[str | None, str]:
    if not conditions:
        return None, "no policy given (fail_on / --fail-on): nothing to recommend"
    passing = [v for v in variants if v.verdict is not None and v.verdict.passed]
    if not passing:
        return None, f"no variant meets the policy {' and '.join(conditions)}"
    best = max(passing, key=lambda v: (v.accuracy, -v.train_seconds))
    return best.name, (
        f"the most accurate of the {len(passing)} variant(s) that meet the policy "
        f"{' and '.join(conditions)} (held-out accuracy {best.accuracy:.3f})"
    )
