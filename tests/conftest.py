"""Fixtures: an app per test on a fresh database, SQLite and PostgreSQL alike."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from feedsvc import create_app
from feedsvc.db import database, make_engine
from feedsvc.db.migrate import upgrade
from feedsvc.db.tables import Base
from feedsvc.demo import load_demo
from feedsvc.domain import Role
from feedsvc.jobs import jobs
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from tests.argos_fixture import build_argos_package, install_argos_package

# argostranslate creates folders under HOME when imported: keep this test run's to itself.
_ARGOS_HOME = tempfile.mkdtemp(prefix="feedsvc-tests-argos-")
atexit.register(shutil.rmtree, _ARGOS_HOME, True)
for _variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
    os.environ[_variable] = os.path.join(_ARGOS_HOME, _variable.lower())
os.environ["ARGOS_PACKAGES_DIR"] = os.path.join(_ARGOS_HOME, "unused-packages")

pytest_plugins = ["tests.browser"]  # live_server, browser, new_page, page

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# In CI the services are required: a test that would skip for want of one fails instead.
REQUIRE_SERVICES = os.environ.get("FEEDSVC_REQUIRE_SERVICES") == "1"
SECRET = "test-secret-key-0123456789"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"FEEDSVC_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def flushed_test_redis() -> str:
    """The URL of the tests' own Redis database, emptied first."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    redis_url = os.environ.get("FEEDSVC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        Redis.from_url(redis_url, socket_connect_timeout=2).flushdb()
    except RedisConnectionError as exc:
        skip_or_fail(f"Redis not reachable at {redis_url} ({exc})")
    return redis_url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private schema in the test PostgreSQL, migrated once for the whole session."""
    url = os.environ.get("FEEDSVC_TEST_DATABASE_URL", DEFAULT_PG_URL)
    try:
        with migrated_schema(url) as schema_url:
            yield schema_url
    except psycopg.OperationalError as exc:
        skip_or_fail(f"PostgreSQL not reachable at {url} ({str(exc).strip()[:120]})")


@contextmanager
def migrated_schema(url: str) -> Iterator[str]:
    """A new migrated schema in the PostgreSQL at ``url`` (its URL), dropped afterwards."""
    base = make_url(url)
    conninfo = base.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    schema = f"feedsvc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, connect_timeout=3, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    schema_url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )
    engine = make_engine(schema_url)
    upgrade(engine)
    engine.dispose()
    try:
        yield schema_url
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "feedsvc.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


def make_config(database_url: str, **overrides: str) -> dict[str, str]:
    return {
        "FEEDSVC_DATABASE_URL": database_url,
        "FEEDSVC_WORKER": "none",  # tests run jobs explicitly unless they test the thread
        "FEEDSVC_ARGOS_PACKAGES_DIR": os.path.join(_ARGOS_HOME, "no-packages"),
        "FEEDSVC_SECRET_KEY": SECRET,
        "FEEDSVC_BASE_URL": "http://feeds.test",
        "FEEDSVC_LANGUAGES": "en,zh-Hans:reviewed,fr:machine",
        "FEEDSVC_MAX_REQUEST_BYTES": "262144",
    } | overrides


def dispose_app() -> None:
    """In the app context of a test's app: stop its threads (worker, scope poller) and
    close its connections. A poller left running would keep opening connections to a
    schema the session drops, until PostgreSQL has no connection left."""
    app = current_app
    app.extensions["feedsvc.jobs"].dispatcher.stop()
    app.extensions["feedsvc.scopes"].stop()
    database().engine.dispose()


@contextmanager
def running_app(database_url: str, **overrides: str) -> Iterator[Flask]:
    """An app on ``database_url``; its worker thread stopped and engine closed afterwards."""
    app = create_app(make_config(database_url, **overrides))
    app.config["TESTING"] = True
    try:
        yield app
    finally:
        with app.app_context():
            dispose_app()


@contextmanager
def translating_app(
    database_url: str,
    model: Path,
    packages: Path,
    languages: str,
    *,
    demo: bool = False,
    **overrides: str,
) -> Iterator[Flask]:
    """A running app whose engine runs ``model`` (installed into ``packages``; one beam, as
    the weights are random), with the demo articles loaded and translated when asked."""
    install_argos_package(model, packages)
    settings = {
        "FEEDSVC_LANGUAGES": languages,
        "FEEDSVC_ARGOS_PACKAGES_DIR": str(packages),
        "FEEDSVC_ENGINE_BEAM_SIZE": "1",
    }
    with running_app(database_url, **(settings | overrides)) as app:
        if demo:
            with app.app_context():
                load_demo(database(), app.extensions["feedsvc.settings"].target_tags)
                jobs().worker.run_pending()
        yield app


@pytest.fixture(scope="session")
def argosmodel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny genuine en→zh Argos package of tests/argos_fixture.py, built once a run."""
    return build_argos_package(tmp_path_factory.mktemp("argos"), "en", "zh", "1.0")


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    with running_app(database_url) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(app: Flask) -> dict[str, str]:
    """One secret per role; the translator may work on zh-Hans."""
    secrets = {}
    with app.app_context(), database().session() as session:
        store = Store(session)
        for role in Role:
            languages = ["zh-Hans"] if role is Role.TRANSLATOR else []
            _, secrets[role.value] = issue_token(store, f"{role} for tests", role, languages)
    return secrets


class Api:
    """A test client speaking JSON with a bearer token."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return headers | (extra or {})

    def request(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        headers = self.headers(kwargs.pop("headers", None))
        return self.client.open(
            f"/api/v1{path}", method=method, json=json, headers=headers, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PUT", path, json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def editor(client: FlaskClient, tokens: dict[str, str]) -> Api:
    return Api(client, tokens["editor"])


@pytest.fixture
def admin(client: FlaskClient, tokens: dict[str, str]) -> Api:
    return Api(client, tokens["admin"])


@pytest.fixture
def translator(client: FlaskClient, tokens: dict[str, str]) -> Api:
    return Api(client, tokens["translator"])


@pytest.fixture
def anonymous(client: FlaskClient) -> Api:
    return Api(client, None)


@pytest.fixture
def sections(editor: Api) -> list[str]:
    """A small two-level tree: news, news/world, news/local, sport."""
    paths = ["news", "news/world", "news/local", "sport"]
    for path in paths:
        name = path.rsplit("/", 1)[-1].title()
        response = editor.post("/sections", {"path": path, "names": {"en": name}})
        assert response.status_code == 201, response.json
    return paths


def article_doc(**overrides: Any) -> dict[str, Any]:
    doc = {
        "section": "news/world",
        "title": "District opens new bridge",
        "body_html": "<p>GUANGZHOU, Feb. 19 -- The bridge opened on Monday.</p>",
        "summary": "A bridge opened.",
        "author": "Li Wen",
        "published_at": "2026-02-19T09:30:00+08:00",
        "source_name": "Nanfang Plus",
        "source_url": "https://nanfangplus.example.com/bridge",
        "tags": ["transport"],
    }
    return doc | overrides
