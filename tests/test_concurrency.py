"""Concurrent clients against a real gunicorn (4 worker processes), SQLite and PostgreSQL.

Races: many requests with one If-Match (or one new external_id) released together by a
barrier, each on its own connection; exactly one may win. Soak: a mixed load for
FEEDSVC_SOAK_SECONDS (default 60) with the embedded job thread on; no 5xx, no dropped
connection. Figures are printed: run with ``pytest -s`` to see them.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import article_doc, make_config
from tests.live_server import GunicornServer, Reply

CLIENTS = 20  # concurrent requests per race
ROUNDS = 3  # races per test, each on a fresh article
SOAK_SECONDS = float(os.environ.get("FEEDSVC_SOAK_SECONDS", "60"))
SECTIONS = ("news", "news/world", "sport")


@dataclass(frozen=True)
class Call:
    """One request of a race."""

    method: str
    path: str
    json_body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[Callable[..., GunicornServer]]:
    """Start gunicorn on the test's database (``serve(FEEDSVC_X="…")``); stopped at teardown."""
    servers: list[GunicornServer] = []

    def start(**overrides: str) -> GunicornServer:
        config = make_config(database_url, **overrides)
        server = GunicornServer.start(config, tmp_path / f"gunicorn-{len(servers)}")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(serve: Callable[..., GunicornServer], tokens: dict[str, str]) -> GunicornServer:
    """gunicorn with the sections the articles need (no job thread: races only)."""
    started = serve()
    add_sections(started, tokens["editor"])
    return started


def add_sections(server: GunicornServer, token: str) -> None:
    """Create SECTIONS through the API."""
    for path in SECTIONS:
        names = {"en": path.rsplit("/", 1)[-1].title()}
        reply = server.request("POST", "/api/v1/sections", {"path": path, "names": names}, token)
        assert reply.status == 201, reply.body


def race(server: GunicornServer, token: str, calls: list[Call]) -> list[Reply]:
    """Send ``calls`` at once: a thread and an open connection each, released by a barrier.
    A connection error is raised here, failing the test."""
    barrier = threading.Barrier(len(calls))

    def run(call: Call) -> Reply:
        connection = server.connection()
        barrier.wait(timeout=30)
        return server.request(
            call.method, call.path, call.json_body, token, call.headers, connection
        )

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def create_article(server: GunicornServer, token: str, **overrides: Any) -> Reply:
    """POST a new article_doc(**overrides); it must be created."""
    reply = server.request("POST", "/api/v1/articles", article_doc(**overrides), token)
    assert reply.status == 201, reply.body
    return reply


def assert_clean_log(server: GunicornServer) -> None:
    """No traceback, warning or error in what gunicorn and the app logged."""
    trouble = server.trouble()
    assert not trouble, "gunicorn log:\n" + server.log()[-20_000:]


def test_concurrent_patches_with_one_etag_have_one_winner(
    server: GunicornServer, tokens: dict[str, str], database_url: str
) -> None:
    """20 PATCHes with the same If-Match: one 200, nineteen 412; the winner's title stays."""
    editor = tokens["editor"]
    for round_number in range(ROUNDS):
        created = create_article(server, editor, title=f"Patch race {round_number}")
        path = f"/api/v1/articles/{created.json()['id']}"
        before = server.request("GET", path)
        etag = before.etag
        assert before.status == 200 and etag
        calls = [
            Call("PATCH", path, {"title": f"Title from client {i}"}, {"If-Match": etag})
            for i in range(CLIENTS)
        ]
        replies = race(server, editor, calls)
        statuses = Counter(reply.status for reply in replies)
        print(f"\n[{database_url.split(':')[0]}] PATCH race {round_number}: {dict(statuses)}")
        assert statuses == {200: 1, 412: CLIENTS - 1}
        (winner_index,) = [i for i, reply in enumerate(replies) if reply.status == 200]
        winner = replies[winner_index]
        assert winner.json()["title"] == f"Title from client {winner_index}"
        after = server.request("GET", path)
        assert after.status == 200
        assert after.json()["title"] == f"Title from client {winner_index}"
        assert after.json()["revision"] == before.json()["revision"] + 1
        assert after.etag == winner.etag != etag
        for loser in (reply for reply in replies if reply.status == 412):
            assert loser.headers["content-type"].startswith("application/problem+json")
    assert_clean_log(server)


