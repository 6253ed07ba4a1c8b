"""An :class:`AuditResult` read back from its ``report.json`` (schema ``miaudit.report/1``).

Everything the report holds comes back, so the result renders, gates and compares as it did:
``result_from_dict(json.load(f)).to_dict()`` equals the file's object. The reading is derived
from the result's dataclasses and their field metadata (:mod:`miaudit.results.serial`), with
the sections the report holds (:mod:`miaudit.results.sections`); nothing here mirrors a
``to_dict``. What the JSON never held stays out: per-record scores (``score_table``: the score
histograms and ``scores.csv``) and the threshold of the Gaussian ε bound. Written for
``miaudit compare``'s resumable cache and for rendering a saved report again.

Reading is strict: a value of the wrong JSON type, a number that is not finite or outside its
range (a rate or an AUC outside [0, 1], a negative count), an ROC whose two lists differ in
length — whatever a damaged file holds is refused with an :class:`InputError` that names the
file and the field, never loaded as a real result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from miaudit.errors import InputError
from miaudit.results.audit import SCHEMA, AuditResult
from miaudit.results.serial import LoadError, load

#: What reading a damaged object can raise, besides what the reader refuses by name.
_DAMAGE = (
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


def result_from_dict(data: dict[str, Any], source: str = "report.json") -> AuditResult:
    """The result a ``report.json`` object describes; a clear error, naming ``source`` (the
    file it came from) and the field, if it is not one."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise InputError(
            f"{source} is not a miaudit report: expected schema {SCHEMA!r}, found {found!r}"
        )
    try:
        return load(AuditResult, data)
    except _DAMAGE as exc:  # pydantic's ValidationError is a ValueError
        raise InputError(
            f"{source} is incomplete or damaged ({_short(exc)}); write it again"
        ) from None


def _short(exc: BaseException) -> str:
    """The error in one line, naming the field where it can (pydantic's messages span several
    lines; a missing key is only its name)."""
    if isinstance(exc, LoadError):
        return str(exc)
    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where or exc.title}: {first['msg']}"
    if isinstance(exc, KeyError):
        return f"{exc.args[0] if exc.args else ''}: missing"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def read_result(path: str | Path) -> AuditResult:
    """The result saved in a ``report.json`` file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except RecursionError:
        raise InputError(f"{path} is nested too deeply to be a report.json") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise InputError(f"{path} is not JSON ({exc}); pass a report.json") from None
    return result_from_dict(data, source=str(path))
