"""The gateway as a FastAPI application: KServe / TF-Serving V1 REST in front of one model,
with API keys, rate limits, an output policy per key and a query log.

``POST /v1/models/{name}:predict`` with ``{"instances": [[...], ...]}`` answers
``{"predictions": [...]}`` — probability lists, or labels for a ``label-only`` key — so existing
V1 clients work. ``GET /v1/models/{name}``, ``/healthz``, ``/readyz``, Prometheus ``/metrics``
and the OpenAPI spec (``/openapi.json``, ``/docs``) come with it.

Every request is logged — one row per instance, committed before the response is sent; if the
log cannot be written the gateway refuses to answer (503) rather than answer unlogged.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np

from miaudit._version import __version__
from miaudit.errors import InputError, require
from miaudit.gateway.backend import Backend
from miaudit.gateway.db import ApiKey, Database, DatabaseUnavailable, GroupCommit, hash_key
from miaudit.gateway.limits import Limiter
from miaudit.gateway.watch import THROTTLE_SECONDS, Watch
from miaudit.querylog import QueryRecord, normal_address
from miaudit.targets.harden import OutputPolicy

try:  # resolvable by name for FastAPI's signature reading (annotations are strings here)
    from starlette.requests import Request
except ImportError:  # the serve extra is missing: create_app says so
    Request = Any  # type: ignore[misc,assignment]

_FEATURE = "The gateway (miaudit serve)"
RETENTION_EVERY = 3600.0
#: How long a looked-up key is trusted before the database is asked again: a revocation takes
#: effect within this many seconds.
KEY_CACHE_SECONDS = 1.0
KEY_CACHE_SIZE = 10_000


class _Logged(NamedTuple):
    """What every log row of one request shares."""

    time: float
    request_id: str
    client: str | None


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class Gateway:
    """The request logic, free of the web framework: authenticate, limit, predict, apply the
    key's policy, log, answer."""

    def __init__(
        self,
        backend: Backend,
        db: Database,
        limiter: Limiter,
        key_cache_seconds: float = KEY_CACHE_SECONDS,
        watch: Watch | None = None,
        clock: Callable[[], float] = time.monotonic,
        trust_forwarded_for: bool = False,
    ) -> None:
        """``clock``: the seconds the key cache is measured in (injectable for tests);
        ``trust_forwarded_for``: log the address a proxy in front of the gateway puts last in
        ``X-Forwarded-For`` as the client, not the proxy's own (:func:`client_address`)."""
        self.backend, self.db, self.limiter = backend, db, limiter
        self.trust_forwarded_for = trust_forwarded_for
        self.clock = clock
        self.watch = watch
        self.writer = GroupCommit(db)
        self.key_cache_seconds = key_cache_seconds
        self._keys: dict[str, tuple[float, ApiKey]] = {}  # by the key's hash, live keys only
        self._policies: dict[str, OutputPolicy] = {}
        self._rng = np.random.default_rng(secrets.randbits(64))  # noise no caller can replay
        self._rng_lock = threading.Lock()

    def policy(self, text: str) -> OutputPolicy:
        if text not in self._policies:
            self._policies[text] = OutputPolicy.parse(text)
        return self._policies[text]

    def find(self, presented: str) -> ApiKey | None:
        """The live key presented, from a cache of at most ``key_cache_seconds``."""
        digest, now = hash_key(presented), self.clock()
        cached = self._keys.get(digest)
        if cached is not None and now - cached[0] < self.key_cache_seconds:
            return cached[1]
        key = self.db.find(presented)
        if key is not None and self.key_cache_seconds > 0:
            if len(self._keys) >= KEY_CACHE_SIZE:
                self._keys.clear()
            self._keys[digest] = (now, key)
        else:
            self._keys.pop(digest, None)
        return key

    def handle(
        self, name: str, presented: str | None, body: bytes, client: str | None = None
    ) -> Reply:
        """Answer one predict request (``client``: who sent it, logged with each instance)."""
        request_id = uuid.uuid4().hex
        now = time.time()
        key = self.find(presented) if presented else None
        logged = _Logged(now, request_id, client)

        def refuse(status: int, message: str, instances: list[Any] | None = None) -> Reply:
            rows = instances if instances else [None]
            policy = key.policy if key else ""
            self._log(logged, key, rows, [None] * len(rows), policy, status)
            return Reply(status, {"error": message}, {"X-Request-Id": request_id})

        if presented is None:
            reply = refuse(401, "missing API key: send 'Authorization: Bearer KEY' or 'X-API-Key'")
            reply.headers["WWW-Authenticate"] = "Bearer"
            return reply
        if key is None:
            reply = refuse(401, "unknown or revoked API key")
            reply.headers["WWW-Authenticate"] = "Bearer"
            return reply
        if name != self.backend.name:
            return refuse(
                404, f"no model named {name!r}; this gateway serves {self.backend.name!r}"
            )
        instances = _instances(body)
        if isinstance(instances, str):
            return refuse(400, instances)
        action = self.watch.action_for(key.name) if self.watch is not None else None
        if action == "label-only":  # flagged by the monitor: labels only from now on
            key = replace(key, policy="label-only")
        if action == "block":
            return refuse(403, "this API key is suspended: the monitor flagged its traffic")
        decision = self.limiter.take(key, len(instances))
        if decision.allowed and action == "throttle":
            decision = self.limiter.take(_throttled(key), len(instances))
        if not decision.allowed:
            reply = refuse(429, decision.reason, instances)
            reply.headers["Retry-After"] = decision.retry_after_header
            return reply
        try:
            outputs = self.backend.predict(instances)
            with self._rng_lock:
                answers = self.backend.answer(outputs, self.policy(key.policy), self._rng)
        except InputError as exc:
            status = 502 if getattr(self.backend.target, "remote", False) else 400
            return refuse(status, str(exc), instances)
        self._log(logged, key, instances, answers, key.policy, 200)
        return Reply(200, {"predictions": answers}, {"X-Request-Id": request_id})

    def _log(
        self,
        logged: _Logged,
        key: ApiKey | None,
        instances: list[Any],
        answers: list[Any],
        policy: str,
        status: int,
    ) -> None:
        name, model = key.name if key else "", self.backend.name
        now, request_id, client = logged
        records = [
            QueryRecord(now, name, request_id, model, i, a, policy, status, client)
            for i, a in zip(instances, answers, strict=True)
        ]
        self.writer.write(records)
        if self.watch is not None and name:
            self.watch.feed(records)


