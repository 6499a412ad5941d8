"""Both widgets on a partner page of another origin, in Debian's chromium (issue 14,
acceptance 1): the zh-Hans news with Chinese titles and China Standard Time dates; a
click opens the article outside the frame; markup in an article runs nothing on the
partner page; the partner's CSS does not reach the script widget; the iframe takes its
content's height; screenshots of both widgets in both themes.

feedsvc runs on 127.0.0.1 with FEEDSVC_BASE_URL set to its own address (the article links
must reach it), so this module serves it itself rather than through ``live_server``, whose
app is made before its port is known. The partner is a second loopback server named
``localhost``: another host and port, so another origin."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from playwright.sync_api import Dialog, Frame, Page, Route

from feedsvc.db import database
from feedsvc.demo import load_demo
from feedsvc.domain import Variant, VariantOrigin, VariantStatus
from feedsvc.sanitize import clean_html
from feedsvc.store import ArticleFilter, Store
from feedsvc.web.embed import embed_snippets
from tests.browser import dev_server, screenshot
from tests.conftest import running_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

ZONE = "Asia/Shanghai"
CHINESE_DATE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$")  # no seconds
# Every payload would set the flag and open a dialog if it ran.
RUN = "window.__pwned=1;alert(document.domain)"
HOSTILE_TITLE = f'<img src=x onerror="{RUN}">港口新闻<script>{RUN}</script>'
HOSTILE_SUMMARY = f'<svg onload="{RUN}"></svg><a href="javascript:{RUN}">点击</a>'
HOSTILE_BODY = (
    f'<p>正文</p><script>{RUN}</script><img src=x onerror="{RUN}">'
    f'<a href="javascript:{RUN}">link</a><svg onload="{RUN}"><circle r="1"/></svg>'
    f'<iframe src="javascript:{RUN}"></iframe>'
)
# More zh-Hans news than the demo has (machine text: the demo's policy shows it).
MACHINE_TITLES = {
    "china-daily-huangpu-hydrogen-corridor-gathers-speed": (
        "中国日报：黄埔氢能走廊加速成形",
        "加氢站、燃料电池企业和物流车队沿开发区主干道集聚，氢能产业链初具规模。",
    ),
    "guangzhou-daily-huangpu-port-logistics-goes-digital": (
        "广州日报：黄埔港物流迈向数字化",
        "集装箱码头启用智能调度系统，船舶平均在港时间缩短约两成。",
    ),
    "new-bus-routes-link-science-city-and-knowledge-city": (
        "新公交线路连通科学城与知识城",
        "三条新线路自5月起运营，高峰时段每10分钟一班。",
    ),
    "huangpu-adds-18-km-of-riverside-greenway": (
        "黄埔新增18公里滨江绿道",
        "新绿道沿东江北岸延伸，串联四座公园和两处历史码头。",
    ),
}
THUMBNAIL = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="208" height="140" viewBox="0 0 208 140">'
    '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
    '<stop offset="0" stop-color="#6d9eeb"/><stop offset="1" stop-color="#2f6f8f"/>'
    '</linearGradient></defs><rect width="208" height="140" fill="url(#g)"/>'
    '<path d="M0 110 L60 70 L100 95 L150 55 L208 100 L208 140 L0 140 Z" fill="#1e4d63"/>'
    '<circle cx="160" cy="35" r="14" fill="#f6d77a"/></svg>'
)
HOSTILE_CSS = """
* { color: red !important; font-size: 40px !important; font-family: serif !important;
    letter-spacing: 6px !important; line-height: 3 !important; }
