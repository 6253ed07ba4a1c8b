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

from typing import Any, get_args
from urllib.parse import urlsplit

import numpy as np

from miaudit.errors import InputError
from miaudit.targets.exposure import ClassifierOutput, Exposure
from miaudit.targets.interface import ClassifierTarget
from miaudit.targets.kserve import (
    DECODE_ERRORS,
    MAX_RETRY_AFTER,
    KServeClient,
    Protocol,
    decode,
    encode,
    protocol_of,
    public_url,
)

#: The protocols and outputs an endpoint may have (declared in ``kserve`` and ``exposure``).
PROTOCOLS = tuple(p.value for p in Protocol)
OUTPUTS: tuple[str, ...] = get_args(ClassifierOutput)

__all__ = ["MAX_RETRY_AFTER", "OUTPUTS", "PROTOCOLS", "HttpTarget", "public_url"]


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
        protocol = protocol_of(protocol).value
        if output not in OUTPUTS:
            raise InputError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
        if urlsplit(url).scheme not in ("http", "https"):
            raise InputError(f"endpoint must be an http:// or https:// URL, got {public_url(url)}")
        if batch_size < 1 or timeout <= 0 or retries < 0:
            raise InputError("batch_size ≥ 1, timeout > 0 and retries ≥ 0, please")
        self.url, self.protocol = url, protocol
        self.where = public_url(url)
        self._classes = np.arange(classes) if isinstance(classes, int) else np.asarray(classes)
        if len(self._classes) < 2:
            raise InputError("an HTTP target needs its classes (2 or more)")
        self._exposes = Exposure.of(output)
        self.batch_size = int(batch_size)
        self._client = KServeClient(
            url, headers, timeout, retries, backoff, what="Auditing an HTTP endpoint"
        )
        self.timeout, self.retries, self.backoff = (
            self._client.timeout,
            self._client.retries,
            self._client.backoff,
        )
        self.queries = 0

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "endpoint": self.where, "protocol": self.protocol}

    def _predict(self, features: Any) -> np.ndarray:
        rows = np.asarray(features, dtype=np.float64)
        answer = self._post(encode(rows, self.protocol))
        values = self._predictions(answer, len(rows))
        self.queries += len(rows)
        return values

    def _predictions(self, answer: Any, n: int) -> np.ndarray:
        try:
            values = np.asarray(decode(answer, self.protocol, n))
            if not self.exposes.label_only:
                values = values.astype(np.float64)
        except DECODE_ERRORS as exc:
            raise InputError(
                f"endpoint {self.where} answered in an unexpected form for protocol "
                f"{self.protocol} ({type(exc).__name__}: {exc})"
            ) from None
        if len(values) != n:
            raise InputError(
                f"endpoint {self.where} returned {len(values)} predictions for {n} records"
            )
        if self.exposes.label_only:
            if values.size != n:  # e.g. a row of probabilities per record
                raise InputError(
                    f"endpoint {self.where} answered shape {tuple(values.shape)} for {n} "
                    "records; output 'label' expects one label per record — if it answers "
                    "probabilities, use output 'probabilities'"
                )
            return values.reshape(n)
        return values.reshape(n, -1)

    def _post(self, body: dict[str, Any]) -> Any:
        response = self._client.post(body)
        if response.status_code == 429 or response.status_code >= 500:
            raise InputError(self._client.failure(response))
        if response.status_code >= 400:
            raise InputError(
                f"endpoint {self.where} refused the request: {response.status_code} "
                f"{response.reason_phrase}"
            )
        try:
            return response.json()
        except ValueError:
            raise InputError(f"endpoint {self.where} did not answer JSON") from None