def _throttled(key: ApiKey) -> ApiKey:
    """The bucket a throttled key also draws from: one instance every ``THROTTLE_SECONDS``."""
    return replace(
        key, name=f"{key.name}\x00throttled", rate=1 / THROTTLE_SECONDS, burst=1, quota=None
    )


def _instances(body: bytes) -> list[Any] | str:
    """The request's instances, or what is wrong with it."""
    try:
        payload = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return 'the body is not JSON; send {"instances": [[...], ...]}'
    instances = payload.get("instances") if isinstance(payload, dict) else None
    if not isinstance(instances, list) or not instances:
        return 'send {"instances": [[...], ...]}: a non-empty list of instances'
    if not all(
        isinstance(row, list)
        and row
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in row)
        for row in instances
    ):
        return "each instance must be a non-empty list of numbers"
    return instances


class _Meters:
    """The Prometheus metrics of one application (its own registry)."""

    def __init__(self, prometheus: Any) -> None:
        self.prometheus = prometheus
        self.registry = prometheus.CollectorRegistry()
        self.requests = prometheus.Counter(
            "miaudit_gateway_requests",
            "Prediction requests by status",
            ["status"],
            registry=self.registry,
        )
        self.instances = prometheus.Counter(
            "miaudit_gateway_instances", "Instances by status", ["status"], registry=self.registry
        )
        self.latency = prometheus.Histogram(
            "miaudit_gateway_request_seconds",
            "Time to answer a prediction request",
            registry=self.registry,
            buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )

    def observe(self, reply: Reply, seconds: float) -> None:
        self.requests.labels(str(reply.status)).inc()
        self.instances.labels(str(reply.status)).inc(len(reply.body.get("predictions", ())) or 1)
        self.latency.observe(seconds)


