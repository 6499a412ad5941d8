"""WebSub storage: each topic's last seen state, the built-in hub's subscriptions and the
durable WebSub jobs. Jobs are claimed as translation jobs are (``store.jobs``): a
conditional UPDATE under a lease owner token, ``SKIP LOCKED`` on PostgreSQL, so any
number of workers run each job once."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..db.tables import WebSubJobRow, WebSubSubscriptionRow, WebSubTopicRow
from . import rows
from .base import Backoff, Ending, LeasedQueue, ended

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
PUBLISH, VERIFY, DELIVER = "publish", "verify", "deliver"


def digest(*parts: str) -> str:
    """A fixed-size key for a tuple of strings, so long URLs fit unique indexes."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class TopicState:
    """What was last announced for a topic, so unchanged feeds are not pinged again."""

    signature: str
    version: int


@dataclass(frozen=True)
class Intent:
    """A subscriber's (un)subscribe request, which its verify job asks the callback to
    confirm: the newest request for a (callback, topic) replaces a pending one."""

    mode: str  # subscribe or unsubscribe
    lease_seconds: int
    secret: str | None


@dataclass(frozen=True)
class Subscription:
    """A hub subscriber of one topic, as content distribution reads it."""

    id: int
    topic: str
    callback: str
    secret: str | None
    lease_seconds: int
    expires_at: datetime


@dataclass(frozen=True)
class WebSubJob:
    """A queued hub task (verify, deliver or ping), as the WebSub sweep runs it."""

    id: int
    kind: str
    target: str
    topic: str
    mode: str | None
    lease_seconds: int | None
    secret: str | None
    status: str
    attempts: int
    run_after: datetime
    lease_owner: str | None
    last_error: str | None


def _job(row: WebSubJobRow) -> WebSubJob:
    return WebSubJob(
        row.id,
        row.kind,
        row.target,
        row.topic,
        row.mode,
        row.lease_seconds,
        row.secret,
        row.status,
        row.attempts,
        row.run_after,
        row.lease_owner,
        row.last_error,
    )


def _subscription(row: WebSubSubscriptionRow) -> Subscription:
    return Subscription(
        row.id, row.topic, row.callback, row.secret, row.lease_seconds, row.expires_at
    )


