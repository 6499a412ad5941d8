"""Run real feed readers on feed URLs and reduce what each understood to one shape.

Each reader fetches the feeds itself, with its own HTTP client, as it would for a person,
and reports what it would show: the feed's link, and per entry its id, permalink, title,
dates and categories. ``None`` for categories means the reader has no place for them
(newsboat's cache, rss-parser on Atom): that check is then not applicable, not passed.
"""

from __future__ import annotations

import calendar
import json
import os
import shutil
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
# SimplePie's loaders, newest first: FEEDSVC_SIMPLEPIE, the copy .ci/run takes out of
# Debian's wordpress package (SimplePie 1.5.8), Debian's libphp-simplepie (1.3.1, which
# stops with a TypeError on PHP 8: it calls implode() with its arguments the old way round).
SIMPLEPIE_LOADERS = (
    os.environ.get("FEEDSVC_SIMPLEPIE", ""),
    "/usr/local/share/php/simplepie-wordpress/wp-includes/class-simplepie.php",
    "/usr/share/php/simplepie/autoloader.php",
)
TIMEOUT = 120.0
# Loopback only: no reader is sent through a proxy that the environment may name.
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


@dataclass(frozen=True)
class Item:
    """One entry as a reader shows it; dates in seconds since the epoch."""

    id: str | None
    link: str | None
    title: str | None
    published: int | None
    updated: int | None
    categories: tuple[str, ...] | None


@dataclass(frozen=True)
class View:
    """One feed as a reader shows it, or the error it gave."""

    error: str | None
    link: str | None
    title: str | None
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Reading:
    """What one reader made of every URL, and which version of it did so."""

    version: str
    views: dict[str, View]


@dataclass(frozen=True)
class Reader:
    """A client: ``missing()`` says why it cannot run here (None when it can)."""

    name: str
    missing: Callable[[], str | None]
    read: Callable[[Sequence[str], Path], Reading]


def _environment(**extra: str) -> dict[str, str]:
    """This process's environment less any proxy settings, plus ``extra``."""
    kept = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    return kept | extra


