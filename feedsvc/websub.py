"""WebSub (W3C Recommendation, 23 January 2018): telling hubs that feeds changed, and
being a hub ("builtin") that verifies subscribers' intent and pushes content to them.

What changed is decided precisely and durably. Every write bumps its scopes in
``feed_scopes`` (see ``feedsvc.publish``); a sweep looks again at the first page of each
feed of a bumped scope, in each language and filter, and compares a signature of it (the
title, and each entry's id and updated time) with the last one stored in
``websub_topics``. Only a topic whose signature changed gets jobs, written in the same
transaction as its new signature: a publish ping per external hub, and a delivery per
live subscriber of the built-in hub. Publishing an English article therefore notifies
the English feeds of its section and ancestors, not the Chinese ones, until a Chinese
variant is published.

Jobs (``websub_jobs``) are claimed under a lease like translation jobs, retried with
exponential backoff (``FEEDSVC_WEBSUB_RETRY_SECONDS``, ×4, at most an hour) and given up
after ``MAX_ATTEMPTS``. The worker runs them wherever it runs scope sweeps: the worker
thread, ``feedsvc worker`` with or without RQ.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask

from .articles import Clock, utcnow
from .config import SOURCE_LANGUAGE, Settings
from .db import Database
from .feeds.data import BUILTIN_HUB, BUILTIN_HUB_PATH
from .feeds.model import FORMATS
from .jobs import EXACT, INTERNAL_REQUEST, JobsExtension, backoff
from .store import Store
from .store.base import Ending
from .store.websub import (
    DELIVER,
    DONE,
    FAILED,
    PENDING,
    PUBLISH,
    VERIFY,
    WebSubJob,
)
from .urls import REVIEWED_ONLY, feed_url

log = logging.getLogger(__name__)
EXTENSION_KEY = "feedsvc.websub"
USER_AGENT = "feedsvc-websub/0.1 (+https://feedsvc.example/)"
TIMEOUT_SECONDS = 5.0  # connect and each read: a slow hub or subscriber holds a worker no longer
MAX_ATTEMPTS = 8  # 10 s, 40 s, 160 s, 640 s, then hourly: about three hours in all
JOB_LEASE = timedelta(minutes=2)  # a worker that died mid-request: the job runs again after
JOBS_PER_PASS = 200  # one pass never starves the translation jobs behind it for long
# Requests run on a small pool of their own, pings and deliveries claimed before
# verifications, and a pass waits for them at most PASS_SECONDS: callbacks that never
# answer (anyone may ask the hub to verify one) hold a slot, never the worker.
PARALLEL_REQUESTS = 8
PASS_SECONDS = 10.0
KEEP_DONE = timedelta(days=1)  # finished jobs stay this long for an operator to look at
PURGE_EVERY = timedelta(minutes=1)  # expired leases and old jobs go at most this late
RESPONSE_LIMIT = 4096  # bytes of a hub's or subscriber's answer read (a challenge is short)
# The built-in hub's bounds (README, "WebSub"): leases, and how much one party may ask.
MIN_LEASE_SECONDS = 300
MAX_LEASE_SECONDS = 30 * 86_400
MAX_SECRET_BYTES = 199  # the spec: "less than 200 bytes"
MAX_CALLBACK_LENGTH = 2048
MAX_SUBSCRIPTIONS_PER_TOPIC = 1000
MAX_SUBSCRIPTIONS_PER_HOST = 100  # active subscriptions whose callback is on one host
MAX_PENDING_PER_HOST = 20  # verifications of intent waiting for one host
FEED_PATH = re.compile(r"/([a-z0-9-]+)/(?:([a-z0-9/-]+)/)?feed\.(atom|rss|json)")  # as web.feeds


def clamp_lease(settings: Settings, requested: int | None) -> int:
    """A subscription lease within the hub's bounds, the configured default if none was asked."""
    default = settings.websub_lease_seconds if requested is None else requested
    return max(MIN_LEASE_SECONDS, min(MAX_LEASE_SECONDS, default))


def builtin_hub_url(settings: Settings) -> str:
    """The built-in hub's absolute URL, as feeds advertise it."""
    return settings.base_url + BUILTIN_HUB_PATH


def external_hubs(settings: Settings) -> tuple[str, ...]:
    """The configured hubs other than the built-in one, which are pinged instead."""
    return tuple(hub for hub in settings.websub_hubs if hub != BUILTIN_HUB)


