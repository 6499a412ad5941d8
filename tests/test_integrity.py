"""Nothing lost, nothing wrong spreads: writers that meet (engine and translator, two
workers, a worker that keeps dying), memory that must not carry another sentence's number,
reject, and feed times and ids that only move forward."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.domain import JobStatus, SegmentOrigin, SegmentStatus
from feedsvc.engine import Term, Translated
from feedsvc.jobs import backoff, jobs
from feedsvc.store import Store
from feedsvc.translation import cut, source_hash
from tests.argos_fixture import install_argos_package
from tests.conftest import Api, dispose_app, make_config

ATOM = "{http://www.w3.org/2005/Atom}"


class MarkingTranslator:
    """A deterministic fake at the Translator interface (workflow tests only): it keeps the
    placeholders and marks the text, so a test can tell the engine's text from a person's."""

    name = "fake 1"

    def __init__(self) -> None:
        self.calls = 0

    def translate(self, sources: Sequence[str], terms: Sequence[Term] = ()) -> list[Translated]:
        self.calls += 1
        return [Translated(f"机器：{source}", 0.5) for source in sources]


class BlockingTranslator(MarkingTranslator):
    """Stops inside a batch until released: between the job's read and its write."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def translate(self, sources: Sequence[str], terms: Sequence[Term] = ()) -> list[Translated]:
        self.entered.set()
        assert self.release.wait(30)
        return super().translate(sources, terms)


class FakeEngines:
    def __init__(self, translator: MarkingTranslator) -> None:
        self.translator_ = translator
        self.packages = jobs().packages

    def translator(self, source: str, target: str) -> MarkingTranslator:
        return self.translator_


def use_engine(app: Flask, translator: MarkingTranslator) -> None:
    with app.app_context():
        jobs().worker.engines = FakeEngines(translator)  # type: ignore[assignment]


def remember(app: Flask, lang: str, source: str, target: str) -> None:
    """A translation memory entry, as an approval (or an older version of feedsvc) left it."""
    with app.app_context(), database().session() as session:
        Store(session).memory.remember(
            "en", lang, source_hash(source), source, target, datetime.now(UTC)
        )


def run_jobs(app: Flask) -> int:
    with app.app_context():
        return jobs().worker.run_pending()


def segments(app: Flask, article_id: int, lang: str = "zh-Hans") -> dict:  # type: ignore[type-arg]
    with app.app_context(), database().session() as session:
        return {s.key: s for s in Store(session).segments.of(article_id, lang)}


def post(editor: Api, body: str, title: str = "District opens new bridge") -> int:
    doc = {"section": "news/world", "title": title, "body_html": body}
    response = editor.post("/articles", doc)
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def segment_api(api: Api, article_id: int, key: str, lang: str = "zh-Hans") -> tuple[str, dict]:  # type: ignore[type-arg]
    path = f"/articles/{article_id}/translations/{lang}/segments"
    items = api.get(path).json["items"]
    found = next(item for item in items if item["key"] == key)
    return f"{path}/{key}", found


def feed_entries(client: FlaskClient, url: str) -> dict[str, str]:
    """Entry id → content text of an Atom feed."""
    response = client.get(url)
    assert response.status_code == 200
    root = etree.fromstring(response.data)
    return {
        entry.findtext(f"{ATOM}id"): "".join(entry.find(f"{ATOM}content").itertext())
        for entry in root.iter(f"{ATOM}entry")
    }


# -- 3: an approval during an engine batch survives ---------------------------------------


