"""Static publishing and eager rendering: the feeds of a changed scope are fetched through
the app itself, so nginx (or a CDN) can serve byte-identical copies and readers never
wait for a render.

``feedsvc publish --to DIR`` writes every public URL of ``URL_SOURCES`` (page 1 of each
language × scope × format, and the OPML lists) under DIR at its URL path, with ``.gz``
and ``.br`` siblings. With ``FEEDSVC_PUBLISH_DIR`` set the worker keeps that directory
current; with ``FEEDSVC_EAGER_RENDER`` on (the default) it also renders changed scopes
before readers ask.

No job rows are needed for this. Every write bumps its scopes' versions in ``feed_scopes``
in its own transaction, so that table already is a durable, deduplicated queue: a sweep
compares it with the versions last published (the manifest in DIR) or last rendered (in
this process), and any number of changes to a scope cost one re-render. A commit that
touched ``feed_scopes`` wakes the sweep through the job dispatcher (worker thread or RQ);
the worker's periodic pass picks up anything a wake-up missed (a CLI import, a crash).
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import brotli
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from .articles import Clock, utcnow
from .config import Settings
from .db import Database
from .db.tables import FeedScopeRow
from .feeds.model import FORMATS
from .feeds.shared import output_fingerprint
from .jobs import EXACT, INTERNAL_REQUEST, NOT_READ, WARM, JobsExtension
from .store import Store
from .store.scopes import ScopeVersion
from .urls import feed_url, opml_url

log = logging.getLogger(__name__)
EXTENSION_KEY = "feedsvc.publish"
MANIFEST = ".feedsvc-publish.json"
LOCK_FILE = ".feedsvc-publish.lock"
TEMP_SUFFIX = ".feedsvc-tmp"
# A sweep runs after every change. The demo's /en/feed.atom (38.8 kB): quality 6 makes
# 9.9 kB in 3.4 ms, 9 makes 9.9 kB in 25 ms, 11 makes 8.5 kB in 62 ms (per file, and a
# change rewrites tens of files).
BROTLI_QUALITY = 6
SCOPES = FeedScopeRow.__tablename__
APP_SCOPES = "feedsvc.scopes"  # the app's in-memory scope versions, where it keeps them
SCOPE_CHANGED = "feedsvc.scope_changed"  # Session.info key: this transaction bumped a scope

UrlSource = Callable[[Settings, str], Iterable[str]]


def feed_paths(settings: Settings, scope: str) -> Iterator[str]:
    """Page 1 of the scope's feed in every language and format."""
    for language in settings.languages:
        for fmt in FORMATS:
            yield feed_url("", language.tag, scope or None, fmt)


def opml_paths(settings: Settings, scope: str) -> Iterator[str]:
    """The OPML lists name every section, so they belong to the site scope (which every
    change bumps). ``?leaves=1`` maps to no file of its own and stays with the app."""
    if scope == "":
        yield opml_url("")
        for language in settings.languages:
            yield opml_url("", language.tag)


# The extension point: each source maps a scope ('' = the site, else a section path) to the
# URL paths whose bytes depend on that scope. Sitemaps and widget JSON add theirs here (and
# a content type to deploy/nginx.conf); the sweep, the manifest and pruning follow.
URL_SOURCES: tuple[UrlSource, ...] = (feed_paths, opml_paths)


def scope_urls(settings: Settings, scope: str) -> list[str]:
    """Every URL path published for a scope, so sweeps and pruning agree on the file set."""
    return [path for source in URL_SOURCES for path in source(settings, scope)]


def fingerprint(settings: Settings) -> str:
    """What the published bytes depend on besides the data: when it changes (a new
    language, another base URL, an upgrade), the next sweep republishes everything."""
    relevant = [output_fingerprint(settings), [source.__qualname__ for source in URL_SOURCES]]
    return hashlib.sha256(json.dumps(relevant).encode()).hexdigest()[:16]


def _brotli(body: bytes) -> bytes:
    return brotli.compress(body, mode=brotli.MODE_TEXT, quality=BROTLI_QUALITY)


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    ".gz": lambda body: gzip.compress(body, 9, mtime=0),
    ".br": _brotli,
}


