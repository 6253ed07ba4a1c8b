"""The one SARIF 2.1.0 builder: the audit report, the scanner, the monitor and ``compare`` all
describe their rules and results with these small frozen values and :func:`render` them.

A rule's id is part of the rule (``MIA001``, ``MIA101``, ``MIA201``, …), never derived from its
position: inserting or reordering rules changes no id. ``ruleIndex`` is computed here, from the
order the run lists its rules in, so it always points at the rule with the result's id.

The output is what GitHub code scanning reads (its "SARIF support for code scanning" page):
rules with a short and full description, help, a default level, ``security-severity`` and
tags; results with a message, one location on a repository-relative URI and
``partialFingerprints``. Absolute paths and URLs are written relative to a base declared in the
run's ``originalUriBaseIds`` (:func:`location`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote, urlsplit

#: The severities a SARIF result or rule may carry, least severe first.
LEVELS = ("none", "note", "warning", "error")
SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"


def _check_level(level: str | None, what: str) -> None:
    if level is not None and level not in LEVELS:
        raise ValueError(f"{what}: SARIF level must be one of {', '.join(LEVELS)}, got {level!r}")


@dataclass(frozen=True)
class Rule:
    """One kind of finding (``reportingDescriptor``): ``id`` is stable across releases and
    runs; ``summary`` is the one-line ``shortDescription``, ``description`` the
    ``fullDescription``; ``help`` (and ``help_markdown``) says what to do about it; ``level``
    is the default level; ``severity`` GitHub's ``security-severity`` (0–10)."""

    id: str
    name: str
    summary: str
    description: str | None = None
    help: str | None = None
    help_markdown: str | None = None
    help_uri: str | None = None
    level: str | None = None
    severity: float | None = None
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.id or not self.summary:
            raise ValueError(f"a SARIF rule needs an id and a summary, got {self!r}")
        _check_level(self.level, f"rule {self.id}")
        if self.severity is not None and not 0.0 <= self.severity <= 10.0:
            raise ValueError(f"rule {self.id}: security-severity must be in [0, 10]")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "shortDescription": {"text": self.summary},
        }
        if self.description is not None:
            out["fullDescription"] = {"text": self.description}
        if self.help is not None:
            out["help"] = {"text": self.help}
            if self.help_markdown is not None:
                out["help"]["markdown"] = self.help_markdown
        if self.help_uri is not None:
            out["helpUri"] = self.help_uri
        if self.level is not None:
            out["defaultConfiguration"] = {"level": self.level}
        properties: dict[str, Any] = {}
        if self.severity is not None:
            properties["security-severity"] = f"{self.severity:.1f}"
        if self.tags:
            properties["tags"] = list(self.tags)
        if properties:
            out["properties"] = properties
        return out


@dataclass(frozen=True)
class Location:
    """Where a result is: ``uri`` (relative to ``base_id``, a key of the run's
    ``originalUriBaseIds``, when one is given) and optionally a line and column."""

    uri: str
    base_id: str | None = None
    region: tuple[int, int] | None = None  # (startLine, startColumn), both from 1

    def to_dict(self) -> dict[str, Any]:
        artifact: dict[str, Any] = {"uri": self.uri}
        if self.base_id is not None:
            artifact["uriBaseId"] = self.base_id
        physical: dict[str, Any] = {"artifactLocation": artifact}
        if self.region is not None:
            physical["region"] = {"startLine": self.region[0], "startColumn": self.region[1]}
        return {"physicalLocation": physical}


@dataclass(frozen=True)
class Result:
    """One finding of a rule: its level, message and location; ``fingerprints`` (SARIF's
    ``partialFingerprints``) make it the same finding in the next run; ``properties`` are
    free-form evidence (non-finite numbers in them are written as ``null``: JSON has none)."""

    rule_id: str
    level: str
    message: str
    location: Location
    fingerprints: Mapping[str, str]
    properties: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_level(self.level, f"result of rule {self.rule_id}")
        if not self.message:
            raise ValueError(f"result of rule {self.rule_id}: the message is empty")
        if not self.fingerprints:
            raise ValueError(f"result of rule {self.rule_id}: give at least one fingerprint")

    def to_dict(self, rule_index: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ruleId": self.rule_id,
            "ruleIndex": rule_index,
            "level": self.level,
            "message": {"text": self.message},
            "locations": [self.location.to_dict()],
            "partialFingerprints": dict(self.fingerprints),
        }
        if self.properties:
            out["properties"] = _finite(dict(self.properties))
        return out


