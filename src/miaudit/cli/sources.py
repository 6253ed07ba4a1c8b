"""Turn a config file or CLI flags into one :class:`AuditJob`: a target, records and the
frozen options of the audit, the gate and the output."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from miaudit.audit import AuditOptions
from miaudit.audit.options import KEYWORDS
from miaudit.cli.config import Config, audit_options, load_config
from miaudit.data import RecordSet, TextRecords
from miaudit.errors import InputError
from miaudit.gate import GateOptions
from miaudit.targets.interface import Target


@dataclass(frozen=True)
class OutputOptions:
    """Where and how the reports go."""

    out: str | None = None
    formats: tuple[str, ...] | None = None
    mlflow: bool = False


@dataclass(frozen=True)
class AuditJob:
    """Everything one ``miaudit audit`` run needs."""

    target: Target
    members: Any
    nonmembers: Any
    population: Any = None
    options: AuditOptions = field(default_factory=AuditOptions)
    gate: GateOptions = field(default_factory=GateOptions)
    output: OutputOptions = field(default_factory=OutputOptions)
    #: The file this job came from (config, outputs table or model): where findings point.
    source: str | None = None

    def override(
        self, audit: dict[str, Any], gate: dict[str, Any], output: dict[str, Any]
    ) -> AuditJob:
        """Replace the settings given a value (CLI flags win over the config)."""
        return dataclasses.replace(
            self,
            options=with_keywords(self.options, audit),
            gate=_replace(self.gate, gate),
            output=_replace(self.output, output),
        )

    def with_output_policy(self, policy: str | None) -> AuditJob:
        """The target as an API with ``policy`` would serve it (``--output-policy``: it
        replaces a policy the config set)."""
        if not policy:
            return self
        from miaudit.targets.harden import HardenedTarget, harden

        inner = self.target.inner if isinstance(self.target, HardenedTarget) else self.target
        return dataclasses.replace(self, target=harden(inner, policy, seed=self.options.seed))


def _replace(options: Any, values: dict[str, Any]) -> Any:
    return dataclasses.replace(options, **{k: v for k, v in values.items() if v is not None})


def with_keywords(options: AuditOptions, values: dict[str, Any]) -> AuditOptions:
    """``options`` with :func:`miaudit.audit`'s flat keywords set (``None``: unchanged)."""
    groups: dict[str, dict[str, Any]] = {"": {}, "reference": {}, "language_model": {}}
    for keyword, value in values.items():
        if value is not None:
            group, name = KEYWORDS[keyword]
            groups[group][name] = value
    return dataclasses.replace(
        options,
        **groups[""],
        reference=dataclasses.replace(options.reference, **groups["reference"]),
        language_model=dataclasses.replace(options.language_model, **groups["language_model"]),
    )


def _sklearn(config: Config, path: Path) -> Target:
    from miaudit.targets.sklearn import SklearnTarget

    return SklearnTarget.from_file(path, trust=config.target.trust)


def _transformers(config: Config, path: Path) -> Target:
    from miaudit.targets.lm import CausalLMTarget

    return CausalLMTarget.from_pretrained(path, trust=config.target.trust)


def _outputs(config: Config, path: Path) -> Target:
    from miaudit.targets.precomputed import PrecomputedTarget

    return PrecomputedTarget.from_file(path)


def _torch(config: Config, path: Path) -> Target:
    from miaudit.targets.torch import TorchTarget

    t = config.target
    if t.output == "label":
        raise InputError("target.output: a torch target returns logits or probabilities")
    return TorchTarget.from_file(path, _classes(config), trust=t.trust, output=t.output)


def _callable(config: Config, path: Path) -> Target:
    from miaudit.targets.callable import CallableTarget

    t = config.target
    assert t.function is not None  # checked when the config was read
    return CallableTarget.from_spec(t.function, _classes(config), t.output, trust=t.trust)


