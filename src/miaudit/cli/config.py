"""Audit configuration from TOML or YAML, validated with errors that name the bad field.

YAML is read with ``yaml.safe_load`` only. Relative paths are resolved against the config
file's folder. See ``docs/config.md`` for every field.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import (
    Annotated,
    Any,
    Literal,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from miaudit.audit.options import GROUPS, KEYWORDS, AuditOptions
from miaudit.errors import InputError
from miaudit.gate import GateOptions
from miaudit.targets.exposure import ClassifierOutput
from miaudit.targets.kinds import TARGET_KINDS, TargetSettings, missing_setting, target_kind
from miaudit.targets.kserve import Protocol, expand_headers

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


ModelT = TypeVar("ModelT", bound=BaseModel)
_PLAIN = (str, int, float, bool, type(None))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def file_type(hint: Any) -> Any:
    """The type a TOML/YAML file holds for a setting declared as ``hint`` in an options
    dataclass: tuples and sequences become lists, mappings dicts, paths text; an Enum (or its
    value) and a Literal keep their choices. ``None``: a Python object, which no file holds
    (a recipe, a loaded language model)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:  # a plain type with pydantic's markers (StrictInt): kept as declared
        inner = file_type(args[0])
        return hint if inner is args[0] else inner
    if origin in (Union, types.UnionType):
        kept = [t for t in map(file_type, args) if t is not None]
        if any(isinstance(t, type) and issubclass(t, Enum) for t in kept):
            kept = [t for t in kept if t is not str]  # an Enum or its value: one of its values
        kept = list(dict.fromkeys(kept))
        if not [t for t in kept if t is not type(None)]:
            return None
        return Union[tuple(kept)] if len(kept) > 1 else kept[0]  # noqa: UP007
    if origin is Literal or (isinstance(hint, type) and issubclass(hint, Enum)):
        return hint
    if hint is Path:
        return str
    if hint in _PLAIN:
        return hint
    if origin in (tuple, Sequence, list) and args:
        item = file_type(args[0])
        return None if item is None else list[item]  # type: ignore[valid-type]
    if origin in (Mapping, dict) and len(args) == 2:
        key, value = file_type(args[0]), file_type(args[1])
        return None if key is None or value is None else dict[key, value]  # type: ignore[valid-type]
    return None


