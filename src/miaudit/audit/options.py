"""The audit's settings, declared once: frozen dataclasses validated when they are built.

The Python API (:func:`miaudit.audit` keywords or an :class:`AuditOptions`), the config file
and the CLI all build these; nothing downstream re-checks them.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

from pydantic import StrictBool, StrictFloat, StrictInt, StrictStr

from miaudit.errors import InputError
from miaudit.executors import ExecutorName
from miaudit.metrics import DEFAULT_FPRS
from miaudit.training.outputs_file import ReferenceOutputs
from miaudit.training.recipe import Recipe


def _whole(value: Any, name: str) -> int:
    """An integer setting (numpy integers included) as an ``int``; anything else is an error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def _real(value: Any, name: str) -> float:
    """A numeric setting (numpy floats included) as a ``float``; anything else is an error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number, got {value!r}")
    return float(value)


#: More reference models than this is a typo, not an audit (each one is a trained model).
MAX_REFERENCE_MODELS = 4096
#: numpy's seeds: 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1

#: Where reference models draw their training records from (see :class:`ReferenceOptions`):
#: the one declaration (CLI choices, the config schema, docs/config.md).
Design = Literal["all", "audited", "population"]
DESIGNS: tuple[str, ...] = get_args(Design)
#: An attack parameter's value as a file or the command line gives it (text from the command
#: line; booleans, whole numbers, numbers or text from a file), kept as given: the attack's
#: :meth:`~miaudit.attacks.params.Param.coerce` does every conversion. Strict, so the config
#: schema derived from it neither turns ``true`` into 1 nor a large integer into a float.
ParamValue = StrictBool | StrictInt | StrictFloat | StrictStr


@dataclass(frozen=True)
class ReferenceOptions:
    """Reference models for the shadow, LiRA and RMIA attacks (classifiers only).

    ``models`` > 0 trains that many models like the target (``recipe``; automatic for
    scikit-learn targets), each on ``train_size`` records (default: as many as the members),
    on ``executor`` (``"local"`` process pool, ``"inline"``, or ``"ray"`` — the cluster at
    ``ray_address``), caching their outputs under ``cache_dir``. ``outputs`` (a file, see
    :mod:`miaudit.training.outputs_file`) supplies models trained elsewhere instead.

    ``design`` says where their training records come from: ``"all"`` (the default: members,
    non-members and population, each IN for about the same number of models, so population
    records are exchangeable with the audited ones and calibrate every threshold),
    ``"audited"`` (each member and non-member IN for half of the models, the online attacks'
    ideal; population records fill the training sets and are otherwise OUT — RMIA's
    comparison set — so reference attacks set thresholds on the audited non-members; see
    docs/reference-models.md for the measured trade-off) or ``"population"`` (population
    records only, as shadow models are usually trained: no audited record is IN for any model,
    so only offline attacks run). A lone model always trains on population records only."""

    models: int = 0
    recipe: Recipe | None = None
    train_size: int | None = None
    executor: ExecutorName | str = ExecutorName.LOCAL.value
    ray_address: str | None = None
    cache_dir: str | Path | None = None
    outputs: str | Path | ReferenceOutputs | None = None
    design: Design = "all"

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise InputError(
                f"reference design {self.design!r} is not known; use {', '.join(DESIGNS)}"
            )
        object.__setattr__(self, "models", _whole(self.models, "reference_models"))
        if not 0 <= self.models <= MAX_REFERENCE_MODELS:
            raise InputError(
                f"reference_models must be from 0 to {MAX_REFERENCE_MODELS:,}, got {self.models:,}"
                " (LiRA and RMIA gain little beyond 256)"
            )
        if self.train_size is not None:
            size = _whole(self.train_size, "reference_train_size")
            object.__setattr__(self, "train_size", size)
            if size < 1:
                raise InputError(f"reference_train_size must be at least 1, got {size}")
        object.__setattr__(self, "executor", _executor(self.executor))
        if self.ray_address is not None and self.executor != "ray":
            raise InputError(f"a cluster address is for executor 'ray', not {self.executor!r}")
        if self.outputs is not None and self.models:
            raise InputError(
                "pass reference_models (train them here) or reference_outputs (trained "
                "elsewhere), not both"
            )
        if self.recipe is not None and not isinstance(self.recipe, Recipe):
            raise InputError(
                f"recipe must be a miaudit Recipe (SklearnRecipe, TorchRecipe, FunctionRecipe), "
                f"got {type(self.recipe).__name__}"
            )

    @property
    def wanted(self) -> bool:
        """Whether this audit has reference models (trained here or from a file)."""
        return self.models > 0 or self.outputs is not None

    @property
    def given(self) -> bool:
        """Whether any reference-model setting differs from the default."""
        return self != ReferenceOptions()


def _executor(name: ExecutorName | str) -> str:
    """An executor's name (an :class:`ExecutorName` or its value) as its plain value."""
    try:
        return ExecutorName(name).value
    except ValueError:
        known = ", ".join(e.value for e in ExecutorName)
        raise InputError(f"executor {name!r} is not available; use one of {known}") from None