def _lifespan(gateway: Gateway, retention_days: float | None) -> Any:
    """Retention, if asked: forget old inputs at start and every hour."""
    from starlette.concurrency import run_in_threadpool

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        async def retention() -> None:
            while True:
                await run_in_threadpool(gateway.db.drop_inputs, retention_days)
                await asyncio.sleep(RETENTION_EVERY)

        task = asyncio.create_task(retention()) if retention_days is not None else None
        yield
        if task is not None:
            task.cancel()
        if gateway.watch is not None:  # save the monitor's state before exiting
            await run_in_threadpool(gateway.watch.close)

    return lifespan


def create_app(gateway: Gateway, retention_days: float | None = None) -> Any:
    """The FastAPI application around ``gateway``."""
    fastapi: Any = require("fastapi", "serve", _FEATURE)
    meters = _Meters(require("prometheus_client", "serve", _FEATURE))
    app = fastapi.FastAPI(
        title="miaudit gateway",
        version=__version__,
        description="A model behind API keys, rate limits, output policies and a query log.",
        lifespan=_lifespan(gateway, retention_days),
    )
    _service_routes(app, fastapi, gateway, meters)
    _predict_route(app, fastapi, gateway, meters)
    return app


def _service_routes(app: Any, fastapi: Any, gateway: Gateway, meters: _Meters) -> None:
    name = gateway.backend.name

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> Any:
        if gateway.db.ping():
            return {"status": "ready", "model": name}
        return fastapi.responses.JSONResponse({"status": "database unavailable"}, 503)

    @app.get("/metrics")
    def metrics() -> Any:
        prometheus = meters.prometheus
        return fastapi.Response(
            prometheus.generate_latest(meters.registry), media_type=prometheus.CONTENT_TYPE_LATEST
        )

    @app.get("/v1/models/{model}")
    def model_status(model: str) -> Any:
        if model != name:
            return fastapi.responses.JSONResponse({"error": f"no model named {model!r}"}, 404)
        return {"name": name, "ready": True, "classes": gateway.backend.classes}


def _predict_route(app: Any, fastapi: Any, gateway: Gateway, meters: _Meters) -> None:
    from starlette.concurrency import run_in_threadpool

    @app.post("/v1/models/{model}:predict")
    async def predict(model: str, request: Request) -> Any:
        start = time.perf_counter()
        presented = _presented_key(request.headers)
        body = await request.body()
        client = client_address(request, gateway.trust_forwarded_for)
        try:
            reply = await run_in_threadpool(gateway.handle, model, presented, body, client)
        except DatabaseUnavailable:  # keys or log unreachable: never answer unlogged
            reply = Reply(503, {"error": "the gateway's database is unavailable; not answering"})
        meters.observe(reply, time.perf_counter() - start)
        return fastapi.responses.JSONResponse(reply.body, reply.status, reply.headers)


def client_address(request: Request, trust_forwarded_for: bool) -> str | None:
    """Who sent ``request``: the peer's address; with ``trust_forwarded_for``, the last
    address in ``X-Forwarded-For`` — the one the proxy in front of the gateway appended (the
    addresses before it are whatever the caller wrote, so they are never taken). Addresses are
    written one way (:func:`normal_address`: a port or zone dropped, IPv4 in IPv6 clothing as
    IPv4); an entry that is no address is ignored."""
    peer = request.client.host if request.client is not None else None
    if trust_forwarded_for:
        forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
        found = normal_address(forwarded.rsplit(",", 1)[-1])
        if found is not None:
            return found
    return (normal_address(peer) or peer) if peer else None


def _presented_key(headers: Any) -> str | None:
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    key = headers.get("x-api-key", "").strip()
    return key or None
