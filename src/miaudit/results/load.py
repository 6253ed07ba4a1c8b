"""An :class:`AuditResult` read back from its ``report.json`` (schema ``miaudit.report/1``).

Everything the report holds comes back, so the result renders, gates and compares as it did:
``result_from_dict(json.load(f)).to_dict()`` equals the file's object. The reading is derived
from the result's dataclasses and their field metadata (:mod:`miaudit.results.serial`), with
the sections the report holds (:mod:`miaudit.results.sections`); nothing here mirrors a
``to_dict``. What the JSON never held stays out: per-record scores (``score_table``: the score
histograms and ``scores.csv``) and the threshold of the Gaussian ε bound. Written for
``miaudit compare``'s resumable cache and for rendering a saved report again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from miaudit.errors import InputError
from miaudit.results.audit import SCHEMA, AuditResult
from miaudit.results.serial import load


def result_from_dict(data: dict[str, Any]) -> AuditResult:
    """The result a ``report.json`` object describes; a clear error if it is not one."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise InputError(f"not a miaudit report: expected schema {SCHEMA!r}, found {found!r}")
    try:
        return load(AuditResult, data)
    except (KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise InputError(
            f"report.json is incomplete or damaged ({_short(exc)}); write it again"
        ) from None


def _short(exc: Exception) -> str:
    """The error in one line (pydantic's messages span several)."""
    return " ".join(repr(exc).split())[:300]


def read_result(path: str | Path) -> AuditResult:
    """The result saved in a ``report.json`` file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise InputError(f"{path} is not JSON ({exc}); pass a report.json") from None
    return result_from_dict(data)
