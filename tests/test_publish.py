"""Static publishing and eager rendering: ``feedsvc publish``, the sweep the worker runs
after every scope change, the files it writes, and its configuration."""

from __future__ import annotations

import gzip
import os
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedsvc.config import ConfigError, load_settings
from feedsvc.db import database
from feedsvc.demo import load_demo
from feedsvc.domain import Role
from feedsvc.jobs import jobs
from feedsvc.publish import MANIFEST, TEMP_SUFFIX, PublishDir, scope_urls
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from tests.conftest import Api, article_doc, flushed_test_redis, running_app
from tests.test_feeds import renders

BASE = "http://feeds.test"


def editor_api(app: Flask) -> Api:
    with app.app_context(), database().session() as session:
        _, secret = issue_token(Store(session), "editor", Role.EDITOR, [])
    return Api(app.test_client(), secret)


def all_urls(app: Flask) -> list[str]:
    settings = app.extensions["feedsvc.settings"]
    with app.app_context(), database().session() as session:
        sections = [section.path for section in Store(session).sections.all()]
    return [url for scope in ["", *sections] for url in scope_urls(settings, scope)]


def served(client: FlaskClient, url: str) -> bytes:
    response = client.get(url, base_url=BASE)
    assert response.status_code == 200, (url, response.status_code)
    assert "Content-Encoding" not in response.headers
    return response.get_data()


def assert_published(app: Flask, root: Path, urls: list[str]) -> None:
    """Each file is byte for byte what the app serves now; its siblings decode to it."""
    client = app.test_client()
    for url in urls:
        path = root / url.lstrip("/")
        body = path.read_bytes()
        assert body == served(client, url), url
        assert gzip.decompress(path.with_name(path.name + ".gz").read_bytes()) == body, url
        assert brotli.decompress(path.with_name(path.name + ".br").read_bytes()) == body, url
        assert path.stat().st_mode & 0o777 == 0o644, "readable by the web server's user"