def _plain_default(value: Any) -> Any:
    """A dataclass default as a file would write it (tuples as lists, mappings as dicts)."""
    if isinstance(value, tuple):
        return [_plain_default(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain_default(v) for k, v in value.items()}
    return value.value if isinstance(value, Enum) else value


def schema_of(name: str, fields: Mapping[str, tuple[type, str]], doc: str) -> type[BaseModel]:
    """A strict pydantic model whose fields are the ``fields`` (file key → (options dataclass,
    its field)) a file can hold: types from :func:`file_type`, defaults from the dataclass —
    declared once, there, so the file and the Python API cannot drift apart."""
    definitions: dict[str, Any] = {}
    for key, (owner, field_name) in fields.items():
        hint = file_type(get_type_hints(owner, include_extras=True)[field_name])
        if hint is None:
            continue
        found = {f.name: f for f in dataclasses.fields(owner)}[field_name]
        if found.default is not dataclasses.MISSING:
            default = _plain_default(found.default)
        else:
            default = _plain_default(found.default_factory())  # type: ignore[misc]
        if isinstance(hint, type) and issubclass(hint, Enum):
            default = hint(default)  # the member, as the file's value would validate to
        definitions[key] = (hint, Field(default_factory=lambda d=default: _copy(d)))
    model = create_model(name, __base__=_Strict, **definitions)
    model.__doc__ = doc
    return model


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    return dict(value) if isinstance(value, dict) else value


class TargetConfig(_Strict):
    """How to reach the model: ``kind`` is one of the registered target kinds
    (:mod:`miaudit.targets.kinds`); the other fields are what the kinds read."""

    kind: str
    path: str | None = None
    function: str | None = None
    classes: list[int | str] | int | None = None
    #: None: the kind's default (probabilities for torch, callable and http; found from the
    #: model's names for onnx).
    output: ClassifierOutput | None = None
    #: http: the endpoint, its protocol (KServe V1 or Open Inference v2), request headers
    #: (values may name environment variables, "Bearer ${TOKEN}") and the request timeout.
    url: str | None = None
    #: onnx: the output holding the predictions (default: found from the model's names).
    output_name: str | None = None
    protocol: Protocol = Protocol.V1
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

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in TARGET_KINDS:
            known = ", ".join(repr(k) for k in TARGET_KINDS)
            raise ValueError(f"Input should be one of {known}")
        return value

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


@dataclasses.dataclass(frozen=True)
class OutputOptions:
    """Where and how the reports go."""

    out: str | None = None
    formats: tuple[str, ...] | None = None
    mlflow: bool = False


#: ``[audit]``: :func:`miaudit.audit`'s keywords a file can hold, derived from the options
#: dataclasses (types checked here; values checked once, by :class:`AuditOptions`).
AuditConfig = schema_of(
    "AuditConfig",
    {keyword: (GROUPS[group], name) for keyword, (group, name) in KEYWORDS.items()},
    "``[audit]``: the keywords of :func:`miaudit.audit` that a file can hold.",
)
#: The ``[report]`` keys that set the gate (:class:`GateOptions`) and the output.
GATE_KEYS = tuple(f.name for f in dataclasses.fields(GateOptions))
ReportConfig = schema_of(
    "ReportConfig",
    {
        **{f.name: (OutputOptions, f.name) for f in dataclasses.fields(OutputOptions)},
        **{key: (GateOptions, key) for key in GATE_KEYS},
    },
    "``[report]``: where the reports go (:class:`OutputOptions`) and the gate "
    "(:class:`GateOptions`).",
)


class Config(_Strict):
    """A whole audit: ``[target]``, ``[data]``, ``[audit]``, ``[report]``."""

    target: TargetConfig
    data: DataConfig | None = None
    audit: AuditConfig = Field(default_factory=AuditConfig)  # type: ignore[valid-type]
    report: ReportConfig = Field(default_factory=ReportConfig)  # type: ignore[valid-type]
    base_dir: Path = Field(default=Path("."), exclude=True)

    def resolve(self, path: str | None) -> Path | None:
        """A path from the config, relative to the config file's folder."""
        if path is None:
            return None
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    def target_settings(self) -> TargetSettings:
        """The ``[target]`` table as the target kinds read it (path resolved, the kind's
        config default output filled in, header values taken from the environment)."""
        t = self.target
        return TargetSettings(
            path=self.resolve(t.path),
            trust=t.trust,
            classes=t.classes,
            output=t.output or target_kind(t.kind).config_output,
            function=t.function,
            url=t.url,
            protocol=t.protocol.value,
            headers=expand_headers(t.headers, "target.headers"),
            timeout=t.timeout,
            output_name=t.output_name,
        )


def _choices(annotation: Any) -> tuple[tuple[str, ...], str] | None:
    """(values, where declared) of a field typed by an Enum or a Literal (optional or not)."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        module = annotation.__module__
        package = module.rpartition(".")[0]  # the public path when the package exports it
        if getattr(sys.modules.get(package), annotation.__name__, None) is annotation:
            module = package
        where = f"{module}.{annotation.__qualname__}"
        return tuple(str(m.value) for m in annotation), where
    if get_origin(annotation) is Literal:
        return tuple(map(str, get_args(annotation))), ""
    return None


#: Where the Literal-typed fields' value sets are declared (a Literal carries no name).
_LITERALS = {"target.output": "miaudit.targets.exposure.ClassifierOutput",
             "audit.reference_design": "miaudit.audit.options.Design"}  # fmt: skip


def choices_table() -> str:
    """The Markdown table of every config field with a fixed set of values, generated from
    their declarations (docs/config.md holds it; a test keeps the two equal)."""
    from miaudit.report import FORMATS

    rows = [("target.kind", tuple(TARGET_KINDS), "miaudit.targets.kinds.TARGET_KINDS")]
    for section, model in (
        ("target", TargetConfig),
        ("audit", AuditConfig),
        ("report", ReportConfig),
    ):
        for name, info in model.model_fields.items():
            found = _choices(info.annotation)
            if found is not None:
                key = f"{section}.{name}"
                rows.append((key, found[0], found[1] or _LITERALS[key]))
    rows.append(("report.formats", (*FORMATS, "all"), "miaudit.report.FORMATS"))
    lines = ["| field | values | declared in |", "|---|---|---|"]
    lines += [f"| `{k}` | {', '.join(f'`{v}`' for v in vs)} | `{w}` |" for k, vs, w in rows]
    return "\n".join(lines) + "\n"


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
    """Read and validate a TOML (``.toml``) or YAML (``.yaml``/``.yml``) config file: every
    value is checked here, before any work."""
    path = Path(path)
    config = read_validated(path, Config, base_dir=path.parent.resolve())
    kind = target_kind(config.target.kind)
    if kind.records != "none" and config.data is None:
        raise InputError(
            f"{path}: invalid config: data: required for target.kind = "
            f"{config.target.kind!r} (members and nonmembers)"
        )
    missing = missing_setting(kind, config.target_settings())
    if missing is not None:
        raise InputError(f"{path}: invalid config: target.{missing}")
    audit_options(config, path)
    gate_options(config, path)
    return config


def _named(exc: InputError, section: str, fields: Any, source: str | Path) -> InputError:
    """An options dataclass's error as a config error naming ``section.field`` when its
    message starts with a field's name (``audit.delta must be in (0, 1)``)."""
    text = str(exc)
    field = text.split(" ", 1)[0]
    where = f"{section}.{text}" if field in fields else f"{section}: {text}"
    return InputError(f"{source}: invalid config: {where}")


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
        raise _named(exc, "audit", KEYWORDS, source) from None


def gate_options(config: Config, source: str | Path) -> GateOptions:
    """The ``[report]`` table's gate as :class:`GateOptions` (baseline paths resolved against
    the config's folder); a bad value is an :class:`InputError` naming the field."""
    settings = {key: getattr(config.report, key) for key in GATE_KEYS}
    for key in ("baseline", "save_baseline"):
        if settings[key]:
            settings[key] = str(config.resolve(settings[key]))
    settings["fail_on"] = tuple(settings["fail_on"])
    try:
        return GateOptions(**settings)
    except InputError as exc:
        raise _named(exc, "report", GATE_KEYS, source) from None


def output_options(config: Config) -> OutputOptions:
    """The ``[report]`` table's output as :class:`OutputOptions` (``out`` resolved)."""
    r = config.report
    return OutputOptions(
        str(config.resolve(r.out)) if r.out else None,
        tuple(r.formats) if r.formats else None,
        r.mlflow,
    )


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
