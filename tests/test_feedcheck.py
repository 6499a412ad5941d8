"""Tests of tests/feedcheck.py and the schemas in tests/schemas/.

Hand-written valid Atom, RSS, JSON Feed and OPML documents give no finding; for each check a
broken variant gives the finding code the check is for. Every code in feedcheck.CODES is
exercised by at least one case.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import feedparser
import jsonschema
import pytest
from lxml import etree

from tests import feedcheck
from tests.feedcheck import (
    CODES,
    Finding,
    check_atom,
    check_json_feed,
    check_opml,
    check_rss,
    is_language_tag,
    parse_rfc822,
    parse_rfc3339,
    uri_problem,
)

ATOM_URL = "https://news.example.com/feeds/news/zh-Hans.atom?page=2"
RSS_URL = "https://news.example.com/feeds/news/zh-Hans.rss?page=2"
JSON_URL = "https://news.example.com/feeds/news/zh-Hans.json?page=2"

VALID_ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"
      xmlns:fs="https://feedsvc.example/ns/1.0" xml:lang="zh-Hans">
  <title>新闻 · 黄浦江</title>
  <subtitle type="html">&lt;p&gt;每日&lt;b&gt;新闻&lt;/b&gt;摘要&lt;/p&gt;</subtitle>
  <id>tag:news.example.com,2024:sections/news/zh-Hans</id>
  <updated>2024-05-02T08:30:00Z</updated>
  <link rel="self" type="application/atom+xml"
        href="https://news.example.com/feeds/news/zh-Hans.atom?page=2"/>
  <link rel="first" href="https://news.example.com/feeds/news/zh-Hans.atom"/>
  <link rel="previous" href="https://news.example.com/feeds/news/zh-Hans.atom?page=1"/>
  <link rel="next" href="https://news.example.com/feeds/news/zh-Hans.atom?page=3"/>
  <link rel="last" href="https://news.example.com/feeds/news/zh-Hans.atom?page=9"/>
  <link rel="alternate" type="text/html" hreflang="zh-Hans"
        href="https://news.example.com/zh-Hans/news/"/>
  <link rel="alternate" type="text/html" hreflang="en" href="https://news.example.com/en/news/"/>
  <link rel="alternate" type="application/atom+xml" hreflang="en"
        href="https://news.example.com/feeds/news/en.atom"/>
  <author>
    <name>feedsvc 编辑部</name>
    <uri>https://news.example.com/about</uri>
    <email>editors@news.example.com</email>
  </author>
  <generator uri="https://news.example.com/" version="0.1.0">feedsvc</generator>
  <icon>https://news.example.com/static/icon.png</icon>
  <logo>https://news.example.com/static/logo.png</logo>
  <rights>Copyright © feedsvc. All rights reserved.</rights>
  <fs:section code="news">新闻</fs:section>
  <entry>
    <title>媒体眼中的黄浦</title>
    <id>tag:news.example.com,2024:articles/42/zh-Hans</id>
    <updated>2024-05-02T08:30:00+08:00</updated>
    <published>2024-05-01T09:00:00Z</published>
    <link rel="alternate" type="text/html" hreflang="zh-Hans"
          href="https://news.example.com/zh-Hans/articles/42"/>
    <link rel="alternate" type="text/html" hreflang="en"
          href="https://news.example.com/en/articles/42"/>
    <category term="news" scheme="https://news.example.com/sections/" label="新闻"/>
    <summary>黄浦江两岸的媒体报道。</summary>
    <content type="html">&lt;p&gt;黄浦江&lt;a href="https://news.example.com/zh-Hans/articles/41"&gt;两岸&lt;/a&gt;。&lt;/p&gt;&lt;img src="https://news.example.com/media/42.jpg" alt="外滩"&gt;</content>
    <media:content url="https://news.example.com/media/42.jpg" medium="image" type="image/jpeg">
      <media:title>外滩</media:title>
    </media:content>
  </entry>
  <entry>
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">第二篇<em>文章</em></div></title>
    <id>urn:uuid:6f1e9a3c-2b1d-4c1e-9f00-1a2b3c4d5e6f</id>
    <updated>2024-05-01T10:00:00Z</updated>
    <link href="https://news.example.com/zh-Hans/articles/43"/>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>内容<a href="https://news.example.com/">链接</a></p></div></content>
  </entry>
  <entry>
    <title>播客</title>
    <id>https://news.example.com/zh-Hans/articles/44</id>
    <updated>2024-04-30T10:00:00.250Z</updated>
    <link rel="enclosure" type="audio/mpeg" length="1234"
          href="https://news.example.com/media/44.mp3"/>
    <summary>音频节目</summary>
    <content type="audio/mpeg" src="https://news.example.com/media/44.mp3"/>
  </entry>
</feed>
"""  # noqa: E501