def mtimes(root: Path) -> dict[str, float]:
    return {
        str(path.relative_to(root)): path.stat().st_mtime
        for path in root.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


@pytest.fixture
def publishing(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    """An app whose worker keeps tmp_path/public current, with two sections and an article."""
    root = tmp_path / "public"
    with running_app(database_url, FEEDSVC_PUBLISH_DIR=str(root)) as app:
        api = editor_api(app)
        for path in ("news", "news/world", "sport"):
            created = api.post("/sections", {"path": path, "names": {"en": path.title()}})
            assert created.status_code == 201, created.json
        assert api.post("/articles", article_doc()).status_code == 201
        yield app, root


def run_worker(app: Flask) -> None:
    with app.app_context():
        jobs().worker.run_pending()


def test_publish_writes_every_url_as_the_app_serves_it(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        load_demo(database())
    root = tmp_path / "public"
    result = app.test_cli_runner().invoke(args=["publish", "--to", str(root)])
    assert result.exit_code == 0, result.output
    urls = all_urls(app)
    # 3 languages × (the site + 9 sections) × 3 formats, and 1 + 3 OPML lists
    assert len(urls) == 3 * 10 * 3 + 4
    assert f"written {len(urls)}," in result.output
    assert "/zh-hans/news/media-views-of-huangpu/feed.json" in urls
    assert {"/feeds.opml", "/en/feeds.opml", "/fr/feeds.opml"} <= set(urls)
    assert_published(app, root, urls)
    assert not list(root.rglob(f"*{TEMP_SUFFIX}"))
    before = mtimes(root)

    again = app.test_cli_runner().invoke(args=["publish", "--to", str(root)])
    assert again.exit_code == 0, again.output
    assert f"written 0, unchanged {len(urls)}," in again.output
    assert mtimes(root) == before, "unchanged bytes are not rewritten"


def test_an_edit_is_published_by_the_next_worker_run(publishing: tuple[Flask, Path]) -> None:
    app, root = publishing
    run_worker(app)
    assert_published(app, root, all_urls(app))
    assert b"District opens new bridge" in (root / "en/news/world/feed.atom").read_bytes()
    sport = mtimes(root / "en/sport")
    before = mtimes(root)
    time.sleep(1.1)  # a new second, so a changed file's mtime visibly moves

    api = editor_api(app)
    article = api.get("/articles").json["items"][0]
    etag = api.get(f"/articles/{article['id']}").headers["ETag"]
    edited = api.patch(
        f"/articles/{article['id']}",
        {"title": "District opens its second bridge"},
        headers={"If-Match": etag},
    )
    assert edited.status_code == 200, edited.json
    run_worker(app)

    assert_published(app, root, all_urls(app))
    for url in ("en/feed.atom", "en/news/feed.rss", "en/news/world/feed.json"):
        assert "District opens its second bridge" in (root / url).read_text(), url
    after = mtimes(root)
    changed = {name for name in before if after[name] != before[name]}
    assert "en/news/world/feed.atom" in changed and "en/news/world/feed.atom.br" in changed
    assert "fr/news/feed.json" in changed, "every language of the scope and its ancestors"
    assert mtimes(root / "en/sport") == sport, "a scope the edit did not touch stays as it was"


def test_sweeps_in_one_app_context_each_read_the_current_data(
    publishing: tuple[Flask, Path],
) -> None:
    """`feedsvc worker` sweeps again and again inside the command's app context: each
    sweep's requests must not share one database session (an old SQLite snapshot)."""
    app, root = publishing
    api = editor_api(app)
    asked: queue.Queue[bool] = queue.Queue()
    done: queue.Queue[BaseException | None] = queue.Queue()

    def worker() -> None:  # one app context for its whole life, like the command's
        with app.app_context():
            while asked.get():
                try:
                    jobs().worker.run_pending()
                    done.put(None)
                except BaseException as exc:
                    done.put(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        for number in range(3):
            doc = article_doc(title=f"Bridge number {number}", external_id=f"bridge-{number}")
            assert api.post("/articles", doc).status_code == 201
            asked.put(True)
            assert done.get(timeout=60) is None
            assert_published(app, root, all_urls(app))
            assert f"Bridge number {number}" in (root / "en/news/feed.atom").read_text()
    finally:
        asked.put(False)
        thread.join(timeout=60)


def test_a_write_from_another_process_is_published_with_its_bytes(
    database_url: str, tmp_path: Path
) -> None:
    """The publishing process may hold scope versions in memory, refreshed a moment after
    another process's commit; its sweep must not publish what it had before."""
    root = tmp_path / "public"
    with (
        running_app(
            database_url, FEEDSVC_PUBLISH_DIR=str(root), FEEDSVC_SCOPE_POLL_SECONDS="3600"
        ) as publisher,
        running_app(database_url) as writer,
    ):
        api = editor_api(writer)
        assert api.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
        run_worker(publisher)
        assert_published(publisher, root, all_urls(publisher))
        assert api.post("/articles", article_doc(section="news")).status_code == 201
        run_worker(publisher)
        assert b"District opens new bridge" in (root / "en/news/feed.atom").read_bytes()
        assert_published(writer, root, all_urls(writer))


def test_a_moved_section_leaves_no_stale_files(publishing: tuple[Flask, Path]) -> None:
    app, root = publishing
    run_worker(app)
    assert (root / "zh-hans/news/world/feed.rss.br").exists()
    moved = editor_api(app).patch("/sections/news/world", {"path": "world"})
    assert moved.status_code == 200, moved.json
    run_worker(app)
    assert not (root / "zh-hans/news/world").exists() or not any(
        (root / "zh-hans/news/world").iterdir()
    ), "the old path redirects in the app, so nginx must not serve a copy"
    assert_published(app, root, all_urls(app))
    assert (root / "zh-hans/world/feed.rss.br").exists()


def test_a_scope_change_wakes_the_dispatcher_after_commit_only(
    publishing: tuple[Flask, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = publishing
    woken: list[int] = []
    dispatcher = app.extensions["feedsvc.jobs"].dispatcher
    monkeypatch.setattr(dispatcher, "scopes_changed", lambda: woken.append(1))
    api = editor_api(app)
    assert api.get("/articles").status_code == 200
    assert woken == [], "reads and token bookkeeping touch no scope"
    assert api.post("/articles", article_doc(title="Second")).status_code == 201
    assert woken == [1]
    bad = api.post("/articles", article_doc(section="nowhere"))
    assert bad.status_code in (404, 422)
    with app.app_context(), pytest.raises(RuntimeError):
        with database().session() as session:
            Store(session).feeds.touch(["news"], datetime.now(UTC))
            raise RuntimeError("rolled back")
    assert woken == [1], "refused and rolled-back writes notify nobody"


def test_the_worker_thread_publishes_without_being_asked(database_url: str, tmp_path: Path) -> None:
    """The default set-up: the after-commit wake-up reaches the web process's worker."""
    root = tmp_path / "public"
    with running_app(database_url, FEEDSVC_PUBLISH_DIR=str(root), FEEDSVC_WORKER="thread") as app:
        api = editor_api(app)
        assert api.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
        assert api.post("/articles", article_doc(section="news")).status_code == 201
        target = root / "en/news/feed.atom"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if target.exists() and b"District opens new bridge" in target.read_bytes():
                break
            time.sleep(0.1)
        else:
            pytest.fail("the worker thread did not publish the new article")
        assert target.read_bytes() == served(app.test_client(), "/en/news/feed.atom")


def test_publishing_from_a_command_starts_no_worker_thread(
    database_url: str, tmp_path: Path
) -> None:
    """The sweep's GETs are requests to the app: they must not start the job thread in a
    short-lived `feedsvc publish` (it would run translation jobs and die with the command)."""
    with running_app(database_url, FEEDSVC_WORKER="thread") as app:
        with app.app_context():
            load_demo(database())
        result = app.test_cli_runner().invoke(args=["publish", "--to", str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
        thread = app.extensions["feedsvc.jobs"].dispatcher._thread
        assert thread is None or not thread.is_alive()


def test_eager_rendering_means_the_reader_finds_the_feed_rendered(
    database_url: str,
) -> None:
    with running_app(database_url) as app:
        api = editor_api(app)
        assert api.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
        assert api.post("/articles", article_doc(section="news")).status_code == 201
        run_worker(app)
        assert renders(app) == 0, "no reader has asked for any feed: nothing to render ahead"
        read = ("/fr/news/feed.json", "/en/feed.atom")
        for url in read:
            served(app.test_client(), url)
        assert renders(app) == 2
        more = api.post("/articles", article_doc(section="news", title="More news"))
        assert more.status_code == 201
        run_worker(app)
        assert renders(app) == 4, "the two feeds readers read, not the 16 others of the scopes"
        served(app.test_client(), "/fr/news/feed.json")
        assert b"More news" in served(app.test_client(), "/en/feed.atom")
        assert renders(app) == 4, "both were rendered before their readers came back"
        run_worker(app)
        assert renders(app) == 4, "nothing changed, nothing rendered"


def test_eager_rendering_can_be_switched_off(database_url: str) -> None:
    with running_app(database_url, FEEDSVC_EAGER_RENDER="off") as app:
        assert "feedsvc.publish" not in app.extensions
        api = editor_api(app)
        assert api.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
        run_worker(app)
        assert renders(app) == 0


def test_changes_from_before_the_process_started_are_not_rendered_ahead(
    database_url: str,
) -> None:
    """A new process has a cold cache and a big site more feeds than the cache holds: it
    renders ahead only what changes while it runs."""
    with running_app(database_url) as first:
        api = editor_api(first)
        assert api.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
    with running_app(database_url) as second:
        run_worker(second)
        assert renders(second) == 0


def test_publish_dir_files_appear_whole_and_move_their_mtime(tmp_path: Path) -> None:
    directory = PublishDir(tmp_path)
    assert directory.write("/en/feed.atom", b"<feed>1</feed>", None)
    target = tmp_path / "en/feed.atom"
    first = target.stat()
    with target.open("rb") as reader:  # a reader mid-way keeps the bytes it opened
        assert directory.write("/en/feed.atom", b"<feed>two</feed>", None)
        assert reader.read() == b"<feed>1</feed>"
    second = target.stat()
    assert second.st_ino != first.st_ino, "renamed over, never rewritten in place"
    assert second.st_mtime > first.st_mtime, "nginx's ETag is mtime-size: it must change"
    assert not directory.write("/en/feed.atom", b"<feed>two</feed>", None)
    assert target.stat().st_ino == second.st_ino
    os.unlink(tmp_path / "en/feed.atom.br")
    assert not directory.write("/en/feed.atom", b"<feed>two</feed>", None)
    assert brotli.decompress((tmp_path / "en/feed.atom.br").read_bytes()) == b"<feed>two</feed>"
    assert sorted(p.name for p in (tmp_path / "en").iterdir()) == [
        "feed.atom",
        "feed.atom.br",
        "feed.atom.gz",
    ]
    for bad in ("/", "/../etc/passwd", "/en//feed.atom"):
        with pytest.raises(ValueError):
            directory.path(bad)


def test_a_changed_configuration_republishes_everything(database_url: str, tmp_path: Path) -> None:
    root = tmp_path / "public"
    with running_app(database_url, FEEDSVC_PUBLISH_DIR=str(root)) as app:
        api = editor_api(app)
        assert api.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
        run_worker(app)
        assert (root / "fr/news/feed.atom").exists()
        assert (root / MANIFEST).exists()
    with running_app(
        database_url, FEEDSVC_PUBLISH_DIR=str(root), FEEDSVC_LANGUAGES="en,zh-Hans"
    ) as app:
        run_worker(app)
        assert not (root / "fr/news/feed.atom").exists(), "a dropped language's files go"
        assert not (root / "fr/feeds.opml.gz").exists()
        assert_published(app, root, all_urls(app))


def test_a_scope_sweep_goes_through_rq_once_per_burst(database_url: str, tmp_path: Path) -> None:
    from redis import Redis
    from rq import Queue

    redis_url = flushed_test_redis()
    connection = Redis.from_url(redis_url, socket_connect_timeout=2)
    root = tmp_path / "public"
    try:
        with running_app(
            database_url, FEEDSVC_PUBLISH_DIR=str(root), FEEDSVC_REDIS_URL=redis_url
        ) as app:
            api = editor_api(app)
            for path in ("news", "sport"):
                created = api.post("/sections", {"path": path, "names": {"en": path}})
                assert created.status_code == 201
            queue = Queue("feedsvc-scopes", connection=connection)
            assert queue.count == 1, "two changes, one sweep waiting"
            assert Queue("feedsvc-translation", connection=connection).count == 0

            import feedsvc.jobs
            import feedsvc.jobs.process

            monkeypatch = pytest.MonkeyPatch()
            monkeypatch.setattr(feedsvc.jobs.process, "_rq_app", app)
            try:
                feedsvc.jobs.run_rq_sweep()  # what the RQ worker runs for the message
            finally:
                monkeypatch.undo()
            assert_published(app, root, all_urls(app))
            assert api.post("/sections", {"path": "arts", "names": {"en": "Arts"}}).status_code
            assert queue.count == 2, "the flag was cleared, so the next change queues again"
    finally:
        connection.flushdb()
        connection.close()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FEEDSVC_PUBLISH_DIR", "relative/dir"),
        ("FEEDSVC_PUBLISH_DIR", "/etc/hostname/public"),
        ("FEEDSVC_EAGER_RENDER", "sometimes"),
    ],
)
def test_bad_publish_settings_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(tmp_path, {name: value})


def test_publish_settings_are_read(tmp_path: Path) -> None:
    settings = load_settings(
        tmp_path,
        {"FEEDSVC_PUBLISH_DIR": str(tmp_path / "a/b"), "FEEDSVC_EAGER_RENDER": "no"},
    )
    assert settings.publish_dir == str(tmp_path / "a/b")
    assert not (tmp_path / "a").exists(), "nothing is created at start-up"
    assert settings.eager_render is False
    assert load_settings(tmp_path, {}).eager_render is True
