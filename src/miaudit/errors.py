"""Errors that miaudit raises on purpose.

Every problem with what the user handed us (data, model file, config, flags) is an
:class:`InputError`; the CLI turns it into exit code 2 with the message as the only output.
"""

from __future__ import annotations


class InputError(ValueError):
    """The input cannot be audited as given; the message names the argument and the problem."""


class MissingExtraError(ImportError):
    """An optional dependency is needed for this feature; the message names the pip line."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs the optional dependency '{package}'. "
            f"Install it with: pip install 'miaudit[{extra}]'"
        )
        self.package = package
        self.extra = extra
        self.feature = feature

    def __reduce__(self) -> tuple[type[MissingExtraError], tuple[str, str, str]]:
        """Picklable (raised in a worker process, it reaches the caller whole): rebuilt from
        its three arguments, not from the message ``BaseException`` would pass."""
        return type(self), (self.package, self.extra, self.feature)


def require(module: str, extra: str, feature: str) -> object:
    """Import an optional dependency lazily, or raise :class:`MissingExtraError`."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(module, extra, feature) from exc
