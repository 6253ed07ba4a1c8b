"""One serialiser for every result dataclass: ``dump`` writes the JSON shape, ``load`` reads it
back, and both are derived from the same declarations — the dataclass fields and their
:func:`wire` metadata — instead of a hand-written ``from_dict`` mirroring each ``to_dict``.

Writing walks the fields and passes values through untouched (tuples become lists), so the
bytes are those the hand-written ``to_dict`` methods produced. Reading undoes the same
metadata (renamed keys, groups, flattened estimates, keyed lists), giving a dictionary of
field values that pydantic's :class:`~pydantic.TypeAdapter` turns into the typed, frozen
dataclasses (lists into tuples, nested objects into their classes). Reading is strict: each
value is checked against its field's type before pydantic sees it (a number is a finite JSON
number, never a string or a boolean; a count a whole number; an object a JSON object), against
the range its :func:`wire` metadata declares (``bounds``) and against its sibling's length
(``same_length_as``); what does not fit raises :class:`LoadError`, naming the field.

The statistics types of :mod:`miaudit.metrics` write themselves (their ``to_dict``); reading
them back needs only their JSON keys renamed to field names (:data:`_METRICS`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from pydantic import TypeAdapter

from miaudit.metrics import EpsilonBound, Estimate, GdpBound, TprAtFpr

T = TypeVar("T")
S = TypeVar("S", bound="Serialisable")

_WIRE = "miaudit.wire"


@dataclass(frozen=True)
class Wire:
    """How one field is written in JSON (the default: under its own name, as it is)."""

    #: The JSON key (default: the field's name).
    key: str | None = None
    #: The key of the object it is nested in (e.g. ``records``), beside the field's siblings.
    group: str | None = None
    #: An :class:`~miaudit.metrics.Estimate` written flat: ``key`` and ``key_ci``.
    flat: bool = False
    #: With ``flat``: the key that holds the reason when there is no value.
    reason_key: str | None = None
    #: Left out when equal to the field's default.
    omit_default: bool = False
    #: A tuple written as an object keyed by this attribute of each item …
    keyed_by: str | None = None
    #: … formatted by this function.
    key_format: Callable[[Any], str] = str
    #: Never written: computed on reading by ``derive`` from the whole JSON object, or left
    #: at its default.
    skip: bool = False
    derive: Callable[[Mapping[str, Any]], Any] | None = None
    #: Keys computed from the object and written just before this field (never read back).
    before: tuple[tuple[str, Callable[[Any], Any]], ...] = ()
    #: On reading: the range ``(low, high)`` (``None``: unbounded) of every number the field
    #: holds — the number itself, each item of a tuple, an estimate's value and interval.
    bounds: tuple[float | None, float | None] | None = None
    #: On reading: the name of the tuple field this one must match in length.
    same_length_as: str | None = None
    #: On reading: a further check of the value read (plain data), returning what is wrong
    #: with it (``None``: nothing).
    check: Callable[[Any], str | None] | None = None


def wire(**options: Any) -> dict[str, Wire]:
    """Field metadata: ``field(metadata=wire(key="skipped_attacks"))``."""
    return {_WIRE: Wire(**options)}


def _wire(f: dataclasses.Field[Any]) -> Wire:
    return f.metadata.get(_WIRE, _PLAIN)


_PLAIN = Wire()


class Serialisable:
    """``to_dict`` and ``from_dict`` for a dataclass, both derived from its fields."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (see :func:`dump`)."""
        return dump(self)

    @classmethod
    def from_dict(cls: type[S], data: Mapping[str, Any]) -> S:
        """The instance :meth:`to_dict` wrote (see :func:`load`)."""
        return load(cls, data)


