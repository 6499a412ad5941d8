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
pair measured back to back, in alternating order, keep that out of the ratio.
"""

from __future__ import annotations

import argparse
import json
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
from tests.nginx_server import NginxServer, free_port, missing  # noqa: E402

URL = "/en/feed.atom"
REQUESTS_PER_SECOND = re.compile(r"Requests/sec:\s+([\d.]+)")
TROUBLE = re.compile(r"(Non-2xx or 3xx responses|Socket errors):.*")


def wrk(url: str, seconds: int, headers: dict[str, str]) -> float:
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if (trouble := TROUBLE.search(output)) is not None:
        raise RuntimeError(f"wrk against {url}: {trouble.group(0)}")
    found = REQUESTS_PER_SECOND.search(output)
    if found is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{output}")
    return float(found.group(1))


def publish_demo(base: Path) -> Path:
    app = create_app(
        {
            "FEEDSVC_DATABASE_URL": f"sqlite:///{base / 'bench.sqlite3'}",
            "FEEDSVC_SECRET_KEY": "benchmark-secret-key-0123",
            "FEEDSVC_WORKER": "none",
        }
    )
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
    try:
        public = publish_demo(base)
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
        for number in range(args.rounds):
            for name, (published_target, plain_target, headers) in pairs.items():
                # Alternate which goes first, so neither always runs on a warmer machine.
                order = [("published", published_target), ("plain", plain_target)]
                for label, url in order if number % 2 == 0 else order[::-1]:
                    rounds[name][label].append(wrk(url, args.seconds, headers))
                print(
                    f"round {number + 1} {name}: published "
                    f"{rounds[name]['published'][-1]:,.0f} req/s, plain file "
                    f"{rounds[name]['plain'][-1]:,.0f} req/s",
                    file=sys.stderr,
                )
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
            }
        print(json.dumps(summary))
    finally:
        if nginx is not None:
            nginx.stop()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