a { display: none !important; }
li { border: 5px solid lime !important; list-style: square !important; }
.title, .meta, .root { background: yellow !important; text-decoration: line-through !important; }
"""


@dataclass
class Partner:
    """The partner site: pages set by the test, served from another origin."""

    origin: str = ""
    pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def page(self, path: str, body: str, media_type: str = "text/html") -> str:
        self.pages[path] = (media_type, body.encode())
        return self.origin + path


@dataclass(frozen=True)
class Live:
    app: Flask
    url: str


def _handler(partner: Partner) -> type[BaseHTTPRequestHandler]:
    class PartnerPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            media_type, body = partner.pages.get(self.path, ("text/plain", b"not found"))
            self.send_response(200 if self.path in partner.pages else 404)
            self.send_header("Content-Type", f"{media_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return PartnerPage


@pytest.fixture
def partner() -> Iterator[Partner]:
    site = Partner()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    site.origin = f"http://localhost:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _save_variant(
    store: Store, article_id: int, title: str, status: VariantStatus, **text: Any
) -> None:
    article = store.articles.get(article_id)
    origin = VariantOrigin.HUMAN if status is VariantStatus.REVIEWED else VariantOrigin.MACHINE
    store.variants.save(
        Variant(
            article.id,
            "zh-Hans",
            title,
            text.get("summary"),
            text.get("body_html", "<p>正文。</p>"),
            origin,
            status,
            article.revision,
            article.updated_at,
        ),
        article.section_path,
    )


def _seed(app: Flask) -> None:
    """The demo; four more news articles in machine-made zh-Hans; and a hostile article in
    culture/events whose zh-Hans title and summary are markup, stored as given (the widgets
    must show them as text whatever the store holds; the API would have cleaned them) and
    whose body is article HTML full of payloads, cleaned as every stored body is."""
    with app.app_context():
        load_demo(database(), ("zh-Hans",))
        with database().session() as session:
            store = Store(session)
            articles = store.articles.page(ArticleFilter(), 1, 100).items
            by_slug = {a.slug: a for a in articles}
            for slug, (title, summary) in MACHINE_TITLES.items():
                _save_variant(
                    store,
                    by_slug[slug].id,
                    title,
                    VariantStatus.MACHINE_TRANSLATED,
                    summary=summary,
                )
            hostile = next(a for a in articles if a.section_path == "culture/events")
            _save_variant(
                store,
                hostile.id,
                HOSTILE_TITLE,
                VariantStatus.REVIEWED,
                summary=HOSTILE_SUMMARY,
                body_html=clean_html(HOSTILE_BODY),
            )


@pytest.fixture
def live(database_url: str) -> Iterator[Live]:
    """feedsvc at an address it knows (FEEDSVC_BASE_URL), zh-Hans machine text public, dates
    in China Standard Time."""
    apps: dict[str, Flask] = {}

    def dispatch(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        return apps["app"](environ, start_response)

    server = dev_server(dispatch)
    base = f"http://127.0.0.1:{server.server_port}"
    with running_app(
        database_url,
        FEEDSVC_BASE_URL=base,
        FEEDSVC_TIMEZONE=ZONE,
        FEEDSVC_LANGUAGES="en,zh-Hans:machine",
    ) as app:
        _seed(app)
        apps["app"] = app
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Live(app, base)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()


def partner_html(body: str, theme: str = "light", css: str = "") -> str:
    """A plain partner page: a heading, some text, the widget in a sidebar-sized column."""
    dark = theme == "dark"
    colors = "background:#0e1014;color:#d6d9de" if dark else "background:#f3f1ec;color:#222"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>合作伙伴网站</title>
<style>
body {{ margin: 0; padding: 24px; font-family: sans-serif; {colors}; }}
.column {{ width: 440px; }}
h1 {{ font-size: 20px; margin: 0 0 14px; }}
{css}
</style></head>
<body><div class="column"><h1>合作伙伴网站 · 黄埔新闻</h1>
{body}
</div></body></html>"""


CONTRAST_PROBE = """([root, selectors]) => {
  const rgb = (value) => value.match(/[0-9.]+/g).slice(0, 3).map(Number);
  const luminance = (value) => {
    const [r, g, b] = rgb(value).map((c) => {
      const x = c / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = luminance(getComputedStyle(root).backgroundColor);
  return selectors.map((selector) => {
    const text = luminance(getComputedStyle(root.querySelector(selector)).color);
    const [light, dark] = text > background ? [text, background] : [background, text];
    return (light + 0.05) / (dark + 0.05);
  });
}"""
TEXTS = ["a.title", "time", ".summary", ".badge", ".more a"]


def _contrast(scope: Page | Frame, root: str) -> list[float]:
    """WCAG contrast of the widget's texts (title, date, summary, badge, link) on its
    background."""
    handle = scope.evaluate_handle(root)
    ratios: list[float] = scope.evaluate(CONTRAST_PROBE, [handle, TEXTS])
    return ratios


def _listen(page: Page) -> list[str]:
    """Every dialog any frame opens (dismissed), so a payload that ran is seen."""
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def _images(page: Page) -> None:
    """The demo's lead images live on images.example.org: served here, never fetched."""

    def fulfill(route: Route) -> None:
        route.fulfill(status=200, content_type="image/svg+xml", body=THUMBNAIL)

    page.context.route("https://images.example.org/**", fulfill)