def _onnx(config: Config, path: Path) -> Target:
    from miaudit.targets.onnx import OnnxTarget

    t = config.target
    # `output` defaults to probabilities in the file: only an explicit output_name pins it
    output = t.output if t.output_name else None
    return OnnxTarget.from_file(path, t.classes, output, t.output_name)


def _http(config: Config, path: Path) -> Target:
    from miaudit.targets.http import HttpTarget

    t = config.target
    if not t.url:
        raise InputError("target.url: required for target.kind = 'http'")
    return HttpTarget(
        t.url,
        _classes(config),
        output=t.output,
        protocol=t.protocol,
        headers=expand_headers(t.headers, "target.headers"),
        timeout=t.timeout,
    )


def expand_headers(headers: dict[str, str], where: str) -> dict[str, str]:
    """Header values with ``${NAME}`` replaced from the environment (tokens stay out of
    config files); an unset variable is an error naming it, never an empty credential."""
    import os
    import re

    out = {}
    for key, value in headers.items():
        for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", value):
            if name not in os.environ:
                raise InputError(f"{where}.{key}: environment variable {name} is not set")
        out[key] = re.sub(
            r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: os.environ[m.group(1)], value
        )
    return out


def _classes(config: Config) -> Any:
    if config.target.classes is None:
        raise InputError(
            f"target.classes: required for target.kind = {config.target.kind!r} "
            "(a number of classes or a list)"
        )
    return config.target.classes


#: ``target.kind`` → how to load it (``path`` resolved against the config's folder).
TARGET_LOADERS: dict[str, Callable[[Config, Path], Target]] = {
    "sklearn": _sklearn,
    "torch": _torch,
    "callable": _callable,
    "outputs": _outputs,
    "transformers": _transformers,
    "http": _http,
    "onnx": _onnx,
}


def _target_from_config(config: Config) -> Target:
    target = TARGET_LOADERS[config.target.kind](
        config, config.resolve(config.target.path) or Path()
    )
    policy = config.target.output_policy
    if policy is None:
        return target
    from miaudit.targets.harden import harden

    try:
        return harden(target, policy, seed=config.audit.seed)
    except InputError as exc:
        why = str(exc).removeprefix("output policy: ")
        raise InputError(f"invalid config: target.output_policy: {why}") from None


def _language_models(config: Config, seed: int) -> dict[str, Any]:
    """The reference LM and masked LM a config names (language-model targets only)."""
    t = config.target
    named = [k for k in ("reference_lm", "masked_lm") if getattr(t, k)]
    if t.kind != "transformers":
        if named:
            raise InputError(f"target.{named[0]}: only for target.kind = 'transformers'")
        return {}
    out: dict[str, Any] = {}
    if t.reference_lm:
        from miaudit.targets.lm import CausalLMTarget

        out["reference_lm"] = CausalLMTarget.from_pretrained(
            config.resolve(t.reference_lm) or "", trust=t.trust
        )
    if t.masked_lm:
        from miaudit.targets.masked_lm import MaskedLMNeighbours

        out["masked_lm"] = MaskedLMNeighbours.from_pretrained(
            config.resolve(t.masked_lm) or "", n=t.neighbours, seed=seed, trust=t.trust
        )
    return out


def _records(config: Config) -> list[Any]:
    if config.data is None:
        return [None, None, None]
    d = config.data
    out = []
    for file, name in (
        (d.members, "members"),
        (d.nonmembers, "non-members"),
        (d.population, "population"),
    ):
        resolved = config.resolve(file)
        if resolved is None:
            out.append(None)
        elif config.target.kind == "transformers":
            out.append(TextRecords.from_file(resolved, d.text, d.id, name))
        else:
            out.append(RecordSet.from_file(resolved, d.label, d.id, d.categorical, name))
    return out


def _paths(config: Config, values: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: (str(config.resolve(values[k])) if values.get(k) else values.get(k)) for k in keys}