VALID_RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"
     xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
     xmlns:slash="http://purl.org/rss/1.0/modules/slash/">
  <channel>
    <title>新闻 · 黄浦江</title>
    <link>https://news.example.com/zh-Hans/news/</link>
    <description>每日新闻摘要</description>
    <language>zh-Hans</language>
    <copyright>Copyright © feedsvc. All rights reserved.</copyright>
    <managingEditor>editors@news.example.com (feedsvc 编辑部)</managingEditor>
    <pubDate>Thu, 02 May 2024 08:30:00 GMT</pubDate>
    <lastBuildDate>Thu, 02 May 2024 08:30:00 +0000</lastBuildDate>
    <category domain="https://news.example.com/sections/">news</category>
    <generator>feedsvc 0.1.0</generator>
    <docs>https://www.rssboard.org/rss-specification</docs>
    <ttl>60</ttl>
    <image>
      <url>https://news.example.com/static/logo.png</url>
      <title>新闻 · 黄浦江</title>
      <link>https://news.example.com/zh-Hans/news/</link>
    </image>
    <atom:link rel="self" type="application/rss+xml"
               href="https://news.example.com/feeds/news/zh-Hans.rss?page=2"/>
    <atom:link rel="previous" href="https://news.example.com/feeds/news/zh-Hans.rss?page=1"/>
    <atom:link rel="next" href="https://news.example.com/feeds/news/zh-Hans.rss?page=3"/>
    <atom:link rel="alternate" type="text/html" hreflang="en"
               href="https://news.example.com/en/news/"/>
    <atom:link rel="alternate" type="text/html" hreflang="zh-Hans"
               href="https://news.example.com/zh-Hans/news/"/>
    <sy:updatePeriod>hourly</sy:updatePeriod>
    <item>
      <title>媒体眼中的黄浦</title>
      <link>https://news.example.com/zh-Hans/articles/42</link>
      <description>&lt;p&gt;黄浦江两岸的媒体报道。&lt;/p&gt;</description>
      <content:encoded><![CDATA[<p>黄浦江<a href="https://news.example.com/zh-Hans/articles/41">两岸</a>。</p><img src="https://news.example.com/media/42.jpg" alt="外滩">]]></content:encoded>
      <dc:creator>张三</dc:creator>
      <category domain="https://news.example.com/sections/">news</category>
      <guid isPermaLink="false">tag:news.example.com,2024:articles/42/zh-Hans</guid>
      <pubDate>Wed, 01 May 2024 09:00:00 GMT</pubDate>
      <media:content url="https://news.example.com/media/42.jpg" medium="image" type="image/jpeg">
        <media:title>外滩</media:title>
      </media:content>
      <slash:comments>3</slash:comments>
    </item>
    <item>
      <title>播客</title>
      <link>https://news.example.com/zh-Hans/articles/44</link>
      <description>音频节目</description>
      <author>editors@news.example.com (feedsvc 编辑部)</author>
      <enclosure url="https://news.example.com/media/44.mp3" length="1234" type="audio/mpeg"/>
      <guid>https://news.example.com/zh-Hans/articles/44</guid>
      <dc:date>2024-04-30T10:00:00Z</dc:date>
    </item>
  </channel>
</rss>
"""  # noqa: E501

VALID_JSON: dict[str, Any] = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "新闻 · 黄浦江",
    "home_page_url": "https://news.example.com/zh-Hans/news/",
    "feed_url": JSON_URL,
    "next_url": "https://news.example.com/feeds/news/zh-Hans.json?page=3",
    "description": "每日新闻摘要",
    "user_comment": "This feed is for feed readers.",
    "icon": "https://news.example.com/static/icon.png",
    "favicon": "https://news.example.com/favicon.ico",
    "language": "zh-Hans",
    "authors": [{"name": "feedsvc 编辑部", "url": "https://news.example.com/about"}],
    "hubs": [{"type": "WebSub", "url": "https://hub.example.com/"}],
    "_feedsvc": {"about": "https://news.example.com/about", "section": "news"},
    "items": [
        {
            "id": "tag:news.example.com,2024:articles/42/zh-Hans",
            "url": "https://news.example.com/zh-Hans/articles/42",
            "title": "媒体眼中的黄浦",
            "content_html": '<p>黄浦江<a href="https://news.example.com/zh-Hans/articles/41">'
            "两岸</a>。</p>",
            "summary": "黄浦江两岸的媒体报道。",
            "image": "https://news.example.com/media/42.jpg",
            "date_published": "2024-05-01T09:00:00Z",
            "date_modified": "2024-05-02T08:30:00+08:00",
            "authors": [{"name": "张三"}],
            "tags": ["news", "黄浦"],
            "language": "zh-Hans",
            "_feedsvc": {"translation": "reviewed"},
        },
        {
            "id": "https://news.example.com/zh-Hans/articles/44",
            "external_url": "https://example.org/podcast/44",
            "content_text": "音频节目",
            "banner_image": "https://news.example.com/media/44-banner.jpg",
            "attachments": [
                {
                    "url": "https://news.example.com/media/44.mp3",
                    "mime_type": "audio/mpeg",
                    "title": "播客",
                    "size_in_bytes": 1234,
                    "duration_in_seconds": 61.5,
                }
            ],
        },
    ],
}

VALID_OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head>
    <title>feedsvc 订阅</title>
    <dateCreated>Thu, 02 May 2024 08:30:00 GMT</dateCreated>
    <dateModified>Thu, 02 May 2024 08:30:00 GMT</dateModified>
  </head>
  <body>
    <outline text="新闻">
      <outline type="rss" text="新闻 (中文)" title="新闻" language="zh-Hans"
               xmlUrl="https://news.example.com/feeds/news/zh-Hans.rss"
               htmlUrl="https://news.example.com/zh-Hans/news/"/>
      <outline type="rss" text="News (English)"
               xmlUrl="https://news.example.com/feeds/news/en.rss"/>
    </outline>
  </body>
</opml>
"""


def _codes(findings: list[Finding]) -> set[str]:
    return {finding.code for finding in findings}


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"sample has no {old!r}"
    return text.replace(old, new, 1)


@dataclass(frozen=True)
class Case:
    id: str
    run: Callable[[], list[Finding]]
    code: str
    level: str


def atom(
    id: str,
    old: str,
    new: str,
    code: str,
    level: str = "error",
    fetched_url: str = ATOM_URL,
) -> Case:
    data = _replace(VALID_ATOM, old, new).encode()
    return Case(f"atom-{id}", lambda: check_atom(data, fetched_url), code, level)


def rss(
    id: str,
    old: str,
    new: str,
    code: str,
    level: str = "error",
    fetched_url: str = RSS_URL,
) -> Case:
    data = _replace(VALID_RSS, old, new).encode()
    return Case(f"rss-{id}", lambda: check_rss(data, fetched_url), code, level)


