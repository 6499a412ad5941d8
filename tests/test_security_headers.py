"""Security headers on every page (issue 13, acceptance 5).

A crawler starts at the front door of the demo and follows every same-origin link (pages,
sections, articles, feeds, OPML, the review sign-in), then the review screens signed in
(queue, editor, glossary, import): every HTML response carries the CSP without
``unsafe-inline``, nosniff, Referrer-Policy and the frame policy, and no page holds an
inline script, style or event handler its CSP would block; every other response (feeds,
OPML, API, static files) carries nosniff. Then Debian's chromium visits every HTML page
found and the review screens and listens to the console: no CSP violation anywhere."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import ConsoleMessage, Page

from feedsvc.db import database
from feedsvc.demo import load_demo
from feedsvc.domain import Role
from feedsvc.jobs import jobs
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from feedsvc.web.overhead import framable

BASE = "http://feeds.test"
MAX_PAGES = 3000
# Downloads and actions, not pages: the crawler does not follow them.
NOT_PAGES = re.compile(r"/export\.(po|xlf)|/sign-out|/ui-language")


def html_problems(response: object) -> list[str]:
    """What is wrong with an HTML response's security headers and markup."""
    headers = response.headers  # type: ignore[attr-defined]
    found = []
    policy = headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    if directives.get("script-src") != ["'self'"]:
        found.append(f"script-src is {directives.get('script-src')}")
    if "unsafe-inline" in policy or "unsafe-eval" in policy:
        found.append("unsafe-inline/unsafe-eval in the CSP")
    if directives.get("object-src") != ["'none'"] or directives.get("base-uri") != ["'none'"]:
        found.append("object-src/base-uri not 'none'")
    if directives.get("frame-ancestors") != ["'none'"] or headers.get("X-Frame-Options") != "DENY":
        found.append("framing allowed")
    if headers.get("X-Content-Type-Options") != "nosniff":
        found.append("no nosniff")
    if headers.get("Referrer-Policy") not in ("same-origin", "strict-origin-when-cross-origin"):
        found.append(f"Referrer-Policy {headers.get('Referrer-Policy')!r}")
    data = response.data  # type: ignore[attr-defined]
    if data.strip():
        doc = lxml.html.fromstring(data)
        if any(not script.get("src") for script in doc.iter("script")):
            found.append("inline script")
        if any(True for _ in doc.iter("style")) or doc.xpath("//*[@style]"):
            found.append("inline style")
        if any(name.lower().startswith("on") for el in doc.iter() for name in el.attrib):
            found.append("inline event handler")
        if doc.xpath("//a[starts-with(normalize-space(@href), 'javascript:')]"):
            found.append("javascript: link")
    return found


def links_of(path: str, response: object) -> Iterable[str]:
    """Same-origin links of a page or an OPML file, as paths with their query."""
    mimetype = response.mimetype  # type: ignore[attr-defined]
    data = response.data  # type: ignore[attr-defined]
    if mimetype == "text/html" and data.strip():
        doc = lxml.html.fromstring(data)
        found = doc.xpath("//a/@href | //link/@href | //img/@src | //script/@src")
    elif mimetype in ("text/x-opml", "application/xml", "text/xml") and b"<opml" in data:
        root = lxml.etree.fromstring(data)
        found = root.xpath("//outline/@xmlUrl | //outline/@htmlUrl")
    else:
        return []
    paths = []
    for href in found:
        url = urlsplit(urljoin(BASE + path, href))
        if url.scheme in ("http", "https") and f"{url.scheme}://{url.netloc}" == BASE:
            paths.append(url.path + (f"?{url.query}" if url.query else ""))
    return paths


def crawl(client: FlaskClient, starts: Iterable[str]) -> dict[str, object]:
    """Every response reached from ``starts`` by same-origin links (redirects followed)."""
    seen: dict[str, object] = {}
    queue = deque(starts)
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen or NOT_PAGES.search(path):
            continue
        response = client.get(path)
        response.get_data()  # read now (kept), and the file of a static response closed
        response.close()
        seen[path] = response
        if response.status_code in (301, 302, 303, 307, 308):
            target = urlsplit(urljoin(BASE + path, response.headers["Location"]))
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
            continue
        queue.extend(links_of(path, response))
    assert len(seen) < MAX_PAGES, "the crawl ended before it ran out of links"
    return seen


def check(responses: dict[str, object]) -> tuple[int, int]:
    """Assert the headers on every response; (HTML pages, other responses) checked."""
    problems = {}
    pages = others = 0
    for path, response in responses.items():
        headers = response.headers  # type: ignore[attr-defined]
        if response.mimetype == "text/html":  # type: ignore[attr-defined]
            pages += 1
            if found := html_problems(response):
                problems[path] = found
        else:
            others += 1
            if headers.get("X-Content-Type-Options") != "nosniff":
                problems[path] = [f"no nosniff on {response.mimetype}"]  # type: ignore[attr-defined]
    assert problems == {}
    return pages, others


@pytest.fixture
def demo(app: Flask) -> Flask:
    with app.app_context():
        load_demo(database(), app.extensions["feedsvc.settings"].target_tags)
        jobs().worker.run_pending()  # the demo's translations come from its memory
    return app


def admin_secret(app: Flask) -> str:
    with app.app_context(), database().session() as session:
        _, secret = issue_token(Store(session), "admin", Role.ADMIN)
    return secret