def job_from_config(path: str | Path) -> AuditJob:
    config = load_config(path)
    target = _target_from_config(config)
    members, nonmembers, population = _records(config)
    r = config.report
    options = audit_options(config, path, **_language_models(config, config.audit.seed))
    try:
        paths = _paths(config, r.model_dump(), ("baseline", "save_baseline"))
        gate = GateOptions(
            tuple(r.fail_on), paths["baseline"], paths["save_baseline"], r.tolerance, r.soft_fail
        )
    except InputError as exc:
        raise InputError(f"{path}: invalid config: {exc}") from None
    output = OutputOptions(
        str(config.resolve(r.out)) if r.out else None,
        tuple(r.formats) if r.formats else None,
        r.mlflow,
    )
    return AuditJob(target, members, nonmembers, population, options, gate, output, str(path))


def job_from_flags(
    outputs: str | None,
    model: str | None,
    trust: bool,
    records: dict[str, str | None],
    label: str,
    id_column: str | None,
    categorical: list[str],
    endpoint: dict[str, Any] | None = None,
) -> AuditJob:
    """A job from ``--outputs``, or ``--model`` / ``--endpoint`` with
    ``--members/--nonmembers/--population``."""
    if outputs:
        from miaudit.targets.precomputed import PrecomputedTarget

        if records.get("members") or records.get("nonmembers"):
            raise InputError(
                "--outputs carries membership in its 'member' column; drop --members/--nonmembers"
            )
        return AuditJob(PrecomputedTarget.from_file(outputs), None, None, source=outputs)
    from miaudit.targets.sklearn import SklearnTarget

    flag = "--endpoint" if endpoint else "--model"
    if not records.get("members") or not records.get("nonmembers"):
        raise InputError(f"{flag} needs --members and --nonmembers record files")
    if endpoint:
        target = _endpoint(endpoint)
    elif (model or "").lower().endswith(".onnx"):
        from miaudit.targets.onnx import OnnxTarget

        target = OnnxTarget.from_file(model or "")
    else:
        target = SklearnTarget.from_file(model or "", trust=trust)
    sets = [
        RecordSet.from_file(file, label, id_column, categorical, name) if file else None
        for name, file in (
            ("members", records.get("members")),
            ("non-members", records.get("nonmembers")),
            ("population", records.get("population")),
        )
    ]
    return AuditJob(target, *sets, source=model or (endpoint or {}).get("where"))


def parse_headers(items: tuple[str, ...] | list[str], flag: str) -> dict[str, str]:
    """``'Name: value'`` flags as headers, ``${VAR}`` taken from the environment. A malformed
    item is named by its flag only: it may hold a credential."""
    headers = {}
    for item in items:
        key, sep, value = item.partition(":")
        if not sep or not key.strip():
            raise InputError(f"{flag}: expected 'Name: value' (a header without a colon)")
        headers[key.strip()] = value.strip()
    return expand_headers(headers, flag)


def parse_classes(text: str) -> Any:
    """``--classes``: a count (``3``) or labels (``a,b,c``; integers stay integers)."""
    items = [c.strip() for c in text.split(",") if c.strip()]
    if not items:
        raise InputError("--classes: give the number of classes or a list, e.g. 0,1")
    if len(items) == 1 and items[0].isdigit():
        return int(items[0])
    if all(c.lstrip("-").isdigit() for c in items):
        return [int(c) for c in items]
    return items


def _endpoint(flags: dict[str, Any]) -> Target:
    """An :class:`HttpTarget` from ``--endpoint`` and its flags."""
    from miaudit.targets.http import HttpTarget

    headers = parse_headers(flags["headers"], "--endpoint-header")
    if not flags["classes"]:
        raise InputError("--endpoint needs --classes: the number of classes or a list, e.g. 0,1")
    target = HttpTarget(
        flags["url"],
        parse_classes(flags["classes"]),
        output=flags["output"],
        protocol=flags["protocol"],
        headers=headers,
    )
    flags["where"] = target.where
    return target
