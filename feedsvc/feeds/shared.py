"""The render cache shared by every worker (Redis), so one change costs one render.

Each gunicorn worker keeps its own LRU in front (``RenderCache``); on a miss there, the
one request of that process asks Redis. A rendered feed is a hash (body, gzip, br and
the metadata) under ``{prefix}render:{digest of the key}``; the key holds the canonical
URL and the scope version, so a change just makes new keys and old ones expire after
``FEEDSVC_RENDER_CACHE_SECONDS``. A miss takes ``{prefix}lock:{digest}`` with
``SET NX PX`` and a random token; the holder renders and stores, everyone else polls the
hash until it appears. A holder that dies leaves the lock to expire; a waiter that gives
up renders itself. Redis trouble never fails a request: it renders as if alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Hashable
from datetime import datetime
from importlib import metadata
from typing import cast

import redis

from ..config import Settings
from .http import ENCODINGS, RenderCache, Rendered

log = logging.getLogger(__name__)

# Delete the lock only if it is still ours (it may have expired and been taken again).
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


class RedisRenders:
    """Rendered feeds in Redis, with a lock per key across processes."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        ttl_seconds: int,
        lock_seconds: float = 30.0,
        poll_seconds: float = 0.01,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_ms = ttl_seconds * 1000
        self.lock_ms = int(lock_seconds * 1000)
        self.poll_seconds = poll_seconds
        self._release = client.register_script(RELEASE)
        self._warned = False

    def _name(self, key: Hashable) -> str:
        return hashlib.sha256(repr(key).encode()).hexdigest()[:40]

    def recent(self, document: Hashable, within: float) -> tuple[Rendered, float] | None:
        """The newest render of ``document`` any process stored, and its age, if younger
        than ``within`` seconds: the grace window (FEEDSVC_FEED_GRACE_SECONDS) is then
        one per deployment, not one per worker."""
        try:
            pointer = self._hash(self._latest_name(document))
            if not pointer or (age := time.time() - float(pointer[b"at"])) >= within:
                return None
            found = self._load(pointer[b"entry"].decode())
        except (redis.RedisError, ValueError, KeyError):
            return None
        return None if found is None else (found, max(age, 0.0))

    def _hash(self, name: str) -> dict[bytes, bytes]:
        # The client is made without decode_responses, so fields and values are bytes;
        # redis-py's types can't know that, it is chosen at run time.
        return cast(dict[bytes, bytes], self.client.hgetall(name))

    def _latest_name(self, document: Hashable) -> str:
        return f"{self.prefix}latest:{self._name(document)}"

    def get_or_render(
        self, key: Hashable, render: Callable[[], Rendered], document: Hashable = None
    ) -> Rendered:
        """The render from Redis, or made under a Redis lock so one process renders per key."""
        name = self._name(key)
        entry, lock = f"{self.prefix}render:{name}", f"{self.prefix}lock:{name}"
        try:
            if (found := self._load(entry)) is not None:
                return found
            token = secrets.token_hex(16)
            deadline = time.monotonic() + self.lock_ms / 1000
            wait = self.poll_seconds
            while True:
                if self.client.set(lock, token, nx=True, px=self.lock_ms):
                    try:
                        # stored by the holder we waited for, between our look and our lock
                        if (found := self._load(entry)) is not None:
                            return found
                        rendered = render()
                        try:
                            self._store(entry, rendered, document)
                        except redis.RedisError:  # rendered is rendered: never twice
                            log.warning("could not store a render key=%s", name, exc_info=True)
                        return rendered
                    finally:
                        self._release(keys=[lock], args=[token])
                time.sleep(wait)
                wait = min(wait * 1.5, 0.1)
                if (found := self._load(entry)) is not None:
                    return found
                if time.monotonic() > deadline:
                    log.warning("render lock held too long; rendering here key=%s", name)
                    return render()
        except redis.RedisError:
            if not self._warned:
                log.warning("shared render cache unavailable; rendering here", exc_info=True)
                self._warned = True
            return render()

    def _load(self, entry: str) -> Rendered | None:
        fields = self._hash(entry)
        if not fields:
            return None
        try:
            meta = json.loads(fields[b"meta"])
            rendered = Rendered(
                fields[b"body"],
                meta["media_type"],
                datetime.fromisoformat(meta["last_modified"]),
                link=meta.get("link", ""),
            )
            rendered.compressed = {name: fields[name.encode()] for name in ENCODINGS}
        except (KeyError, TypeError, ValueError):  # not one of ours, or cut short: a miss
            log.warning("unreadable render in the shared cache: %s", entry)
            return None
        return rendered

    def _store(self, entry: str, rendered: Rendered, document: Hashable = None) -> None:
        """Every encoding at once: the other workers then compress nothing either."""
        meta = {
            "media_type": rendered.media_type,
            "last_modified": rendered.last_modified.isoformat(),
            "link": rendered.link,
        }
        mapping: dict[str, bytes] = {
            "meta": json.dumps(meta).encode(),
            "body": rendered.body,
            **{name: rendered.encoded(name) for name in ENCODINGS},
        }
        with self.client.pipeline() as pipe:
            pipe.hset(entry, mapping=mapping)  # type: ignore[arg-type]
            pipe.pexpire(entry, self.ttl_ms)
            if document is not None:  # what ``recent`` finds: the newest render, and when
                latest = self._latest_name(document)
                pipe.hset(latest, mapping={"entry": entry, "at": repr(time.time())})
                pipe.pexpire(latest, self.ttl_ms)
            pipe.execute()


def output_fingerprint(settings: Settings) -> str:
    """What rendered bytes depend on besides the data and the URL: a deployment with other
    names, languages or code must never take another's renders (shared cache, publishing)."""
    relevant = [
        settings.base_url,
        settings.site_name,
        settings.publisher,
        settings.copyright,
        settings.feed_max_age,
        [
            (language.tag, language.policy.value, language.derived_from, language.opencc)
            for language in settings.languages
        ],
        metadata.version("feedsvc"),
    ]
    return hashlib.sha256(json.dumps(relevant).encode()).hexdigest()[:16]


def render_cache(settings: Settings) -> RenderCache:
    """The app's render cache: per process, and shared through Redis when configured."""
    if not settings.redis_url:
        return RenderCache(grace=settings.feed_grace_seconds)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, health_check_interval=30)
    prefix = f"{settings.redis_prefix}{output_fingerprint(settings)}:"
    shared = RedisRenders(client, prefix, settings.render_cache_seconds)
    return RenderCache(shared=shared, grace=settings.feed_grace_seconds)