class WebSub(LeasedQueue[WebSubJobRow]):
    # -- topics ---------------------------------------------------------------------

    """Topics, subscriptions and the retrying job queue of the built-in WebSub hub."""

    table = WebSubJobRow
    queued = PENDING
    running = RUNNING

    def topics(self) -> dict[str, TopicState]:
        """Every topic's last announced state, so a sweep pings only the feeds that changed."""
        found = self.session.execute(
            select(WebSubTopicRow.topic, WebSubTopicRow.signature, WebSubTopicRow.version)
        )
        return {topic: TopicState(signature, version) for topic, signature, version in found}

    def record_topic(
        self,
        topic: str,
        scope: str,
        before: str | None,
        signature: str,
        version: int,
        now: datetime,
    ) -> bool:
        """Store the topic's new state if it still is ``before`` (None: not stored yet);
        True if this call changed the signature: of two sweeps that saw the same change,
        only one is told to announce it."""
        if before is None:
            inserted = self.session.scalar(
                rows.upsert_insert(self.session, WebSubTopicRow)
                .values(
                    topic=topic, scope=scope, signature=signature, version=version, checked_at=now
                )
                .on_conflict_do_nothing()
                .returning(WebSubTopicRow.topic)
            )
            return inserted is not None
        matched = self.changed(
            update(WebSubTopicRow)
            .where(WebSubTopicRow.topic == topic, WebSubTopicRow.signature == before)
            .values(signature=signature, version=version, checked_at=now)
            .execution_options(synchronize_session=False)
        )
        return matched == 1 and before != signature

    def forget_topics(self, topics: list[str]) -> None:
        """Topics of sections that are gone, or of languages no longer configured."""
        if topics:
            self.session.execute(
                delete(WebSubTopicRow)
                .where(WebSubTopicRow.topic.in_(topics))
                .execution_options(synchronize_session=False)
            )

    # -- jobs -----------------------------------------------------------------------

    def enqueue(
        self,
        kind: str,
        target: str,
        topic: str,
        now: datetime,
        intent: Intent | None = None,
    ) -> int | None:
        """A pending job unless the same (kind, target, topic) is already pending; its
        id, or None. ``intent``: a verify job's request."""
        return self.session.scalar(
            rows.upsert_insert(self.session, WebSubJobRow)
            .values(
                kind=kind,
                target=target,
                topic=topic,
                dedup=digest(kind, target, topic),
                status=PENDING,
                attempts=0,
                run_after=now,
                created_at=now,
                **(asdict(intent) if intent else {}),
            )
            .on_conflict_do_nothing()
            .returning(WebSubJobRow.id)
        )

    def request_verification(
        self, callback: str, topic: str, intent: Intent, now: datetime
    ) -> None:
        """A verification of intent; a pending one for the same (callback, topic) takes
        the newer request's mode, lease and secret instead: the latest request wins."""
        if self.enqueue(VERIFY, callback, topic, now, intent) is None:
            self.session.execute(
                update(WebSubJobRow)
                .where(
                    WebSubJobRow.dedup == digest(VERIFY, callback, topic),
                    WebSubJobRow.status == PENDING,
                )
                .values(**asdict(intent), attempts=0, run_after=now, last_error=None)
                .execution_options(synchronize_session=False)
            )

    def jobs(self, status: str | None = None, kind: str | None = None) -> list[WebSubJob]:
        """Hub jobs, optionally filtered, in queue order: for tests and operators."""
        query = select(WebSubJobRow).order_by(WebSubJobRow.id)
        if status is not None:
            query = query.where(WebSubJobRow.status == status)
        if kind is not None:
            query = query.where(WebSubJobRow.kind == kind)
        return [_job(row) for row in self.session.scalars(query)]

    def pending_for_host(self, host: str) -> int:
        """Verifications waiting for callbacks on ``host`` (the abuse bound counts them)."""
        like = func.lower(WebSubJobRow.target)
        return (
            self.session.scalar(
                select(func.count()).where(
                    WebSubJobRow.kind == VERIFY,
                    WebSubJobRow.status.in_((PENDING, RUNNING)),
                    like.like(f"%://{host.lower()}%"),
                )
            )
            or 0
        )

    def due(self, now: datetime) -> bool:
        """Whether a job is due or a running one's lease ran out: a read, so a worker pass
        with nothing to do takes no write lock."""
        due = select(WebSubJobRow.id).where(
            ((WebSubJobRow.status == PENDING) & (WebSubJobRow.run_after <= now))
            | ((WebSubJobRow.status == RUNNING) & (WebSubJobRow.lease_until < now))
        )
        return self.session.scalar(due.limit(1)) is not None

    def reclaim_expired(self, now: datetime, max_attempts: int, backoff: Backoff) -> None:
        """Jobs whose worker died mid-request: the lost run counts as an attempt."""
        for row in self._expired(now):
            error = f"lease expired after attempt {row.attempts}"
            if row.attempts >= max_attempts:
                values: dict[str, Any] = {"status": FAILED, "finished_at": now}
            else:
                values = {"status": PENDING, "run_after": now + backoff(row.attempts)}
            self._owned_update(
                row.id,
                row.lease_owner,
                values | {"lease_owner": None, "lease_until": None, "last_error": error},
            )

    def claim(self, now: datetime, lease: timedelta) -> WebSubJob | None:
        """The next due job, running under a new owner token for ``lease``; None if none.
        A pending duplicate of a running job may exist (a change after the run began) and
        runs after it."""
        query = (
            select(WebSubJobRow.id)
            .where(WebSubJobRow.status == PENDING, WebSubJobRow.run_after <= now)
            # Pings and deliveries first: a verification is for a party not served yet.
            .order_by(
                case((WebSubJobRow.kind == VERIFY, 1), else_=0),
                WebSubJobRow.run_after,
                WebSubJobRow.id,
            )
            .limit(1)
        )
        row = self._claim(query, now, lease)
        return _job(row) if row else None

    def finish(self, job: WebSubJob, ending: Ending[str], now: datetime) -> bool:
        """End the run as its owner; False if the lease was lost meanwhile. A job to retry
        goes back to pending, unless a newer pending copy exists (it will run anyway)."""
        values = ended(ending, now, ending.status in (DONE, FAILED))
        if ending.retry_at is None:
            return self._owned_update(job.id, job.lease_owner, values)
        superseded = {
            "status": DONE,
            "finished_at": now,
            "last_error": f"{ending.error}; superseded",
        }
        newer = self.session.scalar(
            select(WebSubJobRow.id).where(
                WebSubJobRow.dedup == digest(job.kind, job.target, job.topic),
                WebSubJobRow.status == PENDING,
            )
        )
        if newer is not None:  # a change after this run began: that job runs instead
            return self._owned_update(job.id, job.lease_owner, values | superseded)
        try:
            with self.session.begin_nested():
                return self._owned_update(job.id, job.lease_owner, values)
        except IntegrityError:  # ... queued by another sweep just now
            return self._owned_update(job.id, job.lease_owner, values | superseded)

    def purge_finished(self, before: datetime) -> int:
        """Done jobs go after a while; failed ones stay for an operator to read."""
        matched = self.changed(
            delete(WebSubJobRow)
            .where(WebSubJobRow.status == DONE, WebSubJobRow.finished_at < before)
            .execution_options(synchronize_session=False)
        )
        return matched

    # -- subscriptions --------------------------------------------------------------

    def subscription(self, topic: str, callback: str) -> Subscription | None:
        """The subscription of (topic, callback), or None: what a re-subscribe updates."""
        row = self.session.scalar(
            select(WebSubSubscriptionRow).where(
                WebSubSubscriptionRow.key == digest(topic, callback)
            )
        )
        return _subscription(row) if row else None

    def subscribers(self, topic: str, now: datetime) -> list[Subscription]:
        """Live subscriptions of ``topic``: an expired lease gets no content."""
        found = self.session.scalars(
            select(WebSubSubscriptionRow)
            .where(WebSubSubscriptionRow.topic == topic, WebSubSubscriptionRow.expires_at > now)
            .order_by(WebSubSubscriptionRow.id)
        )
        return [_subscription(row) for row in found]

    def subscriptions(self) -> list[Subscription]:
        """Every subscription in creation order: for tests and operators."""
        found = self.session.scalars(
            select(WebSubSubscriptionRow).order_by(WebSubSubscriptionRow.id)
        )
        return [_subscription(row) for row in found]

    def subscribe(
        self,
        topic: str,
        callback: str,
        host: str,
        secret: str | None,
        lease_seconds: int,
        now: datetime,
    ) -> None:
        """Activate or renew: a new lease from now, and the newer request's secret."""
        renewed = {  # what a renewal replaces; the rest is the subscription's identity
            "secret": secret,
            "lease_seconds": lease_seconds,
            "expires_at": now + timedelta(seconds=lease_seconds),
            "verified_at": now,
        }
        statement = rows.upsert_insert(self.session, WebSubSubscriptionRow).values(
            key=digest(topic, callback),
            topic=topic,
            callback=callback,
            callback_host=host,
            created_at=now,
            **renewed,
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[WebSubSubscriptionRow.key],
                set_={name: statement.excluded[name] for name in renewed},
            )
        )

    def unsubscribe(self, topic: str, callback: str) -> bool:
        """Removes a subscription; False if there was none, as a verified unsubscribe may race."""
        matched = self.changed(
            delete(WebSubSubscriptionRow)
            .where(WebSubSubscriptionRow.key == digest(topic, callback))
            .execution_options(synchronize_session=False)
        )
        return matched == 1

    def purge_expired(self, now: datetime) -> int:
        """Drops subscriptions whose lease ran out, so no content goes to them; how many."""
        matched = self.changed(
            delete(WebSubSubscriptionRow)
            .where(WebSubSubscriptionRow.expires_at <= now)
            .execution_options(synchronize_session=False)
        )
        return matched

    def count_for_topic(self, topic: str) -> int:
        """Subscribers of a topic, to cap them so one topic cannot exhaust the hub."""
        return (
            self.session.scalar(select(func.count()).where(WebSubSubscriptionRow.topic == topic))
            or 0
        )

    def count_for_host(self, host: str) -> int:
        """Subscriptions per callback host, to cap them so one host cannot exhaust the hub."""
        return (
            self.session.scalar(
                select(func.count()).where(WebSubSubscriptionRow.callback_host == host)
            )
            or 0
        )
