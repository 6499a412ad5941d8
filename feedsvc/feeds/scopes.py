"""Every feed scope's version, and the existing section paths, held in memory.

A cache hit or a 304 needs only the version of its scope (the render cache key) and to
know that its section exists. Reading both from the database cost a session, a BEGIN and
two queries per request, more than the rest of a hit; here they come from a snapshot of
the two small tables (``feed_scopes``, ``sections``), so a hit runs no SQL at all.

The snapshot is reloaded whole (one consistent read) whenever it may be stale:

- in this process, right after a commit that touched a scope (``Feeds.touch`` records the
  paths in ``session.info``), so whoever wrote reads their write at once;
- from other processes: on PostgreSQL a ``LISTEN`` thread hears the ``pg_notify`` that the
  writing transaction sent at its commit (milliseconds); on SQLite a thread polls the
  root scope's version, which every write bumps, each ``FEEDSVC_SCOPE_POLL_SECONDS``
  (default 1). That interval plus one reload bounds how long another process may serve
  what it had before a change.

Threads start on first use in the serving process, never at import or in the app factory,
so gunicorn's workers (forked before they load the app) each run their own.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from ..db import Database
from ..db.tables import FeedScopeRow, SectionRow
from ..store import EPOCH

log = logging.getLogger(__name__)

EXTENSION_KEY = "feedsvc.scopes"
TOUCHED = "touched_scopes"  # session.info key: the scope paths a unit of work bumped
CHANNEL = "feedsvc_scopes"
RETRY_SECONDS = 5.0  # between attempts when the watcher's database is unreachable
CHECK_SECONDS = 5.0  # PostgreSQL: how often the listener also reads the root scope
ROOT_VERSION = "SELECT version FROM feed_scopes WHERE path = ''"


@dataclass(frozen=True)
class Scopes:
    """One consistent reading of ``feed_scopes`` and of the section paths."""

    versions: Mapping[str, tuple[int, datetime]]
    sections: frozenset[str]

    def scope(self, path: str) -> tuple[int, datetime]:
        """Version and last change of a scope, as ``store.feeds.scope`` gives them."""
        return self.versions.get(path, (0, EPOCH))

    @property
    def root_version(self) -> int:
        """The site scope's version, bumped by every change: what the watcher compares."""
        return self.scope("")[0]


STOP_SECONDS = 5


