"""Abuse limits (Flask-Limiter): failed review sign-ins per client IP and per token name,
failed bearer authentication per client IP, API writes per token.

Only what can be abused is counted, and failures only where a failure is the abuse: a
translator who signs in right the first time, or a reader of the public API, is never
counted. The counters live in Redis when ``FEEDSVC_REDIS_URL`` is set (shared by every
worker process), in this process's memory otherwise; a Redis that cannot be reached
falls back to memory rather than failing the request.

The client IP is the connection's address. Behind reverse proxies, ``FEEDSVC_PROXY_HOPS``
says how many of them to trust (``ProxyFix``): the address is then read that many entries
deep in ``X-Forwarded-For``; without it the header is ignored, so a client cannot choose
its own address.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter, RateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import Settings

EXTENSION_KEY = "feedsvc.limits"
STORE_RETRY_SECONDS = 30  # an unreachable Redis is tried again after this
log = logging.getLogger(__name__)


def client_ip() -> str:
    """The client's address: the connection's, or the proxies' word for it (PROXY_HOPS)."""
    return request.remote_addr or "unknown"


def storage_uri(redis_url: str | None) -> str:
    """The limits storage URI for the service's Redis (``unix://`` is ``redis+unix://``)."""
    if redis_url is None:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


@dataclass(frozen=True)
class Rules:
    """The configured rate limits, parsed once at start-up rather than per request."""

    sign_in_ip: RateLimitItem
    sign_in_token: RateLimitItem
    auth_failures: RateLimitItem
    writes: RateLimitItem


class Limits:
    """Counts and checks; each check answers None (go on) or the seconds to wait."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.enabled = settings.rate_limits
        self.namespace = settings.redis_prefix + "limits"
        self.rules = Rules(
            parse(settings.rate_limit_sign_in_ip),
            parse(settings.rate_limit_sign_in_token),
            parse(settings.rate_limit_auth_failures),
            parse(settings.rate_limit_writes),
        )
        options: dict[str, str | int] = (
            {"socket_connect_timeout": 1, "socket_timeout": 1} if settings.redis_url else {}
        )
        app.config.setdefault("RATELIMIT_ENABLED", settings.rate_limits)
        self.extension = Limiter(
            key_func=client_ip,
            storage_uri=storage_uri(settings.redis_url),
            storage_options=options,
            strategy="moving-window",
            key_prefix=self.namespace,
            headers_enabled=False,
            swallow_errors=True,
            in_memory_fallback_enabled=True,
        )
        self.extension.init_app(app)
        self.fallback: RateLimiter = MovingWindowRateLimiter(MemoryStorage())
        self.store_down_until = 0.0  # after a failure, memory only for a while

    def _strategy(self) -> RateLimiter:
        if not self.extension.initialized or time.monotonic() < self.store_down_until:
            return self.fallback
        return self.extension.limiter

    def _run(self, hit: bool, item: RateLimitItem, *key: str) -> int | None:
        if not self.enabled:
            return None
        identifiers = (self.namespace, *key)
        for strategy in (self._strategy(), self.fallback):
            try:
                allowed = (
                    strategy.hit(item, *identifiers) if hit else strategy.test(item, *identifiers)
                )
                if allowed:
                    return None
                reset, _ = strategy.get_window_stats(item, *identifiers)
                return max(1, math.ceil(reset - time.time()))
            except Exception as exc:  # noqa: BLE001 - a limit store down never fails a request
                if strategy is self.fallback:
                    raise
                self.store_down_until = time.monotonic() + STORE_RETRY_SECONDS
                log.warning("rate limit store unreachable error=%s", exc.__class__.__name__)
        return None

    def blocked(self, item: RateLimitItem, *key: str) -> int | None:
        """Seconds until ``key`` may try again if its limit is used up, else None."""
        return self._run(False, item, *key)

    def hit(self, item: RateLimitItem, *key: str) -> int | None:
        """Count one for ``key``; seconds to wait if that was over the limit, else None."""
        return self._run(True, item, *key)

    # -- the service's limits ---------------------------------------------------

    def sign_in_blocked(self, name: str) -> int | None:
        """Before a review sign-in: too many failures from this IP or with this token name."""
        return self.blocked(self.rules.sign_in_ip, "sign-in-ip", client_ip()) or (
            self.blocked(self.rules.sign_in_token, "sign-in-token", name) if name else None
        )

    def sign_in_failed(self, name: str) -> None:
        """Counts a failed review sign-in against the IP and the token name, to slow guessing."""
        self.hit(self.rules.sign_in_ip, "sign-in-ip", client_ip())
        if name:
            self.hit(self.rules.sign_in_token, "sign-in-token", name)

    def auth_blocked(self) -> int | None:
        """Before bearer authentication: too many failures from this IP."""
        return self.blocked(self.rules.auth_failures, "auth-ip", client_ip())

    def auth_failed(self) -> None:
        """Counts a failed bearer authentication against the IP, to slow token guessing."""
        self.hit(self.rules.auth_failures, "auth-ip", client_ip())

    def write(self, token_id: int) -> int | None:
        """Count an API write by the token; seconds to wait if it is over the limit."""
        return self.hit(self.rules.writes, "writes", str(token_id))


def init_app(app: Flask, settings: Settings) -> Limits:
    """Sets up the app's rate limits, trusting X-Forwarded-For only from configured proxies."""
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops)  # type: ignore[method-assign]
    limits = Limits(app, settings)
    app.extensions[EXTENSION_KEY] = limits
    return limits


def limits() -> Limits:
    """The app's Limits, typed (Flask's extensions dict holds Any)."""
    found: Limits = current_app.extensions[EXTENSION_KEY]
    return found
