"""Text stays text (issue 13, acceptance 2), as properties (hypothesis):

- a title or summary the API accepts is stored as plain text, and the stored value, every
  feed (RSS, Atom, JSON Feed) and the pages hold no "<" an HTML parser reads as markup
  from it; RSS <description>, which readers parse as HTML, reads back as the same text;
- whatever a translator sends back for a segment, the reassembled body has the source's
  elements, attribute names and nesting: a target cannot close an attribute or forge a
  slot of the skeleton.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from itertools import count

import lxml.etree
import lxml.html
import markupsafe
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from feedsvc.db import database
from feedsvc.db.tables import ArticleRow
from feedsvc.feeds.model import Feed, FeedEntry, Generator
from feedsvc.feeds.render import render_atom, render_json, render_rss
from feedsvc.sanitize import TEXT_DECODE_ROUNDS, EncodedTooDeep, clean_html, clean_text
from feedsvc.segments import reassemble, segment_html
from tests.conftest import Api, article_doc

BASE = "http://feeds.test"
ATOM = "{http://www.w3.org/2005/Atom}"
PROPERTY = settings(
    max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None
)

# -- hostile text -----------------------------------------------------------------------

MARKUP = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<b>bold</b>",
    "</p><p>",
    "<!-- c -->",
    "<!DOCTYPE html>",
    "<?php x ?>",
    "<![CDATA[x]]>",
]
ATOMS = [
    *MARKUP,
    *(html.escape(m) for m in MARKUP),
    *("&amp;" * 3 + html.escape(m)[1:] for m in MARKUP),
    "<",
    ">",
    "&",
    '"',
    "'",
    "/",
    "!",
    "?",
    "=",
    "-",
    " ",
    "\n",
    "\t",
    "\xa0",
    "\u2028",
    "a < b",
    "x <3 y",
    "<é",
    "</",
    "<!",
    "<?",
    "< b",
    "1<2",
    "<<b",
    "&lt;",
    "&gt;",
    "&amp;",
    "&amp;lt;",
    "&#60;",
    "&#x3C;",
    "&#x3c",
    "&lt",
    "&amp",
    "lt;",
    "amp;",
    "&#1;",
    "&#0;",
    "&#xD800;",
    "&notit;",
    "&quot;",
    "{1}",
    "{/1}",
    "<!--seg:body.0.0-->",
    "-->",
    "]]>",
]
# Characters an API text field accepts (C0 controls and surrogates are refused elsewhere).
CHARS = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters="".join(map(chr, range(0x20))).replace("\t", "").replace("\n", ""),
)


def encoded(markup: str, times: int) -> str:
    for _ in range(times):
        markup = html.escape(markup)
    return markup


HOSTILE = st.one_of(
    st.lists(st.one_of(st.sampled_from(ATOMS), st.text(CHARS, max_size=4)), max_size=14).map(
        "".join
    ),
    st.builds(
        lambda text, markup, times: text + encoded(markup, times),
        st.text(CHARS, max_size=6),
        st.sampled_from(MARKUP),
        st.integers(0, 7),
    ),
)


class _Events(HTMLParser):
    """Python's own HTML tokenizer as a second parser: any markup event is a failure."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.events.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self.events.append(f"</{tag}>")

    def handle_comment(self, data: str) -> None:
        self.events.append("<!--")

    def handle_decl(self, decl: str) -> None:
        self.events.append("<!")

    def handle_pi(self, data: str) -> None:
        self.events.append("<?")

    def unknown_decl(self, data: str) -> None:
        self.events.append("<![")


def html_text(value: str) -> str:
    """``value`` read as HTML by lxml and by html.parser: its text; fails on any markup."""
    root = lxml.html.fragment_fromstring(f"<div>{value}</div>")
    assert len(root) == 0, f"markup read from {value!r}: {[c.tag for c in root]}"
    parser = _Events()
    parser.feed(value)
    parser.close()
    assert parser.events == [], f"markup read from {value!r}: {parser.events}"
    return root.text or ""


# -- clean_text and the renderers, as functions ------------------------------------------


def test_the_checker_sees_markup() -> None:
    for value in ("<b>x</b>", "a <img src=x>", "x <!-- y -->", "</p>", "<a"):
        with pytest.raises(AssertionError):
            html_text(value)
    assert html_text("a < b &amp; c") == "a < b & c"


def test_four_times_encoded_markup_is_no_markup() -> None:
    markup = "<img src=x onerror=alert(1)>Title"
    for times in range(TEXT_DECODE_ROUNDS - 1):
        assert clean_text(encoded(markup, times), TEXT_DECODE_ROUNDS) == "Title"
    with pytest.raises(EncodedTooDeep):
        clean_text(encoded("<b>x</b>", TEXT_DECODE_ROUNDS + 2), TEXT_DECODE_ROUNDS)
    assert clean_text(encoded("<b>x</b>", TEXT_DECODE_ROUNDS + 2)) == "x"  # no bound: fixed point
    assert clean_text("a < b, 1<2 & x <3 y") == "a < b, 1<2 & x <3 y"  # a literal "<" is text


