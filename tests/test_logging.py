"""An operator follows one article through the log lines: the POST that created it (its
request id), the jobs it queued, the worker running them (job, article and language on
every line), the variant published and the feed scopes swept; in text and in JSON."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.domain import Role
from feedsvc.logs import JSON_KEYS
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from tests.argos_fixture import install_argos_package
from tests.conftest import Api, dispose_app, make_config

BODY = "<p>The Guangzhou Development District opened a robotics park on Monday.</p>"
REQUEST_ID = "editor-7f3a.post-1"
CONTEXT = re.compile(r"(\w+)=(\S+)")
TEXT_LINE = re.compile(r"^\S+ \S+ \[\d+\] \[(?P<level>[A-Z]+)\] (?P<logger>[\w.]+): (?P<rest>.*)$")


@contextmanager
def app_logging_to(stream: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app configures logging itself, as when run by a command or a plain WSGI server
    (no handler yet), on a stderr that is ``stream``; pytest's handlers come back after."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    for handler in saved:
        root.removeHandler(handler)
    monkeypatch.setattr(sys, "stderr", stream)
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)


def records(text: str, log_format: str) -> list[dict[str, Any]]:
    """Each line as a dict: JSON parsed with its fixed keys checked; text as its level,
    logger, message and every ``key=value`` in it (the context comes last, so it wins)."""
    parsed = []
    for line in text.splitlines():
        if log_format == "json":
            record = json.loads(line)
            assert tuple(record) == JSON_KEYS, line
            parsed.append({k: None if v is None else str(v) for k, v in record.items()})
        else:
            found = TEXT_LINE.match(line)
            assert found is not None, f"not a log line: {line!r}"
            record = {"level": found["level"], "logger": found["logger"]}
            record["message"] = found["rest"]
            record |= dict(CONTEXT.findall(found["rest"]))
            parsed.append(record)
    return parsed


def wait_for(predicate: Any, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"no {what} after {timeout}s"
        time.sleep(0.2)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_one_article_from_post_to_published_feed(
    log_format: str,
    database_url: str,
    tmp_path: Path,
    argosmodel: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    packages = tmp_path / "argos-packages"
    install_argos_package(argosmodel, packages)
    config = make_config(
        database_url,
        FEEDSVC_LANGUAGES="en,zh-Hans:machine",
        FEEDSVC_ARGOS_PACKAGES_DIR=str(packages),
        FEEDSVC_ENGINE_BEAM_SIZE="2",
        FEEDSVC_WORKER="thread",
        FEEDSVC_LOG_FORMAT=log_format,
        FEEDSVC_LOG_LEVEL="INFO",
    )
    stream = io.StringIO()
    with app_logging_to(stream, monkeypatch):
        app = create_app(config)
        try:
            article_id, job_ids = follow_one_article(app, stream)
        finally:
            with app.app_context():
                dispose_app()
    lines = records(stream.getvalue(), log_format)
    assert not [r for r in lines if r["level"] in ("ERROR", "CRITICAL")], stream.getvalue()

    # The POST: its lines carry the request id the client sent.
    posted = [r for r in lines if r.get("request_id") == REQUEST_ID]
    created = [r for r in posted if r["message"].startswith("article created")]
    assert len(created) == 1 and created[0]["article_id"] == str(article_id), posted
    assert created[0]["logger"] == "feedsvc.web.api.articles"
    queued = [r for r in posted if r["message"].startswith("job queued")]
    assert {r["job_id"] for r in queued} == {str(j) for j in job_ids}, posted
    (job_id,) = job_ids

    # The worker: every line of the job says which job, article and language.
    job_lines = [r for r in lines if r.get("job_id") == str(job_id) and r not in queued]
    assert job_lines, stream.getvalue()
    for record in job_lines:
        assert record["article_id"] == str(article_id), record
        assert record["lang"] == "zh-Hans", record
        assert record.get("request_id") is None, "the worker thread serves no request"
    messages = [r["message"].split(" ")[0:2] for r in job_lines]
    assert messages[0] == ["job", "started"], messages
    assert ["engine", "call"] in messages
    assert ["variant", "published"] in messages
    assert messages[-1] == ["job", "finished"], messages
    assert "status=done" in job_lines[-1]["message"]

    # The sweep that renders the feeds the variant changed, after the job.
    after = lines[lines.index(job_lines[-1]) :]
    swept = [r for r in after if r["message"].startswith("feed scopes swept")]
    assert swept and "news" in swept[0]["message"].split("scopes=")[1].split(" ")[0], after


def follow_one_article(app: Flask, stream: io.StringIO) -> tuple[int, list[int]]:
    """POST an article with an X-Request-ID; wait until its translation is in the feed."""
    with app.app_context(), database().session() as session:
        _, secret = issue_token(Store(session), "editor", Role.EDITOR)
    api = Api(app.test_client(), secret)
    assert api.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
    doc = {"section": "news", "title": "GDD opens robotics park", "body_html": BODY}
    posted = api.post("/articles", doc, headers={"X-Request-ID": REQUEST_ID})
    assert posted.status_code == 201, posted.json
    assert posted.headers["X-Request-ID"] == REQUEST_ID
    article_id = int(posted.json["id"])

    def translated() -> bool:
        reply = api.get(f"/articles/{article_id}/translations/zh-Hans")
        return bool(reply.status_code == 200 and reply.json["job"]["status"] == "done")

    wait_for(translated, "finished job")
    wait_for(lambda: "feed scopes swept" in stream.getvalue().split("job finished")[-1], "sweep")
    feed = app.test_client().get("/zh-hans/news/feed.json")
    assert feed.status_code == 200
    assert [item["id"] for item in feed.json["items"]], feed.json
    return article_id, job_ids_of(app)


def job_ids_of(app: Flask) -> list[int]:
    with app.app_context(), database().session() as session:
        return [job.id for job in Store(session).jobs.all()]


@pytest.mark.parametrize(
    "sent",
    [None, "", "has space", "x" * 129, "tab\tinside", "non-ascii-é", "ctl\x7f"],
)
def test_a_bad_or_missing_request_id_is_replaced(app: Flask, sent: str | None) -> None:
    headers = {} if sent is None else {"X-Request-ID": sent}
    reply = app.test_client().get("/api/v1/articles/999999", headers=headers)
    assert reply.status_code == 404
    given = reply.headers["X-Request-ID"]
    assert given != sent and re.fullmatch(r"[0-9a-f]{32}", given)
    assert reply.json["request_id"] == given, "problem documents name the request"


def test_a_sane_request_id_is_echoed_everywhere(app: Flask) -> None:
    client = app.test_client()
    sent = "Root=1-67891233-abcdef012345678912345678;" + "x" * 80
    assert len(sent) <= 128
    for path in ("/healthz", "/api/v1/sections/nope", "/en/feed.atom", "/en/feed.atom"):
        reply = client.get(path, headers={"X-Request-ID": sent})
        assert reply.headers.getlist("X-Request-ID") == [sent], path  # the hit path too
    assert (
        client.get("/api/v1/sections/nope", headers={"X-Request-ID": sent}).json["request_id"]
        == sent
    )


def test_the_worker_command_logs_json_with_job_context(database_url: str, editor: Api) -> None:
    """``feedsvc worker`` configures logging the same way (here: no model, the job waits)."""
    assert editor.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201
    doc = {"section": "news", "title": "Plant opens", "body_html": BODY}
    article_id = editor.post("/articles", doc).json["id"]
    env = os.environ | make_config(database_url, FEEDSVC_LOG_FORMAT="json")
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc.cli", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = records(done.stderr, "json")
    started = [r for r in lines if r["message"].startswith("job started")]
    assert {(r["article_id"], r["lang"]) for r in started} == {
        (str(article_id), "zh-Hans"),
        (str(article_id), "fr"),
    }
    assert all(r["job_id"] for r in started)


FORKING_WORKER = """
import os, sys
from feedsvc.logs import accepted_request_id
before = accepted_request_id(None)
reader, writer = os.pipe()
child = os.fork()
if child == 0:  # the forked worker: report its ids, and never go on running this script
    try:
        os.write(writer, " ".join(accepted_request_id(None) for _ in range(3)).encode())
    finally:
        os._exit(0)
os.close(writer)
os.waitpid(child, 0)
with os.fdopen(reader) as pipe:
    in_child = pipe.read().split()
print(" ".join([before, *in_child, *(accepted_request_id(None) for _ in range(3))]))
"""


def test_request_ids_stay_unique_across_forked_workers() -> None:
    """gunicorn forks workers from one process: each must hand out its own ids. Forked in
    a fresh interpreter, which has no threads of a test session to copy."""
    run = subprocess.run(
        [sys.executable, "-c", FORKING_WORKER], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    ids = run.stdout.split()
    before, in_child, in_parent = ids[0], ids[1:4], ids[4:]
    assert len(set(ids)) == len(ids) == 7
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)
    assert in_child[0][:24] != in_parent[0][:24] == before[:24], "a fork starts its own prefix"
