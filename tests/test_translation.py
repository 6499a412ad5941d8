"""The translation engine end to end, with a tiny genuine Argos package (random weights):
queue → memory → glossary → CTranslate2 → segments → variant → feeds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedsvc import create_app
from feedsvc.articles import utcnow
from feedsvc.db import database
from feedsvc.domain import JobStatus, Role, SegmentOrigin, SegmentStatus
from feedsvc.engine.projection import decode, detag
from feedsvc.jobs import jobs
from feedsvc.segments import segment_text
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from feedsvc.translation import cut, source_hash
from tests.argos_fixture import install_argos_package
from tests.conftest import Api, dispose_app, flushed_test_redis, make_config

BODY = (
    "<p>GUANGZHOU, Feb. 19 (Nanfang Plus) -- The Guangzhou Development District opened a "
    "robotics park on Monday. It covers 56.39 sq km and cost 3.2 billion yuan.</p>"
    '<p>Officials said the <a href="https://gdd.example.org/park">park</a> will host '
    '<strong>120 companies</strong>. "We are ready," said Dr. Fang.</p>'
)


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
        dispose_app()


@pytest.fixture
def teditor(tapp: Flask) -> Api:
    with tapp.app_context(), database().session() as session:
        from feedsvc.domain import Role
        from feedsvc.tokens import issue_token

        _, secret = issue_token(Store(session), "editor", Role.EDITOR)
    api = Api(tapp.test_client(), secret)
    assert api.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
    return api


@pytest.fixture
def tadmin(tapp: Flask) -> Api:
    """An admin: glossaries are changed by admins (API and review screens alike)."""
    with tapp.app_context(), database().session() as session:
        from feedsvc.domain import Role
        from feedsvc.tokens import issue_token

        _, secret = issue_token(Store(session), "admin", Role.ADMIN)
    return Api(tapp.test_client(), secret)


def segments(app: Flask, article_id: int, lang: str = "zh-Hans") -> list:  # type: ignore[type-arg]
    with app.app_context(), database().session() as session:
        return Store(session).segments.of(article_id, lang)


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
            _, admin_secret = issue_token(store, "admin", Role.ADMIN)
            known = segment_text("x", "It covers 56.39 sq km and cost 3.2 billion yuan.").source
            target = "占地56.39平方公里，投资32亿元。"
            store.memory.remember("en", "zh-Hans", source_hash(known), known, target, utcnow())
        api = Api(app.test_client(), secret)
        api.post("/sections", {"path": "news", "names": {"en": "News"}})
        Api(app.test_client(), admin_secret).post(
            "/glossary/zh-Hans",
            {"source_term": "Guangzhou Development District", "target_term": "广州开发区"},
        )
        article = post(api)
        translation = _wait_for(api, article["id"], "machine_translated")
    finally:
        app.extensions["feedsvc.jobs"].dispatcher.stop()
        with app.app_context():
            dispose_app()
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


def approve(app: Flask, article_id: int, key: str, text: str) -> None:
    with app.app_context(), database().session() as session:
        store = Store(session)
        states = [
            replace(s, target=text, origin=SegmentOrigin.HUMAN, status=SegmentStatus.APPROVED)
            if s.key == key
            else s
            for s in store.segments.of(article_id, "zh-Hans")
        ]
        store.segments.replace(article_id, "zh-Hans", states, utcnow())


def model_runs(app: Flask, article_id: int) -> dict[str, int]:
    return {s.key: s.model_runs for s in segments(app, article_id)}


def test_editing_one_sentence_sends_exactly_one_segment_to_the_model(
    tapp: Flask, teditor: Api
) -> None:
    article = post(teditor)
    assert run_jobs(tapp) == 1
    before = model_runs(tapp, article["id"])
    assert set(before.values()) == {1}
    approve(tapp, article["id"], "body.1.0", "官员表示，该{1}园区{/1}将容纳{2}{3}家企业{/2}。")
    variant_before = teditor.get(f"/articles/{article['id']}/translations/zh-Hans").json

    edited = BODY.replace("opened a robotics park", "opened a large robotics park")
    response = teditor.patch(
        f"/articles/{article['id']}", {"body_html": edited}, headers={"If-Match": "*"}
    )
    assert response.status_code == 200
    assert run_jobs(tapp) == 1
    after = model_runs(tapp, article["id"])
    changed = {key for key in after if after[key] != before.get(key)}
    assert changed == {"body.0.0"}, after
    assert sum(after.values()) == sum(before.values()) + 1
    states = {s.key: s for s in segments(tapp, article["id"])}
    assert states["body.1.0"].status is SegmentStatus.APPROVED
    assert states["body.1.0"].target.startswith("官员表示")
    variant_after = teditor.get(f"/articles/{article['id']}/translations/zh-Hans").json
    assert variant_after["updated_at"] > variant_before["updated_at"]
    assert "官员表示" in variant_after["body_html"]


def test_variant_time_moves_only_when_its_text_changes(tapp: Flask, teditor: Api) -> None:
    article = post(teditor)
    run_jobs(tapp)
    first = teditor.get(f"/articles/{article['id']}/translations/zh-Hans").json
    teditor.patch(f"/articles/{article['id']}", {"tags": ["robots"]}, headers={"If-Match": "*"})
    assert run_jobs(tapp) == 1
    second = teditor.get(f"/articles/{article['id']}/translations/zh-Hans").json
    assert second["article_revision"] == first["article_revision"] + 1
    assert second["source_revision"] == second["article_revision"]
    assert second["updated_at"] == first["updated_at"]
    assert sum(model_runs(tapp, article["id"]).values()) == len(second["segments"])


def test_without_a_package_jobs_wait_then_run_once_one_is_installed(
    database_url: str, tmp_path: Path, argosmodel: Path
) -> None:
    app = create_app(translating_config(database_url, tmp_path / "empty-packages"))
    try:
        api = _editor_api(app)
        article = post(api)
        assert run_jobs(app) == 1
        waiting = api.get(f"/articles/{article['id']}/translations/zh-Hans").json
        assert waiting["job"]["status"] == "waiting"
        assert "feedsvc models install en zh-Hans" in waiting["job"]["last_error"]
        assert waiting["status"] == "none"
        assert {s["status"] for s in waiting["segments"]} == {"pending"}, "nothing is lost"

        result = app.test_cli_runner().invoke(args=["models", "install", str(argosmodel)])
        assert result.exit_code == 0, result.output
        assert "1 waiting translation jobs queued again" in result.output
        assert run_jobs(app) == 1
        done = api.get(f"/articles/{article['id']}/translations/zh-Hans").json
        assert done["job"]["status"] == "done"
        assert done["status"] == "machine_translated"
        assert done["job"]["attempts"] == 2
    finally:
        _dispose(app)


def _editor_api(app: Flask) -> Api:
    with app.app_context(), database().session() as session:
        _, secret = issue_token(Store(session), "editor", Role.EDITOR)
    api = Api(app.test_client(), secret)
    api.post("/sections", {"path": "news", "names": {"en": "News"}})
    return api


def _dispose(app: Flask) -> None:
    with app.app_context():
        dispose_app()


def _worker_env(database_url: str, packages: Path, **extra: str) -> dict[str, str]:
    config = translating_config(database_url, packages, **extra)
    return os.environ | config


def burst_worker(env: dict[str, str]) -> None:
    """``feedsvc worker --burst``: runs what is runnable now, then exits."""
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc.cli", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


LONG_BODY = "".join(
    f"<p>Paragraph {n} says the district opened a new plant on Monday. "
    f"Workers at site number {n} welcomed the news.</p>"
    for n in range(60)
)


@pytest.mark.slow
def test_a_worker_killed_mid_job_loses_nothing(
    database_url: str, packages_dir: Path, argosmodel: Path
) -> None:
    install_argos_package(argosmodel, packages_dir)
    env = _worker_env(
        database_url,
        packages_dir,
        FEEDSVC_ENGINE_CALL_TOKENS="40",  # a few sentences per engine call
        FEEDSVC_JOB_LEASE_SECONDS="2",
        FEEDSVC_JOB_RETRY_SECONDS="1",
    )
    app = create_app(translating_config(database_url, packages_dir, FEEDSVC_JOB_LEASE_SECONDS="2"))
    try:
        api = _editor_api(app)
        article = post(api, body_html=LONG_BODY)
        total = len(cut(article["title"], None, LONG_BODY).segments)
        worker = subprocess.Popen(
            [sys.executable, "-m", "feedsvc.cli", "worker", "--poll", "0.2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = sum(1 for s in segments(app, article["id"]) if s.model_runs)
            if done >= 10:
                break
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        partial = segments(app, article["id"])
        translated = sum(1 for s in partial if s.model_runs)
        assert 10 <= translated < len(partial), "killed in the middle"
        with app.app_context(), database().session() as session:
            (job,) = Store(session).jobs.all()
        assert job.status is JobStatus.RUNNING, "the dead worker still holds it"

        time.sleep(2.5)  # the lease runs out; the lost run counts as an attempt
        burst_worker(env)
        with app.app_context(), database().session() as session:
            (job,) = Store(session).jobs.all()
        assert job.status is JobStatus.QUEUED and job.attempts == 1, "waits out its backoff"
        assert "lease expired" in (job.last_error or "")
        time.sleep(1.2)
        burst_worker(env)
        final = segments(app, article["id"])
        assert len(final) == total
        assert {s.model_runs for s in final} == {1}, "every segment translated exactly once"
        assert all(s.target for s in final)
        with app.app_context(), database().session() as session:
            (job,) = Store(session).jobs.all()
            assert job.status is JobStatus.DONE and job.attempts == 2
            assert Store(session).variants.get(article["id"], "zh-Hans") is not None
    finally:
        _dispose(app)


def test_jobs_go_through_rq_on_redis(
    database_url: str, packages_dir: Path, argosmodel: Path
) -> None:
    from redis import Redis

    redis_url = flushed_test_redis()
    connection = Redis.from_url(redis_url, socket_connect_timeout=2)
    install_argos_package(argosmodel, packages_dir)
    app = create_app(translating_config(database_url, packages_dir, FEEDSVC_REDIS_URL=redis_url))
    try:
        api = _editor_api(app)
        article = post(api)
        from rq import Queue

        queue = Queue("feedsvc-translation", connection=connection)
        assert queue.count == 1, "the job went to Redis"
        env = _worker_env(database_url, packages_dir, FEEDSVC_REDIS_URL=redis_url)
        burst_worker(env)
        assert queue.count == 0
        translation = api.get(f"/articles/{article['id']}/translations/zh-Hans").json
        assert translation["job"]["status"] == "done"
        assert translation["status"] == "machine_translated"
        assert {s["origin"] for s in translation["segments"]} == {"model"}
    finally:
        _dispose(app)
        connection.flushdb()
        connection.close()


def test_glossary_api_and_do_not_translate(tapp: Flask, teditor: Api, tadmin: Api) -> None:
    created = tadmin.post(
        "/glossary/zh-hans", {"source_term": "Nanfang Plus", "do_not_translate": True}
    )
    assert created.status_code == 201, created.json
    assert created.json["target_term"] == "Nanfang Plus"
    assert (
        tadmin.post(
            "/glossary/zh-Hans", {"source_term": "nanfang plus", "do_not_translate": True}
        ).status_code
        == 409
    )
    assert tadmin.post("/glossary/zh-Hans", {"source_term": "GDD"}).status_code == 422
    assert tadmin.post("/glossary/fr", {"source_term": "x", "target_term": "y"}).status_code == 404
    term = tadmin.post(
        "/glossary/zh-Hans", {"source_term": "robotics park", "target_term": "机器人产业园"}
    ).json
    listing = tadmin.get("/glossary/zh-Hans").json["items"]
    assert [t["source_term"] for t in listing] == ["Nanfang Plus", "robotics park"]
    article = post(teditor)
    run_jobs(tapp)
    states = {s.key: s for s in segments(tapp, article["id"])}
    assert "Nanfang Plus" in states["body.0.0"].target
    assert "机器人产业园" in states["title"].target
    replaced = tadmin.request(
        "PUT",
        f"/glossary/zh-Hans/{term['id']}",
        {"source_term": "robotics park", "target_term": "机器人园区"},
    )
    assert replaced.json["target_term"] == "机器人园区"
    assert tadmin.delete(f"/glossary/zh-Hans/{term['id']}").status_code == 204
    assert tadmin.delete(f"/glossary/zh-Hans/{term['id']}").status_code == 404


def test_whole_segment_glossary_term_never_reaches_the_model(
    tapp: Flask, teditor: Api, tadmin: Api
) -> None:
    tadmin.post(
        "/glossary/zh-Hans",
        {"source_term": "Guangzhou Development District", "target_term": "广州开发区"},
    )
    article = post(teditor, title="Guangzhou Development District")
    run_jobs(tapp)
    title = next(s for s in segments(tapp, article["id"]) if s.key == "title")
    assert (title.origin, title.target, title.model_runs) == (
        SegmentOrigin.GLOSSARY,
        "广州开发区",
        0,
    )


def test_demo_translations_seed_the_memory(database_url: str, tmp_path: Path) -> None:
    from feedsvc.demo import load_demo
    from feedsvc.review import issues, terms_of

    app = create_app(translating_config(database_url, tmp_path / "no-packages"))
    try:
        with app.app_context():
            report = load_demo(database(), ("zh-Hans",))
            assert report.memory_entries >= 60
            run = jobs().worker.run_pending()
            assert run == report.articles
            with database().session() as session:
                store = Store(session)
                statuses = {job.article_id: job.status for job in store.jobs.all()}
                translated = [
                    a
                    for a, s in statuses.items()
                    if store.variants.get(a, "zh-Hans") is not None and s is JobStatus.DONE
                ]
                assert len(translated) >= 4
                terms = terms_of(store, "zh-Hans")
                for article_id in translated:
                    states = store.segments.of(article_id, "zh-Hans")
                    assert {s.origin for s in states} <= {SegmentOrigin.MEMORY}
                    # A hit QA warns about arrives for review, never approved.
                    for state in states:
                        warned = bool(issues(state, state.target or "", terms, "zh-Hans"))
                        assert (state.status is SegmentStatus.TRANSLATED) is warned, state
                    reviewed = all(s.status is SegmentStatus.APPROVED for s in states)
                    status = store.variants.get(article_id, "zh-Hans").status.value
                    assert status == ("reviewed" if reviewed else "machine_translated")
                waiting = [a for a, s in statuses.items() if s is JobStatus.WAITING]
                assert len(waiting) == report.articles - len(translated)
                # The image's alt text is a segment of its own, filled from the memory.
                pictured = [a for a in translated if "<img" in store.articles.get(a).body_html]
                assert pictured, "the demo has a translated article with an image"
                for article_id in pictured:
                    alt = next(
                        s
                        for s in store.segments.of(article_id, "zh-Hans")
                        if s.key == "attr.0.img.alt"
                    )
                    assert alt.origin is SegmentOrigin.MEMORY and alt.target
                    assert not alt.target.isascii()
                    body = store.variants.get(article_id, "zh-Hans").body_html
                    assert f'alt="{alt.target}"' in body
    finally:
        _dispose(app)


def test_translations_api_needs_a_token_and_the_language(
    tapp: Flask, teditor: Api, client: FlaskClient
) -> None:
    article = post(teditor)
    path = f"/api/v1/articles/{article['id']}/translations/zh-Hans"
    assert tapp.test_client().get(path).status_code == 401
    assert teditor.get(f"/articles/{article['id']}/translations/de").status_code == 404
    assert teditor.get(f"/articles/{article['id']}/translations/en").status_code == 404
    assert teditor.get("/articles/999/translations/zh-Hans").status_code == 404
    body = teditor.get(f"/articles/{article['id']}/translations/zh-Hans").json
    assert body["job"]["status"] == "queued" and body["counts"]["total"] == 0
    assert json.dumps(body)


NEWS_BODY = (
    "<h2>Robotics park opens in <em>Huangpu</em></h2>"
    "<p>GUANGZHOU, Feb. 19 (Nanfang Plus) -- The park covers 56.39 sq km and cost "
    '3.2 billion yuan. It opened on <a href="https://gdd.example.org/park">Monday</a> '
    "with <strong>120 firms</strong>, said Dr. Fang of the U.S. office.</p>"
    "<ul><li>Phase one: 2026.</li><li>Phase two will add <em>40</em> labs.</li></ul>"
    '<figure><img src="p.jpg" alt="The park at night"><figcaption>The park at night, '
    "seen from the No. 2 bridge.</figcaption></figure>"
)


def test_an_article_of_n_sentences_sends_n_model_inputs(tapp: Flask, teditor: Api) -> None:
    """Headings, list items, captions and alt text are one input each, whole, whatever
    their inline tags and numbers; the job sends them in one call."""
    from tests.test_engine_sentences import CountingModel

    with tapp.app_context():
        translator = jobs().worker.engines.translator("en", "zh-Hans")
        translator._load()
        model = CountingModel(translator._model)
        translator._model = model
    article = post(teditor, title="Park opens", body_html=NEWS_BODY)
    assert run_jobs(tapp) == 1
    pieces = cut("Park opens", None, NEWS_BODY)
    sentences = [s.source for s in pieces.segments]
    assert sentences == [
        "Park opens",
        "Robotics park opens in {1}Huangpu{/1}",
        "GUANGZHOU, Feb. 19 (Nanfang Plus) -- The park covers 56.39 sq km and cost 3.2 "
        "billion yuan.",
        "It opened on {1}Monday{/1} with {2}120 firms{/2}, said Dr. Fang of the U.S. office.",
        "Phase one: 2026.",
        "Phase two will add {1}40{/1} labs.",
        "The park at night, seen from the No. 2 bridge.",
        "The park at night",
    ]
    (call,) = model.calls
    assert len(call.inputs) == len(sentences)
    readable = sorted(decode(tokens) for tokens in call.inputs)
    assert readable == sorted(detag(source).text for source in sentences)
    stored = segments(tapp, article["id"])
    assert all(s.target and s.model_runs == 1 for s in stored)
