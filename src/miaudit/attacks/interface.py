"""What an attack is: one job, turning signals into one membership score per record.

Higher score = more likely a member. An attack never computes metrics or writes files, and
declares the signals it needs so the audit can say which attacks cannot run on a target and why.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from miaudit.attacks.params import Param
from miaudit.attacks.requirements import Requirements, more_references
from miaudit.data.membership import MEMBER, NONMEMBER, POPULATION
from miaudit.errors import InputError

if TYPE_CHECKING:
    from miaudit.attacks.passes import TextPass
    from miaudit.targets.lm import TokenStats

__all__ = ["MEMBER", "NONMEMBER", "POPULATION", "Attack", "AttackInput", "uncovered"]


@dataclass(frozen=True, eq=False)
class AttackInput:
    """Signals for every record (members, non-members, then population), and who is who.

    ``membership`` is 1 for members, 0 for audit non-members and -1 for population records
    (known non-members of the training set that the audit does not score)."""

    signals: Mapping[str, np.ndarray]
    membership: np.ndarray
    seed: int = 0
    #: Reference models' signals, (M, n) per name, and the (M, n) mask of their training rows.
    reference: Mapping[str, np.ndarray] | None = None
    reference_in: np.ndarray | None = None
    #: Column index of each record's true class in the model's outputs, (n,).
    label_index: np.ndarray | None = None
    #: The records' texts (language-model audits), for attacks that read the text itself.
    texts: np.ndarray | None = None
    #: Per-token statistics of every text (language-model audits), for attacks that read them.
    tokens: TokenStats | None = None


def uncovered(data: AttackInput, side: str, audited_only: bool = False) -> str | None:
    """A reason if some record (``audited_only``: some member or non-member) is ``side``
    ("IN" or "OUT") for no reference model."""
    assert data.reference_in is not None
    n_in = data.reference_in.sum(axis=0)
    count = n_in if side == "IN" else data.reference_in.shape[0] - n_in
    checked = data.membership != POPULATION if audited_only else slice(None)
    bad = int((count[checked] == 0).sum())
    if not bad:
        return None
    return (
        f"{bad} records are {side} for none of the {data.reference_in.shape[0]} reference "
        f"models; it needs every record {side} for at least one: use "
        + more_references()
        + (", or the offline variant" if side == "IN" else "")
    )


class Attack(ABC):
    """A membership-inference attack over signals. ``requires`` declares what it needs (the
    audit's "not run, because…" and ``miaudit attacks`` are written from it), ``parameters``
    what can be set (``attack_params``, ``--attack-param``, ``miaudit attacks --params``) and
    tuned, ``passes`` (language-model attacks) the scoring passes over the texts it reads."""

    name: str
    description: str
    requires: Requirements
    #: True if the attack learns from every reference row, including population records the
    #: audit cannot score (those a lone reference model trained on): it then sees them all.
    trains_on_reference_rows: bool = False
    #: Softmax temperatures whose tempered loss this attack reads (signals.tempered_loss_name).
    temperatures: tuple[float, ...] = ()
    #: Parameters the user set: tuning never changes them.
    fixed: frozenset[str] = frozenset()
    #: Reference models replayed as targets when this attack tunes itself (attacks.tuning).
    tuning_replays: int = 4
    #: True if every audited record needs an IN reference model (online attacks).
    needs_in_models: bool = False
    #: Whether an audit that names no attacks runs this one.
    default: bool = True
    #: What can be set, as data (:class:`~miaudit.attacks.params.Param`): each is an attribute
    #: of the attack, set by :meth:`configure`; those with ``tunable`` values are tuned.
    parameters: tuple[Param, ...] = ()
    #: Scoring passes over the texts (language models) that make the signals this attack reads
    #: beyond the target's own (:mod:`miaudit.attacks.passes`); the audit runs each one once.
    passes: tuple[TextPass, ...] = ()

    @abstractmethod
    def scores(self, data: AttackInput) -> np.ndarray:
        """One float64 score per record, shape (n,), higher = more likely a member."""

    @property
    def min_reference_models(self) -> int:
        """Reference models needed (0: the attack uses none)."""
        return self.requires.reference_models

    def variant(self, data: AttackInput) -> str | None:
        """Which variant ran and why, for the report (``None``: nothing to say)."""
        return None

    def unusable(self, data: AttackInput) -> str | None:
        """Why this attack cannot score these data (``None``: it can), checked before it runs."""
        return None

    def search_space(self, data: AttackInput | None = None) -> dict[str, tuple[Any, ...]]:
        """Values tuning may try for each parameter, the current value first (``data``: the
        audit's, when known; ``None``: every value that could be tried). Empty: nothing to
        tune. By default, every parameter declared with ``tunable`` values; parameters in
        ``fixed`` are left out by the tuner."""
        return {
            p.name: tuple(dict.fromkeys((getattr(self, p.name), *p.tunable)))
            for p in self.parameters
            if p.tunable
        }

    def params(self) -> dict[str, Any]:
        """The current value of every parameter tuning may change."""
        return {p.name: getattr(self, p.name) for p in self.parameters if p.tunable}

    def configure(self, **params: Any) -> Attack:
        """A copy of this attack with ``params`` set: each named, coerced (text from the
        command line or a config file included) and checked against its declaration."""
        if not params:
            return self
        configured = copy.copy(self)
        configured._assign(**params)
        return configured

    def check(self) -> None:
        """Checks that involve more than one parameter's declaration (an
        :class:`InputError` if the values set cannot work); nothing by default."""
        return None

    def _assign(self, **params: Any) -> None:
        """Set ``params`` (each coerced and checked by its declaration), then :meth:`check`.
        Constructors call it with every parameter, so a new attack is checked the same way."""
        declared = {p.name: p for p in self.parameters}
        unknown = sorted(set(params) - set(declared))
        if unknown and not declared:
            raise InputError(f"attack {self.name} takes no parameters, got {unknown}")
        if unknown:
            raise InputError(
                f"attack {self.name} has no parameter {', '.join(unknown)}; it takes "
                f"{', '.join(declared)} (miaudit attacks --params lists them)"
            )
        for name, value in params.items():
            setattr(self, name, declared[name].coerce(self.name, value))
        self.check()

    def _defaults(self, **given: Any) -> None:
        """For constructors: every declared parameter, ``given`` or its default."""
        self._assign(**{**{p.name: p.default for p in self.parameters}, **given})
