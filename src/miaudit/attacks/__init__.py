"""Attacks, by name. One module per family; :mod:`.registry` is how the audit finds them and
:mod:`.requirements` how each declares what it needs."""

from miaudit.attacks.classifier import ClassifierAttack
from miaudit.attacks.interface import Attack, AttackInput
from miaudit.attacks.label_only import LabelBoundaryAttack, LabelNoiseAttack
from miaudit.attacks.lira import LiraAttack
from miaudit.attacks.lm import BlindBaselineAttack
from miaudit.attacks.params import Param
from miaudit.attacks.passes import PassInput, TextPass
from miaudit.attacks.probing import Probe, ProbingAttack
from miaudit.attacks.registry import REGISTRY, create, names_for, register, select, unregister
from miaudit.attacks.requirements import Access, Available, Requirements, cannot_run
from miaudit.attacks.rmia import RmiaAttack
from miaudit.attacks.shadow import ShadowAttack
from miaudit.attacks.threshold import SignalAttack
from miaudit.attacks.white_box import GradientNormAttack

__all__ = [
    "REGISTRY",
    "Access",
    "Attack",
    "AttackInput",
    "Available",
    "BlindBaselineAttack",
    "ClassifierAttack",
    "GradientNormAttack",
    "LabelBoundaryAttack",
    "LabelNoiseAttack",
    "LiraAttack",
    "Param",
    "PassInput",
    "Probe",
    "ProbingAttack",
    "Requirements",
    "RmiaAttack",
    "ShadowAttack",
    "SignalAttack",
    "TextPass",
    "cannot_run",
    "create",
    "names_for",
    "register",
    "select",
    "unregister",
]
