"""Static serving: nginx answering from ``feedsvc publish`` output against nginx serving a
plain file of the same bytes, measured with wrk in the same run.

    python benchmarks/static_serving.py [--rounds 15] [--seconds 2] [--smoke]

Loads the demo into a temporary SQLite database, publishes it, and starts one nginx with
the committed ``deploy/nginx.conf`` plus one more server block on another port that serves
a copy of the same bytes as a plain file (``location / {}``: no map, no try_files, no
precompressed siblings, no added headers). ``wrk -t2 -c32`` then requests /en/feed.atom
from each in alternation, in short rounds, twice over: without Accept-Encoding (the
published identity file against the same bytes), and with ``Accept-Encoding: gzip, br``
(the published .br sibling against a plain copy of those bytes). Prints req/s per round,
the medians, the median of the per-round ratios (goal: ≥ 0.9) and their quartiles. On a
shared machine the load of others moves from second to second: many short rounds, each
pair measured back to back, in alternating order, keep that out of the ratio. Less
sensitive to that load is what each request costs nginx: its workers' CPU time (from
/proc) over the requests wrk counted, also printed, with its ratio.

For scale (not with --smoke), each round also measures the app itself: gunicorn with 2
sync workers on the same database, answering the same URL from its render cache.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.db.migrate import upgrade
from feedsvc.demo import load_demo
from feedsvc.publish import publish_all

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.nginx_server: the same nginx start-up as the tests
from tests.live_server import GunicornServer  # noqa: E402
from tests.nginx_server import NginxServer, free_port, missing  # noqa: E402

URL = "/en/feed.atom"
REQUESTS_PER_SECOND = re.compile(r"Requests/sec:\s+([\d.]+)")
REQUESTS = re.compile(r"(\d+) requests in")
TROUBLE = re.compile(r"(Non-2xx or 3xx responses|Socket errors):.*")


def children_cpu_seconds(parent: int) -> float:
    """User + system CPU time of ``parent``'s child processes (nginx's workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == parent:  # ppid; then utime and stime are fields 14 and 15
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str, seconds: int, headers: dict[str, str], nginx_pid: int | None = None
) -> tuple[float, float | None]:
    """Requests per second, and (with ``nginx_pid``) microseconds of nginx worker CPU time
    per request."""
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    before = children_cpu_seconds(nginx_pid) if nginx_pid else 0.0
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    spent = children_cpu_seconds(nginx_pid) - before if nginx_pid else 0.0
    if (trouble := TROUBLE.search(output)) is not None:
        raise RuntimeError(f"wrk against {url}: {trouble.group(0)}")
    rate, count = REQUESTS_PER_SECOND.search(output), REQUESTS.search(output)
    if rate is None or count is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{output}")
    cpu = spent / int(count.group(1)) * 1e6 if nginx_pid else None
    return float(rate.group(1)), cpu