@dataclass
class Manifest:
    """What DIR holds: the scope versions its files were made from, and every URL path
    written (so files of a removed language or section can be found and deleted)."""

    fingerprint: str = ""
    scopes: dict[str, int] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)

    def to_json(self) -> bytes:
        """The manifest as stable JSON, so an unchanged one writes identical bytes."""
        data = {
            "format": 1,
            "fingerprint": self.fingerprint,
            "scopes": dict(sorted(self.scopes.items())),
            "files": sorted(self.files),
        }
        return json.dumps(data, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """The stored manifest; an unreadable one is treated as empty, so everything republishes."""
        try:
            data = json.loads(raw)
            return cls(data["fingerprint"], dict(data["scopes"]), set(data["files"]))
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable publish manifest; republishing everything")
            return cls()


class PublishDir:
    """A directory of published files. Each file appears whole (written beside its final
    name, then renamed over it), world-readable for the web server, and only when its bytes
    change; its mtime, which nginx's ETag and Last-Modified are made of, moves with them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, url_path: str) -> Path:
        """Where a URL path is written; ValueError for paths that could escape the directory."""
        relative = url_path.lstrip("/")
        if not relative or any(part in ("", ".", "..") for part in relative.split("/")):
            raise ValueError(f"not a publishable URL path: {url_path!r}")
        return self.root / relative

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One sweep at a time across processes (gunicorn workers, `feedsvc worker`s):
        otherwise a slower sweep could rename older bytes over newer ones."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def manifest(self) -> Manifest:
        """The last sweep's manifest, empty before the first sweep."""
        try:
            return Manifest.from_json((self.root / MANIFEST).read_bytes())
        except FileNotFoundError:
            return Manifest()

    def save(self, manifest: Manifest) -> None:
        """Writes the manifest atomically, so a crash never leaves a torn one."""
        _write_atomically(self.root / MANIFEST, manifest.to_json(), None)

    def write(self, url_path: str, body: bytes, last_modified: datetime | None) -> bool:
        """Write the file and its compressed siblings if its bytes differ; True if so. The
        siblings go first, so a current identity file always has current siblings."""
        target = self.path(url_path)
        try:
            current = target.read_bytes()
            old_mtime: int | None = int(target.stat().st_mtime)
        except FileNotFoundError:
            current, old_mtime = None, None
        if current == body:
            for suffix, compress in COMPRESSORS.items():  # deleted by hand: made again
                sibling = target.with_name(target.name + suffix)
                if not sibling.exists():
                    _write_atomically(sibling, compress(body), old_mtime)
            return False
        # The app's Last-Modified where possible; but a new file must never keep the old
        # mtime, or nginx's ETag ("mtime-size") could stay the same for new bytes.
        mtime = int(last_modified.timestamp()) if last_modified else None
        if old_mtime is not None and (mtime is None or mtime <= old_mtime):
            mtime = old_mtime + 1
        for suffix, compress in COMPRESSORS.items():
            _write_atomically(target.with_name(target.name + suffix), compress(body), mtime)
        _write_atomically(target, body, mtime)
        return True

    def remove(self, url_path: str) -> bool:
        """Deletes a published file and its compressed siblings; True if any existed."""
        target = self.path(url_path)
        removed = False
        for path in (target, *(target.with_name(target.name + s) for s in COMPRESSORS)):
            try:
                path.unlink()
                removed = True
            except FileNotFoundError:
                pass
        return removed

    def remove_temporaries(self) -> None:
        """Leftovers of a process killed mid-write (only called under the lock)."""
        for leftover in self.root.rglob(f"*{TEMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)


def _write_atomically(path: Path, data: bytes, mtime: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # the rename must not land before the bytes do
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; the web server reads as another user
        if mtime is not None:
            os.utime(temporary, (mtime, mtime))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass
class Fetched:
    """A URL's answer from the app, as the sweep writes it to disk."""

    status: int
    body: bytes
    last_modified: datetime | None


@dataclass
class SweepReport:
    """What one sweep did, for the command's output, logs and tests."""

    fetched: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, int]] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)  # fetched ("" is the whole site)

    def summary(self) -> str:
        """One line of counts, for the command's output and the log."""
        return (
            f"fetched {self.fetched}, written {len(self.written)}, unchanged {self.unchanged}, "
            f"removed {len(self.removed)}, failed {len(self.failed)}"
        )


