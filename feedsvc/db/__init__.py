"""Engine and session handling: one engine per app, one session per request or job."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

EXTENSION_KEY = "feedsvc.db"


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # On SQLite a transaction that will write takes the write lock when it begins, so
        # a concurrent writer makes it wait (busy timeout) instead of failing mid-way.
        self.writer_sessions = sessionmaker(
            self.engine.execution_options(begin_immediate=True), expire_on_commit=False
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work outside a request (CLI, worker): commit on success."""
        with self.writer_sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))


CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str) -> Engine:
    """An engine with SQLite set up for a web service: WAL, foreign keys, a busy timeout."""
    # pre_ping: connections that died with the server are replaced, so the service
    # recovers by itself once the database is back; a short connect timeout answers 503
    # quickly instead of holding a worker while a host does not answer.
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options = {"connect_args": {"timeout": 30}}
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (pysqlite's implicit transactions are off).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get("begin_immediate")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def init_app(app: Flask, url: str) -> Database:
    database = Database(url)
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(_close_request_session)
    return database


def database() -> Database:
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def reads_only() -> None:
    """The web layer's word that this unit of work will not write (a GET): its session
    then takes no write lock (SQLite's BEGIN IMMEDIATE), so readers never queue behind
    writers. Said before the first ``request_session()``; afterwards it changes nothing."""
    g.db_reads_only = True


def request_session() -> Session:
    """The session of the current request; committed by the caller, closed at teardown."""
    if "db_session" not in g:
        factory = database().sessions if g.get("db_reads_only") else database().writer_sessions
        g.db_session = factory()
    return g.db_session  # type: ignore[no-any-return]


def after_request_session(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the request's own transaction has ended: a small write of its
    own (bookkeeping) then never waits on, or holds up, the request's write lock."""
    g.setdefault("after_db_session", []).append(callback)


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
    for callback in g.pop("after_db_session", []):
        callback()