def jsonfeed(
    id: str,
    change: Callable[[dict[str, Any]], object],
    code: str,
    level: str = "error",
    fetched_url: str = JSON_URL,
) -> Case:
    feed = copy.deepcopy(VALID_JSON)
    change(feed)
    data = json.dumps(feed, ensure_ascii=False).encode()
    return Case(f"json-{id}", lambda: check_json_feed(data, fetched_url), code, level)


def json_bytes(id: str, data: bytes, code: str) -> Case:
    return Case(f"json-{id}", lambda: check_json_feed(data, JSON_URL), code, "error")


def opml(id: str, old: str, new: str, code: str, level: str = "error") -> Case:
    data = _replace(VALID_OPML, old, new).encode()
    return Case(f"opml-{id}", lambda: check_opml(data), code, level)


ENTRY_2 = '<link href="https://news.example.com/zh-Hans/articles/43"/>'
ENTRY_2_CONTENT = (
    '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>内容'
    '<a href="https://news.example.com/">链接</a></p></div></content>'
)
ATOM_HTML = '&lt;p&gt;黄浦江&lt;a href="https://news.example.com/zh-Hans/articles/41"&gt;'
RSS_ITEM_GUID = '<guid isPermaLink="false">tag:news.example.com,2024:articles/42/zh-Hans</guid>'
RSS_HTML = '<p>黄浦江<a href="https://news.example.com/zh-Hans/articles/41">'