def _frame(page: Page) -> Frame:
    page.wait_for_selector("iframe")
    frame = page.frame_locator("iframe")
    frame.locator("a.title").first.wait_for()
    found = page.query_selector("iframe")
    assert found is not None
    content = found.content_frame()
    assert content is not None
    return content


def _iframe_page(live: Live, partner: Partner, query: str, theme: str = "light") -> str:
    settings = live.app.extensions["feedsvc.settings"]
    snippet = embed_snippets(settings, "zh-Hans", "news", title="黄埔新闻")["iframe"]
    snippet = snippet.replace("?limit=5", f"?{query}") if query else snippet
    return partner.page(f"/iframe-{theme}-{abs(hash(query))}", partner_html(snippet, theme))


def _settled_height(page: Page, frame: Frame) -> tuple[float, float]:
    """The iframe's height on the partner page and its document's, once widget.js set it."""
    page.wait_for_function("() => document.querySelector('iframe').style.height !== ''")
    page.wait_for_function(
        """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(
            () => done(true))))"""
    )
    outer = page.eval_on_selector("iframe", "f => f.getBoundingClientRect().height")
    inner = frame.evaluate("() => document.documentElement.getBoundingClientRect().height")
    return float(outer), float(inner)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_iframe_widget_on_a_partner_page(
    live: Live, partner: Partner, new_page: Callable[..., Page], theme: str
) -> None:
    page = new_page("zh-CN")
    dialogs = _listen(page)
    _images(page)
    page.goto(_iframe_page(live, partner, f"limit=6&images=1&summary=1&theme={theme}", theme))
    frame = _frame(page)
    assert frame.url.startswith(f"{live.url}/zh-hans/news/embed")
    assert frame.evaluate("document.documentElement.lang") == "zh-Hans"
    titles = frame.locator("a.title").all_text_contents()
    assert len(titles) == 6
    assert (
        "黄埔新增18公里滨江绿道" in titles and "南方+：广州开发区推进与香港智能制造合作" in titles
    )
    assert all(re.search("[\u4e00-\u9fff]", t) for t in titles)
    dates = frame.locator("time").all_text_contents()
    assert dates and all(CHINESE_DATE.match(d) for d in dates), dates
    assert "2026年9月14日 07:50" in dates  # 07:50 +08:00 in the demo: China Standard Time
    # The frame is as tall as its content (widget.js, from the frame's postMessage).
    outer, inner = _settled_height(page, frame)
    assert abs(outer - inner) <= 2, (outer, inner)
    assert inner > 400  # six items with summaries: not the snippet's 480 px by chance
    assert min(_contrast(frame, "document.documentElement")) >= 4.5
    page.wait_for_load_state("networkidle")
    screenshot(page, f"widget-iframe-{theme}")
    assert dialogs == [] and page.evaluate("window.__pwned") is None


def test_iframe_height_follows_its_content(
    live: Live, partner: Partner, new_page: Callable[..., Page]
) -> None:
    """Fewer items, then a narrower frame: the height follows each time."""
    page = new_page("zh-CN")
    page.goto(_iframe_page(live, partner, "limit=2"))
    frame = _frame(page)
    short, inner = _settled_height(page, frame)
    assert abs(short - inner) <= 2 and short < 300, (short, inner)
    page.goto(_iframe_page(live, partner, "limit=5&summary=1"))
    frame = _frame(page)
    tall, _ = _settled_height(page, frame)
    page.eval_on_selector("iframe", "f => { f.style.width = '260px'; }")
    page.wait_for_function(f"() => document.querySelector('iframe').style.height !== '{tall}px'")
    outer, inner = _settled_height(page, frame)
    assert outer > tall and abs(outer - inner) <= 2, (tall, outer, inner)


@pytest.mark.parametrize("target", ["_top", "_blank"])
def test_an_iframe_link_opens_the_article_outside_the_frame(
    live: Live, partner: Partner, new_page: Callable[..., Page], target: str
) -> None:
    page = new_page("zh-CN")
    page.goto(_iframe_page(live, partner, f"limit=3&target={target}"))
    frame = _frame(page)
    link = frame.locator("a.title").first
    href, title = link.get_attribute("href"), link.text_content()
    assert href and href.startswith(f"{live.url}/zh-hans/articles/")
    if target == "_top":
        with page.expect_navigation(url=href):
            link.click()
        opened = page  # the partner's tab went to the article
    else:
        with page.context.expect_page() as new:
            link.click()
        opened = new.value
        opened.wait_for_load_state()
        assert page.url.startswith(partner.origin)  # the partner page stayed
        assert frame.url.startswith(f"{live.url}/zh-hans/news/embed")  # so did its frame
    assert opened.url == href
    assert opened.main_frame.parent_frame is None
    assert opened.locator("h1").first.text_content() == title


