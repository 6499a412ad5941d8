"""Load run: readers on 20 feeds, an editor writing every 0.5 s, a large store.

    python benchmarks/load_run.py [--articles 100000] [--seconds 20] [--rounds 3]
        [--smoke] [--postgres URL] [--redis URL] [--connections 32] [--threads 2]

Fills a fresh PostgreSQL database (created beside the one ``--postgres`` names, dropped
afterwards) with ``--articles`` English articles in eight sections, a reviewed zh-Hans
variant for 30 % of them, then runs what production runs: ``feedsvc serve`` (gunicorn,
4 workers) and ``feedsvc worker`` (RQ on the Redis database ``--redis`` names, which it
empties). wrk reads 20 feed URLs in turn (site and section feeds, en and zh-hans, Atom,
RSS and JSON Feed, ``Accept-Encoding: gzip``); after a warm-up every round has a
read-only phase and then a read + write phase, in which an editor POSTs a new article or
PATCHes a recent one (with If-Match) through the API every 0.5 s.

Prints one JSON object: per phase req/s, p50/p99 latency, responses by status and socket
errors; renders per write (``feedsvc_feed_renders`` from ``/metrics``, summed over the
gunicorn workers and the job worker, during the write phases, divided by the writes);
5xx counts; RSS growth of each gunicorn worker from before the first round to after the
last; and the ratio of read + write to read-only throughput (median over rounds; goal
≥ 0.7). Exits 1 when any response was a 5xx or not 2xx/3xx (readers or editor), 2 when
it could not run.

The store is filled with COPY at schema revision ``FILL_REVISION``, then migrated to the
newest revision, so tables that later migrations derive from articles are filled by
those migrations as on any upgraded installation. Like the demo's human translations,
the variants have no segments. ``--smoke`` is a CI-sized run (2,000 articles, one
round of 6 s phases, well under 90 s) that still prints every figure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from redis import Redis
from sqlalchemy.engine import URL, make_url

from feedsvc.db import make_engine
from feedsvc.db.migrate import upgrade
from feedsvc.sanitize import clean_html

FILL_REVISION = "0006"  # the schema the COPY below writes; later migrations run after it
ZH = "zh-Hans"
ZH_SHARE = 0.3
WORKERS = 4
WRITE_INTERVAL = 0.5
EDITOR_CONNECTIONS = 4  # writes in flight at most
SECTIONS = {  # path → (English name, Chinese name)
    "news": ("News", "新闻"),
    "news/world": ("World", "国际"),
    "news/local": ("Local", "本地"),
    "news/media-views-of-huangpu": ("Media Views of Huangpu", "媒体看黄埔"),
    "business": ("Business", "商业"),
    "business/markets": ("Markets", "市场"),
    "culture": ("Culture", "文化"),
    "sport": ("Sport", "体育"),
}
FEEDS = [  # per language: the three site feeds and seven section feeds
    "feed.atom",
    "feed.rss",
    "feed.json",
    "news/feed.atom",
    "news/feed.rss",
    "news/feed.json",
    "news/world/feed.atom",
    "news/local/feed.atom",
    "business/feed.rss",
    "culture/feed.json",
]
READ_URLS = [f"/{lang}/{feed}" for lang in ("en", "zh-hans") for feed in FEEDS]
WORDS = (
    "district port bridge investment culture festival university hospital research "
    "manufacturing policy residents transport energy innovation park cooperation"
).split()
ZH_WORDS = "黄埔 开发区 投资 文化 大学 医院 研究 制造 政策 居民 交通 能源 创新 合作".split()

WRK_SCRIPT = """
local paths = {%(paths)s}
local threads = {}
wrk.headers["Accept-Encoding"] = "gzip"