@dataclass(frozen=True)
class Run:
    """One tool's run: its name and version, its rules (every rule it can report, in the order
    ``ruleIndex`` counts), its results, and optionally an ``automationDetails`` id, the time it
    ended (``invocations``) and the bases of relative locations (``originalUriBaseIds``)."""

    tool: str
    rules: Sequence[Rule]
    results: Sequence[Result]
    version: str | None = None
    semantic_version: str | None = None
    information_uri: str | None = None
    automation_id: str | None = None
    end_time: str | None = None
    base_uris: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = [r.id for r in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"{self.tool}: SARIF rule ids must be unique, repeated: {twice}")
        unknown = sorted({r.rule_id for r in self.results} - set(ids))
        if unknown:
            raise ValueError(f"{self.tool}: results of rules the run does not list: {unknown}")
        bases = {r.location.base_id for r in self.results} - {None, *self.base_uris}
        if bases:
            raise ValueError(f"{self.tool}: locations relative to undeclared bases {bases}")

    def to_dict(self) -> dict[str, Any]:
        driver: dict[str, Any] = {"name": self.tool}
        for key, value in (
            ("version", self.version),
            ("semanticVersion", self.semantic_version),
            ("informationUri", self.information_uri),
        ):
            if value is not None:
                driver[key] = value
        driver["rules"] = [r.to_dict() for r in self.rules]
        index = {r.id: i for i, r in enumerate(self.rules)}
        out: dict[str, Any] = {"tool": {"driver": driver}}
        if self.base_uris:
            out["originalUriBaseIds"] = {k: {"uri": v} for k, v in self.base_uris.items()}
        if self.automation_id is not None:
            out["automationDetails"] = {"id": self.automation_id}
        out["results"] = [r.to_dict(index[r.rule_id]) for r in self.results]
        if self.end_time is not None:
            out["invocations"] = [{"executionSuccessful": True, "endTimeUtc": self.end_time}]
        return out


def document(*runs: Run) -> dict[str, Any]:
    """The SARIF log of ``runs`` as plain data."""
    return {"$schema": SCHEMA_URI, "version": VERSION, "runs": [r.to_dict() for r in runs]}


def render(*runs: Run) -> str:
    """The SARIF log of ``runs`` as JSON text (two-space indent, ASCII, a final newline)."""
    return json.dumps(document(*runs), indent=2) + "\n"


def location(address: str, base_id: str) -> tuple[Location, dict[str, str]]:
    """A location GitHub code scanning accepts for ``address`` (a path or a URL), and the
    ``originalUriBaseIds`` entry it needs: a relative path is used as it is; an absolute path
    or a URL is split into a base, declared under ``base_id``, and the part below it."""
    parts = urlsplit(address)
    if parts.scheme and parts.netloc:  # a URL (a Windows drive letter has no netloc)
        base = f"{parts.scheme}://{parts.netloc}/"
        return Location(_relative(parts.path.lstrip("/")), base_id), {base_id: base}
    path: PurePath = PureWindowsPath(address) if "\\" in address else PurePosixPath(address)
    if not path.is_absolute():
        return Location(_relative(quote(path.as_posix()))), {}
    base = path.parent.as_uri()
    base = base if base.endswith("/") else f"{base}/"
    return Location(_relative(quote(path.name)), base_id), {base_id: base}


def _relative(path: str) -> str:
    """``path`` as a relative reference: ``.`` when empty, ``./`` before a first segment
    holding a colon (else it would read as a scheme)."""
    if not path:
        return "."
    return f"./{path}" if ":" in path.split("/", 1)[0] else path


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by ``None`` (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


__all__ = ["LEVELS", "Location", "Result", "Rule", "Run", "document", "location", "render"]