def signed_in(app: Flask, secret: str) -> FlaskClient:
    client = app.test_client()
    html = client.get("/review/").data
    token = re.search(rb'name="csrf_token" value="([^"]+)"', html)
    assert token
    answer = client.post("/review/", data={"token": secret, "csrf_token": token.group(1)})
    assert answer.status_code == 302
    return client


def test_every_public_page_of_the_demo_has_the_security_headers(demo: Flask) -> None:
    responses = crawl(demo.test_client(), ["/"])
    pages, others = check(responses)
    paths = set(responses)
    # The crawl reached every kind of page: sections, articles in each language, feeds,
    # OPML, the review sign-in, the API and a static file.
    assert any(re.fullmatch(r"/en/articles/\d+/[a-z0-9-]+", p) for p in paths)
    assert any(re.fullmatch(r"/zh-hans/articles/\d+/.+", p) for p in paths)
    assert "/en/news/" in paths and "/feeds.opml" in paths and "/review/" in paths
    assert any(p.endswith("feed.atom") for p in paths) and "/api/v1/articles" in paths
    assert any(p.startswith("/static/") for p in paths)
    assert pages >= 30 and others >= 20, (pages, others)
    # Error pages are pages too.
    missing = demo.test_client().get("/en/articles/999999")
    assert missing.status_code == 404 and html_problems(missing) == []


def test_every_review_screen_has_the_security_headers(demo: Flask) -> None:
    client = signed_in(demo, admin_secret(demo))
    responses = crawl(client, ["/review/home", "/review/glossary/zh-hans"])
    check(responses)
    paths = set(responses)
    assert "/review/zh-hans/" in paths and "/review/glossary/zh-hans" in paths
    assert any(re.fullmatch(r"/review/zh-hans/articles/\d+", p) for p in paths), "the editor"
    forbidden = client.get("/review/nope/")
    assert forbidden.status_code == 404 and html_problems(forbidden) == []


def test_a_view_can_allow_framing(app: Flask) -> None:
    """The frame policy is per view: ``framable`` (for embed routes) relaxes it."""

    @framable("https://partner.example")
    def embed() -> str:
        return "<!doctype html><p>embedded</p>"

    app.add_url_rule("/embed-test", "embed_test", embed)
    response = app.test_client().get("/embed-test")
    assert "frame-ancestors https://partner.example" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert app.test_client().get("/en/").headers["X-Frame-Options"] == "DENY"


def test_a_feed_answers_the_same_304_from_every_path(demo: Flask) -> None:
    """A 304 carries what a cache updates, whichever path answers it: the hit path
    before Flask, or the view (?page=1, a parameter it knows, skips the hit path). Page
    headers on a 304 would differ from one worker to the next, and a cache would store
    them on the feed."""
    client = demo.test_client()
    etag = client.get("/en/feed.atom").headers["ETag"]
    plain = client.get("/en/feed.atom", headers={"If-None-Match": etag})
    via_view = client.get("/en/feed.atom?page=1", headers={"If-None-Match": etag})
    assert plain.status_code == via_view.status_code == 304
    for response in (plain, via_view):
        assert "Content-Security-Policy" not in response.headers
        assert "X-Frame-Options" not in response.headers
    assert "Vary" in via_view.headers and "Cache-Control" in via_view.headers


# -- in a browser -------------------------------------------------------------------------


def csp_listener(page: Page, into: list[str]) -> None:
    def listen(message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            into.append(f"{page.url}: {text}")

    page.on("console", listen)
    page.on("pageerror", lambda error: into.append(f"{page.url}: page error {error}"))


@pytest.mark.slow
def test_no_csp_violation_in_chromium_on_any_page(
    demo: Flask, live_server: str, new_page: Callable[..., Page]
) -> None:
    secret = admin_secret(demo)
    public = crawl(demo.test_client(), ["/"])
    review = crawl(signed_in(demo, secret), ["/review/home", "/review/glossary/zh-hans"])
    pages = [
        path
        for path, response in {**public, **review}.items()
        if response.mimetype == "text/html" and response.status_code == 200  # type: ignore[attr-defined]
    ]
    assert len(pages) >= 30
    violations: list[str] = []
    page = new_page()
    csp_listener(page, violations)
    page.goto(f"{live_server}/review/")
    page.fill("#token", secret)
    page.click("form.sign-in button[type=submit]")
    page.wait_for_url(re.compile(r".*/review/zh-hans/.*"))
    for path in pages:
        answer = page.goto(f"{live_server}{path}", wait_until="load")
        assert answer is not None and answer.status == 200, path
        assert answer.headers.get("content-security-policy"), path
    # The editor with its script at work: a keystroke in a segment and the preview.
    editors = [p for p in pages if re.fullmatch(r"/review/zh-hans/articles/\d+", p)]
    assert editors
    page.goto(f"{live_server}{editors[0]}", wait_until="load")
    box = page.locator("textarea").first
    if box.count():
        box.focus()
        page.keyboard.type("x")
    page.wait_for_timeout(200)
    assert violations == [], "\n".join(violations)
    # The listener does hear a violation: an inline script added to the page is refused.
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__ran") is None, "the inline script did not run"
    assert any("Content Security Policy" in v for v in violations), "the listener hears"