def _feed(title: str, summary: str | None) -> Feed:
    moment = datetime(2026, 2, 19, tzinfo=UTC)
    entry = FeedEntry(
        id="urn:x:1",
        title=title,
        url=f"{BASE}/en/articles/1/x",
        content_html="<p>Body.</p>",
        summary=summary,
        published=moment,
        updated=moment,
        author="Li Wen",
        language="en",
    )
    return Feed(
        id="urn:x",
        title="Feed",
        subtitle=f"Latest news in {title}",
        language="en",
        self_url=f"{BASE}/en/feed.atom",
        html_url=f"{BASE}/en/",
        updated=moment,
        author="Desk",
        rights="©",
        generator=Generator("feedsvc", BASE, "1"),
        icon=f"{BASE}/icon.png",
        logo=f"{BASE}/logo.png",
        entries=(entry,),
    )


def assert_feeds_hold_text(
    rss: bytes, atom: bytes, jsonfeed: bytes, title: str, summary: str | None
) -> None:
    """Each format carries ``title`` and ``summary`` as text, for an entry whose id or
    link ends as the first entry's."""
    channel = lxml.etree.fromstring(rss).find("channel")
    item = channel.find("item")
    assert item.findtext("title") == title
    assert html_text(item.findtext("title")) == title  # read as HTML too, the same text
    if summary is not None:
        # Readers parse <description> as HTML: the summary's text, no markup.
        assert html_text(item.findtext("description")) == summary
    html_text(channel.findtext("description"))
    feed = lxml.etree.fromstring(atom)
    entry = feed.find(f"{ATOM}entry")
    for name, value in (("title", title), ("summary", summary)):
        element = entry.find(ATOM + name)
        if value is None:
            continue
        assert element.get("type", "text") == "text", lxml.etree.tostring(element)
        assert element.text == value
    document = json.loads(jsonfeed)
    first = document["items"][0]
    assert first["title"] == title  # plain text by the JSON Feed spec
    if summary is not None:
        assert first["summary"] == summary


@PROPERTY
@given(HOSTILE, HOSTILE)
def test_clean_text_and_every_feed_keep_text_as_text(title: str, summary: str) -> None:
    title = clean_text(title) or "x"  # the API refuses an empty title
    summary = clean_text(summary) or None
    for value in (title, summary or ""):
        assert html_text(value) == value  # no markup, and it decodes to itself
        assert clean_text(value) == value  # a fixed point
    feed = _feed(title, summary)
    assert_feeds_hold_text(render_rss(feed), render_atom(feed), render_json(feed), title, summary)


@PROPERTY
@given(HOSTILE)
def test_rss_description_is_escaped_whatever_the_summary(summary: str) -> None:
    # A summary made from the body's text (lead) is not cleaned: "<" in it is text too.
    feed = _feed("Title", summary or "x")
    channel = lxml.etree.fromstring(render_rss(feed)).find("channel")
    assert html_text(channel.find("item").findtext("description")) == (summary or "x")
    assert html_text(channel.findtext("description")) == "Latest news in Title"


# -- the same through the API, stored, served, on both databases ----------------------


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path, base_url=BASE)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _structure(page: str) -> list[tuple[str, tuple[str, ...]]]:
    root = lxml.html.document_fromstring(page)
    return [(str(el.tag), tuple(sorted(el.attrib))) for el in root.iter()]


def _entry_first(data: bytes, fmt: str, article_id: int) -> bytes:
    """The feed with only the article's entry, to reuse the format checks above."""
    marker = f"/articles/{article_id}/"
    if fmt == "json":
        document = json.loads(data)
        document["items"] = [i for i in document["items"] if marker in i["url"]]
        assert document["items"], "the article is not in the feed"
        return json.dumps(document).encode()
    root = lxml.etree.fromstring(data)
    parent = root if fmt == "atom" else root.find("channel")
    entries = parent.findall(f"{ATOM}entry" if fmt == "atom" else "item")
    mine = [
        e
        for e in entries
        if marker in (e.findtext("link") or "")
        or any(marker in (link.get("href") or "") for link in e.findall(f"{ATOM}link"))
    ]
    assert mine, "the article is not in the feed"
    for entry in entries:
        if entry is not mine[0]:
            parent.remove(entry)
    return lxml.etree.tostring(root)


