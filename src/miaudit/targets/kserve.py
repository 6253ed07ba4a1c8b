"""The one KServe codec and client: what :class:`~miaudit.targets.http.HttpTarget` (auditing
an endpoint) and the scanner (:mod:`miaudit.scan.probe`) both speak.

Two protocols (:class:`Protocol`, the one declaration of their names): the KServe /
TF-Serving V1 REST protocol, ``{"instances": [[…], …]}`` → ``{"predictions": [...]}``, and the
Open Inference Protocol v2 (KServe, Triton, MLServer, BentoML), one FP64 input tensor →
``{"outputs": [tensor]}``, whose first output tensor holds the predictions.

:class:`KServeClient` posts a body with retries: connection errors, timeouts and 5xx answers
are retried with exponential backoff; a 429 waits for its ``Retry-After`` (or is handed back
at once, for a caller that wants to see the limit, ``wait_on_429=False``). The clock is
injectable (``sleep``), so tests need not wait.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from miaudit.errors import InputError, require

#: Longest a 429's Retry-After is honoured (seconds); longer waits are an error.
MAX_RETRY_AFTER = 30.0
#: What a malformed answer raises while it is decoded (the caller words the message).
DECODE_ERRORS = (KeyError, IndexError, TypeError, ValueError)


class Protocol(str, Enum):
    """The wire protocols a served model speaks (CLI choices, the config schema, docs)."""

    V1 = "v1"
    V2 = "v2"


def protocol_of(value: str | Protocol) -> Protocol:
    """``value`` as a :class:`Protocol`; anything else is an :class:`InputError` naming it."""
    try:
        return Protocol(value)
    except ValueError:
        known = ", ".join(p.value for p in Protocol)
        raise InputError(f"protocol must be one of {known}, got {value!r}") from None


def public_url(url: str) -> str:
    """``url`` without user:password and query string (they may hold credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if not parts.scheme:
        return urlunsplit(("", host, parts.path, "", ""))
    return f"{parts.scheme}://{host}{parts.path}"  # also keeps sqlite:///path whole


def expand_headers(headers: Mapping[str, str], where: str) -> dict[str, str]:
    """Header values with ``${NAME}`` replaced from the environment (tokens stay out of
    config files); an unset variable is an error naming it, never an empty credential."""
    import os
    import re

    out = {}
    for key, value in headers.items():
        for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", value):
            if name not in os.environ:
                raise InputError(f"{where}.{key}: environment variable {name} is not set")
        out[key] = re.sub(
            r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: os.environ[m.group(1)], value
        )
    return out


def encode(
    rows: np.ndarray | Sequence[Sequence[float]],
    protocol: Protocol | str,
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The request body for ``rows`` (feature rows), with optional request ``parameters``."""
    values = np.asarray(rows, dtype=np.float64)
    extra = {"parameters": dict(parameters)} if parameters else {}
    if Protocol(protocol) is Protocol.V1:
        return {"instances": values.tolist(), **extra}
    tensor = {
        "name": "input-0",
        "shape": list(values.shape),
        "datatype": "FP64",
        "data": values.ravel().tolist(),
    }
    return {"inputs": [tensor], **extra}


def decode(payload: Any, protocol: Protocol | str, n: int) -> list[Any]:
    """The predictions in an answer to ``n`` rows, one entry per row as the server sent it
    (a label, or a list of scores). A malformed answer raises one of :data:`DECODE_ERRORS`."""
    if Protocol(protocol) is Protocol.V1:
        predictions = payload["predictions"]
        if not isinstance(predictions, list):
            raise TypeError(f"'predictions' is a {type(predictions).__name__}, not a list")
        return list(predictions)
    tensor = payload["outputs"][0]
    return np.asarray(tensor["data"]).reshape(tensor.get("shape") or [n]).tolist()


class KServeClient:
    """Posts request bodies to one endpoint with retries (``pip install 'miaudit[http]'``).

    ``headers`` go with every request that carries credentials (never written anywhere);
    ``retries``: further attempts after the first; ``backoff``: the first wait (doubling);
    ``wait_on_429``: retry a 429 after its ``Retry-After`` instead of returning it."""

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.2,
        wait_on_429: bool = True,
        what: str = "Querying an HTTP endpoint",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise InputError("timeout > 0, retries ≥ 0 and backoff ≥ 0, please")
        self._httpx: Any = require("httpx", "http", what)
        self.url, self.where = url, public_url(url)
        self.headers = dict(headers or {})
        self.timeout, self.retries, self.backoff = float(timeout), int(retries), float(backoff)
        self.wait_on_429, self.sleep = wait_on_429, sleep
        self._client = self._httpx.Client(timeout=self.timeout)

    def close(self) -> None:
        self._client.close()

    def post(self, body: dict[str, Any], credentials: bool = True) -> Any:
        """The server's response (any status it sends and is not retried). Retryable failures
        that outlast the retries: the last response, or an :class:`InputError` when no
        attempt got one."""
        problem, response = "", None
        for attempt in range(self.retries + 1):
            wait = self.backoff * 2**attempt
            response, problem = self._attempt(body, credentials)
            if response is not None:
                status = response.status_code
                if status == 429 and self.wait_on_429:
                    wait = _retry_after(response, wait)
                elif status < 500:
                    return response
            if attempt < self.retries:
                self.sleep(wait)
        if response is None:
            raise InputError(self._gave_up(problem))
        return response

    def _attempt(self, body: dict[str, Any], credentials: bool) -> tuple[Any, str]:
        """One request: (the response, "") or (``None``, what went wrong)."""
        httpx = self._httpx
        headers = self.headers if credentials else {}
        try:
            return self._client.post(self.url, json=body, headers=headers), ""
        except httpx.TimeoutException:
            return None, f"no answer within {self.timeout:g} s"
        except httpx.TransportError as exc:
            return None, f"cannot connect ({type(exc).__name__})"

    def failure(self, response: Any) -> str:
        """What a final 429 or 5xx response means, in the words of the retry loop."""
        status = response.status_code
        problem = "429 Too Many Requests" if status == 429 else f"server error {status}"
        return self._gave_up(problem)

    def _gave_up(self, problem: str) -> str:
        return (
            f"endpoint {self.where}: {problem} after {self.retries + 1} attempts; is the model "
            "served there?"
        )


def _retry_after(response: Any, default: float) -> float:
    """Seconds a 429 asks to wait (``Retry-After`` in seconds). A missing header, or one that
    is not a finite number of seconds ≥ 0 (``nan``, ``-5``, an HTTP date), is ignored: the
    normal backoff ``default`` is used, capped at :data:`MAX_RETRY_AFTER`."""
    fallback = min(default, MAX_RETRY_AFTER)
    try:
        seconds = float(response.headers.get("Retry-After", fallback))
    except (TypeError, ValueError):
        return fallback
    if not math.isfinite(seconds) or seconds < 0:
        return fallback
    if seconds > MAX_RETRY_AFTER:
        raise InputError(
            f"the endpoint asks to wait {seconds:g} s (Retry-After); more than "
            f"{MAX_RETRY_AFTER:g} s — lower the request rate or raise the endpoint's limit"
        )
    return seconds