function setup(thread)
  thread:set("offset", #threads * 7)
  table.insert(threads, thread)
end

function init(args)
  sent = 0
  statuses = {}
end

function request()
  sent = sent + 1
  return wrk.format("GET", paths[((sent + offset) %% #paths) + 1])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals, counts = {}, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + n
    end
  end
  for status, n in pairs(totals) do
    counts[#counts + 1] = string.format('"%%d": %%d', status, n)
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "statuses": {%%s}, "socket_errors": {"connect": %%d, "read": %%d, ' ..
    '"write": %%d, "timeout": %%d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, table.concat(counts, ", "), errors.connect, errors.read, errors.write,
    errors.timeout))
end
"""


def log(message: str) -> None:
    print(f"[load_run {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the store --------------------------------------------------------------------------


def libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``admin_url``; dropped afterwards."""
    admin = make_url(admin_url)
    name = f"feedsvc_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(admin), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq(admin), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def article_rows(count: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    """(external_id, section path, slug, title, summary, body_html, published_at, tags),
    oldest first, one a minute up to an hour ago."""
    rng = random.Random(10)
    paths = list(SECTIONS)
    first = now - timedelta(hours=1) - timedelta(minutes=count)
    for n in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(40))
        body = "".join(
            f"<p>GUANGZHOU, {n} -- {words}. See <a href='https://example.org/{n}/{p}'>the "
            f"report</a> and {rng.randint(2, 900)} more figures.</p>"
            for p in range(4)
        )
        yield (
            f"load-{n}",
            paths[n % len(paths)],
            f"load-story-{n}",
            f"Story {n}: {' '.join(rng.choice(WORDS) for _ in range(6))}",
            words[:150],
            clean_html(body),
            first + timedelta(minutes=n),
            json.dumps([rng.choice(WORDS)]),
        )


def fill(url: str, articles: int) -> dict[str, Any]:
    """Write the store with COPY at FILL_REVISION, then migrate to the newest revision."""
    engine = make_engine(url)
    started = time.perf_counter()
    upgrade(engine, FILL_REVISION)
    now = datetime.now(UTC)
    rng = random.Random(11)
    with psycopg.connect(libpq(make_url(url))) as connection, connection.cursor() as cursor:
        section_ids: dict[str, int] = {}
        for path, (en, zh) in SECTIONS.items():  # parents come first
            parent = path.rpartition("/")[0]
            cursor.execute(
                "INSERT INTO sections (parent_id, path, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                (section_ids.get(parent), path, now, now),
            )
            section_ids[path] = cursor.fetchone()[0]  # type: ignore[index]
            cursor.executemany(
                "INSERT INTO section_names (section_id, lang, name) VALUES (%s, %s, %s)",
                [(section_ids[path], "en", en), (section_ids[path], ZH, zh)],
            )
        with cursor.copy(
            "COPY articles (external_id, section_id, slug, title, summary, body_html, author, "
            "published_at, source_name, source_url, image_url, tags, revision, created_at, "
            "updated_at) FROM STDIN"
        ) as copy:
            for external_id, path, slug, title, summary, body, published, tags in article_rows(
                articles, now
            ):
                copy.write_row(
                    (
                        external_id,
                        section_ids[path],
                        slug,
                        title,
                        summary,
                        body,
                        "Load Writer",
                        published,
                        "Load Daily",
                        f"https://load.example.org/{slug}",
                        None,
                        tags,
                        1,
                        now,
                        now,
                    )
                )
        cursor.execute("SELECT id FROM articles ORDER BY id")
        translated = [row[0] for row in cursor.fetchall() if rng.random() < ZH_SHARE]
        with cursor.copy(
            "COPY article_variants (article_id, lang, title, summary, body_html, origin, "
            "status, source_revision, created_at, updated_at, shown_at) FROM STDIN"
        ) as copy:
            for article_id in translated:
                text = "".join(rng.choice(ZH_WORDS) for _ in range(30))
                copy.write_row(
                    (
                        article_id,
                        ZH,
                        f"新闻 {article_id}：{text[:12]}",
                        text[:40],
                        f"<p>{text}。</p><p>{text[::-1]}。</p>",
                        "human",
                        "reviewed",
                        1,
                        now,
                        now,
                        now,
                    )
                )
        cursor.executemany(
            "INSERT INTO feed_scopes (path, version, changed_at) VALUES (%s, 1, %s)",
            [(path, now) for path in ["", *SECTIONS]],
        )
        connection.commit()
    copied = time.perf_counter() - started
    upgrade(engine)
    engine.dispose()
    with psycopg.connect(libpq(make_url(url)), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return {
        "articles": articles,
        "zh_hans_variants": len(translated),
        "copy_seconds": round(copied, 1),
        "fill_seconds": round(time.perf_counter() - started, 1),
    }


# -- the processes ----------------------------------------------------------------------


def feedsvc_command() -> list[str]:
    script = Path(sys.executable).with_name("feedsvc")
    return [str(script)] if script.exists() else [sys.executable, "-m", "feedsvc.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(arguments: list[str], environment: dict[str, str], output: Path) -> subprocess.Popen:
    """A feedsvc command in its own process group, its output to a file."""
    with output.open("ab") as sink:
        return subprocess.Popen(
            [*feedsvc_command(), *arguments],
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM to the process group we started, SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_ready(base: str, process: subprocess.Popen, log_file: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{log_file.read_text()}")
        with suppress(OSError):
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        time.sleep(0.5)
    raise RuntimeError(f"server not ready after {timeout:.0f} s:\n{log_file.read_text()}")


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def rss_kib(pid: int) -> int | None:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


# -- measuring --------------------------------------------------------------------------

SAMPLE = re.compile(r"^(\w+)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Counters:
    renders: float
    responses: dict[str, float]  # status → requests answered, every endpoint


def counters(base: str) -> Counters:
    """The sums ``/metrics`` reports over every process."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=30) as response:
        text = response.read().decode()
    renders = 0.0
    responses: dict[str, float] = {}
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if not match:
            continue
        name, labels, value = (
            match.group(1),
            dict(LABEL.findall(match.group(2) or "")),
            float(match.group(3)),
        )
        if name == "feedsvc_feed_renders_total":
            renders += value
        elif name == "feedsvc_http_requests_total":
            status = labels.get("status", "?")
            responses[status] = responses.get(status, 0.0) + value
    return Counters(renders, responses)


def run_wrk(
    base: str, script: Path, seconds: float, threads: int, connections: int
) -> dict[str, Any]:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRK-JSON "))
    raw = json.loads(line.removeprefix("WRK-JSON "))
    statuses = {code: n for code, n in raw["statuses"].items()}
    bad = sum(n for code, n in statuses.items() if not 200 <= int(code) < 400)
    return {
        "req_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "requests": raw["requests"],
        "statuses": statuses,
        "5xx": sum(n for code, n in statuses.items() if int(code) >= 500),
        "not_2xx_3xx": bad,
        "socket_errors": raw["socket_errors"],
    }


@dataclass
class EditorLog:
    scheduled: int = 0
    writes: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class Editor(threading.Thread):
    """Every WRITE_INTERVAL seconds a POST of a new article or a PATCH (GET, then PATCH
    with If-Match) of a recent one. Writes start on schedule even while earlier ones are
    still running (a few at a time), so the write rate is the same however slow the server
    is. Each write opens its own connection: an idle keep-alive connection the server has
    closed would fail a POST that was never sent."""

    def __init__(self, port: int, token: str, recent: Sequence[int], tag: str) -> None:
        super().__init__(name="editor", daemon=True)
        self.port = port
        self.token = token
        # PATCH targets, newest first: taken from the left, put back on the right once
        # written, so two writes in flight never edit the same article.
        self.targets = deque(recent)
        self.tag = tag
        self.log = EditorLog()
        self.stopping = threading.Event()
        self.rng = random.Random(tag)
        self.lock = threading.Lock()

    def run(self) -> None:
        started = time.monotonic()
        with ThreadPoolExecutor(EDITOR_CONNECTIONS, thread_name_prefix="editor") as pool:
            n = 0
            while not self.stopping.is_set():
                section = self.rng.choice(list(SECTIONS))
                with self.lock:
                    patch = n % 2 == 1 and bool(self.targets)
                    target = self.targets.popleft() if patch else 0
                    self.log.scheduled += 1
                pool.submit(self.write, n, section, target)
                n += 1
                self.stopping.wait(max(0.0, started + n * WRITE_INTERVAL - time.monotonic()))

    def request(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        etag: str = "",
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if etag:
            headers["If-Match"] = etag
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def write(self, n: int, section: str, target: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            created = self._write(connection, n, section, target)
        except (OSError, http.client.HTTPException) as exc:
            created = None
            with self.lock:
                self.log.failures.append(f"{exc.__class__.__name__}: {exc}")
        finally:
            connection.close()
        with self.lock:
            self.targets.extend(article for article in (target, created) if article)

    def _write(
        self, connection: http.client.HTTPConnection, n: int, section: str, target: int
    ) -> int | None:
        """POST (no ``target``) or PATCH ``target``; the id of a created article."""
        if not target:
            method, path, etag = "POST", "/api/v1/articles", ""
            body: dict[str, Any] = {
                "external_id": f"load-write-{self.tag}-{n}",
                "section": section,
                "title": f"Editor's story {self.tag} {n}: new park opens",
                "summary": "A park opened.",
                "body_html": f"<p>GUANGZHOU -- The park opened on day {n}. It covers "
                f"{n % 90 + 2} sq km.</p>",
                "published_at": datetime.now(UTC).isoformat(),
                "source_name": "Load Daily",
            }
        else:
            status, headers, _ = self.request(connection, "GET", f"/api/v1/articles/{target}")
            if status != 200:
                with self.lock:
                    self.log.failures.append(f"GET article {target}: {status}")
                return None
            method, path, etag = "PATCH", f"/api/v1/articles/{target}", headers["ETag"]
            body = {"title": f"Story {target}, corrected ({self.tag} {n})"}
        started = time.perf_counter()
        status, _, content = self.request(connection, method, path, body, etag)
        with self.lock:
            self.log.latencies_ms.append((time.perf_counter() - started) * 1000)
            self.log.statuses[str(status)] = self.log.statuses.get(str(status), 0) + 1
            if not 200 <= status < 300:
                self.log.failures.append(f"{method} {path}: {status} {content[:200]!r}")
                return None
            self.log.writes += 1
        return int(json.loads(content)["id"]) if method == "POST" else None


def job_states(url: str) -> dict[str, int]:
    """Translation jobs by status: whether the job worker kept up with the editor."""
    with psycopg.connect(libpq(make_url(url))) as connection:
        found = connection.execute(
            "SELECT status, count(*) FROM translation_jobs GROUP BY status ORDER BY status"
        ).fetchall()
    return {status: count for status, count in found}


def recent_articles(base: str) -> list[int]:
    with urllib.request.urlopen(f"{base}/api/v1/articles?per_page=100", timeout=30) as response:
        return [item["id"] for item in json.load(response)["items"]]


def check_feeds(base: str) -> dict[str, int]:
    """Entries on page 1 of each read URL's JSON Feed sibling: none would measure nothing."""
    entries = {}
    for url in READ_URLS:
        json_url = url.rsplit(".", 1)[0] + ".json"
        with urllib.request.urlopen(f"{base}{json_url}", timeout=60) as response:
            entries[json_url] = len(json.load(response)["items"])
    empty = [url for url, count in entries.items() if not count]
    if empty:
        raise RuntimeError(f"feeds without entries: {empty}")
    return entries


# -- the run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    articles: int
    seconds: float
    rounds: int
    warmup: float
    threads: int
    connections: int
    postgres: str
    redis: str
    grace: float


def load_run(options: Options, work: Path) -> dict[str, Any]:
    redis = Redis.from_url(options.redis)
    redis.flushdb()
    with scratch_database(options.postgres) as url:
        log(f"filling {options.articles} articles into {make_url(url).database}")
        filled = fill(url, options.articles)
        log(f"filled: {filled}")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        packages = work / "argos-packages"  # none: jobs wait for a model, as without one
        packages.mkdir()
        environment = dict(os.environ) | {
            "FEEDSVC_DATABASE_URL": url,
            "FEEDSVC_REDIS_URL": options.redis,
            "FEEDSVC_BASE_URL": base,
            "FEEDSVC_SECRET_KEY": "load-run-secret-key-0123456789",
            "FEEDSVC_ARGOS_PACKAGES_DIR": str(packages),
            "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
            "FEEDSVC_FEED_GRACE_SECONDS": str(options.grace),
            # The run measures what the service sustains, not its abuse limits.
            "FEEDSVC_RATE_LIMITS": "off",
        }
        server_log, worker_log = work / "server.log", work / "worker.log"
        server = start(
            ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)],
            environment,
            server_log,
        )
        worker: subprocess.Popen | None = None
        try:
            token = subprocess.run(  # while the server starts
                [*feedsvc_command(), "tokens", "create", "--role", "editor", "--name", "load"],
                env=environment,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()[-1]
            wait_ready(base, server, server_log)
            # After the server: it empties the metrics directory the worker writes to.
            worker = start(["worker"], environment, worker_log)
            entries = check_feeds(base)
            script = work / "readers.lua"
            script.write_text(
                WRK_SCRIPT % {"paths": ", ".join(json.dumps(url) for url in READ_URLS)}
            )
            log(f"warm-up {options.warmup:.0f} s on {len(READ_URLS)} feeds")
            warmup = run_wrk(base, script, options.warmup, options.threads, options.connections)
            pids = sorted(children(server.pid))
            rss_before = {pid: rss_kib(pid) for pid in pids}
            worker_rss_before = rss_kib(worker.pid)
            recent = recent_articles(base)
            rounds = []
            for number in range(1, options.rounds + 1):
                rounds.append(one_round(base, script, options, port, token, recent, f"r{number}"))
                log(f"round {number}: {json.dumps(rounds[-1]['summary'])}")
            end_counters = counters(base)
            rss_after = {pid: rss_kib(pid) for pid in pids}
            worker_rss_after = rss_kib(worker.pid)
            still = set(children(server.pid))
            worker_alive = worker.poll() is None
            jobs = job_states(url)
        finally:
            if worker is not None:
                stop(worker)
            stop(server)
            redis.flushdb()
    all_statuses = end_counters.responses  # since the server started, warm-up included
    ratios = [r["summary"]["read_write_to_read_only"] for r in rounds]
    writes = sum(r["read_write"]["writes"] for r in rounds)
    renders = sum(r["read_write"]["renders"] for r in rounds)
    readers = [warmup, *(r[phase]["readers"] for r in rounds for phase in PHASES)]
    readers_5xx = sum(result["5xx"] for result in readers)
    readers_bad = sum(result["not_2xx_3xx"] for result in readers)
    editor_bad = sum(r["read_write"]["editor"]["failed"] for r in rounds)
    server_5xx = sum(n for status, n in all_statuses.items() if status.startswith("5"))
    return {
        "benchmark": "load_run",
        "setup": {
            "backend": "postgresql",
            "gunicorn_workers": WORKERS,
            "rq_worker": True,
            "wrk": f"-t{options.threads} -c{options.connections}",
            "read_urls": len(READ_URLS),
            "write_interval_s": WRITE_INTERVAL,
            "feed_grace_seconds": options.grace,
            "phase_seconds": options.seconds,
            "rounds": options.rounds,
            "warmup_seconds": options.warmup,
            "cores": os.cpu_count(),
        }
        | filled,
        "page_one_entries": entries,
        "rounds": rounds,
        "read_only_req_per_s": median(r["read_only"]["readers"]["req_per_s"] for r in rounds),
        "read_write_req_per_s": median(r["read_write"]["readers"]["req_per_s"] for r in rounds),
        "read_only_p50_ms": median(r["read_only"]["readers"]["p50_ms"] for r in rounds),
        "read_only_p99_ms": median(r["read_only"]["readers"]["p99_ms"] for r in rounds),
        "read_write_p50_ms": median(r["read_write"]["readers"]["p50_ms"] for r in rounds),
        "read_write_p99_ms": median(r["read_write"]["readers"]["p99_ms"] for r in rounds),
        "writes": writes,
        "renders_per_write": round(renders / writes, 2) if writes else None,
        "read_only_renders": sum(r["read_only"]["renders"] for r in rounds),
        "5xx": {"readers": readers_5xx, "server_metrics": server_5xx},
        "not_2xx_3xx": {"readers": readers_bad, "editor": editor_bad},
        "reader_socket_errors": {
            kind: sum(result["socket_errors"][kind] for result in readers)
            for kind in ("connect", "read", "write", "timeout")
        },
        "server_responses_by_status": all_statuses,
        "memory": memory(rss_before, rss_after, still, worker_rss_before, worker_rss_after),
        "translation_jobs": jobs,  # none were queued by the fill; waiting: no model installed
        "rq_worker_alive_at_end": worker_alive,
        "read_write_to_read_only": round(statistics.median(ratios), 3),
        "read_write_to_read_only_rounds": ratios,
        "goal_read_write_to_read_only": 0.7,
        "ok": readers_5xx == server_5xx == readers_bad == editor_bad == 0,
    }


PHASES = ("read_only", "read_write")


def one_round(
    base: str,
    script: Path,
    options: Options,
    port: int,
    token: str,
    recent: list[int],
    tag: str,
) -> dict[str, Any]:
    """A read-only phase, then the same readers with the editor writing."""
    before = counters(base)
    read_only = run_wrk(base, script, options.seconds, options.threads, options.connections)
    middle = counters(base)
    editor = Editor(port, token, recent, f"{uuid.uuid4().hex[:6]}-{tag}")
    editor.start()
    read_write = run_wrk(base, script, options.seconds, options.threads, options.connections)
    editor.stopping.set()
    editor.join(120)
    after = counters(base)
    recent[:] = editor.targets  # the next round's editor goes on where this one stopped
    ro_renders, rw_renders = middle.renders - before.renders, after.renders - middle.renders
    latencies = sorted(editor.log.latencies_ms) or [0.0]
    writes = editor.log.writes
    ratio = read_write["req_per_s"] / read_only["req_per_s"] if read_only["req_per_s"] else 0.0
    return {
        "read_only": {"readers": read_only, "renders": ro_renders},
        "read_write": {
            "readers": read_write,
            "renders": rw_renders,
            "writes": writes,
            "writes_scheduled": editor.log.scheduled,
            "renders_per_write": round(rw_renders / writes, 2) if writes else None,
            "editor": {
                "statuses": editor.log.statuses,
                "failed": len(editor.log.failures),
                "failures": editor.log.failures[:5],
                "write_p50_ms": round(statistics.median(latencies), 1),
                "write_max_ms": round(latencies[-1], 1),
            },
        },
        "summary": {
            "read_only_req_per_s": read_only["req_per_s"],
            "read_write_req_per_s": read_write["req_per_s"],
            "read_write_to_read_only": round(ratio, 3),
            "writes": writes,
            "renders_per_write": round(rw_renders / writes, 2) if writes else None,
        },
    }


def median(values: Iterator[float]) -> float:
    return round(statistics.median(list(values)), 1)


def memory(
    before: dict[int, int | None],
    after: dict[int, int | None],
    still: set[int],
    worker_before: int | None,
    worker_after: int | None,
) -> dict[str, Any]:
    """RSS of each gunicorn worker before the first round and after the last, in MiB."""
    workers = []
    for pid, rss in before.items():
        end = after.get(pid)
        workers.append(
            {
                "pid": pid,
                "rss_before_mib": mib(rss),
                "rss_after_mib": mib(end),
                "growth_mib": mib(end - rss) if rss is not None and end is not None else None,
                "alive_at_end": pid in still,
            }
        )
    growths = [w["growth_mib"] for w in workers if w["growth_mib"] is not None]
    return {
        "gunicorn_workers": workers,
        "max_growth_mib": max(growths) if growths else None,
        "rq_worker_rss_before_mib": mib(worker_before),
        "rq_worker_rss_after_mib": mib(worker_after),
    }


def mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3, help="read-only + read/write pairs")
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument(
        "--grace",
        type=float,
        default=0,
        help="FEEDSVC_FEED_GRACE_SECONDS of the server: at most one render per feed per window",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--smoke", action="store_true", help="CI size: 2,000 articles, one round of 6 s"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "FEEDSVC_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="a database on the server to use; the run creates and drops its own beside it",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("FEEDSVC_LOAD_REDIS_URL", "redis://127.0.0.1:6379/11"),
        help="a Redis database the run empties, before and after",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep server and worker logs")
    args = parser.parse_args()
    if args.smoke:
        args.articles, args.seconds, args.rounds, args.warmup = 2_000, 6, 1, 2
    if shutil.which("wrk") is None:
        print("load_run: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    options = Options(
        args.articles,
        args.seconds,
        args.rounds,
        args.warmup,
        args.threads,
        args.connections,
        args.postgres,
        args.redis,
        args.grace,
    )
    # A CI timeout's SIGTERM still stops the server and worker and drops the database.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    work = Path(tempfile.mkdtemp(prefix="feedsvc-load-"))
    started = time.perf_counter()
    try:
        result = load_run(options, work)
    except Exception:
        traceback.print_exc()
        log(f"could not run; logs in {work}")
        return 2
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    if args.keep_logs or not result["ok"]:
        log(f"server and worker logs in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
