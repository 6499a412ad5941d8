"""Faults of what the service stands on (issue 13): the database out of reach answers 503
with Retry-After (problem+json in the API, a page elsewhere) and the service recovers by
itself; Redis out of reach still saves articles, says translation is deferred, reports the
queue as degraded, and the jobs reach RQ once Redis is back."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.domain import JobStatus, Role
from feedsvc.jobs import RqDispatcher, jobs, sweep_due_jobs
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from tests.conftest import Api, dispose_app, flushed_test_redis, make_config


class Forwarder:
    """A TCP forwarder to PostgreSQL that can be cut and restored on the same port: what a
    database restart or a network cut looks like to the service."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener: socket.socket | None = None
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut every open one."""
        if self.listener is not None:
            try:  # wakes the thread blocked in accept(); close alone would not
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        with self.lock:
            for sock in self.open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass


@pytest.fixture
def cut_database(postgres_url: str) -> Iterator[tuple[Flask, Forwarder]]:
    url = make_url(postgres_url)
    forwarder = Forwarder((url.host or "127.0.0.1", url.port or 5432))
    forwarder.start()
    app = create_app(
        make_config(url.set(port=forwarder.port).render_as_string(hide_password=False))
    )
    yield app, forwarder
    forwarder.stop()
    with app.app_context():
        dispose_app()


def test_a_database_out_of_reach_answers_503_and_recovers(
    cut_database: tuple[Flask, Forwarder],
) -> None:
    app, forwarder = cut_database
    client = app.test_client()
    with app.app_context(), database().session() as session:
        _, secret = issue_token(Store(session), "editor", Role.EDITOR)
    assert client.get("/api/v1/articles").status_code == 200
    assert client.get("/en/articles/999999999").status_code == 404
    assert (
        Api(client, secret).post("/sections", {"path": "x", "names": {"en": "X"}}).status_code
        == 201
    )

    forwarder.stop()
    api = client.get("/api/v1/articles")
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
    assert api.headers["Retry-After"].isdigit()
    page = client.get("/en/articles/999999999")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert page.headers["Retry-After"].isdigit()
    assert "unavailable" in page.get_data(as_text=True).lower()
    write = Api(client, secret).post("/sections", {"path": "y", "names": {"en": "Y"}})
    assert write.status_code == 503 and write.headers["Retry-After"].isdigit()
    assert client.get("/healthz").status_code == 503

    forwarder.start()  # the database is back: no restart of the service
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/articles").status_code == 200
    assert client.get("/en/articles/999999999").status_code == 404


def test_redis_out_of_reach_defers_translation_and_the_sweep_catches_up(
    database_url: str,
) -> None:
    redis_url = flushed_test_redis()
    closed = create_app(
        make_config(
            database_url,
            FEEDSVC_LANGUAGES="en,zh-Hans",
            FEEDSVC_REDIS_URL="redis://127.0.0.1:9/0",
        )
    )
    with closed.app_context(), database().session() as session:
        _, secret = issue_token(Store(session), "editor", Role.EDITOR)
    editor = Api(closed.test_client(), secret)
    assert editor.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
    created = editor.post(
        "/articles", {"section": "news", "title": "Park opens", "body_html": "<p>It opened.</p>"}
    )
    assert created.status_code == 201, "the article is saved"
    assert created.headers["Feedsvc-Translation-Queue"] == "deferred"
    health = closed.test_client().get("/healthz")
    assert health.status_code == 200
    assert health.json == {"status": "degraded", "database": "ok", "queue": "unreachable"}
    article_id = int(created.json["id"])
    with closed.app_context():
        with database().session() as session:
            (job,) = Store(session).jobs.all()
            assert (job.article_id, job.status) == (article_id, JobStatus.QUEUED)
        dispose_app()

    back = create_app(
        make_config(database_url, FEEDSVC_LANGUAGES="en,zh-Hans", FEEDSVC_REDIS_URL=redis_url)
    )
    with back.app_context():
        extension = jobs()
        assert isinstance(extension.dispatcher, RqDispatcher)
        assert back.test_client().get("/healthz").json["queue"] == "ok"
        sweep_due_jobs(extension.worker, extension.dispatcher)
        assert extension.dispatcher.queue.count == 1, "the waiting job reached RQ"
        dispose_app()


def test_a_process_started_while_the_database_is_away_answers_503_everywhere() -> None:
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    app = create_app(make_config("postgresql+psycopg://postgres@127.0.0.1:9/none"))
    client = app.test_client()
    for path in ("/en/feed.rss", "/feeds.opml", "/en/", "/api/v1/articles"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"].isdigit(), path
    with app.app_context():
        dispose_app()
