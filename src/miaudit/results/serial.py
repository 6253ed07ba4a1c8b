"""One serialiser for every result dataclass: ``dump`` writes the JSON shape, ``load`` reads it
back, and both are derived from the same declarations — the dataclass fields and their
:func:`wire` metadata — instead of a hand-written ``from_dict`` mirroring each ``to_dict``.

Writing walks the fields and passes values through untouched (tuples become lists), so the
bytes are those the hand-written ``to_dict`` methods produced. Reading undoes the same
metadata (renamed keys, groups, flattened estimates, keyed lists), giving a dictionary of
field values that pydantic's :class:`~pydantic.TypeAdapter` turns into the typed, frozen
dataclasses (lists into tuples, nested objects into their classes), refusing what does not
fit the types.

The statistics types of :mod:`miaudit.metrics` write themselves (their ``to_dict``); reading
them back needs only their JSON keys renamed to field names (:data:`_METRICS`).
"""

from __future__ import annotations

import dataclasses
import functools
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
def load(cls: type[T], data: Mapping[str, Any]) -> T:
    """The ``cls`` instance that :func:`dump` wrote as ``data``. A missing key or a value of
    the wrong type raises ``KeyError``, ``TypeError`` or pydantic's ``ValidationError`` (a
    ``ValueError``)."""
    return _adapter(cls).validate_python(_fields_in(cls, data))


@functools.cache
def _adapter(cls: type[T]) -> TypeAdapter[T]:
    return TypeAdapter(cls)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fields_in(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The field values (still plain data) that ``data``, written by :func:`dump`, holds."""
    if not isinstance(data, Mapping):
        raise TypeError(f"{cls.__name__}: expected an object, found {type(data).__name__}")
    hints = _hints(cls)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        w = _wire(f)
        if w.skip:
            if w.derive is not None:
                out[f.name] = w.derive(data)
            continue
        key = w.key or f.name
        container = data[w.group] if w.group else data
        if w.flat:
            value = container[key]
            reason = container.get(w.reason_key) if w.reason_key and value is None else None
            out[f.name] = {"value": value, "ci": container.get(f"{key}_ci"), "reason": reason}
        elif key in container:
            out[f.name] = _value_in(hints[f.name], container[key], w)
        elif _default(f) is dataclasses.MISSING:
            raise KeyError(key)
    return out


def _value_in(hint: Any, raw: Any, w: Wire = _PLAIN) -> Any:
    """``raw`` reshaped as the fields of the type ``hint`` names (recursively)."""
    if raw is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        return _value_in(present[0], raw, w) if len(present) == 1 else raw
    if origin in (tuple, list) and args:
        item = args[0]
        if w.keyed_by:
            return [{**_value_in(item, v), w.keyed_by: k} for k, v in raw.items()]
        if origin is tuple and args[-1] is not Ellipsis:  # tuple[float, float]: by position
            return [_value_in(a, v) for a, v in zip(args, raw, strict=False)] + raw[len(args) :]
        return [_value_in(item, v) for v in raw]
    if origin is dict and len(args) == 2:
        return {k: _value_in(args[1], v) for k, v in raw.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if hint in _METRICS:
            return _METRICS[hint](raw)
        return _fields_in(hint, raw)
    return raw


def _estimate(raw: Mapping[str, Any]) -> dict[str, Any]:
    """:meth:`Estimate.to_dict`: ``value``, ``ci``, and ``note`` (with a value) or ``reason``."""
    return {
        "value": raw["value"],
        "ci": raw.get("ci"),
        "reason": raw.get("note", raw.get("reason")),
    }


def _tpr_at_fpr(raw: Mapping[str, Any]) -> dict[str, Any]:
    """:meth:`TprAtFpr.to_dict`: the TPR's estimate, its threshold and the achieved FPR (the
    FPR itself is the key it is written under)."""
    achieved = raw.get("achieved_fpr")
    return {
        "tpr": _estimate(raw),
        "threshold": raw.get("threshold"),
        "achieved_fpr": _estimate(achieved) if achieved is not None else None,
    }


#: How each metrics type's own ``to_dict`` reads back as its fields.
_METRICS: dict[type, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    Estimate: _estimate,
    TprAtFpr: _tpr_at_fpr,
    EpsilonBound: dict,
    # the threshold of the Gaussian bound is never written
    GdpBound: lambda raw: {**raw, "threshold": None},
}