@dataclass(frozen=True)
class LanguageModelOptions:
    """What the language-model attacks need beyond the target: a second causal LM for
    ``reference`` and a masked LM's neighbours for ``neighbourhood``. (Min-K%'s fraction is an
    attack parameter: ``attack_params={"min-k": {"k": 0.1}}``.)"""

    reference_lm: Any = None
    masked_lm: Any = None

    @property
    def given(self) -> bool:
        return self.reference_lm is not None or self.masked_lm is not None


def _frozen_params(params: Mapping[str, Mapping[str, Any]] | None) -> Mapping[str, Any]:
    if params is None:
        return MappingProxyType({})
    if not isinstance(params, Mapping) or not all(isinstance(v, Mapping) for v in params.values()):
        raise InputError(
            "attack_params must map attack names to parameter mappings, e.g. "
            '{"ATTACK": {"PARAMETER": VALUE}} (miaudit attacks --params lists them)'
        )
    return MappingProxyType({str(k): MappingProxyType(dict(v)) for k, v in params.items()})


@dataclass(frozen=True)
class AuditOptions:
    """Everything an audit is asked to do, validated once.

    ``attacks``: names (``None``: every attack of the target's kind that can be configured);
    ``seed``: every random choice; ``delta``: the δ of the ε lower bound; ``confidence``: of
    every interval; ``fprs``: where TPR is reported; ``allow_overlap``: accept identical
    records among members and non-members; ``dp_epsilon``: the ε the owner declares;
    ``sensitive_data``: the training data are sensitive (medical, financial, personal);
    ``top_records``: members listed as most at risk; ``attack_params``: by attack name, e.g.
    ``{"rmia-offline": {"a": 0.5}}`` (a parameter set here is never tuned); ``tune``: reference
    attacks choose the parameters not set in ``attack_params`` by leave-one-reference-out
    replay, never reading the audited membership labels (:mod:`miaudit.attacks.tuning`)."""

    attacks: tuple[str, ...] | None = None
    seed: int = 0
    delta: float = 1e-5
    confidence: float = 0.95
    fprs: tuple[float, ...] = DEFAULT_FPRS
    allow_overlap: bool = False
    dp_epsilon: float | None = None
    sensitive_data: bool = False
    top_records: int = 20
    attack_params: Mapping[str, Mapping[str, ParamValue]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    tune: bool = True
    class_names: Sequence[str] | Mapping[str, str] | None = None
    subjects: str = "records"
    reference: ReferenceOptions = field(default_factory=ReferenceOptions)
    language_model: LanguageModelOptions = field(default_factory=LanguageModelOptions)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # normalise once, so equal settings compare equal
        set_(self, "attacks", _attack_names(self.attacks))
        set_(self, "fprs", tuple(_real(f, "fprs") for f in self.fprs))
        set_(self, "attack_params", _frozen_params(self.attack_params))
        set_(self, "seed", _whole(self.seed, "seed"))
        set_(self, "top_records", _whole(self.top_records, "top_records"))
        for name in ("delta", "confidence"):
            set_(self, name, _real(getattr(self, name), name))
        if self.dp_epsilon is not None:
            set_(self, "dp_epsilon", _real(self.dp_epsilon, "dp_epsilon"))
        if not isinstance(self.tune, bool):
            raise InputError(f"tune must be true or false, got {self.tune!r}")
        if not 0 < self.delta < 1:
            raise InputError(f"delta must be in (0, 1), got {self.delta}")
        if not 0.5 <= self.confidence < 1:
            raise InputError(f"confidence must be in [0.5, 1), got {self.confidence}")
        if not self.fprs or any(not 0 < f < 1 for f in self.fprs):
            raise InputError(f"fprs must be in (0, 1), got {list(self.fprs)}")
        if self.dp_epsilon is not None and not 0 < self.dp_epsilon < math.inf:
            raise InputError(
                f"dp_epsilon (the declared ε; --dp-epsilon) must be a finite positive number, "
                f"got {self.dp_epsilon}"
            )
        if not 0 <= self.seed <= MAX_SEED:
            raise InputError(f"seed must be from 0 to 2**32 - 1 ({MAX_SEED}), got {self.seed}")
        if self.top_records < 0:
            raise InputError(f"top_records must be 0 or more, got {self.top_records}")
        set_(self, "class_names", _class_names(self.class_names))
        if not isinstance(self.subjects, str) or not 0 < len(self.subjects.strip()) <= 40:
            raise InputError(
                "subjects must be a plural noun of 1 to 40 characters (what one record is, e.g. "
                f"'patients'), got {self.subjects!r}"
            )

    def replace(self, **changes: Any) -> AuditOptions:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_keywords(cls, **settings: Any) -> AuditOptions:
        """Options from :func:`miaudit.audit`'s flat keywords (``reference_models=4``,
        ``executor="inline"``, ``reference_lm=...``); an unknown keyword is an error naming the
        known ones."""
        unknown = sorted(set(settings) - set(KEYWORDS))
        if unknown:
            raise TypeError(
                f"audit() got unknown keyword(s) {unknown}; known: {', '.join(sorted(KEYWORDS))}"
            )
        groups: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
        for keyword, value in settings.items():
            group, name = KEYWORDS[keyword]
            groups[group][name] = value
        if groups["reference"].get("executor", "local") is None:
            del groups["reference"]["executor"]  # None: the default executor
        return cls(
            **groups[""],
            reference=ReferenceOptions(**groups["reference"]),
            language_model=LanguageModelOptions(**groups["language_model"]),
        )


def _class_names(
    names: Sequence[str] | Mapping[str, str] | None,
) -> tuple[str, ...] | Mapping[str, str] | None:
    """Class names: a list in the model's class order, or a mapping label → name."""
    if names is None:
        return None
    if isinstance(names, Mapping):
        pairs = list(names.items())
    elif isinstance(names, str) or not isinstance(names, Sequence):
        raise InputError(
            "class_names must be a list of names in the model's class order or a mapping "
            f"label → name, got {names!r:.60}"
        )
    else:
        pairs = list(enumerate(names))
    if not pairs or any(not isinstance(v, str) or not v.strip() for _, v in pairs):
        raise InputError(f"class_names must be non-empty strings, got {names!r:.60}")
    if isinstance(names, Mapping):
        return MappingProxyType({str(k): v for k, v in pairs})
    return tuple(v for _, v in pairs)


def _attack_names(names: Sequence[str] | None) -> tuple[str, ...] | None:
    if names is None:
        return None
    if isinstance(names, str):
        raise InputError(f"attacks: pass a list of names, not one string ({names!r})")
    names = tuple(names)
    if not names:
        raise InputError("attacks: the list is empty; name at least one attack")
    if len(set(names)) != len(names):
        raise InputError(f"attacks: a name is repeated in {list(names)}")
    return names


#: ``audit()`` keyword → (options group, field). The one place flat names are declared.
KEYWORDS: dict[str, tuple[str, str]] = {
    **{
        name: ("", name)
        for name in (
            "attacks",
            "seed",
            "delta",
            "confidence",
            "fprs",
            "allow_overlap",
            "dp_epsilon",
            "sensitive_data",
            "top_records",
            "attack_params",
            "tune",
            "class_names",
            "subjects",
        )
    },
    "reference_models": ("reference", "models"),
    "recipe": ("reference", "recipe"),
    "reference_train_size": ("reference", "train_size"),
    "executor": ("reference", "executor"),
    "ray_address": ("reference", "ray_address"),
    "cache_dir": ("reference", "cache_dir"),
    "reference_outputs": ("reference", "outputs"),
    "reference_design": ("reference", "design"),
    "reference_lm": ("language_model", "reference_lm"),
    "masked_lm": ("language_model", "masked_lm"),
}

#: The options dataclass behind each group of :data:`KEYWORDS` ("": :class:`AuditOptions`).
GROUPS: dict[str, type] = {
    "": AuditOptions,
    "reference": ReferenceOptions,
    "language_model": LanguageModelOptions,
}