class ScopeSweep:
    """Brings what is derived from feed scopes up to their versions: the files of a publish
    directory (durably: the manifest says what they were made from) and, in a process that
    serves readers or shares its cache through Redis, the render cache."""

    def __init__(
        self,
        app: Flask,
        database: Database,
        settings: Settings,
        publish_dir: Path | None,
        eager_render: bool,
        clock: Clock = utcnow,
    ) -> None:
        self.app = app
        self.database = database
        self.settings = settings
        self.directory = PublishDir(publish_dir) if publish_dir else None
        self.eager_render = eager_render
        self.clock = clock
        # Changes from before this process started are not rendered ahead: the cache was
        # cold anyway, and a large site has more feeds than the cache holds.
        self.started_at = clock()
        self.rendered: dict[str, int] = {}  # scope → version this process last rendered
        self._lock = threading.Lock()  # one sweep per process at a time

    def __call__(self, warm_cache: bool = True) -> SweepReport:
        with self._lock:
            return self._sweep(warm_cache and self.eager_render)

    def publish_all(self, directory: Path) -> SweepReport:
        """Every URL into ``directory``, whatever its manifest says (``feedsvc publish``)."""
        with self._lock:
            return self._publish(PublishDir(directory), self._read(), set(), full=True)

    def _read(self) -> tuple[dict[str, ScopeVersion], list[str]]:
        with self.database.sessions() as session:
            store = Store(session)
            return store.scopes.versions(), [s.path for s in store.sections.all()]

    def _before_fetching(self) -> None:
        """The app may hold scope versions in memory (feedsvc.feeds.scopes), refreshed a
        moment after another process's commit: have it read them again, so the GETs that
        follow see at least the versions this sweep read and the manifest never runs
        ahead of the files."""
        snapshot = self.app.extensions.get(APP_SCOPES)
        if snapshot is not None:
            snapshot.invalidate()

    def _sweep(self, warm: bool) -> SweepReport:
        versions, sections = self._read()
        to_warm = set()
        if warm:
            to_warm = {s for s in ["", *sections] if self._changed_here(s, versions)}
        if self.directory is not None:
            report = self._publish(self.directory, (versions, sections), to_warm, False)
        else:
            report = SweepReport()
            if to_warm:
                self._before_fetching()
            report.scopes += sorted(to_warm)
            for url in (url for scope in sorted(to_warm) for url in self._urls(scope)):
                fetched = self._fetch(url)
                report.fetched += 1
                if fetched.status not in (200, NOT_READ):
                    report.failed.append((url, fetched.status))
        for scope in ["", *sections]:
            self.rendered[scope] = versions[scope].version if scope in versions else 0
        if report.fetched:
            scopes = ",".join(scope or "/" for scope in report.scopes)
            log.info("feed scopes swept scopes=%s %s", scopes, report.summary())
        return report

    def _changed_here(self, scope: str, versions: dict[str, ScopeVersion]) -> bool:
        current = versions.get(scope)
        if current is None:  # never changed
            return False
        if scope in self.rendered:
            return self.rendered[scope] != current.version
        return current.changed_at >= self.started_at

    def _publish(
        self,
        directory: PublishDir,
        state: tuple[dict[str, ScopeVersion], list[str]],
        to_warm: set[str],
        full: bool,
    ) -> SweepReport:
        versions, sections = state
        live = {"", *sections}

        def version(scope: str) -> int:
            return versions[scope].version if scope in versions else 0

        report = SweepReport()
        with directory.locked():
            manifest = directory.manifest()
            current = fingerprint(self.settings)
            if full or manifest.fingerprint != current:
                directory.remove_temporaries()
                manifest = Manifest(current, {}, manifest.files)
            stale = {scope for scope in live if manifest.scopes.get(scope) != version(scope)}
            if stale | (to_warm & live):
                self._before_fetching()
            for scope in sorted(stale | (to_warm & live)):
                report.scopes.append(scope)
                complete = True
                for url in self._urls(scope):
                    fetched = self._fetch(url, exact=scope in stale)
                    report.fetched += 1
                    if fetched.status == NOT_READ and scope not in stale:
                        continue  # only warming, and nobody reads it
                    if fetched.status != 200:  # kept for the next sweep to try again
                        complete = False
                        report.failed.append((url, fetched.status))
                    elif scope in stale:  # else only rendered for this process's cache
                        if directory.write(url, fetched.body, fetched.last_modified):
                            report.written.append(url)
                        else:
                            report.unchanged += 1
                        manifest.files.add(url)
                if complete and scope in stale:
                    manifest.scopes[scope] = version(scope)
            # Files of moved or deleted sections and of dropped languages go.
            expected = {url for scope in live for url in self._urls(scope)}
            for url in sorted(manifest.files - expected):
                if directory.remove(url):
                    report.removed.append(url)
            manifest.files &= expected
            manifest.scopes = {s: v for s, v in manifest.scopes.items() if s in live}
            manifest.fingerprint = current
            directory.save(manifest)
        return report

    def _urls(self, scope: str) -> list[str]:
        return scope_urls(self.settings, scope)

    def _fetch(self, url: str, exact: bool = False) -> Fetched:
        """A GET through the app, as a reader without Accept-Encoding sends it: the bytes
        are the app's by construction, and whatever cache the app keeps is warmed.
        ``exact``: the bytes of the current version, never a render the grace window
        (``FEEDSVC_FEED_GRACE_SECONDS``) would still serve: they are about to be published."""
        # An app context of its own, which the request uses and closes: inside a caller's
        # context (`feedsvc worker`, tests) requests would share its database session, and
        # on SQLite its read transaction, so a later sweep would read an earlier snapshot.
        with self.app.app_context():
            response = self.app.test_client().get(
                url,
                base_url=self.settings.base_url,
                environ_base={INTERNAL_REQUEST: EXACT if exact else WARM},
            )
            body = response.get_data()
        if response.headers.get("Content-Encoding"):
            raise RuntimeError(f"{url} came back encoded without Accept-Encoding")
        return Fetched(response.status_code, body, response.last_modified)


