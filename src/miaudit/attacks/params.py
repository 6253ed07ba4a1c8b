"""An attack's parameters, declared as data: name, type, allowed range or values, default, and
the values tuning may try — and the one coercion every attack's ``configure`` goes through.

Values come as Python objects (``attack_params={"min-k": {"k": 0.1}}``), as TOML values from a
config file, or as text from the command line (``--attack-param label-noise.strength=0.5``);
:meth:`Param.coerce` turns each into the declared type (``"0.5"`` → 0.5, ``"32"`` → 32,
``"1e3"`` → 1000, ``"true"`` → True) and checks it, with one message naming the attack, the
parameter, what it takes and the bad value. Whole numbers are read exactly (never through a
float), a boolean is never a number, and a number too large for a float is a bad value, not
an ``OverflowError``. The declarations also drive ``miaudit attacks --params`` and the
tests that try invalid values on every attack (as scikit-learn's ``_parameter_constraints``
and garak's ``DEFAULT_PARAMS`` do).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from miaudit.errors import InputError

__all__ = ["Param"]

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
#: What each type is called in messages and in ``miaudit attacks --params``.
KIND_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
#: Whole numbers written with an exponent (``"1e3"``) are read up to this many digits, as
#: Python reads integer text (``sys.get_int_max_str_digits``): anything longer is out of every
#: declared range anyway, and never worth building.
_MAX_DIGITS = 4300
#: The most characters of a bad value quoted in a message.
_SHOWN = 80


def _bound(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:g}"


def _shown(value: Any) -> str:
    """``repr(value)``, shortened if long (a pasted file, a 4,000-digit number)."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for Python to write out
        return f"<a whole number of {value.bit_length():,} bits>"
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _whole_text(text: str) -> int | None:
    """Text of a whole number as an ``int``, exactly: ``"12345678901234567891"``, ``"1e3"``,
    ``"2.0"``; ``None`` if it is not one (``"1.5"``, ``"nan"``, ``"x"``)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    if number.adjusted() >= _MAX_DIGITS:
        return None
    return int(number)


def _boolean(value: Any) -> bool | None:
    """``value`` as a bool: a bool, 1 or 0, or text such as ``"yes"``; ``None`` otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):  # 1 or 0 (str() of a huge int raises)
        return True if value == 1 else False if value == 0 else None
    text = value.strip().lower() if isinstance(value, str) else ""
    return True if text in _TRUE else False if text in _FALSE else None


def _real(value: Any) -> float | None:
    """A number or its text as a float; ``None`` if it is neither, or too large for a float
    (``10**400``)."""
    try:
        if isinstance(value, str):
            return float(value.strip())
        return float(value) if isinstance(value, numbers.Real) else None
    except (ValueError, OverflowError):
        return None


@dataclass(frozen=True)
class Param:
    """One parameter of an attack.

    ``kind`` is ``int``, ``float``, ``str`` or ``bool``. Numbers lie in the interval from
    ``low`` to ``high`` (``None``: unbounded), each end excluded when ``low_open`` /
    ``high_open``; text is one of ``choices`` when they are given. ``default`` is the value
    of a newly made attack; ``optional`` lets the value be ``None`` (not set). ``tunable``
    holds the values tuning may try (:mod:`miaudit.attacks.tuning`; empty: never tuned), the
    attack's current value always first."""

    name: str
    kind: type
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    tunable: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KIND_NAMES:  # a bug in a declaration, not input
            raise TypeError(f"parameter {self.name}: kind must be one of bool, int, float, str")

    @property
    def numeric(self) -> bool:
        return self.kind in (int, float)

    def allowed(self) -> str:
        """What the parameter takes, in words: ``in (0, 10] (a number)``, ``one of auto,
        global, per-record``."""
        if self.choices:
            text = "one of " + ", ".join(self.choices)
        elif self.numeric and (self.low is not None or self.high is not None):
            low = -math.inf if self.low is None else self.low
            high = math.inf if self.high is None else self.high
            left = "(" if self.low_open or self.low is None else "["
            right = ")" if self.high_open or self.high is None else "]"
            text = f"in {left}{_bound(low)}, {_bound(high)}{right} ({KIND_NAMES[self.kind]})"
        else:
            text = KIND_NAMES[self.kind]
        return text + (", or none" if self.optional else "")

    def error(self, attack: str, value: Any) -> InputError:
        """The one message for a bad value: the attack, the parameter, what it takes, the
        value given and how to set it."""
        example = "VALUE" if self.default is None else self.default
        return InputError(
            f"attack {attack}: parameter {self.name} must be {self.allowed()}, got {_shown(value)} "
            f"(default {self.default!r}; e.g. --attack-param {attack}.{self.name}={example})"
        )

    def coerce(self, attack: str, value: Any) -> Any:
        """``value`` (a Python value, or text from the command line) as this parameter's type,
        checked against its range or choices; an :class:`InputError` otherwise."""
        if value is None or (self.optional and isinstance(value, str) and value in ("", "none")):
            if self.optional:
                return None
            raise self.error(attack, value)
        converted = self._convert(value)
        if converted is None or not self._within(converted):
            raise self.error(attack, value)
        return converted

    def _convert(self, value: Any) -> Any:
        """``value`` as ``kind``, or ``None`` if it is not one."""
        if self.kind is bool:
            return _boolean(value)
        if self.kind is str:
            return value if isinstance(value, str) else None
        if isinstance(value, bool):
            return None
        if self.kind is int and isinstance(value, numbers.Integral):
            return int(value)
        if self.kind is int and isinstance(value, str):
            return _whole_text(value.strip())  # exactly: never through a float
        number = _real(value)
        if number is None or not math.isfinite(number):
            return None
        if self.kind is int:
            return int(number) if number.is_integer() else None
        return number

    def _within(self, value: Any) -> bool:
        if self.choices:
            return value in self.choices
        if not self.numeric:
            return True
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (
            self.high is not None and (value > self.high or (self.high_open and value == self.high))
        )