def test_what_the_api_accepts_is_stored_and_served_as_text(
    editor: Api, app: Flask, client: FlaskClient, sections: list[str]
) -> None:
    numbers = count()
    start = datetime(2026, 3, 1, tzinfo=UTC)

    def post(title: str, summary: str | None):  # type: ignore[no-untyped-def]
        number = next(numbers)
        doc = article_doc(
            title=title,
            summary=summary,
            body_html="<p>The bridge opened on Monday.</p>",
            external_id=f"text-{number}",
            slug=f"text-{number}",
            published_at=(start + timedelta(minutes=number)).isoformat(),
        )
        return editor.post("/articles", doc)

    baselines = {}
    for has_summary in (False, True):
        created = post("Plain title", "Plain summary" if has_summary else None).json
        path = f"/en/articles/{created['id']}/{created['slug']}"
        baselines[has_summary] = _structure(_page(client, path))

    @settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(HOSTILE, HOSTILE)
    def check(title: str, summary: str) -> None:
        response = post(title, summary)
        if response.status_code != 201:  # refused: nothing of it may be stored
            assert response.status_code == 422, response.json
            assert response.mimetype == "application/problem+json"
            return
        article_id = response.json["id"]
        with app.app_context(), database().session() as session:
            row = session.scalars(select(ArticleRow).where(ArticleRow.id == article_id)).one()
        stored_title, stored_summary = row.title, row.summary
        assert response.json["title"] == stored_title
        for value in (stored_title, stored_summary or ""):
            assert html_text(value) == value
        feeds = {
            fmt: _entry_first(_page_bytes(client, f"/en/news/world/feed.{fmt}"), fmt, article_id)
            for fmt in ("rss", "atom", "json")
        }
        assert_feeds_hold_text(
            feeds["rss"], feeds["atom"], feeds["json"], stored_title, stored_summary
        )
        page = _page(client, f"/en/articles/{article_id}/{row.slug}")
        assert _structure(page) == baselines[stored_summary is not None]
        section = _page(client, "/en/news/world/")
        # The title reads back as the same text where the pages show it.
        assert lxml.html.document_fromstring(page).find(".//h1").text_content() == stored_title
        for shown in (page, section):
            assert str(markupsafe.escape(stored_title)) in shown
        links = lxml.html.document_fromstring(section).iter("a")
        assert any(a.text_content().strip() == stored_title for a in links)

    check()


def test_a_lead_with_markup_as_text_stays_text_in_every_feed(
    editor: Api, client: FlaskClient, sections: list[str]
) -> None:
    """No summary: feeds show the body's opening text, where "<img …>" was text."""
    lead = "<img src=x onerror=alert(1)> & <script>alert(1)</script> opened."
    body = f"<p>{html.escape(lead)}</p>"
    created = editor.post("/articles", article_doc(body_html=body, summary=None)).json
    rss = _entry_first(_page_bytes(client, "/en/news/world/feed.rss"), "rss", created["id"])
    item = lxml.etree.fromstring(rss).find("channel/item")
    assert html_text(item.findtext("description")) == lead
    atom = _entry_first(_page_bytes(client, "/en/news/world/feed.atom"), "atom", created["id"])
    summary = lxml.etree.fromstring(atom).find(f"{ATOM}entry/{ATOM}summary")
    assert summary.get("type", "text") == "text" and summary.text == lead


def _page_bytes(client: FlaskClient, path: str) -> bytes:
    response = client.get(path, base_url=BASE)
    assert response.status_code == 200, path
    return response.data


def test_markup_encoded_past_the_bound_is_refused_naming_the_field(
    editor: Api, sections: list[str]
) -> None:
    before = editor.get("/articles").json
    deep = encoded("<img src=x onerror=alert(1)>", TEXT_DECODE_ROUNDS + 2)
    for field in ("title", "summary"):
        response = editor.post("/articles", article_doc(**{field: f"News {deep}"}))
        assert response.status_code == 422, response.json
        assert response.mimetype == "application/problem+json"
        assert f"/{field}" in json.dumps(response.json)
    assert editor.get("/articles").json == before


# -- translator targets cannot change the body's structure --------------------------

