"""What an attack needs, as typed values, and the one function that says why an attack cannot
run on a given audit (and how to fix it).

Both ``miaudit attacks`` (the "needs" column) and the audit's "not run, because…" list are
written from these declarations; no reason is written by attack name anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from miaudit.targets.interface import Modality


class Access(str, Enum):
    """The least a target must return for an attack to work."""

    NONE = "nothing: it never queries the model"
    LABEL = "predicted label"
    SCORES = "probabilities or logits"
    TOKEN_LOGPROBS = "token log-probabilities"
    WHITE_BOX = "the model's parameters (white-box)"


@dataclass(frozen=True)
class Requirements:
    """An attack's needs: the kind of target, the access, the signals it reads, how many
    reference models, a population, the texts themselves, a reference LM, a masked LM."""

    modality: Modality = Modality.CLASSIFIER
    access: Access = Access.SCORES
    signals: tuple[str, ...] = ()
    reference_models: int = 0
    population: bool = False
    texts: bool = False
    reference_lm: bool = False
    masked_lm: bool = False
    #: It queries the model on records of its own making (perturbed copies).
    queries: bool = False

    def describe(self) -> str:
        """One line for ``miaudit attacks``."""
        parts = [self.access.value + (" of perturbed copies" if self.queries else "")]
        if self.reference_models:
            parts.append(f"≥ {self.reference_models} reference model(s)")
        if self.population:
            parts.append("a population")
        if self.reference_lm:
            parts.append("a reference language model")
        if self.masked_lm:
            parts.append("a masked language model")
        return ", ".join(parts)


@dataclass(frozen=True)
class Available:
    """What one audit has to offer the attacks."""

    exposes: str
    signals: frozenset[str]
    reference_models: int = 0
    #: Signals the reference models' outputs provide (``None``: no reference models).
    reference_signals: frozenset[str] | None = None
    population: bool = False
    reference_lm: bool = False
    masked_lm: bool = False
    #: The target answers for records it has not seen (not a table of precomputed outputs).
    queryable: bool = True
    #: The auditor holds the model's parameters (a PyTorch module, a causal LM).
    white_box: bool = False


def how(cli: str, config: str, python: str) -> str:
    """A fix in the three ways an audit is run: the command line, the config file, Python."""
    return f"CLI: {cli}; config: {config}; Python: {python}"


#: Reference models trained here, or their outputs from a file (models trained elsewhere).
TRAIN_REFERENCES = how(
    "--reference-models N", "audit.reference_models = N", "miaudit.audit(..., reference_models=N)"
)
FILE_REFERENCES = how(
    "--reference-outputs FILE",
    'audit.reference_outputs = "FILE"',
    'miaudit.audit(..., reference_outputs="FILE")',
)


def more_references(queryable: bool = True) -> str:
    """How to get more reference models: train them, or (precomputed outputs) bring them."""
    if not queryable:
        return f"a reference-outputs file with more models ({FILE_REFERENCES})"
    return f"more reference models ({TRAIN_REFERENCES}; or {FILE_REFERENCES})"


def _population(queryable: bool) -> str:
    if not queryable:
        return (
            "add population rows (an empty member cell) to the outputs table "
            "(docs/precomputed-outputs.md)"
        )
    return how(
        "--population FILE", 'data.population = "FILE"', "miaudit.audit(..., population=...)"
    )


def cannot_run(needs: Requirements, available: Available) -> str | None:
    """Why an attack with ``needs`` cannot run here and how to fix it (the command-line flag,
    the config field and the Python argument); ``None`` if it can."""
    if needs.reference_models and available.reference_models < needs.reference_models:
        return (
            f"needs reference models (at least {needs.reference_models}): "
            + (TRAIN_REFERENCES + "; or " if available.queryable else "")
            + FILE_REFERENCES
        )
    if needs.population and not available.population:
        return (
            "needs a population (records known to be outside the training set) to compare "
            f"against: {_population(available.queryable)}"
        )
    if needs.access is Access.WHITE_BOX and not available.white_box:
        return (
            "needs white-box access (the model's parameters): audit the model itself, not its "
            "outputs or an API ("
            + how(
                '--config with target.kind = "torch" or "transformers"',
                "target.kind",
                "TorchTarget(module, ...) or CausalLMTarget",
            )
            + ")"
        )
    if needs.queries and not available.queryable:
        return (
            "queries the model on perturbed copies of each record, which a table of "
            "precomputed outputs cannot answer; audit the model or its endpoint ("
            + how("--model FILE or --endpoint URL", "target.kind", "a target such as SklearnTarget")
            + ")"
        )
    if needs.reference_lm and not available.reference_lm:
        return "needs a reference language model: " + how(
            '--config with target.reference_lm = "DIR"',
            'target.reference_lm = "DIR"',
            "miaudit.audit(..., reference_lm=CausalLMTarget.from_pretrained(DIR))",
        )
    if needs.masked_lm and not available.masked_lm:
        return "needs a masked LM to make neighbours: " + how(
            '--config with target.masked_lm = "DIR"',
            'target.masked_lm = "DIR"',
            "miaudit.audit(..., masked_lm=MaskedLMNeighbours.from_pretrained(DIR))",
        )
    missing = [s for s in needs.signals if s not in available.signals]
    if missing:
        return (
            f"needs {', '.join(missing)}, which a target exposing {available.exposes} "
            "does not provide: audit an interface that returns probabilities or logits ("
            + how(
                "without --output-policy, or --endpoint-output probabilities",
                "target.output / target.output_policy",
                "the target's output= argument",
            )
            + ")"
        )
    if needs.reference_models and available.reference_signals is not None:
        lacking = [s for s in needs.signals if s not in available.reference_signals]
        if lacking:  # e.g. label-only reference outputs
            return (
                f"needs {', '.join(lacking)} from the reference models, whose outputs do not "
                "provide it"
            )
    return None
