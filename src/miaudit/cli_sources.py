"""Turn a config file or CLI flags into one :class:`AuditPlan`: a target, records, settings."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from miaudit.config import Config, load_config
from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.metrics import DEFAULT_FPRS
from miaudit.result import AuditResult
from miaudit.targets.interface import Target


@dataclass(frozen=True)
class AuditPlan:
    """Everything one ``miaudit audit`` run needs."""

    target: Target
    members: RecordSet | None
    nonmembers: RecordSet | None
    population: RecordSet | None = None
    attacks: list[str] | None = None
    seed: int = 0
    delta: float = 1e-5
    confidence: float = 0.95
    fprs: list[float] = field(default_factory=lambda: list(DEFAULT_FPRS))
    allow_overlap: bool = False
    dp_epsilon: float | None = None
    out: str | None = None
    formats: list[str] | None = None
    fail_on: list[str] = field(default_factory=list)
    reference_models: int = 0
    reference_train_size: int | None = None
    executor: str | None = None
    ray_address: str | None = None
    cache_dir: str | None = None
    reference_outputs: str | None = None
    attack_params: dict[str, dict[str, Any]] | None = None
    baseline: str | None = None
    save_baseline: str | None = None
    tolerance: float = 0.0
    soft_fail: bool = False
    mlflow: bool = False
    sensitive_data: bool = False
    #: The file this plan came from (config, outputs table or model): where findings point.
    source: str | None = None

    def override(self, **values: Any) -> AuditPlan:
        """Replace the fields given a value (CLI flags win over the config)."""
        return dataclasses.replace(self, **{k: v for k, v in values.items() if v is not None})

    def run(self, progress: Any = None) -> AuditResult:
        from miaudit.audit import audit
        from miaudit.gate import parse_conditions, required_fprs

        fprs = sorted(set(self.fprs) | set(required_fprs(parse_conditions(self.fail_on))))
        return audit(
            self.target,
            self.members,
            self.nonmembers,
            self.population,
            attacks=self.attacks,
            seed=self.seed,
            delta=self.delta,
            confidence=self.confidence,
            fprs=fprs,
            allow_overlap=self.allow_overlap,
            dp_epsilon=self.dp_epsilon,
            progress=progress,
            reference_models=self.reference_models,
            reference_train_size=self.reference_train_size,
            executor=self.executor,
            ray_address=self.ray_address,
            cache_dir=self.cache_dir,
            reference_outputs=self.reference_outputs,
            attack_params=self.attack_params,
        )


def _target_from_config(config: Config) -> Target:
    t = config.target
    path = config.resolve(t.path)
    if t.kind == "sklearn":
        from miaudit.targets.sklearn import SklearnTarget

        assert path is not None
        return SklearnTarget.from_file(path, trust=t.trust)
    if t.kind == "transformers":
        from miaudit.targets.lm import CausalLMTarget

        assert path is not None
        return CausalLMTarget.from_pretrained(path, trust=t.trust)  # type: ignore[return-value]
    if t.kind == "outputs":
        from miaudit.targets.precomputed import PrecomputedTarget

        assert path is not None
        return PrecomputedTarget.from_file(path)
    if t.classes is None:
        raise InputError(
            f"target.classes: required for target.kind = {t.kind!r} (a number of classes or a list)"
        )
    if t.kind == "torch":
        from miaudit.targets.torch import TorchTarget

        assert path is not None
        if t.output == "label":
            raise InputError("target.output: a torch target returns logits or probabilities")
        return TorchTarget.from_file(path, t.classes, trust=t.trust, output=t.output)
    from miaudit.targets.callable import CallableTarget

    assert t.function is not None
    return CallableTarget.from_spec(t.function, t.classes, t.output, trust=t.trust)


def plan_from_config(path: str | Path) -> AuditPlan:
    config = load_config(path)
    target = _target_from_config(config)
    members = nonmembers = population = None
    if config.data is not None:
        d = config.data

        def records(file: str | None, name: str) -> Any:
            resolved = config.resolve(file)
            if resolved is None:
                return None
            if config.target.kind == "transformers":
                from miaudit.text_data import TextRecords

                return TextRecords.from_file(resolved, d.text, d.id, name)
            return RecordSet.from_file(resolved, d.label, d.id, d.categorical, name)

        members = records(d.members, "members")
        nonmembers = records(d.nonmembers, "non-members")
        population = records(d.population, "population")
    a, r = config.audit, config.report
    return AuditPlan(
        target,
        members,
        nonmembers,
        population,
        attacks=a.attacks,
        seed=a.seed,
        delta=a.delta,
        confidence=a.confidence,
        fprs=a.fprs,
        allow_overlap=a.allow_overlap,
        dp_epsilon=a.dp_epsilon,
        out=str(config.resolve(r.out)) if r.out else None,
        formats=r.formats,
        fail_on=r.fail_on,
        reference_models=a.reference_models,
        reference_train_size=a.reference_train_size,
        executor=a.executor,
        ray_address=a.ray_address,
        cache_dir=str(config.resolve(a.cache_dir)) if a.cache_dir else None,
        reference_outputs=(
            str(config.resolve(a.reference_outputs)) if a.reference_outputs else None
        ),
        attack_params=a.attack_params,
        baseline=str(config.resolve(r.baseline)) if r.baseline else None,
        save_baseline=(str(config.resolve(r.save_baseline)) if r.save_baseline else None),
        tolerance=r.tolerance,
        soft_fail=r.soft_fail,
        mlflow=r.mlflow,
        sensitive_data=a.sensitive_data,
        source=str(path),
    )


def plan_from_flags(
    outputs: str | None,
    model: str | None,
    trust: bool,
    members: str | None,
    nonmembers: str | None,
    population: str | None,
    label: str,
    id_column: str | None,
    categorical: list[str],
    allow_overlap: bool,
    dp_epsilon: float | None,
) -> AuditPlan:
    if outputs:
        from miaudit.targets.precomputed import PrecomputedTarget

        if members or nonmembers:
            raise InputError(
                "--outputs carries membership in its 'member' column; drop --members/--nonmembers"
            )
        return AuditPlan(
            PrecomputedTarget.from_file(outputs), None, None, dp_epsilon=dp_epsilon, source=outputs
        )
    from miaudit.targets.sklearn import SklearnTarget

    if not members or not nonmembers:
        raise InputError("--model needs --members and --nonmembers record files")
    target = SklearnTarget.from_file(model or "", trust=trust)

    def records(file: str | None, name: str) -> RecordSet | None:
        if file is None:
            return None
        return RecordSet.from_file(file, label, id_column, categorical, name)

    return AuditPlan(
        target,
        records(members, "members"),
        records(nonmembers, "non-members"),
        records(population, "population"),
        allow_overlap=allow_overlap,
        dp_epsilon=dp_epsilon,
        source=model,
    )