def _script_page(
    live: Live, partner: Partner, page_theme: str = "light", css: str = "", **attributes: str
) -> str:
    settings = live.app.extensions["feedsvc.settings"]
    snippet = embed_snippets(settings, "zh-Hans", "news")["script"]
    extra = "".join(f' {name}="{value}"' for name, value in attributes.items())
    snippet = snippet.replace(' limit="5"', extra or ' limit="5"')
    name = f"/script-{page_theme}-{abs(hash((css, extra)))}"
    return partner.page(name, partner_html(snippet, page_theme, css))


def _ready(page: Page) -> None:
    page.wait_for_selector("feedsvc-feed[data-state=ready]")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_script_widget_on_a_partner_page(
    live: Live, partner: Partner, new_page: Callable[..., Page], theme: str
) -> None:
    page = new_page("zh-CN")
    dialogs = _listen(page)
    _images(page)
    page.goto(_script_page(live, partner, theme, limit="6", images="1", summary="1", theme=theme))
    _ready(page)
    widget = page.locator("feedsvc-feed")
    titles = widget.locator("a.title").all_text_contents()  # Playwright pierces open shadows
    assert len(titles) == 6 and all(re.search("[\u4e00-\u9fff]", t) for t in titles)
    assert "黄埔新增18公里滨江绿道" in titles
    dates = widget.locator("time").all_text_contents()
    assert dates and all(CHINESE_DATE.match(d) for d in dates), dates
    assert "2026年9月14日 07:50" in dates
    assert widget.locator(".root").get_attribute("lang") == "zh-Hans"
    assert widget.locator(".root").get_attribute("data-theme") == theme
    root = "document.querySelector('feedsvc-feed').shadowRoot.querySelector('.root')"
    assert min(_contrast(page, root)) >= 4.5
    page.wait_for_load_state("networkidle")
    widget.locator("a.title").nth(1).hover()  # a hover state in the picture
    screenshot(page, f"widget-script-{theme}")
    assert dialogs == [] and page.evaluate("window.__pwned") is None


def test_theme_auto_follows_the_readers_system(
    live: Live, partner: Partner, new_page: Callable[..., Page]
) -> None:
    """theme="auto" takes the whole dark palette on a dark system (the machine label's
    colours too) and the light one on a light system."""
    url = _script_page(live, partner, "light", theme="auto", limit="6", summary="1", images="1")
    badges = {}
    for scheme in ("dark", "light"):
        page = new_page("zh-CN", color_scheme=scheme)
        _images(page)
        page.goto(url)
        _ready(page)
        badge = page.locator("feedsvc-feed .badge").first
        badges[scheme] = badge.evaluate("b => getComputedStyle(b).backgroundColor")
        root = "document.querySelector('feedsvc-feed').shadowRoot.querySelector('.root')"
        assert min(_contrast(page, root)) >= 4.5, scheme
    assert badges == {"dark": "rgb(58, 47, 18)", "light": "rgb(255, 244, 214)"}


STYLE_PROBE = """host => {
  const root = host.shadowRoot;
  const pick = (el) => {
    const s = getComputedStyle(el);
    return {color: s.color, fontSize: s.fontSize, fontFamily: s.fontFamily,
            letterSpacing: s.letterSpacing, lineHeight: s.lineHeight, display: s.display,
            background: s.backgroundColor, decoration: s.textDecorationLine,
            border: s.borderTopWidth, listStyle: s.listStyleType};
  };
  return {root: pick(root.querySelector('.root')), title: pick(root.querySelector('a.title')),
          meta: pick(root.querySelector('time')), item: pick(root.querySelector('li'))};
}"""