# ---------------------------------------------------------------- writing
def dump(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses by their fields' :func:`wire` metadata (the
    metrics types by their own ``to_dict``), tuples as lists, everything else untouched."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value) in _METRICS:
            return value.to_dict()  # type: ignore[attr-defined]
        return _dump_fields(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value


def _dump_fields(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        w = _wire(f)
        value = getattr(obj, f.name)
        if w.skip or (w.omit_default and value == _default(f)):
            continue
        target = out.setdefault(w.group, {}) if w.group else out
        for key, compute in w.before:
            target[key] = compute(obj)
        key = w.key or f.name
        if w.flat:
            target[key] = value.value
            target[f"{key}_ci"] = list(value.ci) if value.ci else None
            if w.reason_key and value.value is None:
                target[w.reason_key] = value.reason
        elif w.keyed_by:
            target[key] = {w.key_format(getattr(v, w.keyed_by)): dump(v) for v in value}
        else:
            target[key] = dump(value)
    order: tuple[str, ...] = getattr(type(obj), "__wire_order__", ())
    return {k: out[k] for k in order if k in out} | out  # keys not in the order: after it


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


# ---------------------------------------------------------------- reading
#: A rate, a probability or an AUC.
UNIT: tuple[float, float] = (0.0, 1.0)
#: A difference of two rates (advantage, generalisation gap).
SIGNED_UNIT: tuple[float, float] = (-1.0, 1.0)
#: A count, a number of queries, an ε.
NON_NEGATIVE: tuple[float, None] = (0.0, None)
#: Room for rounding in a computed rate (``1.0000000000000002``).
_SLACK = 1e-9


class LoadError(ValueError):
    """A value in the JSON that does not fit its field; ``where`` names the field (its JSON
    path: ``attacks[0].auc``)."""

    def __init__(self, where: str, problem: str):
        self.where, self.problem = where, problem
        super().__init__(f"{where or 'the object'}: {problem}")

    def within(self, prefix: str) -> LoadError:
        """The same error with ``where`` read from one level up."""
        return LoadError(_at(prefix, self.where) if self.where else prefix, self.problem)


def load(cls: type[T], data: Mapping[str, Any], where: str = "") -> T:
    """The ``cls`` instance that :func:`dump` wrote as ``data``. A missing key or a value that
    does not fit its field raises :class:`LoadError` (a ``ValueError``) naming the field, from
    ``where`` (the path of ``data`` itself; ``""``: the top)."""
    return _adapter(cls).validate_python(_fields_in(cls, data, where))


@functools.cache
def _adapter(cls: type[T]) -> TypeAdapter[T]:
    return TypeAdapter(cls)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _at(where: str, key: str | int) -> str:
    """The path of the field ``key`` (an index: ``[0]``) inside ``where``."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _entry(where: str, key: Any) -> str:
    """The path of an object's entry under ``key`` (data, not a field): ``["0.01"]``."""
    return f"{where}[{json.dumps(str(key), ensure_ascii=False)}]"


def _found(raw: Any) -> str:
    """``raw`` in a message: its JSON kind and, if short, itself."""
    kind = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        tuple: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(raw), type(raw).__name__)
    shown = repr(raw)
    return f"{kind} {shown}" if len(shown) <= 40 and not isinstance(raw, list | dict) else kind


def _object(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise LoadError(where, f"expected an object, found {_found(raw)}")
    return raw


def _fields_in(cls: type, data: Any, where: str = "") -> dict[str, Any]:
    """The field values (still plain data, checked) that ``data``, written by :func:`dump`,
    holds."""
    data = _object(data, where)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        w = _wire(f)
        if w.skip:
            if w.derive is not None:
                out[f.name] = w.derive(data)
            continue
        container, base = data, where
        if w.group:
            base = _at(where, w.group)
            if w.group not in data:
                if _default(f) is dataclasses.MISSING:
                    raise LoadError(base, "missing")
                continue
            container = _object(data[w.group], base)
        here = _at(base, w.key or f.name)
        if _field_in(cls, f, container, base, out):
            problem = w.check(out[f.name]) if w.check is not None else None
            if problem:
                raise LoadError(here, problem)
    _check_lengths(cls, out, where)
    return out


def _field_in(
    cls: type, f: dataclasses.Field[Any], container: Mapping[str, Any], base: str, out: dict
) -> bool:
    """Read the field ``f`` from ``container`` (at ``base``) into ``out``; ``False``: it is
    absent, and keeps its default."""
    w = _wire(f)
    key = w.key or f.name
    here = _at(base, key)
    if w.flat:
        if key not in container:
            raise LoadError(here, "missing")
        value = container[key]
        reason = container.get(w.reason_key) if w.reason_key and value is None else None
        out[f.name] = _estimate_fields(
            (value, here),
            (container.get(f"{key}_ci"), f"{here}_ci"),
            (reason, _at(base, w.reason_key or "reason")),
            w.bounds,
        )
    elif key in container:
        out[f.name] = _value_in(_hints(cls)[f.name], container[key], here, w)
    elif _default(f) is dataclasses.MISSING:
        raise LoadError(here, "missing")
    else:
        return False
    return True


def _check_lengths(cls: type, out: Mapping[str, Any], where: str) -> None:
    """Fields declared ``same_length_as`` another have as many items as it."""
    by_name = {f.name: f for f in dataclasses.fields(cls)}
    for f in by_name.values():
        w = _wire(f)
        other = by_name.get(w.same_length_as or "")
        if other is None or out.get(f.name) is None or out.get(other.name) is None:
            continue
        if len(out[f.name]) != len(out[other.name]):
            raise LoadError(
                _json_path(f, where),
                f"has {len(out[f.name])} entries but {_json_path(other, where)} has "
                f"{len(out[other.name])}",
            )


def _json_path(f: dataclasses.Field[Any], where: str) -> str:
    w = _wire(f)
    return _at(_at(where, w.group) if w.group else where, w.key or f.name)


def _value_in(hint: Any, raw: Any, where: str, w: Wire = _PLAIN) -> Any:
    """``raw`` reshaped as the fields of the type ``hint`` names (recursively), each plain
    value checked against its type and ``w.bounds``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        present = [a for a in args if a is not type(None)]
        return _value_in(present[0], raw, where, w) if len(present) == 1 else raw
    if hint is Any:
        return raw
    if raw is None:
        raise LoadError(where, "missing (null)")
    if origin in (tuple, list) and args:
        return _items_in(origin, args, raw, where, w)
    if origin is dict and len(args) == 2:
        return {
            _value_in(args[0], k, where): _value_in(args[1], v, _entry(where, k))
            for k, v in _object(raw, where).items()
        }
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if isinstance(raw, hint):  # derived already (a section, an exposure)
            return raw
        if hint in _METRICS:
            return _METRICS[hint](raw, where, w)
        return _fields_in(hint, raw, where)
    return _plain(hint, raw, where, w.bounds)


def _items_in(origin: Any, args: tuple[Any, ...], raw: Any, where: str, w: Wire) -> list[Any]:
    """The items of a tuple or list field (``keyed_by``: written as an object)."""
    item = args[0]
    if w.keyed_by:
        keyed = _hints(item)[w.keyed_by]
        return [
            {
                **_value_in(item, v, _entry(where, k)),
                w.keyed_by: _key(item, w.keyed_by, keyed, k, _entry(where, k)),
            }
            for k, v in _object(raw, where).items()
        ]
    if not isinstance(raw, list | tuple):
        raise LoadError(where, f"expected a list, found {_found(raw)}")
    if origin is tuple and args[-1] is not Ellipsis:  # tuple[float, float]: by position
        if len(raw) != len(args):
            raise LoadError(where, f"expected {len(args)} entries, found {len(raw)}")
        pairs = zip(args, raw, strict=True)
        return [_value_in(a, v, _at(where, i), w) for i, (a, v) in enumerate(pairs)]
    return [_value_in(item, v, _at(where, i), w) for i, v in enumerate(raw)]


Bounds = tuple[float | None, float | None]


def _plain(hint: Any, raw: Any, where: str, bounds: Bounds | None) -> Any:
    """A JSON scalar checked strictly against ``hint`` (no ``"0.9"`` for a number, no ``1``
    for a boolean, no ``3.0`` for a count) and, if a number, finite and within ``bounds``."""
    if hint is bool:
        if not isinstance(raw, bool):
            raise LoadError(where, f"expected true or false, found {_found(raw)}")
    elif hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise LoadError(where, f"expected a whole number, found {_found(raw)}")
    elif hint is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise LoadError(where, f"expected a number, found {_found(raw)}")
        if isinstance(raw, float) and not math.isfinite(raw):
            raise LoadError(where, f"expected a finite number, found {raw!r}")
    elif hint is str:
        if not isinstance(raw, str):
            raise LoadError(where, f"expected a string, found {_found(raw)}")
    else:  # another type (an enum, a plug-in's own): pydantic checks it
        return raw
    if bounds is not None and hint in (int, float):
        low, high = bounds
        if (low is not None and raw < low - _SLACK) or (high is not None and raw > high + _SLACK):
            span = (
                f"between {low:g} and {high:g}"
                if low is not None and high is not None
                else f"at least {low:g}"
                if low is not None
                else f"at most {high:g}"
            )
            raise LoadError(where, f"must be {span}, found {raw!r}")
    return raw


def _key(item: type, name: str, hint: Any, key: str, where: str) -> Any:
    """The value of ``item.name`` that an object's key holds (``"0.001"``: an FPR)."""
    bounds = _FIELD_BOUNDS.get((item, name))
    if hint is float:
        try:
            value = float(key)
        except ValueError:
            raise LoadError(where, f"the key {key!r} is not a number") from None
        return _plain(float, value, where, bounds)
    return _value_in(hint, key, where, Wire(bounds=bounds))


def _estimate_fields(
    value: tuple[Any, str],
    ci: tuple[Any, str],
    reason: tuple[Any, str],
    bounds: tuple[float | None, float | None] | None,
) -> dict[str, Any]:
    """An :class:`Estimate`'s fields from its value, interval and reason, each with its path."""
    w = Wire(bounds=bounds)
    return {
        "value": _value_in(float | None, value[0], value[1], w),
        "ci": _value_in(tuple[float, float] | None, ci[0], ci[1], w),
        "reason": _value_in(str | None, reason[0], reason[1]),
    }


def _estimate(raw: Any, where: str, w: Wire) -> dict[str, Any]:
    """:meth:`Estimate.to_dict`: ``value``, ``ci``, and ``note`` (with a value) or ``reason``."""
    raw = _object(raw, where)
    if "value" not in raw:
        raise LoadError(_at(where, "value"), "missing")
    note = "note" if "note" in raw else "reason"
    return _estimate_fields(
        (raw["value"], _at(where, "value")),
        (raw.get("ci"), _at(where, "ci")),
        (raw.get(note), _at(where, note)),
        w.bounds,
    )


def _tpr_at_fpr(raw: Any, where: str, w: Wire) -> dict[str, Any]:
    """:meth:`TprAtFpr.to_dict`: the TPR's estimate, its threshold and the achieved FPR (the
    FPR itself is the key it is written under)."""
    raw = _object(raw, where)
    achieved = raw.get("achieved_fpr")
    rate = Wire(bounds=UNIT)
    return {
        "tpr": _estimate(raw, where, rate),
        "threshold": _value_in(float | None, raw.get("threshold"), _at(where, "threshold")),
        "achieved_fpr": (
            _estimate(achieved, _at(where, "achieved_fpr"), rate) if achieved is not None else None
        ),
    }


def _metric_fields(cls: type) -> Callable[[Any, str, Wire], dict[str, Any]]:
    """A metrics type whose ``to_dict`` writes its fields under their names (extra keys, such
    as the Gaussian bound's ``assumes``, are the writer's own)."""

    def read(raw: Any, where: str, w: Wire) -> dict[str, Any]:
        raw = _object(raw, where)
        if cls is GdpBound:  # the threshold of the Gaussian bound is never written
            raw = {**raw, "threshold": None}
        out: dict[str, Any] = {}
        hints = _hints(cls)
        for f in dataclasses.fields(cls):
            here = _at(where, f.name)
            if f.name in raw:
                bounds = Wire(bounds=_FIELD_BOUNDS.get((cls, f.name)))
                out[f.name] = _value_in(hints[f.name], raw[f.name], here, bounds)
            elif _default(f) is dataclasses.MISSING:
                raise LoadError(here, "missing")
        return out

    return read


#: How each metrics type's own ``to_dict`` reads back as its (checked) fields.
_METRICS: dict[type, Callable[[Any, str, Wire], dict[str, Any]]] = {
    Estimate: _estimate,
    TprAtFpr: _tpr_at_fpr,
    EpsilonBound: _metric_fields(EpsilonBound),
    GdpBound: _metric_fields(GdpBound),
}

#: The ranges of the metrics types' own fields (they carry no :func:`wire` metadata).
_FIELD_BOUNDS: dict[tuple[type, str], tuple[float | None, float | None]] = {
    (TprAtFpr, "fpr"): UNIT,
    (EpsilonBound, "value"): NON_NEGATIVE,
    (EpsilonBound, "delta"): UNIT,
    (EpsilonBound, "confidence"): UNIT,
    (EpsilonBound, "fpr_upper"): UNIT,
    (EpsilonBound, "fnr_upper"): UNIT,
    (GdpBound, "mu"): NON_NEGATIVE,
    (GdpBound, "epsilon"): NON_NEGATIVE,
    (GdpBound, "delta"): UNIT,
    (GdpBound, "confidence"): UNIT,
}
