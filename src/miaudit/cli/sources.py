"""Turn a config file or CLI flags into one :class:`AuditJob`: a target, records and the
frozen options of the audit, the gate and the output."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from miaudit.audit import AuditOptions
from miaudit.audit.options import GROUPS, KEYWORDS
from miaudit.cli.choices import parse_classes
from miaudit.cli.config import (
    Config,
    OutputOptions,
    audit_options,
    gate_options,
    load_config,
    output_options,
)
from miaudit.data import RecordSet, TextRecords
from miaudit.errors import InputError
from miaudit.gate import GateOptions
from miaudit.targets.interface import Target
from miaudit.targets.kinds import TARGET_KINDS, load_model_file, target_kind
from miaudit.targets.kserve import expand_headers

__all__ = [
    "TARGET_KINDS",
    "AuditJob",
    "OutputOptions",
    "expand_headers",
    "job_from_config",
    "job_from_flags",
    "parse_classes",
    "parse_headers",
    "with_keywords",
]


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
    groups: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
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


def _target_from_config(config: Config) -> Target:
    target = target_kind(config.target.kind).load(config.target_settings())
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
    if target_kind(t.kind).records != "texts":
        if named:
            texts = [k.name for k in TARGET_KINDS.values() if k.records == "texts"]
            raise InputError(
                f"target.{named[0]}: only for target.kind = {' or '.join(map(repr, texts))}"
            )
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
        elif target_kind(config.target.kind).records == "texts":
            out.append(TextRecords.from_file(resolved, d.text, d.id, name))
        else:
            out.append(RecordSet.from_file(resolved, d.label, d.id, d.categorical, name))
    return out


def job_from_config(path: str | Path) -> AuditJob:
    config = load_config(path)
    target = _target_from_config(config)
    members, nonmembers, population = _records(config)
    options = audit_options(config, path, **_language_models(config, config.audit.seed))
    gate = gate_options(config, path)
    return AuditJob(
        target, members, nonmembers, population, options, gate, output_options(config), str(path)
    )


def job_from_flags(
    outputs: str | None,
    model: str | None,
    trust: bool,
    records: dict[str, str | None],
    label: str,
    id_column: str | None,
    categorical: list[str],
    endpoint: dict[str, Any] | None = None,
    classes: str | None = None,
) -> AuditJob:
    """A job from ``--outputs``, or ``--model`` / ``--endpoint`` with
    ``--members/--nonmembers/--population`` (``classes``: ``--classes``, for model files that
    need them)."""
    if outputs:
        from miaudit.targets.precomputed import PrecomputedTarget

        if records.get("members") or records.get("nonmembers"):
            raise InputError(
                "--outputs carries membership in its 'member' column; drop --members/--nonmembers"
            )
        return AuditJob(PrecomputedTarget.from_file(outputs), None, None, source=outputs)
    flag = "--endpoint" if endpoint else "--model"
    if not records.get("members") or not records.get("nonmembers"):
        raise InputError(f"{flag} needs --members and --nonmembers record files")
    if endpoint:
        target = _endpoint(endpoint)
    else:  # by suffix: the table the gateway reads too (miaudit.targets.kinds)
        target = load_model_file(model or "", trust, parse_classes(classes) if classes else None)
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
