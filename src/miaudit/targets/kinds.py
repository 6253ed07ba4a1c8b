"""The kinds of target by name — the one registry behind a config's ``target.kind``, the
command line's ``--model FILE`` and the gateway's ``miaudit serve --model FILE``.

A :class:`TargetKind` says how to load a target from :class:`TargetSettings` (what a config's
``[target]`` table or the command line says), which settings it needs, which model files are
its own (by suffix) and what records it reads. A new kind of target is its module plus one
:func:`register` call (here, for the built-in kinds; anywhere, for a plug-in): the config
schema, the CLI and the gateway find it through this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from miaudit.errors import InputError
from miaudit.targets.interface import Target

#: What a kind's records are: feature rows, texts (language models), or none (the target
#: carries its own membership, as a table of outputs does).
Records = Literal["features", "texts", "none"]
#: The settings a kind may require, with what a message adds to say how to give them.
NEEDS_HINTS: Mapping[str, str] = {
    "path": "",
    "function": " (as 'package.module:function')",
    "url": " (e.g. 'http://host:8080/v1/models/NAME:predict')",
    "classes": " (a number of classes or a list)",
}


@dataclass(frozen=True)
class TargetSettings:
    """What a config's ``[target]`` table or the command line says about a model (``path``
    resolved; ``output`` ``None``: the kind's own default; ``headers`` already expanded)."""

    path: Path | None = None
    trust: bool = False
    classes: Any = None
    output: str | None = None
    function: str | None = None
    url: str | None = None
    protocol: str = "v1"
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    output_name: str | None = None


@dataclass(frozen=True)
class TargetKind:
    """One kind of target: ``load`` builds it from settings; ``needs``: the settings that must
    be given (checked before any work, with a message naming the field); ``suffixes``: model
    files of this kind (``--model FILE``, ``miaudit serve``); ``records``: what the audit reads
    beside it; ``config_output``: the output a config that names none assumes."""

    name: str
    load: Callable[[TargetSettings], Target]
    needs: tuple[str, ...] = ("path",)
    suffixes: tuple[str, ...] = ()
    records: Records = "features"
    config_output: str | None = None
    #: One line for docs and listings.
    description: str = ""


#: Every kind by name, in the order docs list them.
TARGET_KINDS: dict[str, TargetKind] = {}