def test_the_partners_css_does_not_reach_the_script_widget(
    live: Live, partner: Partner, new_page: Callable[..., Page]
) -> None:
    page = new_page("zh-CN")
    page.goto(_script_page(live, partner))
    _ready(page)
    plain = page.eval_on_selector("feedsvc-feed", STYLE_PROBE)
    outside = '<ul><li class="title"><a class="meta" href="#x">partner link</a></li></ul>'
    page.goto(_script_page(live, partner, css=HOSTILE_CSS + "/* hostile */"))
    page.evaluate("html => document.body.insertAdjacentHTML('beforeend', html)", outside)
    _ready(page)
    hostile = page.eval_on_selector("feedsvc-feed", STYLE_PROBE)
    assert hostile == plain
    assert plain["title"]["color"] != "rgb(255, 0, 0)" and plain["title"]["fontSize"] == "16px"
    assert plain["title"]["display"] == "block" and plain["item"]["listStyle"] == "none"
    assert page.locator("feedsvc-feed a.title").first.is_visible()
    # The widget's CSS does not leave it: the partner's own .title/.meta/li keep its styles.
    own = page.eval_on_selector(
        "body > ul > li.title",
        "li => [getComputedStyle(li).borderTopWidth, getComputedStyle(li).display,"
        " getComputedStyle(li.querySelector('a')).display]",
    )
    assert own == ["5px", "list-item", "none"]


@pytest.mark.parametrize("target", ["", "_blank"])
def test_a_script_widget_link_opens_the_article(
    live: Live, partner: Partner, new_page: Callable[..., Page], target: str
) -> None:
    page = new_page("zh-CN")
    attributes = {"limit": "3", **({"target": target} if target else {})}
    page.goto(_script_page(live, partner, **attributes))
    _ready(page)
    link = page.locator("feedsvc-feed a.title").first
    href, title = link.get_attribute("href"), link.text_content()
    assert href and href.startswith(f"{live.url}/zh-hans/articles/")
    if target:
        with page.context.expect_page() as new:
            link.click()
        opened = new.value
        opened.wait_for_load_state()
        assert page.url.startswith(partner.origin)
    else:
        with page.expect_navigation(url=href):
            link.click()
        opened = page
    assert opened.url == href
    assert opened.locator("h1").first.text_content() == title


def _hostile_feed(live: Live) -> str:
    """A JSON Feed as a hostile or broken server might send it: markup in every text,
    javascript:, data: and vbscript: URLs, article HTML with payloads."""
    items = [
        {
            "id": "1",
            "url": f"javascript:{RUN}",
            "title": f'<img src=x onerror="{RUN}">标题一',
            "summary": f"<script>{RUN}</script>摘要",
            "content_html": f'<script>{RUN}</script><img src=x onerror="{RUN}">',
            "image": f"javascript:{RUN}",
            "date_published": "2026-10-09T10:40:00+08:00",
        },
        {
            "id": "2",
            "url": f"data:text/html,<script>{RUN}</script>",
            "title": "标题二",
            "image": "data:image/svg+xml,<svg onload='alert(1)'/>",
            "date_published": "not a date",
        },
        {
            "id": "3",
            "url": f"{live.url}/zh-hans/",
            "title": "标题三",
            "content_html": f'<svg onload="{RUN}"></svg>',
            "image": f"vbscript:{RUN}",
            "date_published": "2026-10-09T02:40:00Z",
        },
        "not an item",
        None,
    ]
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "<b>hostile</b>",
        "home_page_url": f"javascript:{RUN}",
        "language": "zh-Hans",
        "items": items,
    }
    return json.dumps(document, ensure_ascii=False)