def test_delete_racing_patch_has_one_winner(
    server: GunicornServer, tokens: dict[str, str], database_url: str
) -> None:
    """10 DELETEs and 10 PATCHes with one If-Match: one 2xx in all; the state is the winner's.

    A loser that reads the article only after a winning DELETE gets 410, not 412: RFC 9110
    §13.2.1 has a server ignore preconditions when the request would fail without them."""
    editor = tokens["editor"]
    winners: Counter[str] = Counter()
    for round_number in range(ROUNDS):
        created = create_article(server, editor, title=f"Delete race {round_number}")
        article_id = created.json()["id"]
        path = f"/api/v1/articles/{article_id}"
        before = server.request("GET", path)
        etag = before.etag
        assert before.status == 200 and etag
        calls = [
            Call("DELETE", path, None, {"If-Match": etag})
            if i % 2 == 0
            else Call("PATCH", path, {"title": f"Title from client {i}"}, {"If-Match": etag})
            for i in range(CLIENTS)
        ]
        replies = race(server, editor, calls)
        statuses = Counter(
            (call.method, reply.status) for call, reply in zip(calls, replies, strict=True)
        )
        print(
            f"\n[{database_url.split(':')[0]}] DELETE/PATCH race {round_number}: "
            f"{dict(sorted(statuses.items()))}"
        )
        won = [i for i, reply in enumerate(replies) if 200 <= reply.status < 300]
        assert len(won) == 1, statuses
        (winner_index,) = won
        winner = replies[winner_index]
        winners[calls[winner_index].method] += 1
        losing = {reply.status for i, reply in enumerate(replies) if i != winner_index}
        after = server.request("GET", path)
        if calls[winner_index].method == "PATCH":
            assert winner.status == 200
            assert losing == {412}
            assert after.status == 200
            assert after.json()["title"] == f"Title from client {winner_index}"
            assert after.json()["revision"] == before.json()["revision"] + 1
            assert after.etag == winner.etag
        else:
            assert winner.status == 204
            assert losing <= {412, 410}
            assert after.status == 410
            listing = server.request(
                "GET", "/api/v1/articles?include_deleted=true&per_page=100", token=editor
            )
            (tombstone,) = [item for item in listing.json()["items"] if item["id"] == article_id]
            assert tombstone["deleted_at"] is not None
            assert tombstone["title"] == f"Delete race {round_number}"
            assert tombstone["revision"] == before.json()["revision"] + 1
    print(f"\n[{database_url.split(':')[0]}] DELETE/PATCH race winners: {dict(winners)}")
    assert_clean_log(server)


def test_concurrent_posts_of_one_new_external_id_make_one_row(
    server: GunicornServer, tokens: dict[str, str], database_url: str
) -> None:
    """20 POSTs of one document with a new external_id: one 201, nineteen 200, one row."""
    editor = tokens["editor"]
    for round_number in range(ROUNDS):
        external_id = f"race-{uuid.uuid4()}"
        doc = article_doc(external_id=external_id, title=f"Upsert race {round_number}")
        replies = race(server, editor, [Call("POST", "/api/v1/articles", doc)] * CLIENTS)
        statuses = Counter(reply.status for reply in replies)
        print(f"\n[{database_url.split(':')[0]}] POST race {round_number}: {dict(statuses)}")
        assert statuses == {201: 1, 200: CLIENTS - 1}
        documents = [reply.json() for reply in replies]
        assert {d["id"] for d in documents} == {documents[0]["id"]}
        assert {d["revision"] for d in documents} == {1}, "identical content, one revision"
        assert {reply.etag for reply in replies} == {replies[0].etag}
    listing = server.request(
        "GET", "/api/v1/articles?include_deleted=true&per_page=100", token=editor
    ).json()
    assert listing["total"] == ROUNDS
    assert sorted(item["title"] for item in listing["items"]) == [
        f"Upsert race {n}" for n in range(ROUNDS)
    ]
    assert_clean_log(server)