def _set_item(index: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(feed: dict[str, Any]) -> None:
        feed["items"][index][key] = value

    return change


def _del(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def change(feed: dict[str, Any]) -> None:
        target: Any = feed
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


E, W = "error", "warning"
A42 = "https://news.example.com/zh-Hans/articles/42"
A44 = "https://news.example.com/zh-Hans/articles/44"
FEED_ID = "<id>tag:news.example.com,2024:sections/news/zh-Hans</id>"
FEED_AUTHOR = VALID_ATOM[VALID_ATOM.index("<author>") : VALID_ATOM.index("</author>") + 9]
FEED_CONTRIBUTOR = FEED_AUTHOR.replace("author>", "contributor>")
EN_ALTERNATE = 'hreflang="en" href="https://news.example.com/en/news/"'
ENTRY_EN_ALTERNATE = 'hreflang="en"\n          href="https://news.example.com/en/a'
OUT_OF_LINE = '<content type="audio/mpeg" src="https://news.example.com/media/44.mp3"/>'
RSS_ATOM_NEXT = "https://news.example.com/feeds/news/zh-Hans.rss?page=3"
RSS_ENCLOSURE_URL = 'url="https://news.example.com/media/44.mp3"'
RSS_CATEGORY = '<category domain="https://news.example.com/sections/">news</category>\n      <guid'
RSS_ITEM_44 = (
    f"<title>播客</title>\n      <link>{A44}</link>\n      <description>音频节目</description>"
)
RSS_AUTHOR = "<author>editors@news.example.com (feedsvc 编辑部)</author>"
RSS_CHANNEL_LINK = "<link>https://news.example.com/zh-Hans/news/</link>\n    <desc"
DC_NS_DECL = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
OPML_XMLURL = 'xmlUrl="https://news.example.com/feeds/news/en.rss"'
OPML_HEAD_ONLY = VALID_OPML[: VALID_OPML.index("<body>")]

# fmt: off
CASES: list[Case] = [
    # --- XML, through the Atom checker ---------------------------------------------------
    atom("not-well-formed", "</feed>", "", "xml-not-well-formed"),
    atom("undeclared-prefix", "<fs:section", "<nope:section", "xml-not-well-formed"),
    atom("latin1-declared", 'encoding="utf-8"', 'encoding="ISO-8859-1"', "xml-encoding"),
    Case("atom-not-utf8", lambda: check_atom(
        VALID_ATOM.replace("utf-8", "gb2312").encode("gb18030"), ATOM_URL), "xml-encoding", E),
    Case("atom-utf16", lambda: check_atom(
        VALID_ATOM.replace("utf-8", "utf-16").encode("utf-16"), ATOM_URL), "xml-encoding", E),
    atom("control-char", "<title>新闻", "<title>新\x0b闻", "xml-invalid-char"),
    atom("control-char-ref", "<title>新闻", "<title>新&#x1;闻", "xml-invalid-char"),
    atom("doctype", "?>\n<feed", "?>\n<!DOCTYPE feed>\n<feed", "xml-doctype", W),
    atom("ns0-prefix", 'xmlns:media="', 'xmlns:ns0="http://example.com/x" xmlns:media="',
         "namespace-prefix", W),
    atom("media-prefix", "<fs:section",
         '<m:thumbnail xmlns:m="http://search.yahoo.com/mrss/" url="https://e.com/a.jpg"/>'
         "<fs:section", "namespace-prefix", W),
    # --- Atom: the RELAX NG grammar ------------------------------------------------------
    atom("missing-id-schema", FEED_ID, "", "atom-schema"),
    atom("bad-date-schema", "2024-05-02T08:30:00Z", "2024-05-02 08:30:00Z", "atom-schema"),
    atom("unknown-atom-element", "<title>播客</title>", "<title>播客</title><foo>x</foo>",
         "atom-schema"),
    atom("html-content-with-elements", OUT_OF_LINE, '<content type="html"><p>音频</p></content>',
         "atom-schema"),
    atom("undefined-atom-element", "<title>播客</title>", "<title>播客</title><foo>x</foo>",
         "atom-undefined-element"),
    atom("two-titles", "<title>播客</title>", "<title>播客</title><title>2</title>",
         "atom-schema"),
    atom("bad-email", "editors@news.example.com", "editors", "atom-schema"),
    atom("extension-after-entries", "</feed>", "<fs:late/></feed>", "atom-schema"),
    # --- Atom: required elements and authors ---------------------------------------------
    atom("missing-id", FEED_ID, "", "atom-missing-element"),
    atom("missing-entry-title", "<title>播客</title>", "", "atom-missing-element"),
    atom("no-author", FEED_AUTHOR, FEED_CONTRIBUTOR, "atom-missing-author"),
    # --- Atom: links ---------------------------------------------------------------------
    atom("no-self", 'rel="self"', 'rel="related"', "self-missing"),
    atom("two-selves", '<link rel="first"',
         f'<link rel="self" href="{ATOM_URL}"/><link rel="first"', "self-duplicate"),
    atom("self-mismatch", "zh-Hans.atom?page=2", "zh-Hans.atom", "self-mismatch"),
    atom("self-mismatch-query", "", "", "self-mismatch", fetched_url=ATOM_URL + "&lang=zh"),
    atom("duplicate-alternate", EN_ALTERNATE, EN_ALTERNATE.replace("en", "zh-Hans", 1),
         "alternate-duplicate"),
    atom("duplicate-entry-alternate", ENTRY_EN_ALTERNATE,
         ENTRY_EN_ALTERNATE.replace("en", "zh-hans", 1), "alternate-duplicate"),
    atom("duplicate-next", '<link rel="last"',
         '<link rel="next" href="https://news.example.com/x"/><link rel="last"',
         "paging-link-duplicate"),
    atom("relative-next", "https://news.example.com/feeds/news/zh-Hans.atom?page=3", "?page=3",
         "uri-not-absolute"),
    atom("relative-alternate", EN_ALTERNATE, 'hreflang="en" href="/en/news/"', "uri-not-absolute"),
    atom("href-space", "zh-Hans/articles/43", "zh-Hans/articles 43", "uri-invalid"),
    # --- Atom: IRIs ----------------------------------------------------------------------
    atom("id-not-url", f"<id>{A44}</id>", "<id>44</id>", "uri-not-absolute"),
    atom("id-whitespace", f"<id>{A44}</id>", f"<id>\n  {A44}\n</id>", "uri-invalid"),
    atom("bad-tag-uri", "tag:news.example.com,2024:articles/42/zh-Hans",
         "tag:news.example.com:articles/42", "tag-uri-invalid"),
    atom("icon-no-host", "https://news.example.com/static/icon.png", "https:/static/icon.png",
         "uri-not-absolute"),
    atom("relative-logo", "https://news.example.com/static/logo.png", "logo.png",
         "uri-not-absolute"),
    atom("relative-author-uri", "https://news.example.com/about", "/about", "uri-not-absolute"),
    atom("duplicate-entry-id", "urn:uuid:6f1e9a3c-2b1d-4c1e-9f00-1a2b3c4d5e6f", A44,
         "id-duplicate"),
    # --- Atom: dates ---------------------------------------------------------------------
    atom("date-no-timezone", "2024-05-02T08:30:00Z", "2024-05-02T08:30:00", "date-invalid"),
    atom("date-lowercase-z", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00z", "date-invalid"),
    atom("date-implausible", "2024-05-01T09:00:00Z", "1970-01-01T00:00:00Z",
         "date-implausible", W),
    atom("entry-after-feed", "2024-05-01T10:00:00Z", "2024-05-03T10:00:00Z",
         "atom-entry-updated-after-feed", W),
    # --- Atom: entries -------------------------------------------------------------------
    atom("no-content-no-alternate", ENTRY_2 + "\n    " + ENTRY_2_CONTENT, "",
         "atom-entry-no-content"),
    atom("no-summary", "<summary>音频节目</summary>", "", "atom-missing-summary", W),
    # --- Atom: HTML and XHTML ------------------------------------------------------------
    atom("script", ATOM_HTML, "&lt;script&gt;alert(1)&lt;/script&gt;" + ATOM_HTML,
         "html-unsafe-element"),
    atom("iframe", ATOM_HTML, '&lt;iframe src="https://e.com/"&gt;&lt;/iframe&gt;' + ATOM_HTML,
         "html-unsafe-element"),
    atom("style-element", "&lt;b&gt;新闻", "&lt;style&gt;b{}&lt;/style&gt;&lt;b&gt;新闻",
         "html-unsafe-element"),
    atom("onclick", '&lt;a href="https://news', '&lt;a onclick="x()" href="https://news',
         "html-event-handler"),
    atom("javascript-url", 'href="https://news.example.com/zh-Hans/articles/41"',
         'href=" JavaScript:alert(1)"', "html-javascript-url"),
    atom("relative-img", 'src="https://news.example.com/media/42.jpg" alt', 'src="42.jpg" alt',
         "html-relative-url", W),
    atom("style-expression", "&lt;b&gt;新闻", '&lt;b style="width: expression(alert(1))"&gt;新闻',
         "html-unsafe-style"),
    atom("non-html-tag", "&lt;b&gt;新闻&lt;/b&gt;", "&lt;blink&gt;新闻&lt;/blink&gt;",
         "html-unknown-element", W),
    atom("xhtml-script", "<p>内容", "<script>alert(1)</script><p>内容", "html-unsafe-element"),
    atom("xhtml-relative", 'href="https://news.example.com/">链接', 'href="../x">链接',
         "html-relative-url", W),
    # --- Atom: languages and root --------------------------------------------------------
    atom("bad-xml-lang", 'xml:lang="zh-Hans"', 'xml:lang="zh_Hans"', "lang-invalid"),
    atom("bad-hreflang", EN_ALTERNATE, EN_ALTERNATE.replace("en", "en_US", 1), "lang-invalid"),
    Case("atom-not-feed", lambda: check_atom(VALID_RSS.encode(), ATOM_URL), "atom-root", E),
    # --- RSS -----------------------------------------------------------------------------
    Case("rss-not-rss", lambda: check_rss(VALID_ATOM.encode(), RSS_URL), "rss-root", E),
    rss("version", 'rss version="2.0"', 'rss version="0.92"', "rss-version"),
    rss("no-description", "<description>每日新闻摘要</description>", "", "rss-missing-element"),
    rss("no-channel-link", RSS_CHANNEL_LINK, "<desc", "rss-missing-element"),
    rss("relative-channel-link", RSS_CHANNEL_LINK, "<link>/zh-Hans/news/</link><desc",
        "uri-not-absolute"),
    rss("undefined-channel-element", "<ttl>60</ttl>", "<ttl>60</ttl><updated>x</updated>",
        "rss-undefined-element"),
    rss("undefined-item-element", "<slash:comments>3</slash:comments>",
        "<slash:comments>3</slash:comments><pubdate>x</pubdate>", "rss-undefined-element"),
    rss("two-item-titles", "<title>播客</title>", "<title>播客</title><title>2</title>",
        "rss-duplicate-element"),
    rss("no-self", 'rel="self"', 'rel="related"', "self-missing", W),
    rss("two-selves", '<atom:link rel="next"',
        f'<atom:link rel="self" href="{RSS_URL}"/><atom:link rel="next"', "self-duplicate"),
    rss("self-mismatch", "zh-Hans.rss?page=2", "zh-Hans.rss", "self-mismatch"),
    rss("atom-link-no-href", '<atom:link rel="next"', '<atom:link rel="hub"/><atom:link rel="next"',
        "rss-missing-element"),
    rss("relative-next", RSS_ATOM_NEXT, "?page=3", "uri-not-absolute"),
    rss("duplicate-alternate", 'hreflang="en"', 'hreflang="zh-Hans"', "alternate-duplicate"),
    rss("duplicate-next", '<atom:link rel="previous"',
        '<atom:link rel="next" href="https://news.example.com/x"/><atom:link rel="previous"',
        "paging-link-duplicate"),
    rss("item-no-title-no-description", RSS_ITEM_44, f"<link>{A44}</link>",
        "rss-missing-element"),
    rss("no-guid", f"<guid>{A44}</guid>", "", "rss-missing-guid", W),
    rss("guid-not-permalink", RSS_ITEM_GUID, "<guid>article-42</guid>", "rss-guid-not-permalink"),
    rss("guid-permalink-yes", 'isPermaLink="false"', 'isPermaLink="yes"', "rss-invalid-value"),
    rss("duplicate-guid", RSS_ITEM_GUID, f"<guid>{A44}</guid>", "id-duplicate"),
    rss("iso-pubdate", "Wed, 01 May 2024 09:00:00 GMT", "2024-05-01T09:00:00Z", "date-invalid"),
    rss("wrong-weekday", "Wed, 01 May 2024", "Thu, 01 May 2024", "date-invalid"),
    rss("two-digit-year", "Wed, 01 May 2024", "Wed, 01 May 24", "date-invalid"),
    rss("french-month", "Thu, 02 May 2024 08:30:00 GMT", "Thu, 02 Mai 2024 08:30:00 GMT",
        "date-invalid"),
    rss("bad-last-build-date", "08:30:00 +0000", "08:30:00 +00", "date-invalid"),
    rss("implausible-pubdate", "Wed, 01 May 2024", "Wed, 01 May 1985", "date-implausible", W),
    rss("bad-dc-date", "2024-04-30T10:00:00Z", "30/04/2024", "date-invalid"),
    rss("pubdate-and-dcdate", "<dc:date>",
        "<pubDate>Tue, 30 Apr 2024 10:00:00 GMT</pubDate><dc:date>", "rss-pubdate-and-dcdate", W),
    rss("bad-language", "<language>zh-Hans</language>", "<language>zh_CN</language>",
        "lang-invalid"),
    rss("description-script", "&lt;p&gt;黄浦江", "&lt;script&gt;x()&lt;/script&gt;&lt;p&gt;黄浦江",
        "html-unsafe-element"),
    rss("channel-description-iframe", "<description>每日新闻摘要",
        "<description>&lt;iframe&gt;&lt;/iframe&gt;每日新闻摘要", "html-unsafe-element"),
    rss("description-relative", "&lt;p&gt;黄浦江",
        '&lt;a href="/zh-Hans/"&gt;x&lt;/a&gt;&lt;p&gt;', "html-relative-url", W),
    rss("encoded-relative", RSS_HTML, '<p>黄浦江<a href="articles/41">', "html-relative-url", W),
    rss("encoded-onerror", '<img src="https://news', '<img onerror="x()" src="https://news',
        "html-event-handler"),
    rss("encoded-javascript", 'href="https://news.example.com/zh-Hans/articles/41"',
        'href="javascript:void(0)"', "html-javascript-url"),
    rss("relative-category-domain", RSS_CATEGORY,
        '<category domain="/sections/">news</category><guid', "uri-not-absolute"),
    rss("enclosure-no-length", 'length="1234" ', "", "rss-enclosure"),
    rss("enclosure-length-text", 'length="1234"', 'length="1.2 MB"', "rss-enclosure"),
    rss("enclosure-bad-type", 'type="audio/mpeg"', 'type="mp3"', "rss-enclosure"),
    rss("enclosure-relative", RSS_ENCLOSURE_URL, 'url="/media/44.mp3"', "uri-not-absolute"),
    rss("media-relative", '<media:content url="https://news.example.com/media/42.jpg"',
        '<media:content url="42.jpg"', "uri-not-absolute"),
    rss("author-name", RSS_AUTHOR, "<author>张三</author>", "rss-author-not-email", W),
    rss("unknown-namespace", "<sy:updatePeriod>",
        '<x:extra xmlns:x="https://example.org/ns">1</x:extra><sy:updatePeriod>',
        "unknown-namespace"),
    rss("mistyped-namespace", "http://purl.org/dc/elements/1.1/",
        "http://purl.org/dc/elements/1.1", "unknown-namespace"),
    rss("dc-prefix", DC_NS_DECL, DC_NS_DECL + ' xmlns:dublin="http://purl.org/dc/elements/1.1/"',
        "namespace-prefix", W),
    rss("ttl-text", "<ttl>60</ttl>", "<ttl>hourly</ttl>", "rss-invalid-value"),
    rss("image-no-url", "<url>https://news.example.com/static/logo.png</url>", "",
        "rss-missing-element"),
    # --- JSON Feed -----------------------------------------------------------------------
    json_bytes("not-json", b"{", "json-invalid"),
    json_bytes("not-utf8", json.dumps(VALID_JSON, ensure_ascii=False).encode("utf-16"),
               "json-invalid"),
    json_bytes("duplicate-key", b'{"title": "a", "title": "b"}', "json-invalid"),
    json_bytes("nan", b'{"version": NaN}', "json-invalid"),
    json_bytes("array", b"[]", "json-invalid"),
    jsonfeed("wrong-version", lambda f: f.update(version="https://jsonfeed.org/version/1"),
             "json-schema"),
    jsonfeed("no-title", _del("title"), "json-schema"),
    jsonfeed("no-items", _del("items"), "json-schema"),
    jsonfeed("typo-key", lambda f: f.update(home_page="https://news.example.com/"), "json-schema"),
    jsonfeed("item-no-id", _del("items", 0, "id"), "json-schema"),
    jsonfeed("item-numeric-id", _set_item(0, "id", 42), "json-schema"),
    jsonfeed("item-no-content", _del("items", 1, "content_text"), "json-schema"),
    jsonfeed("item-typo-key", _set_item(0, "content", "x"), "json-schema"),
    jsonfeed("attachment-no-mime", _del("items", 1, "attachments", 0, "mime_type"),
             "json-schema"),
    jsonfeed("empty-author", lambda f: f.update(authors=[{}]), "json-schema"),
    jsonfeed("tag-not-string", _set_item(0, "tags", ["news", 1]), "json-schema"),
    jsonfeed("expired-string", lambda f: f.update(expired="no"), "json-schema"),
    jsonfeed("no-feed-url", _del("feed_url"), "self-missing", W),
    jsonfeed("feed-url-mismatch", lambda f: f.update(feed_url=JSON_URL + "&x=1"),
             "self-mismatch"),
    jsonfeed("duplicate-id", _set_item(1, "id", VALID_JSON["items"][0]["id"]), "id-duplicate"),
    jsonfeed("bad-date", _set_item(0, "date_published", "2024-05-01 09:00"), "date-invalid"),
    jsonfeed("date-no-offset", _set_item(0, "date_modified", "2024-05-02T08:30:00"),
             "date-invalid"),
    jsonfeed("implausible-date", _set_item(0, "date_published", "1989-12-31T23:59:59Z"),
             "date-implausible", W),
    jsonfeed("relative-item-url", _set_item(0, "url", "/zh-Hans/articles/42"),
             "uri-not-absolute"),
    jsonfeed("relative-next-url", lambda f: f.update(next_url="?page=3"), "uri-not-absolute"),
    jsonfeed("url-with-space", lambda f: f.update(icon="https://news.example.com/a b.png"),
             "uri-invalid"),
    jsonfeed("bad-tag-id-url", _set_item(0, "url", "tag:news.example.com:42"),
             "tag-uri-invalid"),
    jsonfeed("relative-attachment",
             lambda f: f["items"][1]["attachments"][0].update(url="44.mp3"), "uri-not-absolute"),
    jsonfeed("script", _set_item(0, "content_html", "<p>x</p><script>alert(1)</script>"),
             "html-unsafe-element"),
    jsonfeed("embed", _set_item(0, "content_html", '<embed src="https://e.com/x.swf">'),
             "html-unsafe-element"),
    jsonfeed("html-control-char", _set_item(0, "content_html", "<p>a\x01b</p>"),
             "html-invalid-char"),
    jsonfeed("relative-html", _set_item(0, "content_html", '<img src="/media/42.jpg">'),
             "html-relative-url", W),
    jsonfeed("bad-language", lambda f: f.update(language="zh_CN"), "lang-invalid"),
    jsonfeed("deprecated-author", lambda f: f.update(author={"name": "张三"}),
             "jsonfeed-deprecated-author", W),
    # --- OPML ----------------------------------------------------------------------------
    Case("opml-not-opml", lambda: check_opml(VALID_RSS.encode()), "opml-root", E),
    opml("not-well-formed", "</opml>", "", "xml-not-well-formed"),
    opml("version", 'opml version="2.0"', 'opml version="1.0"', "opml-version"),
    opml("no-head-title", "<title>feedsvc 订阅</title>", "", "opml-missing-element"),
    Case("opml-no-body", lambda: check_opml((OPML_HEAD_ONLY + "</opml>").encode()),
         "opml-missing-element", E),
    Case("opml-empty-body", lambda: check_opml((OPML_HEAD_ONLY + "<body/></opml>").encode()),
         "opml-missing-element", E),
    opml("outline-no-text", 'text="News (English)"', "", "opml-outline-missing-text"),
    opml("outline-no-xmlurl", OPML_XMLURL, "", "opml-outline-missing-xmlurl"),
    opml("relative-xmlurl", OPML_XMLURL, 'xmlUrl="/feeds/news/en.rss"', "uri-not-absolute"),
    opml("iso-date", "<dateCreated>Thu, 02 May 2024 08:30:00 GMT",
         "<dateCreated>2024-05-02T08:30:00Z", "date-invalid"),
    opml("implausible-date", "<dateModified>Thu, 02 May 2024", "<dateModified>Fri, 02 May 2110",
         "date-implausible", W),
]
# fmt: on


@pytest.mark.parametrize(
    "check",
    [
        pytest.param(lambda: check_atom(VALID_ATOM.encode(), ATOM_URL), id="atom"),
        pytest.param(lambda: check_rss(VALID_RSS.encode(), RSS_URL), id="rss"),
        pytest.param(
            lambda: check_json_feed(json.dumps(VALID_JSON, ensure_ascii=False).encode(), JSON_URL),
            id="json",
        ),
        pytest.param(lambda: check_opml(VALID_OPML.encode()), id="opml"),
    ],
)
def test_valid_samples_have_no_findings(check: Callable[[], list[Finding]]) -> None:
    findings = check()
    assert findings == [], "\n".join(map(str, findings))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_broken_variant_is_found(case: Case) -> None:
    findings = case.run()
    matching = [finding for finding in findings if finding.code == case.code]
    assert matching, f"expected {case.code}, got:\n" + "\n".join(map(str, findings))
    assert {finding.level for finding in matching} == {case.level}, matching


def test_every_code_can_fire() -> None:
    assert {case.code for case in CASES} == set(CODES)


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


# --- More valid shapes ---------------------------------------------------------------------


def test_atom_entries_may_carry_the_authors_instead_of_the_feed() -> None:
    entry_author = "<author><name>张三</name></author>"
    doc = _replace(VALID_ATOM, FEED_AUTHOR, FEED_CONTRIBUTOR)
    doc = doc.replace("<entry>", "<entry>" + entry_author)
    assert check_atom(doc.encode(), ATOM_URL) == []


def test_atom_source_author_counts_for_its_entry() -> None:
    doc = _replace(VALID_ATOM, FEED_AUTHOR, FEED_CONTRIBUTOR)
    source = (
        "<source><id>tag:other.example,2020:feed</id><author><name>李四</name></author></source>"
    )
    doc = doc.replace("<entry>", "<entry>" + source)
    assert check_atom(doc.encode(), ATOM_URL) == []


def test_atom_utf8_bom_and_structured_extensions_are_fine() -> None:
    doc = _replace(
        VALID_ATOM,
        "<fs:section",
        '<fs:meta a="1"><fs:x>1</fs:x></fs:meta><fs:empty/><fs:section',
    )
    assert check_atom(b"\xef\xbb\xbf" + doc.encode(), ATOM_URL) == []


def test_rss_allowed_namespaces() -> None:
    doc = _replace(
        VALID_RSS,
        "<sy:updatePeriod>",
        '<fs:section xmlns:fs="https://feedsvc.example/ns/1.0">news</fs:section><sy:updatePeriod>',
    )
    assert _codes(check_rss(doc.encode(), RSS_URL)) == {"unknown-namespace"}
    allowed = ["https://feedsvc.example/ns/1.0"]
    assert check_rss(doc.encode(), RSS_URL, allowed_namespaces=allowed) == []


def test_character_references_inside_cdata_are_not_xml_references() -> None:
    doc = _replace(VALID_RSS, "<![CDATA[<p>", "<![CDATA[&#x1;<p>")
    assert _codes(check_rss(doc.encode(), RSS_URL)) == {"html-invalid-char"}
    assert _codes(check_rss(doc.replace("<![CDATA[&#x1;", "&#x1;<![CDATA[").encode(), RSS_URL)) == {
        "xml-invalid-char"
    }


def test_source_dates_are_checked_too() -> None:
    source = "<source><updated>2024-05-01T09:00:00</updated></source>"
    doc = _replace(VALID_ATOM, "<title>播客</title>", "<title>播客</title>" + source)
    assert _codes(check_atom(doc.encode(), ATOM_URL)) == {"date-invalid"}


def test_rss_guid_permalink_false_may_be_a_url_too() -> None:
    doc = _replace(
        VALID_RSS,
        "<guid>https://news.example.com/zh-Hans/articles/44</guid>",
        '<guid isPermaLink="false">https://news.example.com/zh-Hans/articles/44</guid>',
    )
    assert check_rss(doc.encode(), RSS_URL) == []


def test_valid_samples_parse_cleanly_with_feedparser() -> None:
    for data, version in [(VALID_ATOM, "atom10"), (VALID_RSS, "rss20")]:
        parsed = feedparser.parse(data.encode())
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.version == version
        assert parsed.feed.title == "新闻 · 黄浦江"


def test_findings_are_readable() -> None:
    doc = _replace(VALID_RSS, "<ttl>60</ttl>", "<ttl>hourly</ttl>")
    (finding,) = check_rss(doc.encode(), RSS_URL)
    assert str(finding).startswith("error: rss-invalid-value: line ")


# --- The schemas on their own ----------------------------------------------------------------

RNG = etree.RelaxNG(etree.parse(str(feedcheck.ATOM_SCHEMA_PATH)))


def _rng_valid(doc: str) -> bool:
    return bool(RNG.validate(etree.fromstring(doc.encode())))


def test_rng_accepts_the_valid_sample_and_an_entry_document() -> None:
    assert _rng_valid(VALID_ATOM)
    entry = (
        '<entry xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x:1</id>'
        "<updated>2024-01-01T00:00:00Z</updated></entry>"
    )
    assert _rng_valid(entry)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("<id>tag:news.example.com,2024:sections/news/zh-Hans</id>", "", id="no-id"),
        pytest.param("2024-05-02T08:30:00Z", "02 May 2024", id="bad-date"),
        pytest.param("<title>播客</title>", "<title>播客</title><summmary/>", id="unknown-atom"),
        pytest.param(
            "<summary>音频节目</summary>",
            '<summary type="html"><b>x</b></summary>',
            id="html-with-children",
        ),  # fmt: skip
        pytest.param('type="audio/mpeg" src', 'type="mp3" src', id="media-type-without-slash"),
        pytest.param('<link rel="first"', '<link rel="first" foo="1"', id="unqualified-attr"),
        pytest.param(
            '<div xmlns="http://www.w3.org/1999/xhtml"><p>内容',
            '<div xmlns="http://www.w3.org/1999/xhtml"><fs:p>内容</fs:p><p>',
            id="non-xhtml-in-div",
        ),  # fmt: skip
        pytest.param(
            'type="audio/mpeg" src="https://news.example.com/media/44.mp3"/>',
            'src="https://news.example.com/media/44.mp3">x</content>',
            id="out-of-line-with-text",
        ),  # fmt: skip
    ],
)
def test_rng_rejects(old: str, new: str) -> None:
    assert not _rng_valid(_replace(VALID_ATOM, old, new))


def test_jsonfeed_schema_is_a_valid_2020_12_schema() -> None:
    schema = json.loads(feedcheck.JSONFEED_SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(VALID_JSON)) == []


# --- Value parsers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("Thu, 02 May 2024 08:30:00 GMT", True),
        ("02 May 2024 08:30 +0800", True),
        ("Thu, 02 May 2024 08:30:00 EDT", True),
        ("Thu, 02 May 2024 08:30:00 UTC", False),
        ("Thu,  02 May 2024 08:30:00 GMT", False),
        ("thu, 02 may 2024 08:30:00 GMT", False),
        ("Fri, 30 Feb 2024 08:30:00 GMT", False),
        ("Thu, 02 May 2024 24:00:00 GMT", False),
        ("Thu, 02 May 2024 08:30:00", False),
    ],
)
def test_parse_rfc822(value: str, ok: bool) -> None:
    if ok:
        assert parse_rfc822(value).tzinfo is not None
    else:
        with pytest.raises(ValueError):
            parse_rfc822(value)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2024-05-02T08:30:00Z", True),
        ("2024-05-02T08:30:00.123456789+08:00", True),
        ("2016-12-31T23:59:60Z", True),
        ("2024-05-02T08:30:00", False),
        ("2024-05-02T08:30Z", False),
        ("2024-02-30T08:30:00Z", False),
        ("2024-05-02T08:30:00+0800", False),
        ("2024-05-02T08:30:00+24:00", False),
    ],
)
def test_parse_rfc3339(value: str, ok: bool) -> None:
    if ok:
        assert parse_rfc3339(value, atom=True).utcoffset() is not None
    else:
        with pytest.raises(ValueError):
            parse_rfc3339(value, atom=True)