BODIES = [
    '<p>One sentence here. <a href="https://x.example/a" rel="noopener noreferrer">A link</a>'
    " and <strong>bold</strong> text. Third one.</p><p>Second paragraph.</p>",
    # A slot marker inside an attribute (the reported breakout): of an image that is no
    # segment (so in the skeleton itself) and of one inside a sentence; and in text.
    '<p><img src="https://x.example/p.png?a=&lt;!--seg:body.0.0--&gt;"></p>'
    '<p><a href="https://x.example/?q=&lt;!--seg:body.1.0--&gt;">https://x.example/</a></p>'
    "<p>First here. Second there.</p><p>Another one.</p>",
    '<p>One <img src="https://x.example/p.png?a=&lt;!--seg:body.0.0--&gt;" alt="A cat"> here.'
    " Two &lt;!--seg:body.0.1--&gt; words.</p><p>Next &amp; last.</p>",
    "<h2>Heading <em>with</em> emphasis</h2><ul><li>Item one.</li><li>Item <code>two()</code>"
    '</li></ul><table><tr><td>Cell text</td><td><abbr title="A title">ABBR</abbr> x</td></tr>'
    "</table><pre>kept &lt;as&gt; is</pre>",
    "<blockquote><p>Quote {with} braces, line<br>break. And <i>more <b>nested</b></i>.</p>"
    "</blockquote>",
]
TARGET_ATOMS = [
    '"',
    "'",
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;",
    "&quot;",
    "=",
    " ",
    "\n",
    '" title="pwn',
    "' onerror='alert(1)",
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "<!--seg:body.0.0-->",
    "<!--seg:body.1.0-->",
    "<!--",
    "-->",
    "]]>",
    "{1}",
    "{/1}",
    "{2}",
    "{/2}",
    "{3}",
    "{99}",
    "{/99}",
    "{ 1 }",
    "｛1｝",
    "{",
    "}",
    "</p>",
    "</a>",
    "<p>",
]
TARGET = st.lists(
    st.one_of(st.sampled_from(TARGET_ATOMS), st.text(CHARS, max_size=4)), max_size=10
).map("".join)


def _shape(markup: str) -> list[tuple[object, ...]]:
    """Elements in document order with their tag, attribute names, depth and attribute
    values other than the translatable ones."""
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    shape = []

    def walk(el: lxml.html.HtmlElement, depth: int) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue  # comments are dropped by the yardstick (and never in a body)
            values = sorted((k, v) for k, v in child.attrib.items() if k not in ("alt", "title"))
            shape.append((child.tag, tuple(sorted(child.attrib)), depth, tuple(values)))
            walk(child, depth + 1)

    walk(root, 0)
    return shape


def _in_order_with_tokens(source: str, pieces: list[str]) -> str:
    """``pieces`` of text (braces made parentheses) around the source's placeholder
    tokens, kept in their order."""
    pieces = [p.replace("{", "(").replace("}", ")").replace("｛", "(") for p in pieces]
    out = []
    for index, token in enumerate(re.findall(r"\{/?\d+\}", source)):
        out += [pieces[index % len(pieces)], token]
    out.append(pieces[-1])
    return "".join(out)


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_no_target_changes_the_structure(body: str) -> None:
    body = clean_html(body)
    segmented = segment_html(body)
    keys = [segment.key for segment in segmented.segments]
    assert keys, body
    expected = _shape(body)
    assert _shape(reassemble(segmented, {})) == expected

    @settings(
        max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(st.lists(TARGET, min_size=1, max_size=4), st.sampled_from(["", "zh-Hans"]))
    def same_structure(pieces: list[str], lang: str) -> None:
        # Every placeholder token in its place, any text around: exactly the same tree.
        targets = {s.key: _in_order_with_tokens(s.source, pieces) for s in segmented.segments}
        result = reassemble(segmented, targets, lang)
        assert _shape(result) == expected, (targets, result)

    @settings(
        max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(st.sampled_from(keys), TARGET)
    def nothing_new(key: str, target: str) -> None:
        # Any text, tokens dropped, repeated or invented: no element or attribute that the
        # source does not have, and the rest of the body untouched.
        result = reassemble(segmented, {key: target})
        have = [(tag, names, values) for tag, names, _, values in _shape(result)]
        allowed = [(tag, names, values) for tag, names, _, values in expected]
        for element in have:
            assert element in allowed, (target, result)
            allowed.remove(element)

    same_structure()
    nothing_new()


def test_a_section_name_is_text_in_feeds_and_opml(editor: Api, client: FlaskClient) -> None:
    name = "World &lt;img src=x onerror=alert(1)&gt; <b>news</b>"
    created = editor.post("/sections", {"path": "world", "names": {"en": name}})
    assert created.status_code == 201, created.json
    stored = created.json["names"]["en"]
    assert not re.search(r"<[A-Za-z/!?]", stored), stored
    for path in ("/en/world/feed.rss", "/en/world/feed.atom", "/feeds.opml"):
        response = client.get(path)
        assert response.status_code == 200, path
        tree = lxml.etree.fromstring(response.data)
        assert not tree.xpath("//*[local-name()='img' or local-name()='b']"), path
        texts = " ".join(t.text or "" for t in tree.iter() if isinstance(t.tag, str))
        attributes = " ".join(v for t in tree.iter() for v in t.attrib.values())
        assert not re.search(r"<[A-Za-z/!?]", texts + attributes), path
    empty = editor.post("/sections", {"path": "empty", "names": {"en": "<b></b>"}})
    assert empty.status_code == 422 and empty.json["errors"][0]["pointer"] == "/names/en"
