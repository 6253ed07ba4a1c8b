"""Probe a live prediction endpoint from the outside, with a bounded number of queries, and
grade what it exposes (rules in :mod:`miaudit.scan.rules`).

Speaks KServe V1 (``{"instances": …}`` → ``{"predictions": …}``) and the Open Inference
Protocol v2 (``{"inputs": [tensor]}`` → ``{"outputs": [tensor]}``). Credentials are sent to the
endpoint and never written anywhere else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from miaudit._version import __version__
from miaudit.errors import InputError
from miaudit.scan.rules import LEVELS, ScanFinding
from miaudit.targets.kserve import (
    DECODE_ERRORS,
    KServeClient,
    decode,
    encode,
    protocol_of,
    public_url,
)

SCHEMA = "miaudit.scan/1"
#: Request parameters that some servers honour to widen their output.
WIDENING = {
    "top_k": 1000,
    "topk": 1000,
    "precision": 12,
    "decimals": 12,
    "return_probabilities": True,
    "return_scores": True,
    "output": "probabilities",
}


@dataclass(frozen=True)
class Shape:
    """What one answer looks like: a label, or a list of scores."""

    kind: str  # "label", "probabilities", "logits", "unknown"
    classes: int = 0
    nonzero: int = 0
    decimals: int = 0

    def wider_than(self, other: Shape) -> bool:
        if other.kind == "label":
            return self.kind in ("probabilities", "logits")
        return self.kind != "label" and (
            self.nonzero > other.nonzero or self.decimals > other.decimals
        )

    def describe(self) -> dict[str, object]:
        if self.kind == "label":
            return {"returns": "a label"}
        return {
            "returns": self.kind,
            "classes": self.classes,
            "nonzero_scores": self.nonzero,
            "decimals": self.decimals,
        }


def _decimals(value: float) -> int:
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return max(0, digits - int(exponent))
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def shape_of(answer: Any) -> Shape:
    if isinstance(answer, bool | int | str):
        return Shape("label")
    if isinstance(answer, float):
        return Shape("label") if float(answer).is_integer() else Shape("unknown")
    if isinstance(answer, list) and answer and all(isinstance(v, int | float) for v in answer):
        values = np.asarray(answer, dtype=np.float64)
        probabilities = bool(np.all(values >= 0) and np.all(values <= 1) and values.sum() <= 1.0001)
        return Shape(
            "probabilities" if probabilities else "logits",
            len(values),
            int(np.count_nonzero(values)),
            max(_decimals(v) for v in values),
        )
    return Shape("unknown")


@dataclass
class Endpoint:
    """The endpoint and how to talk to it: the one KServe codec and client
    (:mod:`miaudit.targets.kserve`), retrying connection errors, timeouts and 5xx answers. A
    429 is handed back at once: the rate-limit probe looks for it."""

    url: str
    protocol: str = "v1"
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    queries: int = 0
    retries: int = 2
    backoff: float = 0.2
    #: How the client waits between attempts (injectable: tests need not wait).
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def __post_init__(self) -> None:
        self.protocol = protocol_of(self.protocol).value
        self._client = KServeClient(
            self.url,
            self.headers,
            self.timeout,
            self.retries,
            self.backoff,
            wait_on_429=False,
            what="Scanning an endpoint",
            sleep=self.sleep,
        )

    def close(self) -> None:
        self._client.close()

    def post(
        self, rows: list[list[float]], credentials: bool = True, extra: dict | None = None
    ) -> tuple[int, list[Any] | None, dict[str, str]]:
        """One query: (status, the answers or ``None``, response headers)."""
        self.queries += 1
        response = self._client.post(encode(rows, self.protocol, extra), credentials)
        answers = None
        if response.status_code == 200:
            try:
                answers = decode(response.json(), self.protocol, len(rows))
            except DECODE_ERRORS:
                answers = None
        return response.status_code, answers, dict(response.headers)


@dataclass
class ScanResult:
    url: str
    findings: list[ScanFinding]
    queries: int
    created: str
    exposure: dict[str, object]

    def worst(self) -> str | None:
        levels = [LEVELS.index(f.level) for f in self.findings]
        return LEVELS[max(levels)] if levels else None

    def fails(self, fail_level: str) -> bool:
        if fail_level == "none":
            return False
        return any(LEVELS.index(f.level) >= LEVELS.index(fail_level) for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "miaudit_version": __version__,
            "created": self.created,
            "target": self.url,
            "queries": self.queries,
            "exposure": self.exposure,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"


def _unauthenticated(endpoint: Endpoint, row: list[float]) -> list[ScanFinding]:
    status, answers, _ = endpoint.post([row], credentials=False)
    if status == 200 and answers is not None:
        return [
            ScanFinding(
                "MIA101",
                "error",
                "the endpoint answered a query that carried no credentials",
                {"status": status},
            )
        ]
    return []


def _scores(shape: Shape) -> list[ScanFinding]:
    if shape.kind not in ("probabilities", "logits"):
        return []
    cut = shape.nonzero < shape.classes or shape.decimals <= 2
    level = "warning" if cut else "error"
    what = (
        f"{shape.kind} for {shape.nonzero} of {shape.classes} classes"
        f" with up to {shape.decimals} decimals"
    )
    return [ScanFinding("MIA102", level, f"the endpoint returns {what}", shape.describe())]


def _widening(endpoint: Endpoint, row: list[float], base: Shape) -> list[ScanFinding]:
    status, answers, _ = endpoint.post([row], extra=WIDENING)
    if status != 200 or not answers:
        return []
    widened = shape_of(answers[0])
    if widened.wider_than(base):
        return [
            ScanFinding(
                "MIA103",
                "error",
                "request parameters widened the output",
                {
                    "parameters": sorted(WIDENING),
                    "before": base.describe(),
                    "after": widened.describe(),
                },
            )
        ]
    return []


def _rate_limit(
    endpoint: Endpoint, row: list[float], budget: int, seconds: float
) -> list[ScanFinding]:
    start, sent = time.monotonic(), 0
    while sent < budget and time.monotonic() - start < seconds:
        status, _, _ = endpoint.post([row])
        sent += 1
        if status == 429:
            return []
    elapsed = time.monotonic() - start
    return [
        ScanFinding(
            "MIA104",
            "warning",
            f"no rate limit seen: {sent} queries in {elapsed:.1f} s were all answered",
            {"queries": sent, "seconds": round(elapsed, 2)},
        )
    ]


def scan(
    url: str,
    width: int,
    *,
    protocol: str = "v1",
    headers: dict[str, str] | None = None,
    budget: int = 50,
    seconds: float = 15.0,
    probe: list[float] | None = None,
    membership: Any = None,
) -> ScanResult:
    """Scan the endpoint at ``url``, whose instances have ``width`` numbers. ``budget``: the
    most queries the rate-limit probe sends (within ``seconds``). ``membership``: a callable
    ``(endpoint) -> list[ScanFinding]`` that runs MIA105 (see :mod:`miaudit.scan.membership`)."""
    from datetime import datetime, timezone

    if width < 1:
        raise InputError(f"the input width must be at least 1, got {width}")
    if budget < 1:
        raise InputError(f"the probe budget must be at least 1 query, got {budget}")
    row = list(map(float, probe)) if probe is not None else [0.0] * width
    endpoint = Endpoint(url, protocol, dict(headers or {}))
    try:
        findings = _unauthenticated(endpoint, row)
        status, answers, _ = endpoint.post([row])
        if status != 200 or not answers:
            raise InputError(
                f"the endpoint did not answer a query with the credentials given (HTTP "
                f"{status}); pass --key or --header, and check --features ({width})"
            )
        base = shape_of(answers[0])
        findings += _scores(base)
        findings += _widening(endpoint, row, base)
        findings += _rate_limit(endpoint, row, budget, seconds)
        if membership is not None:
            findings += membership(endpoint, base)
    finally:
        endpoint.close()
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return ScanResult(public_url(url), findings, endpoint.queries, created, base.describe())
