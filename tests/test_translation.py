"""The translation engine end to end, with a tiny genuine Argos package (random weights):
queue → memory → glossary → CTranslate2 → segments → variant → feeds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from feedsvc import create_app
from feedsvc.articles import utcnow
from feedsvc.db import database
from feedsvc.jobs import jobs
from feedsvc.segments import segment_text
from feedsvc.store import Store
from feedsvc.translation import source_hash
from tests.argos_fixture import build_argos_package, install_argos_package
from tests.conftest import Api, make_config

BODY = (
    "<p>GUANGZHOU, Feb. 19 (Nanfang Plus) -- The Guangzhou Development District opened a "
    "robotics park on Monday. It covers 56.39 sq km and cost 3.2 billion yuan.</p>"
    '<p>Officials said the <a href="https://gdd.example.org/park">park</a> will host '
    '<strong>120 companies</strong>. "We are ready," said Dr. Fang.</p>'
)


@pytest.fixture(scope="session")
def argosmodel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_argos_package(tmp_path_factory.mktemp("argos"), "en", "zh", "1.0")


def translating_config(database_url: str, packages: Path, **overrides: str) -> dict[str, str]:
    return make_config(
        database_url,
        FEEDSVC_LANGUAGES="en,zh-Hans:machine",
        FEEDSVC_ARGOS_PACKAGES_DIR=str(packages),
        FEEDSVC_ENGINE_BEAM_SIZE="2",
        **overrides,
    )


@pytest.fixture
def packages_dir(tmp_path: Path) -> Path:
    return tmp_path / "argos-packages"


@pytest.fixture
def tapp(database_url: str, packages_dir: Path, argosmodel: Path) -> Iterator[Flask]:
    install_argos_package(argosmodel, packages_dir)
    app = create_app(translating_config(database_url, packages_dir))
    yield app
    app.extensions["feedsvc.jobs"].dispatcher.stop()
    with app.app_context():
        database().engine.dispose()


@pytest.fixture
def teditor(tapp: Flask) -> Api:
    with tapp.app_context(), database().session() as session:
        from feedsvc.domain import Role
        from feedsvc.tokens import issue_token

        _, secret = issue_token(Store(session), "editor", Role.EDITOR)
    api = Api(tapp.test_client(), secret)
    assert api.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
    return api


def segments(app: Flask, article_id: int, lang: str = "zh-Hans") -> list:  # type: ignore[type-arg]
    with app.app_context(), database().session() as session:
        return Store(session).segments(article_id, lang)


def run_jobs(app: Flask) -> int:
    with app.app_context():
        return jobs().worker.run_pending()


def post(api: Api, **fields: object) -> dict:  # type: ignore[type-arg]
    doc = {"section": "news", "title": "GDD opens robotics park", "body_html": BODY} | fields
    response = api.post("/articles", doc)
    assert response.status_code in (200, 201), response.json
    return response.json


def test_posting_an_article_translates_it_through_the_worker_thread(
    database_url: str, packages_dir: Path, argosmodel: Path
) -> None:
    install_argos_package(argosmodel, packages_dir)
    app = create_app(translating_config(database_url, packages_dir, FEEDSVC_WORKER="thread"))
    try:
        with app.app_context(), database().session() as session:
            from feedsvc.domain import Role
            from feedsvc.tokens import issue_token

            store = Store(session)
            _, secret = issue_token(store, "editor", Role.EDITOR)
            known = segment_text("x", "It covers 56.39 sq km and cost 3.2 billion yuan.").source
            target = "占地{1}平方公里，投资{2}亿元。"
            store.remember("en", "zh-Hans", source_hash(known), known, target, utcnow())
        api = Api(app.test_client(), secret)
        api.post("/sections", {"path": "news", "names": {"en": "News"}})
        api.post(
            "/glossary/zh-Hans",
            {"source_term": "Guangzhou Development District", "target_term": "广州开发区"},
        )
        article = post(api)
        translation = _wait_for(api, article["id"], "machine_translated")
    finally:
        app.extensions["feedsvc.jobs"].dispatcher.stop()
        with app.app_context():
            database().engine.dispose()
    origins = {s["key"]: s["origin"] for s in translation["segments"]}
    assert translation["job"]["status"] == "done"
    assert translation["engine"] == "argos translate-en_zh 1.0"
    memory = [s for s in translation["segments"] if s["origin"] == "memory"]
    assert [s["status"] for s in memory] == ["approved"]
    model = [s for s in translation["segments"] if s["origin"] == "model"]
    assert len(model) == len(origins) - 1
    assert all(0 < s["score"] <= 1 and s["engine"] for s in model)
    dateline = next(s for s in model if "Guangzhou Development District" in s["source"])
    assert "广州开发区" in dateline["target"], "the glossary term is enforced"
    linked = next(s for s in model if "{1}park{/1}" in s["source"])
    assert "{1}" in linked["target"] and "{/1}" in linked["target"]
    assert '<a href="https://gdd.example.org/park"' in translation["body_html"]
    assert "56.39" in translation["body_html"] and "占地56.39平方公里" in translation["body_html"]


def _wait_for(api: Api, article_id: int, status: str, timeout: float = 60) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get(f"/articles/{article_id}/translations/zh-Hans")
        assert response.status_code == 200, response.json
        if response.json["status"] == status and response.json["job"]["status"] == "done":
            return response.json
        time.sleep(0.2)
    raise AssertionError(f"no {status} translation after {timeout}s: {response.json}")
