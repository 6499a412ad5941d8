"""Bounded work (issue 13): body size and segments per article, job cancellation, feed
query parameters, metrics labels and paged exports, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from feedsvc import bulk
from feedsvc.articles import Limits, segment_count, segments_at_most
from feedsvc.db import database
from feedsvc.domain import JobStatus, Role
from feedsvc.engine import Term, Translator
from feedsvc.exchange import parse_po, parse_xliff
from feedsvc.jobs import jobs
from feedsvc.sanitize import clean_html
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from feedsvc.translation import cut
from tests.conftest import Api, article_doc, running_app, translating_app

SENTENCE = "Workers at site number {n} welcomed the news. "
BIG = "2097152"  # a request limit above the body limit, so the body check is what answers


def prose(sentences: int) -> str:
    """``sentences`` sentences in paragraphs of two: each one segment."""
    return "".join(
        f"<p>{SENTENCE.format(n=n)}{SENTENCE.format(n=n + 1).strip()}</p>"
        for n in range(0, sentences, 2)
    )


def body_of(size: int) -> str:
    """Prose of about ``size`` bytes of HTML."""
    paragraph = prose(2)
    return paragraph * (size // len(paragraph) + 1)


@pytest.fixture
def bounded(database_url: str) -> Iterator[Flask]:
    with running_app(database_url, FEEDSVC_MAX_REQUEST_BYTES=BIG) as app:
        yield app


def token(app: Flask, role: Role, languages: Sequence[str] = ()) -> str:
    with app.app_context(), database().session() as session:
        return issue_token(Store(session), f"{role} bounds", role, list(languages))[1]


def editor_of(app: Flask) -> Api:
    api = Api(app.test_client(), token(app, Role.EDITOR))
    for path in ("news", "news/world"):
        response = api.post("/sections", {"path": path, "names": {"en": path.title()}})
        assert response.status_code == 201, response.json
    return api


def stored(app: Flask) -> list[tuple[int, int, str, str]]:
    """Every article as (id, revision, title, body), and nothing else that a write makes."""
    with app.app_context(), database().session() as session:
        store = Store(session)
        return [(a.id, a.revision, a.title, a.body_html) for a in store.articles.all()]


def job_count(app: Flask) -> int:
    with app.app_context(), database().session() as session:
        return len(Store(session).jobs.all())


def refused(response: Any, pointer: str, *words: str) -> str:
    assert response.status_code == 422, (response.status_code, response.get_data()[:300])
    assert response.mimetype == "application/problem+json"
    errors = {e["pointer"]: e["detail"] for e in response.json["errors"]}
    assert pointer in errors, errors
    for word in words:
        assert word in errors[pointer], errors[pointer]
    return errors[pointer]


# -- body size ------------------------------------------------------------------------


def test_a_500_kb_body_is_refused_naming_the_limit_and_nothing_changes(bounded: Flask) -> None:
    api = editor_of(bounded)
    huge = body_of(500_000)[:499_996] + "</p>"
    assert len(huge.encode()) == 500_000  # 500 KB (the schema refuses more characters)

    response = api.post("/articles", article_doc(body_html=huge))
    detail = refused(response, "/body_html", "204800", str(len(huge.encode())))
    assert "bytes" in detail
    assert stored(bounded) == [] and job_count(bounded) == 0

    created = api.post("/articles", article_doc())
    assert created.status_code == 201, created.json
    before, jobs_before = stored(bounded), job_count(bounded)
    path, etag = f"/articles/{created.json['id']}", created.headers["ETag"]
    put = api.put(path, article_doc(body_html=huge), headers={"If-Match": etag})
    refused(put, "/body_html", "204800")
    patch = api.patch(path, {"body_html": huge}, headers={"If-Match": etag})
    refused(patch, "/body_html", "204800")
    assert stored(bounded) == before and job_count(bounded) == jobs_before

    # Just under the limit (few segments, none longer than a segment may be) is accepted.
    at_limit = "<p>" + ("Word " + "word " * 598 + "end. ") * 68 + "</p>"
    assert 203_000 < len(at_limit.encode()) <= 204_800
    ok = api.put(path, article_doc(body_html=at_limit), headers={"If-Match": etag})
    assert ok.status_code == 200, ok.json


def test_the_body_limit_is_a_setting_and_the_request_limit_follows_it(database_url: str) -> None:
    with running_app(database_url, FEEDSVC_MAX_BODY_BYTES="1000") as app:
        settings = app.extensions["feedsvc.settings"]
        assert settings.max_body_bytes == 1000
        api = editor_of(app)
        response = api.post("/articles", article_doc(body_html=f"<p>{'Word. ' * 200}</p>"))
        refused(response, "/body_html", "at most 1000 bytes")
        assert stored(app) == []
    with running_app(database_url, FEEDSVC_MAX_BODY_BYTES="900000") as app:
        # conftest sets FEEDSVC_MAX_REQUEST_BYTES: an explicit request limit stays as set
        assert app.config["MAX_CONTENT_LENGTH"] == 262144
    from feedsvc.config import load_settings

    derived = load_settings(
        Path("/nonexistent"), {"FEEDSVC_MAX_BODY_BYTES": "900000", "FEEDSVC_SECRET_KEY": "s" * 32}
    )
    assert derived.max_request_bytes == 2 * 900000 + 65536, "a body of the allowed size fits"
    default = load_settings(Path("/nonexistent"), {"FEEDSVC_SECRET_KEY": "s" * 32})
    assert (default.max_body_bytes, default.max_segments, default.max_request_bytes) == (
        204800,
        2000,
        1048576,
    )


def test_over_the_request_limit_the_answer_is_413_problem_json(app: Flask) -> None:
    api = editor_of(app)  # conftest's FEEDSVC_MAX_REQUEST_BYTES=262144
    response = api.post("/articles", article_doc(body_html=body_of(500_000)))
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert stored(app) == []


def test_import_lines_over_the_limits_are_rejected_and_the_rest_imported(
    bounded: Flask,
) -> None:
    editor_of(bounded)
    lines = [
        json.dumps(article_doc(external_id="ok-1")),
        json.dumps(article_doc(external_id="huge", body_html=body_of(300_000))),
        json.dumps(article_doc(external_id="many", body_html=prose(60))),
        json.dumps(article_doc(external_id="ok-2", title="Another bridge")),
    ]
    with bounded.app_context():
        report = bulk.import_articles(
            database(), lines, limits=Limits(max_body_bytes=204_800, max_segments=50)
        )
    assert report.created == 2
    reasons = dict(report.rejected)
    assert set(reasons) == {2, 3}
    assert "204800" in reasons[2] and "bytes" in reasons[2]
    assert "at most 50" in reasons[3] and "segments" in reasons[3]
    with bounded.app_context(), database().session() as session:
        store = Store(session)
        assert sorted(a.external_id for a in store.articles.all()) == ["ok-1", "ok-2"]


# -- segments per article ------------------------------------------------------------


def test_an_article_over_the_segment_limit_is_refused_saying_the_limit(
    database_url: str,
) -> None:
    with running_app(database_url, FEEDSVC_MAX_SEGMENTS="50") as app:
        api = editor_of(app)
        body = prose(60)
        exact = len(cut("District opens new bridge", "A bridge opened.", clean_html(body)).segments)
        assert exact == 62
        response = api.post("/articles", article_doc(body_html=body))
        refused(response, "/body_html", "62 translation segments", "at most 50")
        assert stored(app) == [] and job_count(app) == 0

        fits = api.post("/articles", article_doc(body_html=prose(48)))
        assert fits.status_code == 201, fits.json  # 48 + title + summary = 50
        path, etag = f"/articles/{fits.json['id']}", fits.headers["ETag"]
        before = stored(app)
        more = api.patch(path, {"body_html": prose(50)}, headers={"If-Match": etag})
        refused(more, "/body_html", "52 translation segments", "at most 50")
        assert stored(app) == before


def test_the_segment_check_on_a_200_kb_body_is_fast(bounded: Flask) -> None:
    api = editor_of(bounded)
    body = body_of(200_000)
    assert len(body.encode()) <= 204_800
    started = time.perf_counter()
    response = api.post("/articles", article_doc(body_html=body))
    elapsed = time.perf_counter() - started
    refused(response, "/body_html", "at most 2000")  # about 5,000 sentences
    assert elapsed < 10, f"a 200 KB body took {elapsed:.1f} s to check"
    print(f"\n200 KB body refused for its segments in {elapsed:.2f} s")


def test_the_cheap_bound_is_never_below_the_real_count() -> None:
    """The write path cuts only a body whose cheap bound is over the limit: the bound must
    never undercount, whatever the markup."""
    rng = random.Random(13)
    pieces = [
        "A", "b", "Go", "U.S.", "Dr.", ". ", "! ", "? ", "… ", "。", "！", "中文", " ", "\n",
        "\u3000", "\xa0", "•", "1. ", "<p>", "</p>", "<br>", "<li>", "<em>", "</em>",
        "<img alt='Cat' title='Dog'>", "&amp;", "&#12290;", "&#32;", '"', "”", ")", "<td>",
        "The ", "It ", '<a title="X. Y" href="https://a.example/b">', "</a>", "<code>{1}</code>",
        "&nbsp;", "<pre>a. B</pre>", "<h2>", "</h2>", "e.g. ", "Q. ", "<!--seg:body.1.0-->",
    ]  # fmt: skip
    checked = 0
    for _ in range(1500):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 100)))
        body = clean_html(raw)
        if not body:
            continue
        exact = segment_count("T", None, body) - 1
        assert exact <= segments_at_most(body), body
        checked += 1
    assert checked > 1000


# -- job cancellation ----------------------------------------------------------------


class Counting:
    """A translator that counts engine calls and runs ``after_first`` after the first."""

    def __init__(self, inner: Translator, after_first: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0
        self.after_first = after_first

    def translate(self, sources: list[str], terms: Sequence[Term] = ()) -> Any:
        self.calls += 1
        out = self.inner.translate(sources, terms)
        if self.calls == 1:
            self.after_first()
        return out


class CountingEngines:
    def __init__(self, engines: Any, after_first: Any) -> None:
        self.engines = engines
        self.after_first = after_first
        self.made: list[Counting] = []

    def translator(self, source: str, target: str) -> Counting:
        counting = Counting(self.engines.translator(source, target), self.after_first)
        self.made.append(counting)
        return counting

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engines, name)


@pytest.fixture
def translating(database_url: str, tmp_path: Path, argosmodel: Path) -> Iterator[Flask]:
    with translating_app(
        database_url,
        argosmodel,
        tmp_path / "packages",
        "en,zh-Hans:machine",
        FEEDSVC_ENGINE_CALL_TOKENS="40",  # a few sentences per engine call
    ) as app:
        yield app


def in_another_thread(action: Any) -> None:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 - reported in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not failures, failures


def test_deleting_an_article_stops_its_running_job_within_one_engine_call(
    translating: Flask,
) -> None:
    api = editor_of(translating)
    created = api.post("/articles", article_doc(body_html=prose(120)))
    assert created.status_code == 201, created.json
    article_id = created.json["id"]
    deleted: list[int] = []

    def delete() -> None:  # another thread, another session: the API's DELETE
        deleted.append(api.delete(f"/articles/{article_id}").status_code)

    with translating.app_context():
        worker = jobs().worker
        worker.engines = CountingEngines(worker.engines, lambda: in_another_thread(delete))
        assert worker.run_next()
        (counting,) = worker.engines.made
        with database().session() as session:
            store = Store(session)
            (job,) = store.jobs.all()
            translated = sum(1 for s in store.segments.of(article_id, "zh-Hans") if s.model_runs)
    assert deleted == [204]
    total_calls = sum(1 for _ in _engine_calls(translating, article_id))
    assert total_calls > 20, "the article needs many engine calls"
    assert counting.calls <= 2, f"{counting.calls} engine calls after the delete"
    assert job.status is JobStatus.CANCELLED, job
    assert "deleted" in (job.last_error or "") and job.finished_at is not None
    assert 0 < translated < 122 // 4, "only the first call's segments were written"


def test_a_newer_revision_supersedes_the_running_job(translating: Flask) -> None:
    api = editor_of(translating)
    created = api.post("/articles", article_doc(body_html=prose(80)))
    article_id = created.json["id"]

    def edit() -> None:
        response = api.patch(
            f"/articles/{article_id}",
            {"title": "District opens two bridges"},
            headers={"If-Match": created.headers["ETag"]},
        )
        assert response.status_code == 200, response.json

    with translating.app_context():
        worker = jobs().worker
        real = worker.engines
        worker.engines = CountingEngines(real, lambda: in_another_thread(edit))
        assert worker.run_next()
        (counting,) = worker.engines.made
        assert counting.calls <= 2
        with database().session() as session:
            first = Store(session).jobs.all()
        assert [j.status for j in first] == [JobStatus.CANCELLED, JobStatus.QUEUED]
        assert "superseded" in (first[0].last_error or "")
        worker.engines = real
        worker.run_pending(warm_cache=False)
        with database().session() as session:
            store = Store(session)
            statuses = [j.status for j in store.jobs.all()]
            states = store.segments.of(article_id, "zh-Hans")
            variant = store.variants.get(article_id, "zh-Hans")
    assert statuses == [JobStatus.CANCELLED, JobStatus.DONE]
    runs = {s.model_runs for s in states if s.key != "title"}  # the title changed
    assert runs == {1}, "nothing the cancelled job did was redone"
    assert variant is not None and variant.source_revision == 2


def _engine_calls(app: Flask, article_id: int) -> Iterator[list[str]]:
    from feedsvc.translation import calls

    with app.app_context(), database().session() as session:
        article = Store(session).articles.get(article_id)
    pieces = cut(article.title, article.summary, article.body_html)

    class Source:
        def __init__(self, source: str) -> None:
            self.source = source

    yield from calls([Source(s.source) for s in pieces.segments], 40)  # type: ignore[misc]


# -- feed query parameters -----------------------------------------------------------


def renders(app: Flask, fmt: str = "atom") -> float:
    value = app.extensions["feedsvc.metrics"].registry.get_sample_value(
        "feedsvc_feed_renders_total", {"format": fmt}
    )
    return value or 0.0


def test_unknown_feed_query_parameters_are_ignored(database_url: str) -> None:
    with running_app(database_url, FEEDSVC_EAGER_RENDER="off") as app:
        _unknown_feed_query_parameters_are_ignored(app)


def _unknown_feed_query_parameters_are_ignored(bounded: Flask) -> None:
    api = editor_of(bounded)
    assert api.post("/articles", article_doc()).status_code == 201
    client = bounded.test_client()
    plain = client.get("/en/feed.atom")
    assert plain.status_code == 200
    cache = bounded.extensions["feedsvc.feed_cache"]
    entries, rendered = len(cache._items), renders(bounded)

    for n in range(40):
        junk = client.get(f"/en/feed.atom?utm_source=x{n}&cb={n}&page_=2")
        assert junk.status_code == 200
        assert junk.get_data() == plain.get_data(), "the same feed, byte for byte"
        assert b"utm_source" not in junk.get_data() and b"cb=" not in junk.get_data()
    assert len(cache._items) == entries, "no cache entry per junk parameter"
    assert renders(bounded) == rendered, "no render per junk parameter"
    self_link = re.search(rb'<link[^>]*rel="self"[^>]*>', plain.get_data())
    assert self_link and b"?" not in self_link.group()

    # A known parameter still counts, and stays in the self link alone.
    paged = client.get("/en/feed.atom?limit=5&utm_source=x")
    assert paged.status_code == 200
    link = re.search(rb'<link[^>]*rel="self"[^>]*>', paged.get_data())
    assert link and b"limit=5" in link.group() and b"utm_source" not in link.group()
    assert len(cache._items) == entries + 1


# -- metrics labels ------------------------------------------------------------------


def series(app: Flask) -> set[tuple[str, ...]]:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    families = {family.name: family for family in text_string_to_metric_families(text)}
    return {
        (s.labels["endpoint"], s.labels["method"], s.labels["status"])
        for s in families["feedsvc_http_requests"].samples
        if s.name.endswith("_total")
    }


def test_invented_methods_and_paths_make_no_new_metric_series(bounded: Flask) -> None:
    client = bounded.test_client()
    client.get("/api/v1/articles")
    client.open("/api/v1/articles", method="BREW")
    client.open("/no/such/page", method="BREW")
    client.get("/no/such/page")
    known = series(bounded)
    for n in range(30):
        assert client.open("/api/v1/articles", method=f"X{n}").status_code in (400, 405, 501)
        client.open(f"/invented-{n}/path", method=f"Y{n}")
        client.get(f"/invented-{n}")
    after = series(bounded)
    assert {labels[1] for labels in after} <= {"GET", "HEAD", "POST", "OTHER", "other"} | {
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
    }
    assert not any(labels[1].startswith(("X", "Y", "BREW")) for labels in after)
    assert not any("invented" in labels[0] for labels in after)
    new = after - known
    assert new <= {("/metrics", "GET", "200")}, new
    assert ("unmatched", "other", "405") in after


# -- paged exports -------------------------------------------------------------------


def contexts_po(data: bytes) -> list[tuple[int | None, str | None]]:
    return [(e.article_id, e.key) for e in parse_po(data)]


def contexts_xliff(data: bytes) -> list[tuple[int | None, str | None]]:
    return [(e.article_id, e.key) for e in parse_xliff(data)]


def test_whole_language_exports_come_in_pages(database_url: str) -> None:
    with running_app(database_url, FEEDSVC_EXPORT_MAX_SEGMENTS="7") as app:
        api = editor_of(app)
        ids = [
            api.post("/articles", article_doc(title=f"Bridge {n}", body_html=prose(2))).json["id"]
            for n in range(5)
        ]
        with app.app_context():
            jobs().worker.run_pending(warm_cache=False)  # cuts segments; no model: pending
            with database().session() as session:
                store = Store(session)
                expected = {
                    (article_id, s.key)
                    for article_id in ids
                    for s in store.segments.of(article_id, "zh-Hans")
                }
        assert len(expected) == 5 * 4  # title, summary, two sentences each

        translator = Api(app.test_client(), token(app, Role.TRANSLATOR, ["zh-Hans"]))
        for fmt, read in (("po", contexts_po), ("xlf", contexts_xliff)):
            url: str | None = f"/exchange/zh-Hans/export.{fmt}"
            seen: list[tuple[int | None, str | None]] = []
            pages = 0
            while url is not None:
                response = translator.get(url.removeprefix("/api/v1"))
                assert response.status_code == 200, response.get_data()[:300]
                page = read(response.get_data())
                assert 0 < len(page) <= 7, "whole articles, at most 7 segments"
                seen += page
                pages += 1
                link = response.headers.get("Link")
                if link is None:
                    url = None
                    assert b"More segments" not in response.get_data()
                else:
                    url = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1)  # type: ignore[union-attr]
                    assert b"More segments wait for review" in response.get_data()
            assert pages == 5, "one article of four segments per page"
            assert len(seen) == len(set(seen)) and set(seen) == expected, fmt

        one = translator.get(f"/exchange/zh-Hans/export.po?article={ids[0]}")
        assert "Link" not in one.headers and len(contexts_po(one.get_data())) == 4
        bad = translator.get("/exchange/zh-Hans/export.po?after=x")
        assert bad.status_code == 400 and bad.mimetype == "application/problem+json"


def test_a_sentence_longer_than_a_segment_may_be_is_refused(bounded: Flask) -> None:
    """One segment is one model input: 60,000 "x? " is no sentence to translate whole."""
    api = editor_of(bounded)
    response = api.post("/articles", article_doc(body_html="<p>" + "x" * 4001 + "</p>"))
    assert response.status_code == 422
    assert "4000" in response.json["errors"][0]["detail"]
    assert (
        api.post("/articles", article_doc(body_html="<p>" + "x" * 3990 + "</p>")).status_code == 201
    )
