"""Audit configuration from TOML or YAML, validated with errors that name the bad field.

YAML is read with ``yaml.safe_load`` only. Relative paths are resolved against the config
file's folder. See ``docs/config.md`` for every field.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from miaudit.audit.options import KEYWORDS, AuditOptions
from miaudit.errors import InputError
from miaudit.metrics import DEFAULT_FPRS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


ModelT = TypeVar("ModelT", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetConfig(_Strict):
    """How to reach the model."""

    kind: Literal["sklearn", "torch", "callable", "outputs", "transformers", "http", "onnx"]
    path: str | None = None
    function: str | None = None
    classes: list[int | str] | int | None = None
    output: Literal["probabilities", "logits", "label"] = "probabilities"
    #: http: the endpoint, its protocol (KServe V1 or Open Inference v2), request headers
    #: (values may name environment variables, "Bearer ${TOKEN}") and the request timeout.
    url: str | None = None
    #: onnx: the output holding the predictions (default: found from the model's names).
    output_name: str | None = None
    protocol: Literal["v1", "v2"] = "v1"
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(10.0, gt=0)
    #: What an API serving the model would return, e.g. "top-k:3,round:2" (miaudit.harden).
    output_policy: str | None = None
    trust: bool = False
    #: Language models: a second causal LM (attack ``reference``) and a masked LM whose
    #: ``neighbours`` per text feed the ``neighbourhood`` attack — local directories.
    reference_lm: str | None = None
    masked_lm: str | None = None
    neighbours: int = Field(10, ge=1)

    @field_validator("path")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value


class DataConfig(_Strict):
    """Where the records are."""

    members: str
    nonmembers: str
    population: str | None = None
    label: str = "label"
    id: str | None = None
    categorical: list[str] = Field(default_factory=list)
    #: Language models (target.kind = "transformers"): the text column of JSONL/CSV/Parquet.
    text: str = "text"


class AuditConfig(_Strict):
    """``[audit]``: the keywords of :func:`miaudit.audit` that a file can hold (types checked
    here; values checked once, by :class:`miaudit.audit.AuditOptions`)."""

    attacks: list[str] | None = None
    seed: int = 0
    delta: float = 1e-5
    confidence: float = 0.95
    fprs: list[float] = Field(default_factory=lambda: list(DEFAULT_FPRS))
    allow_overlap: bool = False
    dp_epsilon: float | None = None
    sensitive_data: bool = False
    top_records: int = 20
    reference_models: int = 0
    reference_train_size: int | None = None
    executor: Literal["local", "inline", "ray"] = "local"
    ray_address: str | None = None
    cache_dir: str | None = None
    reference_outputs: str | None = None
    reference_design: Literal["all", "audited", "population"] = "all"
    #: Attack parameters by attack name, e.g. {"rmia-offline": {"a": 0.5, "gamma": 2}}.
    attack_params: dict[str, dict[str, float | str]] | None = None
    #: Reference attacks choose the parameters not set above by leave-one-reference-out replay.
    tune: bool = True
    #: Names for the classes: a list in the model's class order, or {label = name}.
    class_names: list[str] | dict[str, str] | None = None
    #: What one record is, in the plural, for the report's plain-words summary.
    subjects: str = "records"


class ReportConfig(_Strict):
    out: str | None = None
    formats: list[str] | None = None
    fail_on: list[str] = Field(default_factory=list)
    baseline: str | None = None
    save_baseline: str | None = None
    tolerance: float = Field(0.0, ge=0, lt=1)
    soft_fail: bool = False
    mlflow: bool = False


class Config(_Strict):
    """A whole audit: ``[target]``, ``[data]``, ``[audit]``, ``[report]``."""

    target: TargetConfig
    data: DataConfig | None = None
    audit: AuditConfig = Field(default_factory=AuditConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    base_dir: Path = Field(default=Path("."), exclude=True)

    def resolve(self, path: str | None) -> Path | None:
        """A path from the config, relative to the config file's folder."""
        if path is None:
            return None
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate


def read_validated(path: Path, schema: type[ModelT], **extra: Any) -> ModelT:
    """A TOML or YAML file validated against ``schema`` (``extra``: fields a file does not
    hold); a missing file or a bad field is an :class:`InputError` naming it."""
    if not path.is_file():
        raise InputError(f"config file not found: {path}")
    raw = _read(path)
    if not isinstance(raw, dict):
        raise InputError(f"{path}: the config must be a table/mapping at the top level")
    try:
        return schema.model_validate({**raw, **extra})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise InputError(f"{path}: invalid config: {problems}") from None


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML (``.toml``) or YAML (``.yaml``/``.yml``) config file."""
    path = Path(path)
    config = read_validated(path, Config, base_dir=path.parent.resolve())
    if config.target.kind != "outputs" and config.data is None:
        raise InputError(
            f"{path}: invalid config: data: required for target.kind = "
            f"{config.target.kind!r} (members and nonmembers)"
        )
    if (
        config.target.kind in ("sklearn", "torch", "outputs", "transformers", "onnx")
        and not config.target.path
    ):
        raise InputError(
            f"{path}: invalid config: target.path: required for "
            f"target.kind = {config.target.kind!r}"
        )
    audit_options(config, path)  # every value checked before any work
    if config.target.kind == "callable" and not config.target.function:
        raise InputError(
            f"{path}: invalid config: target.function: required for "
            "target.kind = 'callable' (as 'package.module:function')"
        )
    if config.target.kind == "http" and not config.target.url:
        raise InputError(
            f"{path}: invalid config: target.url: required for target.kind = 'http' "
            "(e.g. 'http://host:8080/v1/models/NAME:predict')"
        )
    return config


def audit_options(config: Config, source: str | Path, **objects: Any) -> AuditOptions:
    """The ``[audit]`` table as :class:`AuditOptions` (paths resolved against the config's
    folder); ``objects`` adds what a file cannot hold (loaded language models). A bad value is
    an :class:`InputError` naming the field."""
    settings = config.audit.model_dump()
    for key in ("cache_dir", "reference_outputs"):
        if settings[key]:
            settings[key] = str(config.resolve(settings[key]))
    try:
        return AuditOptions.from_keywords(**settings, **objects)
    except InputError as exc:
        text = str(exc)
        field = text.split(" ", 1)[0]
        where = f"audit.{text}" if field in KEYWORDS else f"audit: {text}"
        raise InputError(f"{source}: invalid config: {where}") from None


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: a config must be UTF-8 text ({exc})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the config: {exc.strerror}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: not valid {suffix[1:].upper()}: {exc}") from None
    raise InputError(f"{path}: config must be .toml, .yaml or .yml")
