"""A model served over HTTP: the KServe / TF-Serving V1 REST protocol and the Open Inference
Protocol v2 (KServe, Triton, MLServer, BentoML).

V1: ``POST <url>`` (e.g. ``…/v1/models/NAME:predict``) with ``{"instances": [[…], …]}`` →
``{"predictions": [...]}``, each prediction a list of scores or one label. v2: ``POST <url>``
(``…/v2/models/NAME/infer``) with one FP64 input tensor → the first output tensor, shape
``(n, k)`` for scores or ``(n,)`` for labels.

Records go in batches; connection errors, timeouts and 5xx answers are retried with exponential
backoff, a 429 waits for its ``Retry-After``; what still fails is an :class:`InputError` naming
the endpoint (never its credentials: headers and any user:password in the URL stay out of
reports and messages).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from miaudit.errors import InputError, require
from miaudit.targets.exposure import Exposure
from miaudit.targets.interface import ClassifierTarget

PROTOCOLS = ("v1", "v2")
OUTPUTS = ("probabilities", "logits", "label")
#: Longest a 429's Retry-After is honoured (seconds); longer waits are an error.
MAX_RETRY_AFTER = 30.0


def public_url(url: str) -> str:
    """``url`` without user:password and query string (they may hold credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if not parts.scheme:
        return urlunsplit(("", host, parts.path, "", ""))
    return f"{parts.scheme}://{host}{parts.path}"  # also keeps sqlite:///path whole


class HttpTarget(ClassifierTarget):
    """A classifier behind an HTTP endpoint (``pip install 'miaudit[http]'``).

    ``classes``: the model's classes in the order of its output columns (or their number);
    ``output``: what a prediction holds; ``headers``: sent with every request (an
    ``Authorization`` header, say — never written anywhere)."""

    kind = "http"
    remote = True

    def __init__(
        self,
        url: str,
        classes: Any,
        output: str = "probabilities",
        protocol: str = "v1",
        headers: dict[str, str] | None = None,
        batch_size: int = 64,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.2,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise InputError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
        if output not in OUTPUTS:
            raise InputError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
        if urlsplit(url).scheme not in ("http", "https"):
            raise InputError(f"endpoint must be an http:// or https:// URL, got {public_url(url)}")
        if batch_size < 1 or timeout <= 0 or retries < 0:
            raise InputError("batch_size ≥ 1, timeout > 0 and retries ≥ 0, please")
        self._httpx: Any = require("httpx", "http", "Auditing an HTTP endpoint")
        self.url, self.protocol = url, protocol
        self.where = public_url(url)
        self._classes = np.arange(classes) if isinstance(classes, int) else np.asarray(classes)
        if len(self._classes) < 2:
            raise InputError("an HTTP target needs its classes (2 or more)")
        self._exposes = Exposure.of(output)
        self.batch_size, self.timeout, self.retries, self.backoff = (
            int(batch_size),
            float(timeout),
            int(retries),
            float(backoff),
        )
        self._client = self._httpx.Client(headers=headers or {}, timeout=self.timeout)
        self.queries = 0

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "endpoint": self.where, "protocol": self.protocol}

    def _predict(self, features: Any) -> np.ndarray:
        rows = np.asarray(features, dtype=np.float64)
        answer = self._post(self._request(rows))
        values = self._predictions(answer, len(rows))
        self.queries += len(rows)
        return values

    def _request(self, rows: np.ndarray) -> dict[str, Any]:
        if self.protocol == "v1":
            return {"instances": rows.tolist()}
        return {
            "inputs": [
                {
                    "name": "input-0",
                    "shape": list(rows.shape),
                    "datatype": "FP64",
                    "data": rows.ravel().tolist(),
                }
            ]
        }

    def _predictions(self, answer: Any, n: int) -> np.ndarray:
        try:
            if self.protocol == "v1":
                values = np.asarray(answer["predictions"])
            else:
                tensor = answer["outputs"][0]
                values = np.asarray(tensor["data"]).reshape(tensor["shape"])
            if not self.exposes.label_only:
                values = values.astype(np.float64)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise InputError(
                f"endpoint {self.where} answered in an unexpected form for protocol "
                f"{self.protocol} ({type(exc).__name__}: {exc})"
            ) from None
        if len(values) != n:
            raise InputError(
                f"endpoint {self.where} returned {len(values)} predictions for {n} records"
            )
        if self.exposes.label_only:
            return values.reshape(n)
        return values.reshape(n, -1)

    def _post(self, body: dict[str, Any]) -> Any:
        httpx = self._httpx
        problem = ""
        for attempt in range(self.retries + 1):
            wait = self.backoff * 2**attempt
            try:
                response = self._client.post(self.url, json=body)
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout:g} s"
            except httpx.TransportError as exc:
                problem = f"cannot connect ({type(exc).__name__})"
            else:
                if response.status_code == 429:
                    wait = _retry_after(response, wait)
                    problem = "429 Too Many Requests"
                elif response.status_code >= 500:
                    problem = f"server error {response.status_code}"
                elif response.status_code >= 400:
                    raise InputError(
                        f"endpoint {self.where} refused the request: {response.status_code} "
                        f"{response.reason_phrase}"
                    )
                else:
                    try:
                        return response.json()
                    except ValueError:
                        raise InputError(f"endpoint {self.where} did not answer JSON") from None
            if attempt < self.retries:
                time.sleep(wait)
        raise InputError(
            f"endpoint {self.where}: {problem} after {self.retries + 1} attempts; is the model "
            "served there?"
        )


def _retry_after(response: Any, default: float) -> float:
    """Seconds a 429 asks to wait (``Retry-After`` in seconds), capped."""
    try:
        seconds = float(response.headers.get("Retry-After", default))
    except ValueError:
        return default
    if seconds > MAX_RETRY_AFTER:
        raise InputError(
            f"the endpoint asks to wait {seconds:g} s (Retry-After); more than "
            f"{MAX_RETRY_AFTER:g} s — lower the request rate or raise the endpoint's limit"
        )
    return max(seconds, 0.0)