class ScopeSnapshot:
    """The current ``Scopes`` of one app, reloaded when a change may have happened.

    ``current()`` is the hot path: an attribute check while nothing changed. A change
    bumps ``_wanted``; the next ``current()`` (or the watcher thread, first) reloads. A
    reload records the generation it started from, so a change that lands while it reads
    is never lost: it leaves ``_wanted`` ahead and the next call reloads again."""

    def __init__(self, engine: Engine, poll_seconds: float) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self.token = uuid.uuid4().hex  # tells this snapshot's own notifications apart
        self._state: Scopes | None = None
        self._wanted = 0
        self._loaded = -1
        self._pid = 0
        self._lock = threading.Lock()
        self._generation_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self) -> Scopes:
        """The scopes, reloaded only after a change (or a fork), so most requests skip the query."""
        state = self._state
        if state is not None and self._loaded == self._wanted and self._pid == os.getpid():
            return state
        return self.reload()

    def invalidate(self) -> None:
        """A change committed (here or elsewhere): the next reading reloads."""
        with self._generation_lock:
            self._wanted += 1

    def reload(self) -> Scopes:
        """Reads the scopes now, starting this process's change watcher on first use."""
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (or after a fork)
                self._pid = os.getpid()
                self.token = uuid.uuid4().hex  # a forked copy's notifications are others'
                self._state = None
                self._start_watcher()
            target = self._wanted
            if self._state is not None and self._loaded == target:
                return self._state  # another thread reloaded while this one waited
            try:
                state = self._read()
            except Exception:
                if self._state is None:
                    raise
                # The database is away: serve what we know rather than fail every hit.
                # The watcher invalidates again once it reaches the database.
                log.warning("scope reload failed; serving the last snapshot", exc_info=True)
                self._loaded = target
                return self._state
            self._state, self._loaded = state, target
            return state

    def _read(self) -> Scopes:
        connection = self.engine.connect()
        try:
            if self.engine.dialect.name == "postgresql":  # both tables as of one instant
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                versions = {
                    path: (version, changed_at)
                    for path, version, changed_at in connection.execute(
                        select(FeedScopeRow.path, FeedScopeRow.version, FeedScopeRow.changed_at)
                    )
                }
                sections = frozenset(connection.scalars(select(SectionRow.path)))
        finally:
            connection.close()
        return Scopes(versions, sections)

    def stop(self) -> None:
        """Stop the watcher and wait for it (it wakes within half a second), so that no
        reload opens a connection after the caller closes the engine."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=STOP_SECONDS)

    def _start_watcher(self) -> None:
        self._stopping.clear()
        if self.engine.dialect.name == "postgresql":
            target, name = _listen, "feedsvc-scopes-listen"
        else:
            target, name = _poll, "feedsvc-scopes-poll"
        # The thread holds the snapshot weakly: an app that is gone stops its watcher.
        self._thread = threading.Thread(
            target=target, args=(weakref.ref(self), self._stopping), name=name, daemon=True
        )
        self._thread.start()


def _poll(ref: weakref.ref[ScopeSnapshot], stopping: threading.Event) -> None:
    """SQLite: every write bumps the root scope, so one indexed read per interval tells
    whether anything changed."""
    query = select(FeedScopeRow.version).where(FeedScopeRow.path == "")
    failing = False
    while True:
        snapshot = ref()
        if snapshot is None:
            return
        interval = snapshot.poll_seconds
        del snapshot
        if stopping.wait(RETRY_SECONDS if failing else interval):
            return
        if (snapshot := ref()) is None:
            return
        try:
            with snapshot.engine.connect() as connection:
                version = connection.scalar(query) or 0
            state = snapshot._state
            if state is None or state.root_version != version:
                snapshot.invalidate()
                snapshot.reload()  # here, so that requests find it fresh
            failing = False
        except Exception:  # keep serving what we have; try again later
            if not failing:
                log.warning("scope poll failed; retrying", exc_info=True)
            failing = True
        del snapshot


def _listen(ref: weakref.ref[ScopeSnapshot], stopping: threading.Event) -> None:
    """PostgreSQL: a connection of its own (outside the pool) that LISTENs. Every
    (re)connection invalidates, so a change made while it was not listening is seen."""
    failing = False
    while not stopping.is_set():
        snapshot = ref()
        if snapshot is None:
            return
        engine, token = snapshot.engine, snapshot.token
        del snapshot
        try:
            arguments, options = engine.dialect.create_connect_args(engine.url)
            with engine.dialect.loaded_dbapi.connect(*arguments, **options) as connection:
                connection.autocommit = True
                schema = connection.execute("SELECT current_schema()").fetchone()
                mine = f"{schema[0] if schema else ''} "
                connection.execute(f"LISTEN {CHANNEL}")
                if (snapshot := ref()) is None:
                    return
                snapshot.invalidate()
                del snapshot
                failing = False
                checked = time.monotonic()
                while not stopping.is_set():
                    if time.monotonic() - checked >= CHECK_SECONDS:
                        # A connection that died silently (a NAT, a proxy) hears nothing:
                        # compare the root scope, which every write bumps, now and then.
                        checked = time.monotonic()
                        row = connection.execute(ROOT_VERSION).fetchone()
                        if (snapshot := ref()) is None:
                            return
                        state = snapshot._state
                        if state is None or state.root_version != (row[0] if row else 0):
                            snapshot.invalidate()
                        del snapshot
                    heard = [
                        notify.payload
                        for notify in connection.notifies(timeout=0.5)
                        if notify.payload.startswith(mine) and notify.payload[len(mine) :] != token
                    ]
                    if heard:
                        if (snapshot := ref()) is None:
                            return
                        snapshot.invalidate()
                        snapshot.reload()
                        del snapshot
        except Exception:
            if not failing:
                log.warning("scope listener lost its connection; reconnecting", exc_info=True)
            failing = True
            if (snapshot := ref()) is not None:
                snapshot.invalidate()  # we may miss changes while away: reload on return
                del snapshot
            stopping.wait(RETRY_SECONDS)


def watch_sessions(factory: sessionmaker[Session], snapshot: ScopeSnapshot) -> None:
    """Hook a session factory: tell other processes from inside a transaction that touched
    a scope (PostgreSQL delivers a notification at commit, and never for one that rolled
    back), and invalidate this process's snapshot right after the commit."""

    def before_commit(session: Session) -> None:
        if session.info.get(TOUCHED) and session.get_bind().dialect.name == "postgresql":
            session.execute(
                text("SELECT pg_notify(:channel, coalesce(current_schema(), '') || ' ' || :me)"),
                {"channel": CHANNEL, "me": snapshot.token},
            )

    def after_commit(session: Session) -> None:
        if session.info.pop(TOUCHED, None):
            snapshot.invalidate()

    def after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
        if not previous.nested:  # a savepoint rolled back leaves the rest to commit
            session.info.pop(TOUCHED, None)

    event.listen(factory, "before_commit", before_commit)
    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_soft_rollback", after_soft_rollback)


def init_app(app: Flask, database: Database, poll_seconds: float) -> ScopeSnapshot:
    """Gives the app a scope snapshot that every database session's commits invalidate."""
    snapshot = ScopeSnapshot(database.engine, poll_seconds)
    for factory in (database.sessions, database.writer_sessions):
        watch_sessions(factory, snapshot)
    app.extensions[EXTENSION_KEY] = snapshot
    return snapshot


def current_scopes() -> Scopes:
    """The scopes as this process last knew them (see the module docstring for how stale)."""
    snapshot: ScopeSnapshot = current_app.extensions[EXTENSION_KEY]
    return snapshot.current()