def test_article_markup_runs_nothing_on_the_partner_page(
    live: Live, partner: Partner, new_page: Callable[..., Page]
) -> None:
    """Both widgets show the hostile article (culture/events) and the script widget a
    hostile feed; a dialog or the flag would prove a payload ran, in any frame."""
    page = new_page("zh-CN")
    dialogs = _listen(page)
    settings = live.app.extensions["feedsvc.settings"]
    snippets = embed_snippets(settings, "zh-Hans", "culture/events")
    feed_url = partner.page("/hostile.json", _hostile_feed(live), "application/feed+json")
    body = (
        snippets["iframe"].replace("?limit=5", "?limit=5&summary=1&images=1")
        + snippets["script"].replace(' limit="5"', ' limit="5" summary="1" images="1"')
        + f'\n<feedsvc-feed id="hostile" src="{feed_url}" summary="1" images="1"'
        f' timezone="{ZONE}"></feedsvc-feed>'
    )
    page.goto(partner.page("/xss", partner_html(body)))
    frame = _frame(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('feedsvc-feed')]"
        ".every(el => el.dataset.state === 'ready')"
    )
    page.wait_for_load_state("networkidle")
    # The markup is shown as text, in both widgets.
    assert HOSTILE_TITLE in frame.locator("a.title").all_text_contents()
    assert frame.locator(".summary").first.text_content() == HOSTILE_SUMMARY
    section = page.locator("feedsvc-feed").first
    assert HOSTILE_TITLE in section.locator("a.title").all_text_contents()
    assert HOSTILE_SUMMARY in section.locator(".summary").all_text_contents()
    # The hostile feed: no link or image but http(s); its article HTML is not shown.
    hostile = page.locator("#hostile")
    assert hostile.locator("span.title").all_text_contents() == [
        '<img src=x onerror="' + RUN + '">标题一',
        "标题二",
    ]
    assert hostile.locator("a").evaluate_all("as => as.map(a => a.href)") == [
        f"{live.url}/zh-hans/"
    ]
    assert hostile.locator("img").count() == 0 and hostile.locator("svg").count() == 0
    assert hostile.locator("time").all_text_contents() == ["2026年10月9日 10:40"] * 2
    # Nothing ran: not on the partner page, not in the frame.
    assert dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert frame.evaluate("window.__pwned") is None
    for shadow_script in page.eval_on_selector_all(
        "feedsvc-feed", "els => els.map(el => el.shadowRoot.querySelectorAll('script').length)"
    ):
        assert shadow_script == 0
    assert frame.evaluate("document.querySelectorAll('script').length") == 1  # embed.js


def test_script_widget_revalidates_and_shows_errors(
    live: Live, partner: Partner, new_page: Callable[..., Page]
) -> None:
    """A refresh sends If-None-Match and keeps the list on a 304; a new entry replaces it;
    a feed that cannot be read is an error in the feed's language, with a retry."""
    page = new_page("zh-CN")
    statuses: list[tuple[int, str | None]] = []
    page.on(
        "response",
        lambda r: (
            statuses.append((r.status, r.request.headers.get("if-none-match")))
            if r.url.endswith("/news/feed.json") and r.request.method == "GET"
            else None
        ),
    )
    page.goto(_script_page(live, partner, limit="3", refresh="0"))
    _ready(page)
    before = page.locator("feedsvc-feed a.title").all_text_contents()
    page.eval_on_selector("feedsvc-feed", "el => el.refresh()")
    page.wait_for_load_state("networkidle")
    assert [s for s, _ in statuses][-1] == 304 and statuses[-1][1], statuses
    assert page.locator("feedsvc-feed a.title").all_text_contents() == before
    with live.app.app_context(), database().session() as session:
        store = Store(session)
        newest = store.articles.page(ArticleFilter("news"), 1, 1).items[0]
        _save_variant(store, newest.id, "黄埔滨江绿道今日全线贯通", VariantStatus.REVIEWED)
    page.eval_on_selector("feedsvc-feed", "el => el.refresh()")
    page.wait_for_function(
        "() => document.querySelector('feedsvc-feed').shadowRoot"
        ".textContent.includes('黄埔滨江绿道今日全线贯通')"
    )
    assert statuses[-1][0] == 200
    missing = f"{live.url}/zh-hans/nowhere/feed.json"
    body = f'<feedsvc-feed src="{missing}"></feedsvc-feed>'
    page.goto(partner.page("/missing", partner_html(body + _widget_script(live))))
    page.wait_for_selector("feedsvc-feed[data-state=error]")
    state = page.locator("feedsvc-feed .state")
    assert state.text_content() == "新闻加载失败。重试"
    assert state.locator("button").text_content() == "重试"


def _widget_script(live: Live) -> str:
    return f'<script src="{live.url}/widget.js" async></script>'


def test_dates_follow_the_timezone_attribute(
    live: Live, partner: Partner, new_page: Callable[..., Page]
) -> None:
    """The snippet names the site's zone; another zone shows the same moment its way."""
    page = new_page("zh-CN")
    page.goto(_script_page(live, partner, limit="50", timezone="UTC"))
    _ready(page)
    dates = page.locator("feedsvc-feed time").all_text_contents()
    moment = datetime(2026, 9, 13, 23, 50, tzinfo=UTC)  # 07:50 in Shanghai
    assert f"{moment.year}年{moment.month}月{moment.day}日 23:50" in dates
