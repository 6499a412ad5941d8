"""Feed serving: feedsvc's cached feed and its 304 against the plainest Flask app serving
the same bytes, both under gunicorn, measured with wrk in the same run.

    python benchmarks/feed_serving.py [--smoke] [--rounds 7] [--seconds 3]
        [--workers 2] [--threads 4] [--worker-class gthread|sync]
        [--database-url postgresql+psycopg://...]

Loads the demo into a temporary SQLite database (or a fresh schema of the PostgreSQL
given), serves it the way ``feedsvc serve`` does (gunicorn gthread, multiprocess
metrics) with 2 workers, and fetches ``/en/feed.atom`` as a reader does (gzip). A tiny
Flask app (``SAME_BYTES_APP`` below, same gunicorn settings) then serves exactly those
bytes and headers, with a 304 of its own for the same ETag; the script checks that the
two answer alike before it measures.

wrk (-t2 -c32) runs short rounds with the targets alternated (in a different order each
round): feedsvc's 200 and 304, the anchor's 200 and 304, and feedsvc's 200 through
Flask's routing and the view (``?page=1``: a feed parameter skips the hit path). It
prints per-target median req/s, the medians of the per-round ratios (goal: at least 0.8
for the 200 and the 304), and the servers' CPU time per request with the ratios it allows,
which other load on a shared machine disturbs far less than req/s. ``--smoke`` (CI) is 3
rounds of 1 s and takes about 30 s.

Needs ``wrk`` on the PATH (Debian: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

HOST = "127.0.0.1"
PATH = "/en/feed.atom"
VIEW_PATH = f"{PATH}?page=1"  # the same feed, answered by the view rather than the hit path
HOP_BY_HOP = {"date", "server", "connection", "keep-alive", "transfer-encoding"}

# The anchor: what anyone would write to serve these bytes from Flask, and nothing more.
SAME_BYTES_APP = textwrap.dedent(
    '''
    """The same bytes and headers as feedsvc's cached feed, from a plain Flask view."""

    import json
    import os

    from flask import Flask, Response, request

    spec = json.load(open(os.environ["SAME_BYTES_SPEC"]))
    BODY = open(spec["body"], "rb").read()
    HEADERS = [tuple(pair) for pair in spec["headers"]]
    NOT_MODIFIED = [tuple(pair) for pair in spec["not_modified"]]
    ETAG = spec["etag"]

    app = Flask(__name__)


    @app.get(spec["path"])
    def feed():
        if request.if_none_match.contains(ETAG):
            return Response(status=304, headers=NOT_MODIFIED)
        return Response(BODY, headers=HEADERS)
    '''
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def fetch(
    port: int, headers: dict[str, str], path: str = PATH
) -> tuple[int, list[tuple[str, str]], bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


# X-Request-ID differs on every response (feedsvc.logs gives each request its own id), so
# it is left out of the comparison and of the plain app's headers: the plain app then
# sends one header fewer, which only favours it.
PER_REQUEST = {"content-length", "x-request-id"}


def entity_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What the application sent: without what the server adds itself or what differs on
    every request."""
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP | PER_REQUEST]


class Server:
    """A gunicorn process group; ``stop()`` ends it."""

    def __init__(
        self, app: str, env: dict[str, str], workers: int, threads: int, kind: str, log: Path
    ):
        from feedsvc.gunicorn_conf import gunicorn_command

        self.port = free_port()
        command, environment = gunicorn_command(HOST, self.port, workers, threads)
        command[command.index("--worker-class") + 1] = kind
        command[-1] = app
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                env=environment | env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if fetch(self.port, {})[0] == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)
        except ProcessLookupError:
            pass


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by the processes of a process group."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
        if int(fields[2]) == pgid:  # pgrp; then utime and stime
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(server: Server, path: str, headers: dict[str, str], seconds: int) -> tuple[float, float]:
    """Requests per second, and the server's CPU microseconds per request, after checking
    that every answer was the expected kind."""
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    cpu_before = group_cpu_seconds(server.process.pid)
    out = subprocess.run(
        [*command, f"http://{HOST}:{server.port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = group_cpu_seconds(server.process.pid) - cpu_before
    if "Socket errors" in out or "Non-2xx or 3xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if rate is None or count is None:
        raise RuntimeError(f"no rate in wrk's output:\n{out}")
    return float(rate.group(1)), cpu * 1e6 / max(int(count.group(1)), 1)


def prepare_database(url: str | None, directory: Path) -> tuple[str, str | None]:
    """A migrated database with the demo; its URL and (PostgreSQL) the schema to drop."""
    from feedsvc import create_app
    from feedsvc.db import database
    from feedsvc.db.migrate import upgrade
    from feedsvc.demo import load_demo

    schema = None
    if url is None:
        url = f"sqlite:///{directory / 'bench.sqlite3'}"
    else:
        import psycopg
        from sqlalchemy.engine import make_url

        base = make_url(url)
        schema = f"feedsvc_bench_{uuid.uuid4().hex[:8]}"
        conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    app = create_app({"FEEDSVC_DATABASE_URL": url, "FEEDSVC_SECRET_KEY": "benchmark-secret-0123"})
    with app.app_context():
        upgrade(database().engine)
        load_demo(database())
        database().engine.dispose()
    return url, schema


def drop_schema(url: str, schema: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url).set(drivername="postgresql", query={})
    with psycopg.connect(base.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="3 rounds of 1 s (CI)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=3, help="per target and round")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", choices=["gthread", "sync"], default="gthread")
    parser.add_argument("--database-url", help="PostgreSQL (a fresh schema); default SQLite")
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.seconds = 3, 1
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2

    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="feedsvc-bench-") as tmp:
        directory = Path(tmp)
        url, schema = prepare_database(args.database_url, directory)
        try:
            # As `feedsvc serve` runs it: metrics summed over workers through this folder.
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory / "metrics")
            feedsvc_env = {
                "FEEDSVC_DATABASE_URL": url,
                "FEEDSVC_SECRET_KEY": "benchmark-secret-0123",
            }
            feedsvc = Server(
                "feedsvc:create_app()",
                feedsvc_env,
                args.workers,
                args.threads,
                args.worker_class,
                directory / "feedsvc.log",
            )
            servers.append(feedsvc)
            gzip_only = {"Accept-Encoding": "gzip"}
            status, headers, body = fetch(feedsvc.port, gzip_only)
            assert status == 200, status
            etag = dict(headers)["ETag"]
            status, not_modified, _ = fetch(feedsvc.port, gzip_only | {"If-None-Match": etag})
            assert status == 304, status
            (directory / "body").write_bytes(body)
            spec = {
                "path": PATH,
                "body": str(directory / "body"),
                "headers": entity_headers(headers),
                "not_modified": entity_headers(not_modified),
                "etag": etag.strip('"'),
            }
            (directory / "spec.json").write_text(json.dumps(spec))
            (directory / "same_bytes_app.py").write_text(SAME_BYTES_APP)
            anchor = Server(
                "same_bytes_app:app",
                {"SAME_BYTES_SPEC": str(directory / "spec.json"), "PYTHONPATH": str(directory)},
                args.workers,
                args.threads,
                args.worker_class,
                directory / "anchor.log",
            )
            servers.append(anchor)
            for conditional in ({}, {"If-None-Match": etag}):
                mine = fetch(feedsvc.port, gzip_only | conditional)
                theirs = fetch(anchor.port, gzip_only | conditional)
                assert mine[0] == theirs[0] and mine[2] == theirs[2], "not the same answer"
                mine_headers = sorted(entity_headers(mine[1]))
                their_headers = sorted(entity_headers(theirs[1]))
                assert mine_headers == their_headers, (mine_headers, their_headers)

            conditional = gzip_only | {"If-None-Match": etag}
            via_view = fetch(feedsvc.port, gzip_only, VIEW_PATH)
            assert via_view[0] == 200 and via_view[2] == fetch(feedsvc.port, gzip_only)[2]
            targets = {
                "feedsvc_200": (feedsvc, PATH, gzip_only),
                "flask_200": (anchor, PATH, gzip_only),
                "feedsvc_304": (feedsvc, PATH, conditional),
                "flask_304": (anchor, PATH, conditional),
                # The same cached feed through Flask's routing and the view: a parameter a
                # feed knows, even spelled as its default, skips the hit path (an unknown
                # one, ?utm_source=…, is the hit path's too): what answering before Flask saves.
                "feedsvc_view_200": (feedsvc, VIEW_PATH, gzip_only),
            }
            for server, path, headers_sent in targets.values():  # warm every worker
                wrk(server, path, headers_sent, 1)
            rates: dict[str, list[float]] = {name: [] for name in targets}
            cpu: dict[str, list[float]] = {name: [] for name in targets}
            order = list(targets)
            for round_number in range(args.rounds):
                shift = round_number % len(order)
                for name in order[shift:] + order[:shift]:
                    rate, cpu_per_request = wrk(*targets[name], args.seconds)
                    rates[name].append(rate)
                    cpu[name].append(cpu_per_request)
        finally:
            for server in servers:
                server.stop()
            if schema is not None:
                drop_schema(url, schema)

    def ratios(mine: str, theirs: str) -> list[float]:
        """Per round: rounds are short and adjacent, so load from elsewhere hits both."""
        return [a / b for a, b in zip(rates[mine], rates[theirs], strict=True)]

    def cpu_ratio(mine: str, theirs: str) -> float:
        """Throughput the servers' CPU time allows, relative: robust to other load."""
        return statistics.median(cpu[theirs]) / statistics.median(cpu[mine])

    compared = {
        "200": ("feedsvc_200", "flask_200"),
        "304": ("feedsvc_304", "flask_304"),
        "view_200": ("feedsvc_view_200", "flask_200"),
    }

    report = {
        "database": url.split(":", 1)[0],
        "workers": args.workers,
        "threads": args.threads,
        "worker_class": args.worker_class,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "body_bytes": len(body),
        **{f"{name}_per_s": round(statistics.median(values)) for name, values in rates.items()},
        **{
            f"ratio_{kind}": round(statistics.median(ratios(*pair)), 2)
            for kind, pair in compared.items()
        },
        **{
            f"ratios_{kind}": [round(r, 2) for r in ratios(*pair)]
            for kind, pair in compared.items()
        },
        **{f"{name}_cpu_us": round(statistics.median(values)) for name, values in cpu.items()},
        **{f"cpu_ratio_{kind}": round(cpu_ratio(*pair), 2) for kind, pair in compared.items()},
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