@dataclass(frozen=True)
class TopicGroup:
    """The formats of one feed (a scope, language and filter): the same entries, so one
    signature, read from the JSON Feed."""

    scope: str
    lang: str
    only_reviewed: bool

    def urls(self, base: str) -> list[str]:
        """The topic URL of each format of this feed, all announced together."""
        section = self.scope or None
        return [
            feed_url(base, self.lang, section, fmt, only_reviewed=self.only_reviewed)
            for fmt in FORMATS
        ]

    def json_url(self, base: str) -> str:
        """The JSON Feed URL, the format whose bytes the group's signature is taken from."""
        return feed_url(
            base, self.lang, self.scope or None, "json", only_reviewed=self.only_reviewed
        )


def topic_groups(settings: Settings, scope: str) -> Iterator[TopicGroup]:
    """Page 1 of every feed of a scope: each language, and each translated language's
    reviewed-only feed too."""
    for language in settings.languages:
        yield TopicGroup(scope, language.tag, False)
        if language.tag != SOURCE_LANGUAGE:
            yield TopicGroup(scope, language.tag, True)


def topic_of(settings: Settings, sections: set[str], topic: str) -> TopicGroup | str:
    """The feed a topic URL names, or why it names none: only the canonical URL of the
    first page of an existing feed is a topic (its rel="self")."""
    base = settings.base_url
    if not topic.startswith(base + "/"):
        return f"hub.topic must be a feed of this service (under {base}/)."
    parts = urlsplit(topic[len(base) :])
    found = FEED_PATH.fullmatch(parts.path)
    language = settings.language(found[1]) if found else None
    if found is None or language is None or found[1] != language.url_tag:
        return "hub.topic is not a feed URL of this service."
    section = found[2] or ""
    if section and section not in sections:
        return "hub.topic names a section that does not exist."
    query = parse_qsl(parts.query, keep_blank_values=True)
    only_reviewed = query == [("only", REVIEWED_ONLY)] and language.tag != SOURCE_LANGUAGE
    group = TopicGroup(section, language.tag, only_reviewed)
    canonical = feed_url(base, language.tag, section or None, found[3], only_reviewed=only_reviewed)
    if (query and not only_reviewed) or parts.fragment or canonical != topic:
        return f'hub.topic must be a feed\'s canonical first page (its rel="self"): {canonical}'
    return group


def callback_problem(callback: str) -> str | None:
    """Why ``callback`` cannot be a subscriber's callback, or None."""
    if len(callback) > MAX_CALLBACK_LENGTH:
        return f"hub.callback is longer than {MAX_CALLBACK_LENGTH} characters."
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in callback):
        return "hub.callback contains white space or control characters."
    try:
        parts = urlsplit(callback)
        port = parts.port
    except ValueError:
        return "hub.callback is not a URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "hub.callback must be an absolute http or https URL."
    if not callback.isascii():
        return "hub.callback must be ASCII: a host name in its IDNA form (xn--…), a path encoded."
    if parts.username is not None or parts.password is not None:
        return "hub.callback must not carry a user name or password."
    if len(parts.hostname) > 253:  # DNS's limit (and the stored host's)
        return "hub.callback has a host name longer than 253 characters."
    if parts.fragment or "#" in callback:
        return "hub.callback must not have a fragment."
    if port == 0:
        return "hub.callback has no usable port."
    return None


def callback_host(callback: str) -> str:
    """A callback's host, lowercased, for the per-host subscription cap."""
    return (urlsplit(callback).hostname or "").lower()


# -- HTTP -----------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A hub or subscriber that redirects is answered as if it failed: a redirect could
    point anywhere (another scheme, another host), and WebSub never needs one."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Answer:
    """A hub's or subscriber's HTTP answer, its body capped."""

    status: int
    body: bytes


class Unreachable(Exception):
    """The request got no HTTP answer (refused, reset, timed out)."""


