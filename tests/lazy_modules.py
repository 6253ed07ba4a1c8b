"""Optional heavy libraries (torch, transformers, Opacus, ONNX) imported when a test first uses
them, not when the module is collected: every test worker collects every module, and importing
torch, Opacus and transformers there cost each worker about 6 s of CPU (2 cores, 4 workers).
A module marked with :func:`needs` is skipped, naming the extra, when one is not installed."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import pytest

#: How to install each library's extra (the test command installs all of them).
EXTRAS = {"torch": "torch", "opacus": "dp", "transformers": "llm", "skl2onnx": "onnx",
          "onnxruntime": "onnx", "datasets": "llm"}  # fmt: skip


def needs(*modules: str) -> pytest.MarkDecorator:
    """Skip (a module's ``pytestmark``, or a test) unless every module is installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    extras = sorted({EXTRAS.get(m, m) for m in missing})
    return pytest.mark.skipif(
        bool(missing),
        reason=f"needs {', '.join(missing)}: pip install 'miaudit[{','.join(extras)}]'",
    )


class lazily:
    """A module, imported on first attribute access (``torch.nn``, ``torch.manual_seed``)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"lazily({self._name!r})"
