"""Attacks, by name. One module per family; :data:`REGISTRY` is how the audit finds them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from miaudit.attacks.classifier import ClassifierAttack
from miaudit.attacks.interface import Attack, AttackInput
from miaudit.attacks.lira import LiraAttack
from miaudit.attacks.rmia import RmiaAttack
from miaudit.attacks.shadow import ShadowAttack
from miaudit.attacks.threshold import THRESHOLD_ATTACKS, SignalAttack
from miaudit.errors import InputError

REGISTRY: dict[str, Attack] = {a.name: a for a in THRESHOLD_ATTACKS}
REGISTRY["classifier"] = ClassifierAttack()
for _attack in (
    ShadowAttack(),
    LiraAttack(online=False),
    LiraAttack(online=True),
    RmiaAttack(online=False),
    RmiaAttack(online=True),
):
    REGISTRY[_attack.name] = _attack

DEFAULT_ATTACKS = tuple(REGISTRY)


def get_attacks(
    names: list[str] | tuple[str, ...] | None,
    with_reference: bool = False,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Attack]:
    """Attacks by name; for ``None``, every attack that needs no reference models, and the
    reference-model attacks too when ``with_reference``. ``params`` sets attack parameters by
    attack name (e.g. ``{"rmia-offline": {"a": 0.5}}``). An unknown name is an
    :class:`InputError`."""
    chosen = _by_name(names, with_reference)
    params = dict(params or {})
    stray = sorted(set(params) - {a.name for a in chosen})
    if stray:
        raise InputError(f"attack parameters given for {stray}, which this audit does not run")
    return [a.configure(**params[a.name]) if a.name in params else a for a in chosen]


def _by_name(names: list[str] | tuple[str, ...] | None, with_reference: bool) -> list[Attack]:
    if names is None:
        return [a for a in REGISTRY.values() if with_reference or not a.min_reference_models]
    if not names:
        raise InputError("attacks: the list is empty; name at least one attack")
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise InputError(f"unknown attacks {unknown}; available: {', '.join(REGISTRY)}")
    if len(set(names)) != len(names):
        raise InputError(f"attacks: a name is repeated in {list(names)}")
    return [REGISTRY[n] for n in names]


__all__ = [
    "DEFAULT_ATTACKS",
    "REGISTRY",
    "Attack",
    "AttackInput",
    "ClassifierAttack",
    "LiraAttack",
    "RmiaAttack",
    "ShadowAttack",
    "SignalAttack",
    "get_attacks",
]