@pytest.mark.parametrize(
    ("tag", "ok"),
    [
        ("en", True),
        ("zh-Hans", True),
        ("zh-Hant-TW", True),
        ("es-419", True),
        ("de-CH-1901", True),
        ("en-US-x-twain", True),
        ("i-klingon", True),
        ("x-private", True),
        ("en_US", False),
        ("", False),
        ("english", True),  # well-formed (5-8 letters is a registered-language slot)
        ("zh-", False),
        ("123", False),
        ("en-a", False),
    ],
)
def test_is_language_tag(tag: str, ok: bool) -> None:
    assert is_language_tag(tag) is ok


@pytest.mark.parametrize(
    ("uri", "code"),
    [
        ("https://news.example.com/feeds/news/zh-Hans.atom?page=2", None),
        ("https://新闻.example.com/文章/42", None),
        ("http://127.0.0.1:8000/feed", None),
        ("http://[::1]:8000/feed", None),
        ("tag:news.example.com,2024:articles/42", None),
        ("tag:editor@news.example.com,2024-05-02:a#b", None),
        ("urn:uuid:6f1e9a3c-2b1d-4c1e-9f00-1a2b3c4d5e6f", None),
        ("mailto:editors@news.example.com", None),
        ("/feeds/news.atom", "uri-not-absolute"),
        ("//news.example.com/feed", "uri-not-absolute"),
        ("https:///feed", "uri-not-absolute"),
        ("", "uri-not-absolute"),
        ("https://news.example.com/a b", "uri-invalid"),
        ("https://news.example.com:99999/", "uri-invalid"),
        ("https://news.example.com/%zz", "uri-invalid"),
        ("urn:", "uri-invalid"),
        ("tag:news.example.com,2024-13:a", "tag-uri-invalid"),
        ("tag:news.example.com:a", "tag-uri-invalid"),
        ("tag:-bad.example.com,2024:a", "tag-uri-invalid"),
    ],
)
def test_uri_problem(uri: str, code: str | None) -> None:
    problem = uri_problem(uri)
    assert (problem[0] if problem else None) == code


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<feed/>",
        b'<feed xmlns="http://www.w3.org/2005/Atom"/>',
        b'<rss version="2.0"><channel/></rss>',
        b"<opml/>",
        b'{"items": "x", "feed_url": 5, "authors": "x", "language": 3}',
        b'{"items": [1, {"id": 1, "date_published": 5, "url": 3, "content_html": 7}]}',
    ],
)
def test_odd_documents_give_findings_not_exceptions(data: bytes) -> None:
    for findings in (
        check_atom(data, ATOM_URL),
        check_rss(data, RSS_URL),
        check_json_feed(data, JSON_URL),
        check_opml(data),
    ):
        assert findings
        assert all(finding.level in ("error", "warning") for finding in findings)
        assert all(CODES[finding.code] for finding in findings)