def test_an_approval_made_during_an_engine_batch_survives(
    app: Flask, editor: Api, translator: Api, sections: list[str]
) -> None:
    article_id = post(editor, "<p>The bridge opened on Monday. Traffic was light.</p>")
    blocking = BlockingTranslator()
    use_engine(app, blocking)
    with app.app_context():
        zh_job = next(j.id for j in jobs_of(app) if j.lang == "zh-Hans")
    worker = threading.Thread(target=lambda: run_job(app, zh_job))
    worker.start()
    assert blocking.entered.wait(30), "the engine batch started"
    path, title = segment_api(translator, article_id, "title")
    assert title["status"] == "pending"
    saved = translator.patch(
        path,
        {"target": "区里新桥通车", "status": "approved"},
        headers={"If-Match": f'"{title["etag"]}"'},
    )
    assert saved.status_code == 200, saved.json
    blocking.release.set()
    worker.join(30)

    state = segments(app, article_id)
    assert state["title"].target == "区里新桥通车"
    assert state["title"].status is SegmentStatus.APPROVED
    assert state["title"].origin is SegmentOrigin.HUMAN
    assert state["title"].model_runs == 0, "the model's text was never written over it"
    others = [s for key, s in state.items() if key != "title"]
    assert others and all(s.target and s.target.startswith("机器：") for s in others)
    with app.app_context(), database().session() as session:
        store = Store(session)
        history = store.segments.history(state["title"].id)
        (job,) = [j for j in store.jobs.all() if j.id == zh_job]
    assert [(h.action, h.after_target, h.after_status) for h in history] == [
        ("edit", "区里新桥通车", "approved")
    ], "history agrees with the stored segment"
    assert job.status is JobStatus.DONE


def jobs_of(app: Flask) -> list:  # type: ignore[type-arg]
    with app.app_context(), database().session() as session:
        return Store(session).jobs.all()


def run_job(app: Flask, job_id: int) -> None:
    with app.app_context():
        assert jobs().worker.run_next(job_id)


# -- 5: a worker killed on every attempt ----------------------------------------------------


