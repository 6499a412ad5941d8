"""Feed serving: cached responses against full renders, measured in the same run.

    python benchmarks/feed_serving.py [--requests 300]

Loads the demo into a temporary SQLite database and requests /en/feed.atom (20 entries)
through the WSGI app: once per request with the render cache cleared (every request
renders), and once with it warm (what a polling reader gets). Reports requests/s for
both and the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.db.migrate import upgrade
from feedsvc.demo import load_demo
from feedsvc.web.feeds import CACHE_KEY

URLS = ["/en/feed.atom", "/en/feed.rss", "/en/feed.json", "/zh-hans/news/feed.atom"]


def rate(client, requests: int, clear) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for n in range(requests):
        clear()
        response = client.get(URLS[n % len(URLS)], headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
    return requests / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "FEEDSVC_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "FEEDSVC_SECRET_KEY": "benchmark-secret-key-0123",
            }
        )
        with app.app_context():
            upgrade(database().engine)
            load_demo(database())
        client = app.test_client()
        cache = app.extensions[CACHE_KEY]
        rendering = rate(client, args.requests, cache.clear)
        cached = rate(client, args.requests, lambda: None)
    print(
        json.dumps(
            {
                "requests": args.requests,
                "rendering_per_s": round(rendering),
                "cached_per_s": round(cached),
                "cached_to_rendering": round(cached / rendering, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
