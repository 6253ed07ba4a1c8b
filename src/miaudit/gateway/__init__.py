"""The gateway: a model behind API keys, rate limits, output policies and a query log
(``miaudit serve``; extra ``miaudit[serve]``)."""

from miaudit.gateway.app import Gateway, Reply, create_app
from miaudit.gateway.backend import Backend, load_model, upstream_model
from miaudit.gateway.db import ApiKey, Database
from miaudit.gateway.limits import Decision, MemoryLimiter, RedisLimiter

__all__ = [
    "ApiKey",
    "Backend",
    "Database",
    "Decision",
    "Gateway",
    "MemoryLimiter",
    "RedisLimiter",
    "Reply",
    "create_app",
    "load_model",
    "upstream_model",
]
