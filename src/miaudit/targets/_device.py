"""Where torch models run: ``"auto"`` picks a GPU when there is one, else the CPU."""

from __future__ import annotations

from typing import Any

from miaudit.errors import InputError


def resolve_device(device: str, torch: Any) -> str:
    """``"auto"`` → ``"cuda"`` when CUDA is available, ``"mps"`` on Apple silicon, else
    ``"cpu"``; any other name is checked by torch (``"cuda:1"``, ``"cpu"``)."""
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    try:
        torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"device {device!r} is not a torch device: {exc}") from exc
    return device