def watch_scope_changes(database: Database, notify: Callable[[], None]) -> None:
    """Call ``notify`` after each commit that wrote ``feed_scopes``: every write bumps its
    scopes there (``Feeds.touch``), so this sees all of them, from any code path, and never
    a rolled-back one."""
    sessions = database.writer_sessions

    @event.listens_for(sessions, "do_orm_execute")
    def note(state: ORMExecuteState) -> None:
        table = getattr(state.statement, "table", None)  # an annotated copy: compare names
        if (state.is_insert or state.is_update) and getattr(table, "name", None) == SCOPES:
            state.session.info[SCOPE_CHANGED] = True

    @event.listens_for(sessions, "after_commit")
    def committed(session: Session) -> None:
        if session.info.pop(SCOPE_CHANGED, False):
            notify()

    @event.listens_for(sessions, "after_soft_rollback")
    def rolled_back(session: Session, previous: SessionTransaction) -> None:
        if not previous.nested:  # a savepoint rolled back leaves the rest to commit
            session.info.pop(SCOPE_CHANGED, None)


def init_app(
    app: Flask, settings: Settings, database: Database, jobs: JobsExtension
) -> ScopeSweep | None:
    """Hook the sweep into the worker and wake it after every scope change; nothing when
    neither publishing nor eager rendering is wanted."""
    if settings.publish_dir is None and not settings.eager_render:
        return None
    publish_dir = Path(settings.publish_dir) if settings.publish_dir else None
    sweep = ScopeSweep(app, database, settings, publish_dir, settings.eager_render)
    jobs.worker.scope_sweeps.append(sweep)
    watch_scope_changes(database, lambda: jobs.dispatcher.scopes_changed())
    app.extensions[EXTENSION_KEY] = sweep
    return sweep


def publish_all(app: Flask, directory: Path) -> SweepReport:
    """``feedsvc publish --to DIR``: every URL, whatever is configured."""
    settings: Settings = app.extensions["feedsvc.settings"]
    sweep: ScopeSweep | None = app.extensions.get(EXTENSION_KEY)
    if sweep is None:
        from .db import EXTENSION_KEY as DATABASE

        sweep = ScopeSweep(app, app.extensions[DATABASE], settings, None, False)
    return sweep.publish_all(directory)