def publish_demo(base: Path, config: dict[str, str]) -> Path:
    app = create_app(config)
    with app.app_context():
        upgrade(database().engine)
        load_demo(database())
    public = base / "public"
    report = publish_all(app, public)
    if report.failed:
        raise RuntimeError(f"publish failed: {report.failed}")
    return public


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=int, default=2, help="length of one wrk run")
    parser.add_argument("--smoke", action="store_true", help="4 rounds of 1 s (under 30 s)")
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.seconds = 4, 1
    if (reason := missing()) is not None or shutil.which("wrk") is None:
        print(f"cannot run: {reason or 'wrk is not installed (apt-get install wrk)'}")
        return 1
    base = Path(tempfile.mkdtemp(prefix="feedsvc-static-bench-"))
    base.chmod(0o755)  # nginx's workers (www-data) read the files
    nginx: NginxServer | None = None
    gunicorn: GunicornServer | None = None
    config = {
        "FEEDSVC_DATABASE_URL": f"sqlite:///{base / 'bench.sqlite3'}",
        "FEEDSVC_SECRET_KEY": "benchmark-secret-key-0123",
        "FEEDSVC_WORKER": "none",
    }
    try:
        public = publish_demo(base, config)
        plain = base / "plain"
        plain.mkdir()
        published = public / URL.lstrip("/")
        shutil.copyfile(published, plain / "feed.atom")
        shutil.copyfile(published.with_name("feed.atom.br"), plain / "feed.atom.br.bytes")
        for path in (plain, *plain.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)
        plain_port = free_port()
        baseline = (
            f"    server {{\n        listen 127.0.0.1:{plain_port};\n        root {plain};\n"
            "        location / {\n        }\n    }\n"
        )
        # The upstream is never contacted: every URL measured here is a file.
        nginx = NginxServer.start(public, "127.0.0.1:9", base / "nginx", extra_http=baseline)
        published_url = f"{nginx.base_url}{URL}"
        plain_base = f"http://127.0.0.1:{plain_port}"
        pairs = {
            "identity": (published_url, f"{plain_base}/feed.atom", {}),
            "br": (
                published_url,
                f"{plain_base}/feed.atom.br.bytes",
                {"Accept-Encoding": "gzip, br"},
            ),
        }
        rounds: dict[str, dict[str, list[float]]] = {
            name: {"published": [], "plain": []} for name in pairs
        }
        cpu: dict[str, dict[str, list[float]]] = {
            name: {"published": [], "plain": []} for name in pairs
        }
        app_rates: list[float] = []
        app_ratios: list[float] = []
        if not args.smoke:
            gunicorn = GunicornServer.start(config, base / "gunicorn", workers=2)
            gunicorn.request("GET", URL)  # rendered once; every later request is a hit
        for number in range(args.rounds):
            for name, (published_target, plain_target, headers) in pairs.items():
                # Alternate which goes first, so neither always runs on a warmer machine.
                order = [("published", published_target), ("plain", plain_target)]
                for label, url in order if number % 2 == 0 else order[::-1]:
                    rate, cost = wrk(url, args.seconds, headers, nginx.process.pid)
                    rounds[name][label].append(rate)
                    cpu[name][label].append(cost or 0.0)
                print(
                    f"round {number + 1} {name}: published "
                    f"{rounds[name]['published'][-1]:,.0f} req/s, plain file "
                    f"{rounds[name]['plain'][-1]:,.0f} req/s",
                    file=sys.stderr,
                )
            if gunicorn is not None:
                app_rates.append(wrk(f"{gunicorn.base_url}{URL}", args.seconds, {})[0])
                app_ratios.append(rounds["identity"]["published"][-1] / app_rates[-1])
                print(f"round {number + 1} app: {app_rates[-1]:,.0f} req/s", file=sys.stderr)
        summary: dict[str, object] = {"url": URL, "rounds": args.rounds, "seconds": args.seconds}
        for name, measured in rounds.items():
            ratios = [p / q for p, q in zip(measured["published"], measured["plain"], strict=True)]
            quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
            summary[name] = {
                "published_per_s": round(statistics.median(measured["published"])),
                "plain_file_per_s": round(statistics.median(measured["plain"])),
                "ratio": round(statistics.median(ratios), 3),
                # How much the rounds disagree: on a quiet machine a narrow band around 1.
                "ratio_quartiles": [round(quartiles[0], 2), round(quartiles[2], 2)],
                "nginx_cpu_us_per_request": {
                    label: round(statistics.median(costs), 1) for label, costs in cpu[name].items()
                },
                # Throughput at saturation goes as the inverse of the cost: plain / published.
                "cpu_ratio": round(
                    statistics.median(cpu[name]["plain"])
                    / statistics.median(cpu[name]["published"]),
                    3,
                ),
            }
        if app_rates:
            summary["app"] = {
                "gunicorn_2_workers_cached_per_s": round(statistics.median(app_rates)),
                "published_to_app": round(statistics.median(app_ratios), 1),
            }
        print(json.dumps(summary))
    finally:
        if nginx is not None:
            nginx.stop()
        if gunicorn is not None:
            gunicorn.stop()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