def http_request(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> Answer:
    """One request, no redirects followed, the first ``RESPONSE_LIMIT`` bytes read."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise Unreachable(f"not an http(s) URL: {url[:200]}")
    request = urllib.request.Request(
        url,
        data=data,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        method="POST" if data is not None else "GET",
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return Answer(response.status, response.read(RESPONSE_LIMIT))
    except urllib.error.HTTPError as exc:  # an answer all the same (4xx, 5xx, 3xx)
        try:
            body = exc.read(RESPONSE_LIMIT)
        except (OSError, http.client.HTTPException):
            body = b""
        finally:
            exc.close()
        return Answer(exc.code, body)
    except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError is an OSError
        raise Unreachable(f"{exc.__class__.__name__}: {exc}") from exc


def with_query(url: str, extra: dict[str, str]) -> str:
    """``url`` with ``extra`` added to its query; the callback's own parameters stay."""
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(extra)}" if parts.query else urlencode(extra)
    return urlunsplit(parts._replace(query=query))


def signature_header(secret: str, body: bytes) -> str:
    """The X-Hub-Signature of a delivery, so subscribers can check it came from this hub."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Failed(Exception):
    """A job's run failed; ``retry`` says whether another attempt may succeed."""

    def __init__(self, reason: str, retry: bool = True) -> None:
        super().__init__(reason)
        self.retry = retry


@dataclass(frozen=True)
class Fetched:
    """A feed fetched from the app, for a content delivery."""

    status: int
    body: bytes
    content_type: str


@dataclass
class SweepReport:
    """What one WebSub sweep did, for the command's output, logs and tests."""

    topics_checked: int = 0
    topics_changed: int = 0
    jobs_queued: int = 0
    jobs_done: int = 0
    jobs_retried: int = 0
    jobs_failed: int = 0


ABSENT = "absent"  # the signature of a feed that answers 404 (its section went away)


