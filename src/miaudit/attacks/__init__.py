"""Attacks, by name. One module per family; :data:`REGISTRY` is how the audit finds them."""

from __future__ import annotations

from miaudit.attacks.classifier import ClassifierAttack
from miaudit.attacks.interface import Attack, AttackInput
from miaudit.attacks.lira import LiraAttack
from miaudit.attacks.rmia import RmiaAttack
from miaudit.attacks.threshold import THRESHOLD_ATTACKS, SignalAttack
from miaudit.errors import InputError

REGISTRY: dict[str, Attack] = {a.name: a for a in THRESHOLD_ATTACKS}
REGISTRY["classifier"] = ClassifierAttack()
for _attack in (LiraAttack(online=False), LiraAttack(online=True), RmiaAttack(online=False),
                RmiaAttack(online=True)):
    REGISTRY[_attack.name] = _attack

DEFAULT_ATTACKS = tuple(REGISTRY)


def get_attacks(names: list[str] | tuple[str, ...] | None,
                with_reference: bool = False) -> list[Attack]:
    """Attacks by name; for ``None``, every attack that needs no reference models, and the
    reference-model attacks too when ``with_reference``. An unknown name is an
    :class:`InputError`."""
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


__all__ = ["DEFAULT_ATTACKS", "REGISTRY", "Attack", "AttackInput", "ClassifierAttack",
           "LiraAttack", "RmiaAttack", "SignalAttack", "get_attacks"]