def register(kind: TargetKind) -> TargetKind:
    """Add ``kind`` (a name or a suffix already taken is an error: one kind per name/file)."""
    if kind.name in TARGET_KINDS:
        raise ValueError(f"target kind {kind.name!r} is already registered")
    taken = {s.lower() for k in TARGET_KINDS.values() for s in k.suffixes}
    clash = sorted(taken & {s.lower() for s in kind.suffixes})
    if clash:
        raise ValueError(f"model-file suffix(es) {clash} already belong to another target kind")
    unknown = sorted(set(kind.needs) - set(NEEDS_HINTS))
    if unknown:
        raise ValueError(f"unknown required setting(s) {unknown}; known: {sorted(NEEDS_HINTS)}")
    TARGET_KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a kind (a plug-in's tests clean up after themselves)."""
    TARGET_KINDS.pop(name, None)


def target_kind(name: str) -> TargetKind:
    try:
        return TARGET_KINDS[name]
    except KeyError:
        raise InputError(
            f"unknown target kind {name!r}; known: {', '.join(TARGET_KINDS)}"
        ) from None


def missing_setting(kind: TargetKind, settings: TargetSettings) -> str | None:
    """The first setting ``kind`` needs that ``settings`` lacks, as ``"NAME: required for
    target.kind = 'KIND' (HINT)"``; ``None`` when all are there."""
    for need in kind.needs:
        if getattr(settings, need) in (None, ""):
            return f"{need}: required for target.kind = {kind.name!r}{NEEDS_HINTS[need]}"
    return None


def kind_of_file(path: str | Path, otherwise: str = "") -> TargetKind:
    """The kind whose model files end like ``path``, in any case (each loader compares its
    suffix case-insensitively too); an unknown suffix is an error listing the suffixes every
    kind reads (and ``otherwise``: what else the user may do)."""
    suffix = Path(path).suffix.lower()
    for kind in TARGET_KINDS.values():
        if suffix in {s.lower() for s in kind.suffixes}:  # `.PT2` is a `.pt2` file too
            return kind
    known = ", ".join(s for k in TARGET_KINDS.values() for s in k.suffixes)
    raise InputError(
        f"{path}: unknown model file type {suffix!r}; a model file ends in one of {known} "
        "(joblib/pickle and torch files need --trust-model-file)"
        + (f"; {otherwise}" if otherwise else "")
    )


def load_model_file(
    path: str | Path,
    trust: bool = False,
    classes: Any = None,
    output: str | None = None,
    otherwise: str = "",
) -> Target:
    """A model file as a target, by its suffix (one dispatch for ``miaudit audit --model`` and
    ``miaudit serve``); the kind's required settings are named as the command line's flags;
    ``otherwise``: what else the command offers, for the unknown-suffix message."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file not found: {path}")
    kind = kind_of_file(path, otherwise)
    settings = TargetSettings(path=path, trust=trust, classes=classes, output=output)
    missing = missing_setting(kind, settings)
    if missing is not None:
        need = missing.split(":", 1)[0]
        raise InputError(f"{path}: a {kind.name} model file needs --{need}{NEEDS_HINTS[need]}")
    return kind.load(settings)


# ---------------------------------------------------------------- the built-in kinds
# Each loader imports its module lazily: torch, transformers, onnxruntime and httpx are extras.


def _sklearn(s: TargetSettings) -> Target:
    from miaudit.targets.sklearn import SklearnTarget

    return SklearnTarget.from_file(s.path or "", trust=s.trust)


def _torch(s: TargetSettings) -> Target:
    from miaudit.targets.torch import TorchTarget

    if s.output == "label":
        raise InputError("target.output: a torch target returns logits or probabilities")
    return TorchTarget.from_file(
        s.path or "", s.classes, trust=s.trust, output=s.output or "logits"
    )


def _callable(s: TargetSettings) -> Target:
    from miaudit.targets.callable import CallableTarget

    output = s.output or "probabilities"
    return CallableTarget.from_spec(s.function or "", s.classes, output, trust=s.trust)


def _outputs(s: TargetSettings) -> Target:
    from miaudit.targets.precomputed import PrecomputedTarget

    return PrecomputedTarget.from_file(s.path or "")


def _transformers(s: TargetSettings) -> Target:
    from miaudit.targets.lm import CausalLMTarget

    return CausalLMTarget.from_pretrained(s.path or "", trust=s.trust)


def _http(s: TargetSettings) -> Target:
    from miaudit.targets.http import HttpTarget

    return HttpTarget(
        s.url or "",
        s.classes,
        output=s.output or "probabilities",
        protocol=s.protocol,
        headers=dict(s.headers),
        timeout=s.timeout,
    )


def _onnx(s: TargetSettings) -> Target:
    from miaudit.targets.onnx import OnnxTarget

    return OnnxTarget.from_file(s.path or "", s.classes, s.output, s.output_name)


for _kind in (
    TargetKind(
        "sklearn",
        _sklearn,
        suffixes=(".skops", ".joblib", ".pkl", ".pickle"),
        description="a scikit-learn model: .skops (safe), or joblib/pickle (needs trust)",
    ),
    TargetKind(
        "torch",
        _torch,
        needs=("path", "classes"),
        suffixes=(".pt2", ".pt"),
        config_output="probabilities",
        description="a PyTorch model: torch.export (.pt2) or TorchScript (needs trust)",
    ),
    TargetKind(
        "callable",
        _callable,
        needs=("function", "classes"),
        config_output="probabilities",
        description="a Python function taking a batch of feature rows (needs trust)",
    ),
    TargetKind(
        "outputs",
        _outputs,
        records="none",
        description="a table of precomputed outputs with a member column",
    ),
    TargetKind(
        "transformers",
        _transformers,
        records="texts",
        description="a local causal-LM directory (Hugging Face transformers)",
    ),
    TargetKind(
        "http",
        _http,
        needs=("url", "classes"),
        config_output="probabilities",
        description="a model served over HTTP (KServe V1 or Open Inference v2)",
    ),
    TargetKind(
        "onnx",
        _onnx,
        suffixes=(".onnx",),
        description="an ONNX model run with onnxruntime (no trust needed)",
    ),
):
    register(_kind)
