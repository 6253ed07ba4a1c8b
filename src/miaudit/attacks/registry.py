"""Every attack by name — classifier and language-model attacks in one registry — and the
one way to pick and configure them for an audit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from miaudit.attacks.classifier import ClassifierAttack
from miaudit.attacks.interface import Attack
from miaudit.attacks.label_only import LabelBoundaryAttack, LabelNoiseAttack
from miaudit.attacks.lira import LiraAttack
from miaudit.attacks.lm import LM_ATTACKS
from miaudit.attacks.rmia import RmiaAttack
from miaudit.attacks.shadow import ShadowAttack
from miaudit.attacks.threshold import THRESHOLD_ATTACKS
from miaudit.attacks.white_box import GradientNormAttack
from miaudit.errors import InputError
from miaudit.targets.interface import Modality

REGISTRY: dict[str, Attack] = {
    a.name: a
    for a in (
        *THRESHOLD_ATTACKS,
        ClassifierAttack(),
        ShadowAttack(),
        LiraAttack(online=False),
        LiraAttack(online=True),
        RmiaAttack(online=False),
        RmiaAttack(online=True),
        LabelNoiseAttack(),
        LabelBoundaryAttack(),
        GradientNormAttack(),
        *LM_ATTACKS,
        GradientNormAttack(Modality.LANGUAGE_MODEL),
    )
}


def register(attack: Attack) -> Attack:
    """Add ``attack`` to the registry under its ``name`` (an attack of your own, from your own
    module: the audit, ``miaudit attacks`` and ``attack_params`` then know it); returns it.
    A name already taken is an error (:func:`unregister` it first)."""
    if not isinstance(attack, Attack):
        raise InputError(f"register takes an Attack, got {type(attack).__name__}")
    if attack.name in REGISTRY:
        raise InputError(f"an attack named {attack.name!r} is already registered")
    REGISTRY[attack.name] = attack
    return attack


def unregister(name: str) -> Attack:
    """Remove the attack ``name`` from the registry; returns it."""
    if name not in REGISTRY:
        raise InputError(f"unknown attack {name!r}; available: {', '.join(REGISTRY)}")
    return REGISTRY.pop(name)


def names_for(modality: Modality) -> list[str]:
    """The attacks on one kind of model, in registry order."""
    return [n for n, a in REGISTRY.items() if a.requires.modality is modality]


def create(name: str, **params: Any) -> Attack:
    """The attack ``name`` with ``params`` set (e.g. ``create("rmia-offline", a=0.5)``); the
    parameters set here are ``fixed``: tuning never changes them."""
    if name not in REGISTRY:
        raise InputError(f"unknown attack {name!r}; available: {', '.join(REGISTRY)}")
    if not params:
        return REGISTRY[name]
    attack = REGISTRY[name].configure(**params)
    attack.fixed = frozenset(params)
    return attack


def select(
    names: Sequence[str] | None,
    modality: Modality,
    with_reference: bool = False,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Attack]:
    """The attacks of one audit. ``None``: every attack on this kind of model, those that need
    reference models only ``with_reference``. Names must be unique, known, and of this kind of
    model; ``params`` may only name chosen attacks."""
    available = names_for(modality)
    if names is None:
        chosen = [
            n
            for n in available
            if REGISTRY[n].default and (with_reference or not REGISTRY[n].min_reference_models)
        ]
    else:
        unknown = [n for n in names if n not in available]
        if unknown:
            kind = "language-model " if modality is Modality.LANGUAGE_MODEL else ""
            other = [n for n in unknown if n in REGISTRY]
            hint = f" ({', '.join(other)}: for another kind of model)" if other else ""
            raise InputError(
                f"unknown {kind}attacks {unknown}{hint}; available: {', '.join(available)}"
            )
        chosen = list(names)
    params = dict(params or {})
    stray = sorted(set(params) - set(chosen))
    if stray:
        raise InputError(f"attack parameters given for {stray}, which this audit does not run")
    return [create(n, **params.get(n, {})) for n in chosen]