def _run(command: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a reader; its stderr goes into the error when it fails."""
    kwargs.setdefault("env", _environment())
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kwargs
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:3])} … exited {done.returncode}: {done.stderr[-2000:]}"
        )
    return done


def _views(document: dict[str, Any]) -> dict[str, View]:
    """The runner scripts' JSON, as Views."""
    views = {}
    for url, feed in document["feeds"].items():
        items = tuple(
            Item(
                id=item["id"],
                link=item["link"],
                title=item["title"],
                published=item["published"],
                updated=item["updated"],
                categories=None if item["categories"] is None else tuple(item["categories"]),
            )
            for item in feed["items"]
        )
        views[url] = View(feed["error"], feed["link"], feed["title"], items)
    return views


# newsboat -----------------------------------------------------------------------------

NEWSBOAT_CONFIG = "reload-threads 1\ndownload-timeout 30\nmax-items 0\n"


def _newsboat_missing() -> str | None:
    if shutil.which("newsboat") is None:
        return "newsboat is not installed (apt-get install newsboat)"
    return None


def _newsboat_version() -> str:
    return _run(["newsboat", "-v"]).stdout.splitlines()[0].split(" - ")[0].strip()


def read_newsboat(urls: Sequence[str], workdir: Path) -> Reading:
    """``newsboat -x reload`` headless, then its SQLite cache as the reader shows it.

    One cache per feed: newsboat keeps one row per guid across all its feeds, so the same
    article in the site feed and a section feed would land in whichever was read last."""
    views = {}
    for number, url in enumerate(urls):
        home = workdir / f"newsboat-{number}"
        home.mkdir(parents=True)
        (home / "urls").write_text(url + "\n")
        (home / "config").write_text(NEWSBOAT_CONFIG)
        cache = home / "cache.db"
        command = ["newsboat", "-u", "urls", "-c", str(cache), "-C", "config", "-x", "reload"]
        _run(command, cwd=home, env=_environment(HOME=str(home), LANG="C.UTF-8"))
        views[url] = _newsboat_view(cache, url)
    return Reading(_newsboat_version(), views)


def _newsboat_view(cache: Path, url: str) -> View:
    with sqlite3.connect(cache) as db:
        feed = db.execute("SELECT url, title FROM rss_feed WHERE rssurl = ?", (url,)).fetchone()
        rows = db.execute(
            "SELECT guid, url, title, pubDate FROM rss_item"
            " WHERE feedurl = ? AND deleted = 0 ORDER BY id",
            (url,),
        ).fetchall()
    if feed is None:
        return View("newsboat stored nothing for this feed", None, None, ())
    items = tuple(Item(guid, link, title, pub, None, None) for guid, link, title, pub in rows)
    return View(None, feed[0] or None, feed[1], items)


# SimplePie (PHP) ------------------------------------------------------------------------


def simplepie_loader() -> str | None:
    """The first SimplePie loader on this machine."""
    return next((path for path in SIMPLEPIE_LOADERS if path and os.path.isfile(path)), None)


def _simplepie_missing() -> str | None:
    if shutil.which("php") is None:
        return "php is not installed (apt-get install php-cli php-xml php-curl)"
    if simplepie_loader() is None:
        return "SimplePie is not installed (see .ci/run)"
    return None


def read_simplepie(urls: Sequence[str], workdir: Path) -> Reading:
    """SimplePie fetches and parses each URL in one php process (tests/clients/simplepie.php)."""
    loader = simplepie_loader()
    assert loader is not None
    done = _run(["php", str(HERE / "simplepie.php"), loader, *urls])
    document = json.loads(done.stdout)
    where = "wordpress" if "wp-includes" in loader else "libphp-simplepie"
    version = f"SimplePie {document['version']} ({where}), PHP {document['php']}"
    return Reading(version, _views(document))


# npm parsers ----------------------------------------------------------------------------


def _npm_version(package: str) -> str:
    manifest = json.loads((NODE_MODULES / package / "package.json").read_text())
    return f"{package} {manifest['version']}"


def _npm_missing(package: str) -> Callable[[], str | None]:
    def missing() -> str | None:
        if shutil.which("node") is None:
            return "node is not installed"
        if not (NODE_MODULES / package / "package.json").is_file():
            return f"{package} is not installed (npm ci in tests/clients)"
        return None

    return missing


def _node_reader(package: str, script: str) -> Callable[[Sequence[str], Path], Reading]:
    def read(urls: Sequence[str], workdir: Path) -> Reading:
        done = _run(["node", str(HERE / script), *urls], cwd=HERE)
        return Reading(_npm_version(package), _views(json.loads(done.stdout)))

    return read


# feedparser (Python) --------------------------------------------------------------------


def _feedparser_missing() -> str | None:
    """feedparser is in the test extras, so it is always there."""
    return None


def _seconds(parsed: time.struct_time | None) -> int | None:
    """feedparser's dates are UTC struct_times."""
    return calendar.timegm(parsed) if parsed else None


def read_feedparser(urls: Sequence[str], workdir: Path) -> Reading:
    """feedparser fetches each URL with its own urllib client."""
    views = {}
    for url in urls:
        document = feedparser.parse(url, handlers=[urllib.request.ProxyHandler({})])
        if document.get("status") != 200 or document.bozo:
            error = f"status {document.get('status')}, bozo {document.get('bozo_exception')!r}"
            views[url] = View(error, None, None, ())
            continue
        items = tuple(
            Item(
                id=entry.get("id"),
                link=entry.get("link"),
                title=entry.get("title"),
                # dict.get: feedparser's own get() falls back to the other date, with a warning
                published=_seconds(dict.get(entry, "published_parsed")),
                updated=_seconds(dict.get(entry, "updated_parsed")),
                categories=tuple(
                    text
                    for tag in entry.get("tags", [])
                    for text in (tag.get("term"), tag.get("label"))
                    if text
                ),
            )
            for entry in document.entries
        )
        views[url] = View(None, document.feed.get("link"), document.feed.get("title"), items)
    return Reading(f"feedparser {feedparser.__version__}", views)


READERS = (
    Reader("newsboat", _newsboat_missing, read_newsboat),
    Reader("SimplePie", _simplepie_missing, read_simplepie),
    Reader("rss-parser", _npm_missing("rss-parser"), _node_reader("rss-parser", "rss_parser.js")),
    Reader(
        "@rowanmanning/feed-parser",
        _npm_missing("@rowanmanning/feed-parser"),
        _node_reader("@rowanmanning/feed-parser", "feed_parser.js"),
    ),
    Reader("feedparser", _feedparser_missing, read_feedparser),
)