def test_a_job_whose_worker_dies_every_time_ends_failed_after_backoff(
    database_url: str, editor: Api, sections: list[str]
) -> None:
    post(editor, "<p>The bridge opened on Monday.</p>")
    config = make_config(database_url, FEEDSVC_LANGUAGES="en,zh-Hans", FEEDSVC_WORKER="none")
    env = os.environ | config | {"FEEDSVC_JOB_LEASE_SECONDS": "60"}
    app = create_app(config)
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    job_id = next(j.id for j in jobs_of(app) if j.lang == "zh-Hans")

    def worker_at(moment: datetime) -> int:
        done = subprocess.run(
            [sys.executable, "-m", "tests.crashing_worker", moment.isoformat(), str(job_id)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode in (0, -9), done.stderr[-2000:]
        return done.returncode

    def job() -> object:
        with app.app_context(), database().session() as session:
            return Store(session).jobs.get(job_id)

    waits = []
    try:
        for attempt in range(1, 6):
            assert worker_at(now) == -9, f"attempt {attempt} claimed the job and died"
            current = job()
            assert current.status is JobStatus.RUNNING and current.attempts == attempt
            now = current.lease_until + timedelta(seconds=1)  # the lease runs out
            if attempt == 5:
                break
            assert worker_at(now) == 0, "the lost run is counted; the job waits, nothing spins"
            current = job()
            assert current.status is JobStatus.QUEUED and "lease expired" in current.last_error
            waits.append(current.run_after - now)
            assert worker_at(current.run_after - timedelta(seconds=1)) == 0, "not before"
            now = current.run_after
        assert worker_at(now) == 0
        final = job()
        assert final.status is JobStatus.FAILED and final.attempts == 5
        assert "gave up after 5 attempts" in final.last_error
        assert waits == [backoff(n) for n in range(1, 5)]
        assert waits == sorted(waits) and waits[0] < waits[-1], "exponential backoff"
    finally:
        with app.app_context():
            dispose_app()


# -- 6: the translation memory never spreads another sentence's number --------------------


def test_memory_never_carries_another_sentences_number(
    app: Flask, editor: Api, translator: Api, sections: list[str]
) -> None:
    """Numbers are part of the sentence, so of the memory's key: an entry is reused only
    for the very same sentence, value included."""
    use_engine(app, MarkingTranslator())
    first = post(editor, "<p>It covers 56.39 sq km.</p>", title="Park opens")
    run_jobs(app)
    path, segment = segment_api(translator, first, "body.0.0")
    approved = translator.patch(
        path,
        {"target": "公园占地56.39平方公里。", "status": "approved"},
        headers={"If-Match": f'"{segment["etag"]}"'},
    )
    assert approved.status_code == 200, approved.json
    second = post(editor, "<p>It covers 12 sq km.</p>", title="Park grows")
    run_jobs(app)
    other = segments(app, second)["body.0.0"]
    assert other.status is not SegmentStatus.APPROVED and other.origin is SegmentOrigin.MODEL
    assert "56.39" not in (other.target or "")

    third = post(editor, "<p>It covers 56.39 sq km.</p>", title="Park shrinks")
    run_jobs(app)
    reused = segments(app, third)["body.0.0"]
    assert reused.status is SegmentStatus.APPROVED and reused.origin is SegmentOrigin.MEMORY
    assert translator.get(f"/articles/{third}/translations/zh-Hans").json["body_html"] == (
        "<p>公园占地56.39平方公里。</p>"
    )


# -- 7: reject takes the text out of the feeds ----------------------------------------------


def test_reject_takes_the_rejected_text_out_of_the_feeds(
    app: Flask,
    client: FlaskClient,
    editor: Api,
    translator: Api,
    admin: Api,
    sections: list[str],
) -> None:
    use_engine(app, MarkingTranslator())
    title, body = "District opens new bridge", "<p>The bridge opened on Monday.</p>"
    pieces = cut(title, None, body)
    wrong = "这句译文是错的。"
    for lang in ("zh-Hans", "fr"):
        for piece in pieces.segments:
            # Texts QA finds nothing to warn about: memory hits that are approved at once.
            text = (
                wrong
                if piece.key == "body.0.0"
                else "区里的新桥开通了"
                if lang == "zh-Hans"
                else f"[{lang}] {piece.source}"
            )
            remember(app, lang, piece.source, text)
    article_id = post(editor, body, title=title)
    run_jobs(app)
    zh_feed, fr_feed = "/zh-hans/news/feed.atom", "/fr/news/feed.atom"
    entry_zh = f"tag:feeds.test,2026:article/{article_id}/zh-Hans"
    entry_fr = f"tag:feeds.test,2026:article/{article_id}/fr"
    assert wrong in feed_entries(client, zh_feed)[entry_zh], "reviewed: all from memory"
    assert wrong in feed_entries(client, fr_feed)[entry_fr]

    path, segment = segment_api(translator, article_id, "body.0.0")
    assert segment["origin"] == "memory" and segment["status"] == "approved"
    rejected = translator.patch(
        path, {"reject": True}, headers={"If-Match": f'"{segment["etag"]}"'}
    )
    assert rejected.status_code == 200, rejected.json
    assert entry_zh not in feed_entries(client, zh_feed), "left the reviewed feed at once"
    fr_path, fr_segment = segment_api(admin, article_id, "body.0.0", "fr")
    admin.patch(fr_path, {"reject": True}, headers={"If-Match": f'"{fr_segment["etag"]}"'})

    assert run_jobs(app) == 2, "reject queued the article again in both languages"
    again = segments(app, article_id)["body.0.0"]
    assert again.origin is SegmentOrigin.MODEL, "not refilled from the rejected memory"
    assert entry_zh not in feed_entries(client, zh_feed), "machine text waits for review"
    fr_entries = feed_entries(client, fr_feed)
    assert wrong not in fr_entries[entry_fr] and "机器：" in fr_entries[entry_fr]

    path, segment = segment_api(translator, article_id, "body.0.0")
    approved = translator.patch(
        path, {"status": "approved"}, headers={"If-Match": f'"{segment["etag"]}"'}
    )
    assert approved.status_code == 200, approved.json
    assert entry_zh in feed_entries(client, zh_feed), "back once approved again"


# -- 9: feed time never goes backwards; feed ids survive a move --------------------------


def test_feed_updated_never_goes_back_and_ids_survive_a_move(
    client: FlaskClient, editor: Api, sections: list[str]
) -> None:
    def feed(url: str) -> tuple[str, str]:
        root = etree.fromstring(client.get(url).data)
        return root.findtext(f"{ATOM}id"), root.findtext(f"{ATOM}updated")

    older = post(editor, "<p>Old news.</p>", title="Older")
    editor.patch(
        f"/articles/{older}",
        {"published_at": "2026-01-01T00:00:00Z"},
        headers={"If-Match": editor.get(f"/articles/{older}").headers["ETag"]},
    )
    newest = post(editor, "<p>New news.</p>", title="Newest")
    urls = ["/en/news/world/feed.atom", "/en/news/feed.atom", "/en/feed.atom"]
    before = {url: feed(url) for url in urls}
    etag = editor.get(f"/articles/{newest}").headers["ETag"]
    assert editor.delete(f"/articles/{newest}", headers={"If-Match": etag}).status_code == 204
    for url in urls:
        feed_id, updated = feed(url)
        assert feed_id == before[url][0]
        assert datetime.fromisoformat(updated) >= datetime.fromisoformat(before[url][1]), url

    moved = editor.patch("/sections/news", {"path": "press"})
    assert moved.status_code == 200, moved.json
    assert feed("/en/press/world/feed.atom")[0] == before["/en/news/world/feed.atom"][0]
    assert feed("/en/press/feed.atom")[0] == before["/en/news/feed.atom"][0]
    assert feed("/en/feed.atom")[0] == before["/en/feed.atom"][0]
    assert feed("/en/press/feed.atom")[0] != feed("/en/press/world/feed.atom")[0]


# -- 4: two worker processes race on the same jobs, with a real model ---------------------


@pytest.fixture
def racing(database_url: str, tmp_path: Path, argosmodel: Path) -> Iterator[dict[str, str]]:
    install_argos_package(argosmodel, tmp_path / "packages")
    yield make_config(
        database_url,
        FEEDSVC_LANGUAGES="en,zh-Hans:machine",
        FEEDSVC_ARGOS_PACKAGES_DIR=str(tmp_path / "packages"),
        FEEDSVC_ENGINE_BEAM_SIZE="1",
        FEEDSVC_ENGINE_CALL_TOKENS="40",  # a few sentences per engine call
        FEEDSVC_JOB_RETRY_SECONDS="1",
    )


def test_two_worker_processes_race_on_the_same_jobs(racing: dict[str, str]) -> None:
    app = create_app(racing)
    try:
        with app.app_context(), database().session() as session:
            from feedsvc.domain import Role
            from feedsvc.tokens import issue_token

            _, secret = issue_token(Store(session), "editor", Role.EDITOR)
        editor = Api(app.test_client(), secret)
        editor.post("/sections", {"path": "news", "names": {"en": "News"}})
        body = "".join(
            f"<p>Plant {n} opened on Monday. Workers at site {n} welcomed it.</p>" for n in range(6)
        )
        ids = [
            int(
                editor.post(
                    "/articles", {"section": "news", "title": f"Plant news {n}", "body_html": body}
                ).json["id"]
            )
            for n in range(6)
        ]
        env = os.environ | racing
        command = [sys.executable, "-m", "feedsvc.cli", "worker", "--burst"]
        logs = [tempfile.TemporaryFile() for _ in range(2)]
        workers = [subprocess.Popen(command, env=env, stderr=log) for log in logs]
        revisions: dict[int, list[int]] = {article_id: [] for article_id in ids}
        edited = ids[:3]
        for article_id in edited:  # new revisions while both workers run
            etag = editor.get(f"/articles/{article_id}").headers["ETag"]
            patched = editor.patch(
                f"/articles/{article_id}",
                {"body_html": body + "<p>A further plant opened on Tuesday.</p>"},
                headers={"If-Match": etag},
            )
            assert patched.status_code == 200, patched.json
        while any(w.poll() is None for w in workers):
            with app.app_context(), database().session() as session:
                store = Store(session)
                for article_id in ids:
                    variant = store.variants.get(article_id, "zh-Hans")
                    if variant is not None:
                        revisions[article_id].append(variant.source_revision)
        for w, log in zip(workers, logs, strict=True):
            log.seek(0)
            assert w.wait() == 0, log.read()[-2000:].decode()
            log.close()
        finish = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert finish.returncode == 0, finish.stderr[-2000:]

        with app.app_context(), database().session() as session:
            store = Store(session)
            for article_id in ids:
                article = store.articles.get(article_id)
                pieces = cut(article.title, article.summary, article.body_html)
                states = store.segments.of(article_id, "zh-Hans")
                assert [s.key for s in states] == pieces.keys
                for state, piece in zip(states, pieces.segments, strict=True):
                    assert state.source_hash == source_hash(piece.source), "no older sentence"
                    assert state.model_runs == 1, (article_id, state.key, state.model_runs)
                    assert state.target
                variant = store.variants.get(article_id, "zh-Hans")
                assert variant is not None and variant.source_revision == article.revision
                seen = revisions[article_id]
                assert seen == sorted(seen), f"published revision went back: {seen}"
            # A job whose article was edited between two engine calls stops (cancelled);
            # the job of the new revision does the work.
            statuses = {job.status for job in store.jobs.all()}
            assert JobStatus.DONE in statuses and statuses <= {
                JobStatus.DONE,
                JobStatus.CANCELLED,
            }, statuses
            print(
                f"\nraced: {len(ids)} articles, {len(edited)} edited mid-run, "
                f"jobs {len(store.jobs.all())}, variant polls "
                f"{sum(len(v) for v in revisions.values())}"
            )
    finally:
        with app.app_context():
            dispose_app()


def test_a_translator_reads_only_the_glossaries_of_their_languages(
    translator: Api, admin: Api
) -> None:
    assert translator.get("/glossary/zh-Hans").status_code == 200
    assert translator.get("/glossary/fr").status_code == 403
    assert admin.get("/glossary/fr").status_code == 200


# -- races the outside-in review found (Flask app, one pooled connection per thread) ------


def race(app: Flask, token: str, requests: list[tuple[str, str, dict | None, dict]]) -> list:  # type: ignore[type-arg]
    """Send the requests from one thread each, released together; their responses."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)  # type: ignore[type-arg]

    def send(index: int) -> None:
        method, path, body, headers = requests[index]
        api = Api(app.test_client(), token)
        barrier.wait()
        results[index] = api.request(method, path, body, headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_racing_section_writes_answer_4xx_never_500(
    app: Flask, tokens: dict[str, str], sections: list[str]
) -> None:
    created = race(
        app,
        tokens["editor"],
        [("POST", "/sections", {"path": "metro", "names": {"en": "M"}}, {})] * 6,
    )
    assert sorted(r.status_code for r in created) == [201] + [409] * 5
    moved = race(
        app,
        tokens["editor"],
        [("PATCH", "/sections/news/local", {"path": f"local-{n}"}, {}) for n in range(4)],
    )
    codes = sorted(r.status_code for r in moved)
    assert codes[0] == 200 and codes.count(200) == 1 and set(codes[1:]) <= {404, 409}, codes
    renamed = race(
        app,
        tokens["editor"],
        [("PATCH", "/sections/sport", {"names": {"zh-Hans": f"体育{n}"}}, {}) for n in range(4)],
    )
    assert {r.status_code for r in renamed} == {200}


def test_racing_posts_of_one_title_all_get_their_own_slug(
    app: Flask, tokens: dict[str, str], sections: list[str]
) -> None:
    doc = {"section": "news/world", "title": "Same title", "body_html": "<p>Text.</p>"}
    posted = race(
        app,
        tokens["editor"],
        [("POST", "/articles", doc | {"external_id": f"same-{n}"}, {}) for n in range(8)],
    )
    assert [r.status_code for r in posted] == [201] * 8, [r.json for r in posted]
    assert len({r.json["slug"] for r in posted}) == 8


def test_a_delete_without_if_match_is_not_refused_for_a_concurrent_edit(
    app: Flask, tokens: dict[str, str], editor: Api, sections: list[str]
) -> None:
    for round_ in range(5):
        article_id = post(editor, "<p>Text.</p>", title=f"Round {round_}")
        etag = editor.get(f"/articles/{article_id}").headers["ETag"]
        answers = race(
            app,
            tokens["editor"],
            [
                ("DELETE", f"/articles/{article_id}", None, {}),
                ("PATCH", f"/articles/{article_id}", {"title": "Edited"}, {"If-Match": etag}),
            ],
        )
        assert answers[0].status_code == 204, answers[0].json
        assert answers[1].status_code in (200, 410, 412)


def test_a_reject_while_the_job_runs_is_translated_again(
    app: Flask, editor: Api, translator: Api, sections: list[str]
) -> None:
    title, body = (
        "District opens new bridge",
        "<p>The bridge opened on Monday. Traffic was light.</p>",
    )
    pieces = cut(title, None, body)
    first = next(p for p in pieces.segments if p.key == "body.0.0")
    remember(app, "zh-Hans", first.source, "这句译文是错的。")
    article_id = post(editor, body, title=title)
    blocking = BlockingTranslator()
    use_engine(app, blocking)
    zh_job = next(j.id for j in jobs_of(app) if j.lang == "zh-Hans")
    worker = threading.Thread(target=lambda: run_job(app, zh_job))
    worker.start()
    assert blocking.entered.wait(30)
    path, segment = segment_api(translator, article_id, "body.0.0")
    assert segment["origin"] == "memory"
    rejected = translator.patch(
        path, {"reject": True}, headers={"If-Match": f'"{segment["etag"]}"'}
    )
    assert rejected.status_code == 200, rejected.json
    blocking.release.set()
    worker.join(30)
    with app.app_context(), database().session() as session:
        job = Store(session).jobs.get(zh_job)
    assert job.status is JobStatus.QUEUED, "the running job could not be re-queued: it re-runs"
    run_job(app, zh_job)
    again = segments(app, article_id)["body.0.0"]
    assert again.origin is SegmentOrigin.MODEL and again.target and "错" not in again.target
    # The rejected text left the memory: another article with the sentence does not get it.
    other = post(editor, "<p>The bridge opened on Monday.</p>", title="Another bridge")
    run_jobs(app)
    assert "这句译文是错的" not in (segments(app, other)["body.0.0"].target or "")


def test_a_translators_save_between_the_jobs_read_and_write_survives(
    app: Flask,
    editor: Api,
    translator: Api,
    sections: list[str],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip(
            "SQLite serializes writers: no commit can fall between the job's read and write"
        )
    use_engine(app, MarkingTranslator())
    article_id = post(editor, "<p>The bridge opened on Monday.</p>")
    run_jobs(app)
    etag = editor.get(f"/articles/{article_id}").headers["ETag"]
    editor.patch(
        f"/articles/{article_id}",
        {"body_html": "<p>The bridge opened on Monday.</p><p>Traffic was light.</p>"},
        headers={"If-Match": etag},
    )
    path, title = segment_api(translator, article_id, "title")
    from feedsvc.translation import JobRunner

    reconcile = JobRunner._reconcile
    saved: list[int] = []

    def reconcile_then_save(self, store, article, lang, pieces):  # type: ignore[no-untyped-def]
        states = reconcile(self, store, article, lang, pieces)
        if not saved:  # a translator commits between the job's read and its write
            answer = translator.patch(
                path,
                {"target": "区里新桥通车", "status": "approved"},
                headers={"If-Match": f'"{title["etag"]}"'},
            )
            saved.append(answer.status_code)
        return states

    monkeypatch.setattr(JobRunner, "_reconcile", reconcile_then_save)
    run_jobs(app)
    assert saved == [200]
    state = segments(app, article_id)["title"]
    assert (state.target, state.status) == ("区里新桥通车", SegmentStatus.APPROVED)