@dataclass
class Tally:
    """What the soak's clients saw: statuses per kind of request, connection errors."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    slowest: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, reply: Reply) -> None:
        with self.lock:
            self.statuses[(kind, reply.status)] += 1
            self.slowest[kind] = max(self.slowest.get(kind, 0.0), reply.seconds)

    def error(self, kind: str, exc: BaseException) -> None:
        with self.lock:
            self.errors.append(f"{kind}: {exc!r}")


# What each kind of request may answer; anything else (a 5xx above all) fails the soak.
SOAK_ALLOWED = {
    "POST new": {201},
    "POST again": {200},
    "GET for ETag": {200},
    "PATCH": {200, 412},
    "GET read": {200},
    "GET redirect": {301},
}
READ_PATHS = (
    "/api/v1/articles?per_page=20",
    "/api/v1/articles/{id}",
    "/api/v1/articles/{id}/translations/zh-Hans",  # needs a token: records its use
    "/api/v1/glossary/zh-Hans",  # needs a token
    "/en/feed.atom",
    "/zh-hans/feed.rss",
    "/fr/feed.json",
    "/en/news/feed.atom",
    "/fr/news/world/feed.rss",
    "/feeds.opml",
    "/en/",
    "/en/articles/{id}",
)


@pytest.mark.slow
def test_mixed_load_soak(
    serve: Callable[..., GunicornServer], tokens: dict[str, str], database_url: str
) -> None:
    """8 clients for FEEDSVC_SOAK_SECONDS with the job thread on: POSTs, If-Match PATCHes
    and reads of the API and the feeds with a GET-only translator token. No 5xx, no
    connection error; the GET-only token's use is recorded."""
    # Full-speed writes with one token: a load test, not abuse (no rate limits).
    server = serve(FEEDSVC_WORKER="thread", FEEDSVC_RATE_LIMITS="off")
    editor, translator = tokens["editor"], tokens["translator"]
    add_sections(server, editor)
    ids = [create_article(server, editor, title=f"Seed {n}").json()["id"] for n in range(5)]
    ids_lock = threading.Lock()
    tally = Tally()
    deadline = time.monotonic() + SOAK_SECONDS

    def some_id(rng: random.Random, hot: bool) -> int:
        """An article's id; ``hot``: mostly one of the five seeds."""
        with ids_lock:  # patchers mostly fight over the seeds: that makes 412s
            return rng.choice(ids[:5] if hot and rng.random() < 0.8 else ids)

    def poster(number: int) -> None:
        """POST new articles; every fifth POST updates the previous one (upsert)."""
        rng = random.Random(number)
        for n in itertools.count():
            if time.monotonic() >= deadline:
                return
            again = n % 5 == 4
            kind = "POST again" if again else "POST new"
            external = f"soak-{number}-{n - 1 if again else n}"
            doc = article_doc(
                external_id=external,
                title=f"Soak {number}-{n}",
                section=rng.choice(SECTIONS),
                published_at=f"2026-02-{1 + n % 28:02d}T09:30:00Z",
            )
            try:
                reply = server.request("POST", "/api/v1/articles", doc, editor)
            except OSError as exc:
                tally.error(kind, exc)
                continue
            tally.add(kind, reply)
            if reply.status == 201:
                with ids_lock:
                    ids.append(reply.json()["id"])

    def patcher(number: int) -> None:
        """GET an article for its ETag, then PATCH it with If-Match (412 if beaten to it)."""
        rng = random.Random(100 + number)
        while time.monotonic() < deadline:
            path = f"/api/v1/articles/{some_id(rng, hot=True)}"
            try:
                got = server.request("GET", path)
                tally.add("GET for ETag", got)
                if got.status != 200 or got.etag is None:
                    continue
                time.sleep(rng.random() * 0.02)  # a window for another patcher to win
                title = f"Patched by {number} {rng.random():.6f}"
                reply = server.request(
                    "PATCH", path, {"title": title}, editor, {"If-Match": got.etag}
                )
            except OSError as exc:
                tally.error("PATCH", exc)
                continue
            tally.add("PATCH", reply)

    def reader(number: int) -> None:
        """GET the API, pages and feeds with the translator token (it never writes)."""
        rng = random.Random(200 + number)
        while time.monotonic() < deadline:
            path = rng.choice(READ_PATHS).format(id=some_id(rng, hot=False))
            try:
                reply = server.request("GET", path, token=translator)
                if reply.status == 301:  # /en/articles/<id> → /en/articles/<id>/<slug>
                    tally.add("GET redirect", reply)
                    reply = server.request("GET", reply.headers["location"], token=translator)
            except OSError as exc:
                tally.error("GET read", exc)
                continue
            tally.add("GET read", reply)

    clients = (
        [threading.Thread(target=poster, args=(n,)) for n in range(2)]
        + [threading.Thread(target=patcher, args=(n,)) for n in range(3)]
        + [threading.Thread(target=reader, args=(n,)) for n in range(3)]
    )
    started = time.monotonic()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(SOAK_SECONDS + 120)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in clients), "a client hung"

    listed = server.request("GET", "/api/v1/tokens", token=tokens["admin"])
    assert listed.status == 200, listed.body
    used = {item["role"]: item["last_used_at"] for item in listed.json()["items"]}
    total = sum(tally.statuses.values())
    backend = database_url.split(":")[0]
    jobs_run = server.log().count("feedsvc.jobs.worker: job finished")
    print(
        f"\n[{backend}] soak {elapsed:.1f}s, 8 clients: {total} requests "
        f"({total / elapsed:.0f}/s), {len(tally.errors)} connection errors, "
        f"{len(ids)} articles, {jobs_run} jobs run by the worker threads"
    )
    for (kind, status), count in sorted(tally.statuses.items()):
        print(f"[{backend}]   {kind:13} {status}: {count:6}  slowest {tally.slowest[kind]:.2f}s")
    print(f"[{backend}]   last_used_at: {used}")
    server_errors = {key: n for key, n in tally.statuses.items() if key[1] >= 500}
    assert not server_errors, f"5xx answers {server_errors}; log:\n{server.log()[-20_000:]}"
    assert not tally.errors, tally.errors[:10]
    unexpected = {key: n for key, n in tally.statuses.items() if key[1] not in SOAK_ALLOWED[key[0]]}
    assert not unexpected, unexpected
    assert tally.statuses[("POST new", 201)] > 0 and tally.statuses[("PATCH", 200)] > 0
    assert used["translator"] is not None, "the GET-only token's use was not recorded"
    assert used["editor"] is not None
    assert_clean_log(server)