class WebSubSweep:
    """Called by the worker with the scope sweeps: notices changed topics, queues their
    jobs, runs the due ones, and forgets expired subscriptions."""

    def __init__(
        self, app: Flask, database: Database, settings: Settings, clock: Clock = utcnow
    ) -> None:
        self.app = app
        self.database = database
        self.settings = settings
        self.clock = clock
        self.hubs = external_hubs(settings)
        self.builtin = BUILTIN_HUB in settings.websub_hubs
        self.retry = timedelta(seconds=settings.websub_retry_seconds)
        self._lock = threading.Lock()
        self._purged_at: datetime | None = None
        self._pool = ThreadPoolExecutor(PARALLEL_REQUESTS, thread_name_prefix="feedsvc-websub")
        self._slots = threading.BoundedSemaphore(PARALLEL_REQUESTS)

    def __call__(self, warm_cache: bool = True) -> SweepReport:
        with self._lock:
            report = SweepReport()
            self._notice_changes(report)
            self._run_due(report)
            now = self.clock()
            if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
                with self.database.session() as session:
                    store = Store(session)
                    store.websub.purge_expired(now)
                    store.websub.purge_finished(now - KEEP_DONE)
                self._purged_at = now
            if report.jobs_queued or report.jobs_done or report.jobs_retried:
                log.info(
                    "websub sweep: topics_changed=%d queued=%d done=%d retried=%d failed=%d",
                    report.topics_changed,
                    report.jobs_queued,
                    report.jobs_done,
                    report.jobs_retried,
                    report.jobs_failed,
                )
            return report

    # -- noticing changes ----------------------------------------------------------

    def _notice_changes(self, report: SweepReport) -> None:
        base = self.settings.base_url
        with self.database.sessions() as session:  # reads only
            store = Store(session)
            versions = {path: v.version for path, v in store.scopes.versions().items()}
            live = ["", *(section.path for section in store.sections.all())]
            stored = store.websub.topics()
        expected: set[str] = set()
        fetched_any = False
        for scope in live:
            version = versions.get(scope, 0)
            for group in topic_groups(self.settings, scope):
                urls = group.urls(base)
                expected.update(urls)
                if all(u in stored and stored[u].version == version for u in urls):
                    continue
                if not fetched_any:
                    self._before_fetching()
                    fetched_any = True
                report.topics_checked += 1
                signature = self._signature(group.json_url(base))
                if signature is None:
                    continue  # the next sweep tries again: nothing was recorded
                self._record(group, urls, stored, signature, version, report)
        gone = sorted(set(stored) - expected)
        if gone:
            with self.database.session() as session:
                Store(session).websub.forget_topics(gone)

    def _record(
        self,
        group: TopicGroup,
        urls: list[str],
        stored: dict[str, Any],
        found: tuple[str, bool],
        version: int,
        report: SweepReport,
    ) -> None:
        """The group's new signature and, for each topic it changed, the jobs that announce
        the change: one transaction, so a job exists exactly when its change was seen."""
        signature, empty = found
        with self.database.session() as session:
            store = Store(session)
            now = self.clock()
            for url in urls:
                before = stored[url].signature if url in stored else None
                changed = store.websub.record_topic(
                    url, group.scope, before, signature, version, now
                )
                # A topic seen for the first time is announced only if it has entries: a
                # new section's first article is news, an empty feed is not.
                if changed and (before is not None or not empty):
                    report.topics_changed += 1
                    report.jobs_queued += self._announce(store, url, now)

    def _announce(self, store: Store, topic: str, now: Any) -> int:
        queued = 0
        for hub in self.hubs:
            queued += store.websub.enqueue(PUBLISH, hub, topic, now) is not None
        if self.builtin:
            for subscription in store.websub.subscribers(topic, now):
                queued += (
                    store.websub.enqueue(DELIVER, subscription.callback, topic, now) is not None
                )
        return queued

    def _signature(self, json_url: str) -> tuple[str, bool] | None:
        """The feed's signature and whether it is empty, or None if it could not be read
        now (a 5xx): what a reader of its first page would call a change."""
        fetched = self._fetch(json_url)
        if fetched.status == 404:
            return ABSENT, True
        if fetched.status != 200:
            log.warning("websub: could not read url=%s status=%d", json_url, fetched.status)
            return None
        document = json.loads(fetched.body)
        items = [(item.get("id"), item.get("date_modified")) for item in document["items"]]
        data = json.dumps([document.get("title"), items], ensure_ascii=False)
        return hashlib.sha256(data.encode()).hexdigest(), not items

    def _before_fetching(self) -> None:
        """The app's in-memory scope versions may lag another process's commit by a
        moment: read them again, so the GETs that follow see at least what was read."""
        from .publish import APP_SCOPES

        snapshot = self.app.extensions.get(APP_SCOPES)
        if snapshot is not None:
            snapshot.invalidate()

    def _fetch(self, url: str) -> Fetched:
        """The feed's bytes as a reader gets them, through the app (as ``publish`` does):
        the current version's, never a render the grace window would still serve."""
        path = url[len(self.settings.base_url) :]
        with self.app.app_context():
            response = self.app.test_client().get(
                path,
                base_url=self.settings.base_url,
                environ_base={INTERNAL_REQUEST: EXACT},
            )
            body = response.get_data()
        return Fetched(response.status_code, body, response.headers.get("Content-Type", ""))

    # -- running jobs --------------------------------------------------------------

    def _run_due(self, report: SweepReport) -> None:
        with self.database.sessions() as session:
            if not Store(session).websub.due(self.clock()):
                return
        with self.database.session() as session:
            Store(session).websub.reclaim_expired(self.clock(), MAX_ATTEMPTS, self.backoff)
        deadline = time.monotonic() + PASS_SECONDS
        running: list[Future[str]] = []
        for _ in range(JOBS_PER_PASS):
            if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                break  # every slot held by a slow peer: the rest waits for the next pass
            with self.database.session() as session:
                job = Store(session).websub.claim(self.clock(), JOB_LEASE)
            if job is None:
                self._slots.release()
                break
            running.append(self._pool.submit(self._run_in_slot, job))
        done, _ = wait(running, timeout=max(0.0, deadline - time.monotonic()))
        for future in done:
            outcome = future.result()
            report.jobs_done += outcome == DONE
            report.jobs_retried += outcome == PENDING
            report.jobs_failed += outcome == FAILED

    def _run_in_slot(self, job: WebSubJob) -> str:
        try:
            return self._run(job)
        finally:
            self._slots.release()

    def backoff(self, attempts: int) -> timedelta:
        """How long a job waits before its next attempt, growing with each failure."""
        return backoff(attempts, self.retry)

    def _run(self, job: WebSubJob) -> str:
        """Run one job; the status it ends in (done, pending again for a retry, failed)."""
        context = f"job_id={job.id} kind={job.kind} topic={job.topic} attempt={job.attempts}"
        error: str | None = None
        retry = False
        try:
            if job.kind == PUBLISH:
                self._publish(job)
            elif job.kind == VERIFY:
                self._verify(job)
            elif job.kind == DELIVER:
                self._deliver(job)
            else:
                raise Failed(f"unknown job kind {job.kind!r}", retry=False)
        except Failed as exc:
            error, retry = str(exc), exc.retry
        except Exception as exc:  # recorded on the job, like any other failure
            log.exception("websub job crashed %s", context)
            error, retry = f"{exc.__class__.__name__}: {exc}", True
        now = self.clock()
        if error is None:
            ending = Ending(DONE)
        elif retry and job.attempts < MAX_ATTEMPTS:
            ending = Ending(PENDING, error, now + self.backoff(job.attempts))
        else:
            ending = Ending(FAILED, error)
        with self.database.session() as session:
            Store(session).websub.finish(job, ending, now)
        if error is not None:
            log.warning("websub job failed %s retry=%s error=%s", context, retry, error)
        return ending.status

    def _publish(self, job: WebSubJob) -> None:
        """The publisher's ping (the hub then fetches the topic itself)."""
        form = urlencode({"hub.mode": "publish", "hub.url": job.topic}).encode()
        answer = self._send(job.target, form, {"Content-Type": "application/x-www-form-urlencoded"})
        if not 200 <= answer.status < 300:
            raise Failed(f"the hub answered {answer.status}")

    def _verify(self, job: WebSubJob) -> None:
        """Verification of intent (WebSub 5.3): the subscriber must echo the challenge."""
        challenge = secrets.token_urlsafe(32)
        query = {"hub.mode": job.mode or "", "hub.topic": job.topic, "hub.challenge": challenge}
        if job.mode == "subscribe":
            query["hub.lease_seconds"] = str(job.lease_seconds)
        answer = self._send(with_query(job.target, query))
        if answer.status >= 500:
            raise Failed(f"the subscriber answered {answer.status}")
        if not 200 <= answer.status < 300 or answer.body != challenge.encode():
            reason = (
                "did not echo the challenge" if 200 <= answer.status < 300 else f"{answer.status}"
            )
            raise Failed(f"the subscriber did not confirm ({reason})", retry=False)
        now = self.clock()
        with self.database.session() as session:
            store = Store(session)
            if job.mode == "subscribe":
                store.websub.subscribe(
                    job.topic,
                    job.target,
                    callback_host(job.target),
                    job.secret,
                    job.lease_seconds or clamp_lease(self.settings, None),
                    now,
                )
            else:
                store.websub.unsubscribe(job.topic, job.target)
        log.info("websub %s verified topic=%s", job.mode, job.topic)

    def _deliver(self, job: WebSubJob) -> None:
        """Content distribution (WebSub 7): the topic's current bytes, signed."""
        with self.database.session() as session:
            subscription = Store(session).websub.subscription(job.topic, job.target)
        if subscription is None or subscription.expires_at <= self.clock():
            return  # unsubscribed or expired meanwhile: nothing is owed
        fetched = self._fetch(job.topic)
        if fetched.status == 404:
            return  # the feed is gone; a later one at this URL is a new change
        if fetched.status != 200:
            raise Failed(f"the topic answered {fetched.status} here")
        hub = builtin_hub_url(self.settings)
        headers = {
            "Content-Type": fetched.content_type,
            "Link": f'<{hub}>; rel="hub", <{job.topic}>; rel="self"',
        }
        if subscription.secret:
            headers["X-Hub-Signature"] = signature_header(subscription.secret, fetched.body)
        answer = self._send(job.target, fetched.body, headers)
        if answer.status == 410:  # the subscriber says it is gone for good
            with self.database.session() as session:
                Store(session).websub.unsubscribe(job.topic, job.target)
            return
        if not 200 <= answer.status < 300:
            raise Failed(f"the subscriber answered {answer.status}")

    def _send(
        self, url: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        try:
            return http_request(url, data, headers)
        except Unreachable as exc:
            raise Failed(str(exc)) from exc


def init_app(
    app: Flask, settings: Settings, database: Database, jobs: JobsExtension
) -> WebSubSweep | None:
    """Run the WebSub sweep with the scope sweeps, woken by every scope change; nothing
    when no hub is configured."""
    if not settings.websub_hubs:
        return None
    from . import publish

    sweep = WebSubSweep(app, database, settings)
    jobs.worker.scope_sweeps.append(sweep)
    if publish.EXTENSION_KEY not in app.extensions:  # else publishing already wakes it
        publish.watch_scope_changes(database, lambda: jobs.dispatcher.scopes_changed())
    app.extensions[EXTENSION_KEY] = sweep
    return sweep
