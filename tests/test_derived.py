"""Traditional Chinese derived from reviewed Simplified Chinese with OpenCC.

Config spelling and its errors; the conversion itself; approving a zh-Hans segment gives
exactly one new zh-Hant segment; edits re-derive only their segment and never overwrite
zh-Hant work; unapproved bases leave zh-Hant pending; the zh-Hant feed is valid and says
where its text comes from; the zh_Hant UI catalog is complete and chosen for zh-TW/zh-HK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import opencc
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree, html

from feedsvc import create_app, derived
from feedsvc.articles import utcnow
from feedsvc.config import ConfigError, Language, PublishPolicy, load_settings, parse_languages
from feedsvc.db import database
from feedsvc.derived import convert
from feedsvc.domain import JobStatus, Role, SegmentOrigin, SegmentStatus, StoredSegment
from feedsvc.exchange import Unit, export_po
from feedsvc.i18n import regional_match, ui_locale
from feedsvc.jobs import jobs
from feedsvc.review import Reviewer
from feedsvc.store import Store
from feedsvc.tokens import issue_token
from tests.conftest import Api, make_config
from tests.feedcheck import check_atom, check_json_feed, check_opml, check_rss
from tests.test_catalogs import catalog, extracted, translations

BASE = "http://feeds.test"
ATOM = "{http://www.w3.org/2005/Atom}"
PROVENANCE = "https://feedsvc.example/ns/provenance"
LANGUAGES = "en,zh-Hans:reviewed,zh-Hant:from=zh-Hans"
TITLE = "District opens robotics park"
SUMMARY = "The park will host 120 companies."
BODY = (
    "<p>GUANGZHOU, Feb. 19 -- The district opened a robotics park on Monday. "
    "It covers 56.39 sq km.</p><p>Officials said the "
    '<a href="https://gdd.example.org/p">park</a> will host <strong>120 companies</strong>.</p>'
)
# What a zh-Hans translator writes, segment by segment.
SIMPLIFIED = {
    "title": "区里的机器人产业园开园",
    "summary": "产业园将入驻120家企业。",
    "body.0.0": "广州2月19日电——该区周一开放了一座机器人产业园。",
    "body.0.1": "占地56.39平方公里。",
    "body.1.0": "官员表示，该{1}产业园{/1}将入驻{2}120家企业{/2}。",
}


# -- configuration -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("zh-Hant:from=zh-Hans", ("zh-Hant", PublishPolicy.MACHINE, "zh-Hans", "s2twp")),
        (
            "zh-Hant:reviewed:from=zh-Hans:opencc=s2hk",
            ("zh-Hant", PublishPolicy.REVIEWED, "zh-Hans", "s2hk"),
        ),
        ("zh-Hant:opencc=s2t:from=zh-Hans", ("zh-Hant", PublishPolicy.MACHINE, "zh-Hans", "s2t")),
        ("zh-Hant-TW:from=zh-Hans", ("zh-Hant-TW", PublishPolicy.MACHINE, "zh-Hans", "s2twp")),
        ("zh-Hant-HK:from=zh-hans", ("zh-Hant-HK", PublishPolicy.MACHINE, "zh-Hans", "s2hk")),
        ("zh-Hant-MO:from=zh-Hans", ("zh-Hant-MO", PublishPolicy.MACHINE, "zh-Hans", "s2hk")),
        ("zh-Hant", ("zh-Hant", PublishPolicy.MACHINE, None, None)),
    ],
)
def test_derived_languages_are_parsed(spec: str, expected: tuple[Any, ...]) -> None:
    languages = parse_languages(f"en,zh-Hans:reviewed,{spec}")
    derived = languages[2]
    assert (derived.tag, derived.policy, derived.derived_from, derived.opencc) == expected
    base = languages[1]
    assert base.derivatives == ((derived,) if derived.derived_from else ())
    assert derived.converter == (f"opencc {expected[3]}" if expected[3] else None)


def test_a_base_knows_all_its_derivatives_and_tags_keep_their_order() -> None:
    languages = parse_languages("en,zh-Hans,fr,zh-Hant:from=zh-Hans,zh-Hant-HK:from=zh-Hans")
    assert [lang.tag for lang in languages] == ["en", "zh-Hans", "fr", "zh-Hant", "zh-Hant-HK"]
    assert [d.tag for d in languages[1].derivatives] == ["zh-Hant", "zh-Hant-HK"]
    assert languages[2].derivatives == ()
    # Equality ignores derivatives: a language is its tag, policy and derivation.
    assert languages[1] == Language("zh-Hans", PublishPolicy.MACHINE)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("en,zh-Hant:from=zh-Hans", "zh-Hans, which must be listed before it"),
        ("en,zh-Hant:from=zh-Hans,zh-Hans", "which must be listed before it"),
        ("en,zh-Hans,zh-Hant:from=en", "cannot be derived from the source language en"),
        ("en:from=zh-Hans,zh-Hans", "the source language en cannot be derived"),
        ("en,zh-Hans,zh-Hant:from=zh-Hant", "cannot be derived from itself"),
        (
            "en,zh-Hans,zh-Hant:from=zh-Hans,zh-Hant-TW:from=zh-Hant",
            "itself derived from zh-Hans; derive both from zh-Hans",
        ),
        ("en,fr,zh-Hant:from=fr", "fr, which is not Simplified Chinese"),
        ("en,zh-Hans,zh-Hant,zh-Hant-HK:from=zh-Hant", "zh-Hant, which is not Simplified"),
        ("en,zh-Hans,fr:from=zh-Hans", "OpenCC converts between Chinese scripts only"),
        ("en,zh-Hans,zh-Hans-SG:from=zh-Hans", "derive a Traditional Chinese tag"),
        ("en,zh-Hans,zh-Hant:opencc=s2twp", "opencc= for zh-Hant needs from=TAG"),
        ("en,zh-Hans,zh-Hant:from=zh-Hans:opencc=t2s", "must be one of s2t, s2tw, s2twp, s2hk"),
        ("en,zh-Hans,zh-Hant:from=zh-Hans:from=zh-Hans", "zh-Hant has from= twice"),
        ("en,zh-Hans,zh-Hant:from=zh-Hans:machine:reviewed", "zh-Hant has two policies"),
        ("en,zh-Hans,zh-Hant:from=zh-Hans:fast", "policy 'fast' for zh-Hant must be"),
        ("en,zh-Hans,zh-Hant:from=zh-Hans:colour=red", "unknown setting 'colour=red'"),
        ("en,zh-Hans,zh-Hant:from=xx-Yyyy-1", "from= of zh-Hant"),
    ],
)
def test_bad_derivations_are_refused_with_a_message(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(
            Path("/nonexistent"), {"FEEDSVC_LANGUAGES": value, "FEEDSVC_SECRET_KEY": "x" * 16}
        )
    assert str(raised.value).startswith("FEEDSVC_LANGUAGES: ")
    assert message in str(raised.value)


# -- the conversion ------------------------------------------------------------------


def test_conversion_keeps_placeholders_numbers_and_latin_text() -> None:
    text = "官员表示，该{1}产业园{/1}将入驻{2}120家企业{/2}，占地56.39平方公里（GDD）。{{1}}"
    converted = convert(text, "s2twp")
    assert (
        converted
        == "官員表示，該{1}產業園{/1}將入駐{2}120家企業{/2}，佔地56.39平方公里（GDD）。{{1}}"
    )


def test_the_configuration_chooses_regional_words() -> None:
    text = "我们的软件使用了鼠标和内存。"
    assert convert(text, "s2twp") == "我們的軟體使用了滑鼠和記憶體。"
    assert convert(text, "s2hk") == "我們的軟件使用了鼠標和內存。"


def test_a_conversion_that_touched_a_placeholder_is_redone_run_by_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Mangling:
        def convert(self, text: str) -> str:
            return opencc.OpenCC("s2twp").convert(text).replace("{1}", "{１}")

    from feedsvc import derived

    monkeypatch.setattr(derived, "_converter", lambda config: Mangling())
    assert convert("该{1}产业园{/1}", "s2twp") == "該{1}產業園{/1}"


# -- the workflow -------------------------------------------------------------------


@pytest.fixture
def dapp(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """No Argos package at all: zh-Hans waits for a model, its translator writes by hand;
    zh-Hant never needs one."""
    app = create_app(
        make_config(
            database_url,
            FEEDSVC_LANGUAGES=LANGUAGES,
            FEEDSVC_ARGOS_PACKAGES_DIR=str(tmp_path / "no-packages"),
        )
    )
    yield app
    app.extensions["feedsvc.jobs"].dispatcher.stop()
    app.extensions["feedsvc.scopes"].stop()
    with app.app_context():
        database().engine.dispose()


@pytest.fixture
def people(dapp: Flask) -> dict[str, Api]:
    found = {}
    with dapp.app_context(), database().session() as session:
        store = Store(session)
        for name, role, langs in (
            ("editor", Role.EDITOR, []),
            ("hans", Role.TRANSLATOR, ["zh-Hans"]),
            ("hant", Role.TRANSLATOR, ["zh-Hant"]),
        ):
            _, secret = issue_token(store, f"{name} person", role, langs)
            found[name] = Api(dapp.test_client(), secret)
    return found


def run_jobs(app: Flask) -> int:
    with app.app_context():
        return jobs().worker.run_pending()


@pytest.fixture
def article(dapp: Flask, people: dict[str, Api]) -> int:
    editor = people["editor"]
    names = {"en": "News", "zh-Hans": "新闻", "zh-Hant": "新聞"}
    assert editor.post("/sections", {"path": "news", "names": names}).status_code == 201
    created = editor.post(
        "/articles",
        {"section": "news", "title": TITLE, "summary": SUMMARY, "body_html": BODY},
    )
    assert created.status_code == 201, created.json
    run_jobs(dapp)
    return int(created.json["id"])


def states(app: Flask, article: int, lang: str) -> dict[str, StoredSegment]:
    with app.app_context(), database().session() as session:
        return {s.key: s for s in Store(session).segments.of(article, lang)}


def filled(app: Flask, article: int, lang: str = "zh-Hant") -> set[str]:
    return {key for key, s in states(app, article, lang).items() if s.target is not None}


def segment(api: Api, article: int, lang: str, key: str) -> dict[str, Any]:
    items = api.get(f"/articles/{article}/translations/{lang}/segments").json["items"]
    return next(item for item in items if item["key"] == key)


def write(api: Api, article: int, lang: str, key: str, target: str | None, approve: bool) -> Any:
    """A translator's PATCH, with the etag of a fresh GET."""
    etag = segment(api, article, lang, key)["etag"]
    doc: dict[str, Any] = {"status": "approved"} if approve else {}
    if target is not None:
        doc["target"] = target
    response = api.patch(
        f"/articles/{article}/translations/{lang}/segments/{key}",
        doc,
        headers={"If-Match": f'"{etag}"'},
    )
    assert response.status_code == 200, response.json
    return response.json


def test_zh_hant_waits_for_approved_zh_hans_and_never_for_a_model(
    dapp: Flask, article: int
) -> None:
    with dapp.app_context(), database().session() as session:
        store = Store(session)
        hans, hant = store.jobs.latest(article, "zh-Hans"), store.jobs.latest(article, "zh-Hant")
        assert hans is not None and hans.status is JobStatus.WAITING  # no en→zh model here
        assert hant is not None and hant.status is JobStatus.WAITING
        assert hant.last_error == (
            "5 of 5 segments wait for approved zh-Hans text to convert with OpenCC s2twp"
        )
        assert hans.last_error != hant.last_error
        assert store.variants.get(article, "zh-Hant") is None
    hant_states = states(dapp, article, "zh-Hant")
    assert set(hant_states) == set(SIMPLIFIED)
    assert {s.status for s in hant_states.values()} == {SegmentStatus.PENDING}
    assert all(s.model_runs == 0 for s in hant_states.values())


def test_approving_a_zh_hans_segment_converts_exactly_its_zh_hant_segment(
    dapp: Flask, article: int, people: dict[str, Api]
) -> None:
    hans = people["hans"]
    write(hans, article, "zh-Hans", "title", SIMPLIFIED["title"], approve=False)
    assert filled(dapp, article) == set(), "an unapproved base converts nothing"

    approved: set[str] = set()
    for key, text in SIMPLIFIED.items():
        before = filled(dapp, article)
        write(hans, article, "zh-Hans", key, text, approve=True)
        approved.add(key)
        assert filled(dapp, article) - before == {key}, "exactly one new zh-Hant segment"
        assert filled(dapp, article) == approved
    hant = states(dapp, article, "zh-Hant")
    for key, text in SIMPLIFIED.items():
        assert hant[key].target == convert(text, "s2twp")
        assert hant[key].origin is SegmentOrigin.CONVERTED
        assert hant[key].status is SegmentStatus.TRANSLATED  # its own review is still to come
    assert hant["title"].target == "區裡的機器人產業園開園"
    assert hant["body.1.0"].target == "官員表示，該{1}產業園{/1}將入駐{2}120家企業{/2}。"

    web = dapp.test_client()
    translation = people["hant"].get(f"/articles/{article}/translations/zh-Hant").json
    assert translation["published"] is True and translation["status"] == "machine_translated"
    assert translation["job"]["status"] == "queued", "woken by the last conversion, to end"
    run_jobs(dapp)
    translation = people["hant"].get(f"/articles/{article}/translations/zh-Hant").json
    assert translation["job"]["status"] == "done" and translation["job"]["last_error"] is None
    page = html.fromstring(
        web.get(f"/zh-hant/articles/{article}/district-opens-robotics-park").data
    )
    assert page.findtext(".//h1") == "區裡的機器人產業園開園"
    note = page.xpath("//p[@class='provenance']")[0].text_content()
    assert "由經人工審校的中文 (簡體)以 OpenCC s2twp 轉換" in note
    english = html.fromstring(web.get(f"/en/articles/{article}/district-opens-robotics-park").data)
    alternates = {link.get("hreflang") for link in english.xpath("//head/link[@hreflang]")}
    assert alternates == {"en", "zh-Hans", "zh-Hant"}


def approve_all(app: Flask, people: dict[str, Api], article: int) -> None:
    for key, text in SIMPLIFIED.items():
        write(people["hans"], article, "zh-Hans", key, text, approve=True)


def test_zh_hant_feeds_are_valid_and_state_their_provenance(
    dapp: Flask, article: int, people: dict[str, Api]
) -> None:
    web: FlaskClient = dapp.test_client()
    empty = etree.fromstring(web.get("/zh-hant/feed.atom", base_url=BASE).data)
    assert empty.findall(f"{ATOM}entry") == []
    approve_all(dapp, people, article)

    url = f"{BASE}/zh-hant/feed.atom"
    data = web.get("/zh-hant/feed.atom", base_url=BASE).data
    assert check_atom(data, url) == []
    feed = etree.fromstring(data)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-Hant"
    assert "中文 (繁體)" in feed.findtext(f"{ATOM}title")
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "區裡的機器人產業園開園"
    categories = {c.get("scheme"): c for c in entry.findall(f"{ATOM}category")}
    assert categories[PROVENANCE].get("term") == "converted"
    assert categories[PROVENANCE].get("label") == "由審校譯文轉換"
    content = entry.findtext(f"{ATOM}content")
    assert "由經人工審校的中文 (簡體)以 OpenCC s2twp 轉換。" in content
    links = {(link.get("rel"), link.get("hreflang")) for link in entry.findall(f"{ATOM}link")}
    assert {("alternate", "zh-Hant"), ("related", "en"), ("related", "zh-Hans")} <= links

    for fmt, checker in (("rss", check_rss), ("json", check_json_feed)):
        body = web.get(f"/zh-hant/feed.{fmt}", base_url=BASE).data
        assert checker(body, f"{BASE}/zh-hant/feed.{fmt}") == [], fmt
    (item,) = json.loads(web.get("/zh-hant/feed.json", base_url=BASE).data)["items"]
    assert item["_feedsvc"]["provenance"] == "converted"
    assert item["_feedsvc"]["engine"] == "opencc s2twp"
    section = web.get("/zh-hant/news/feed.atom", base_url=BASE).data
    assert check_atom(section, f"{BASE}/zh-hant/news/feed.atom") == []

    # The zh-Hans feed next to it: human-reviewed, and zh-Hant among its languages.
    hans = etree.fromstring(web.get("/zh-hans/feed.atom", base_url=BASE).data)
    (hans_entry,) = hans.findall(f"{ATOM}entry")
    hans_categories = {
        c.get("scheme"): c.get("term") for c in hans_entry.findall(f"{ATOM}category")
    }
    assert hans_categories[PROVENANCE] == "human-reviewed"
    related = {link.get("hreflang") for link in hans.findall(f"{ATOM}link[@rel='related']")}
    assert related == {"en", "zh-Hant"}

    opml = web.get("/feeds.opml", base_url=BASE).data
    assert check_opml(opml) == []
    outlines = etree.fromstring(opml).findall("body/outline")
    assert [o.get("language") for o in outlines] == ["en", "zh-Hans", "zh-Hant"]
    assert check_opml(web.get("/zh-hant/feeds.opml", base_url=BASE).data) == []


def test_english_feed_links_the_zh_hant_entry(
    dapp: Flask, article: int, people: dict[str, Api]
) -> None:
    approve_all(dapp, people, article)
    feed = etree.fromstring(dapp.test_client().get("/en/feed.atom", base_url=BASE).data)
    (entry,) = feed.findall(f"{ATOM}entry")
    related = {
        link.get("hreflang"): link.get("href")
        for link in entry.findall(f"{ATOM}link")
        if link.get("rel") == "related"
    }
    assert related["zh-Hant"] == f"{BASE}/zh-hant/articles/{article}/district-opens-robotics-park"


def test_editing_an_approved_zh_hans_segment_rederives_only_that_one(
    dapp: Flask, article: int, people: dict[str, Api]
) -> None:
    approve_all(dapp, people, article)
    before = states(dapp, article, "zh-Hant")
    write(people["hans"], article, "zh-Hans", "body.0.1", "面积达56.39平方公里。", approve=True)
    after = states(dapp, article, "zh-Hant")
    changed = {key for key in after if after[key].target != before[key].target}
    assert changed == {"body.0.1"}
    assert after["body.0.1"].target == "面積達56.39平方公里。"
    assert {key for key in after if after[key].version != before[key].version} == {"body.0.1"}
    with dapp.app_context(), database().session() as session:
        history = Store(session).segments.history(after["body.0.1"].id)
    assert history[0].action == "convert" and history[0].actor == "token:2 hans person"

    # Saved without approval: the zh-Hant text stays what the approved text gave.
    write(people["hans"], article, "zh-Hans", "body.0.1", "占地约56.39平方公里。", approve=False)
    assert states(dapp, article, "zh-Hant")["body.0.1"].target == "面積達56.39平方公里。"


def test_zh_hant_work_is_never_overwritten(
    dapp: Flask, article: int, people: dict[str, Api]
) -> None:
    approve_all(dapp, people, article)
    hant = people["hant"]
    write(hant, article, "zh-Hant", "title", "區內機械人產業園開幕", approve=True)  # edited
    write(hant, article, "zh-Hant", "summary", None, approve=True)  # the conversion approved
    with dapp.app_context(), database().session() as session:
        memory = Store(session).memory.matches(
            "en", "zh-Hant", [states(dapp, article, "zh-Hant")["title"].source_hash]
        )
    assert list(memory.values()) == ["區內機械人產業園開幕"], "zh-Hant approvals enter its memory"

    write(people["hans"], article, "zh-Hans", "title", "区内机器人产业园正式开园", approve=True)
    write(people["hans"], article, "zh-Hans", "summary", "产业园可容纳120家企业。", approve=True)
    after = states(dapp, article, "zh-Hant")
    # A person's text stays, back in review because the approved base changed ...
    assert after["title"].target == "區內機械人產業園開幕"
    assert after["title"].status is SegmentStatus.TRANSLATED
    assert after["title"].origin is SegmentOrigin.HUMAN
    # ... an approved but unedited conversion gets the new one, to be reviewed again.
    assert after["summary"].target == "產業園可容納120家企業。"
    assert after["summary"].status is SegmentStatus.TRANSLATED
    assert after["summary"].origin is SegmentOrigin.CONVERTED
    with dapp.app_context(), database().session() as session:
        history = Store(session).segments.history(after["title"].id)
    assert history[0].action == "base_changed"


def test_rejecting_the_base_withdraws_its_unreviewed_conversion(
    dapp: Flask, article: int, people: dict[str, Api]
) -> None:
    approve_all(dapp, people, article)
    etag = segment(people["hans"], article, "zh-Hans", "body.0.0")["etag"]
    rejected = people["hans"].patch(
        f"/articles/{article}/translations/zh-Hans/segments/body.0.0",
        {"reject": True},
        headers={"If-Match": f'"{etag}"'},
    )
    assert rejected.status_code == 200, rejected.json
    after = states(dapp, article, "zh-Hant")
    assert after["body.0.0"].status is SegmentStatus.PENDING and after["body.0.0"].target is None
    assert filled(dapp, article) == set(SIMPLIFIED) - {"body.0.0"}
    feed = etree.fromstring(dapp.test_client().get("/zh-hant/feed.atom", base_url=BASE).data)
    assert feed.findall(f"{ATOM}entry") == [], "a zh-Hant text with a gap is not published"
    run_jobs(dapp)  # the zh-Hans job re-queued by the reject; no model, nothing changes
    assert states(dapp, article, "zh-Hant")["body.0.0"].target is None

    write(people["hans"], article, "zh-Hans", "body.0.0", SIMPLIFIED["body.0.0"], approve=True)
    assert filled(dapp, article) == set(SIMPLIFIED)


def test_a_rejected_conversion_is_not_made_again(
    dapp: Flask, article: int, people: dict[str, Api]
) -> None:
    approve_all(dapp, people, article)
    hant = people["hant"]
    etag = segment(hant, article, "zh-Hant", "title")["etag"]
    response = hant.patch(
        f"/articles/{article}/translations/zh-Hant/segments/title",
        {"reject": True},
        headers={"If-Match": f'"{etag}"'},
    )
    assert response.status_code == 200, response.json
    run_jobs(dapp)  # the reject re-queues the zh-Hant job
    title = states(dapp, article, "zh-Hant")["title"]
    assert title.status is SegmentStatus.PENDING and title.target is None
    # A new approved zh-Hans text converts again.
    write(people["hans"], article, "zh-Hans", "title", "区里机器人产业园开园", approve=True)
    assert states(dapp, article, "zh-Hant")["title"].target == "區裡機器人產業園開園"


def test_bulk_approval_and_imports_derive_too(
    dapp: Flask, article: int, people: dict[str, Api]
) -> None:
    hans = states(dapp, article, "zh-Hans")
    units = [
        Unit(article, key, hans[key].source, SIMPLIFIED[key], True, dict(hans[key].placeholders))
        for key in ("body.0.0", "body.0.1", "body.1.0")
    ]
    imported = people["hans"].client.post(
        "/api/v1/exchange/zh-Hans",
        data=export_po(units, "en", "zh-Hans"),
        headers=people["hans"].headers({"Content-Type": "text/x-po"}),
    )
    assert imported.status_code == 200, imported.json
    assert len(imported.json["applied"]) == 3
    assert filled(dapp, article) == {"body.0.0", "body.0.1", "body.1.0"}

    # "Approve all unchanged" over what the engine proposed for the title and summary.
    with dapp.app_context(), database().session() as session:
        store = Store(session)
        for key in ("title", "summary"):
            proposal = store.segments.get(article, "zh-Hans", key)
            assert store.segments.fill(
                proposal,
                SIMPLIFIED[key],
                SegmentOrigin.MODEL,
                SegmentStatus.TRANSLATED,
                utcnow(),
                0.5,
                "fake engine",
            )
    assert filled(dapp, article) == {"body.0.0", "body.0.1", "body.1.0"}
    with dapp.app_context(), database().session() as session:
        language = dapp.extensions["feedsvc.settings"].language("zh-Hans")
        done = Reviewer(Store(session), language, "bulk").approve_many(article)
        assert len(done.approved) == 2
    assert filled(dapp, article) == set(SIMPLIFIED)
    with dapp.app_context(), database().session() as session:
        variant = Store(session).variants.get(article, "zh-Hant")
    assert variant is not None and variant.title == "區裡的機器人產業園開園"


def test_zh_hans_memory_approvals_reach_zh_hant_through_the_job(
    dapp: Flask, article: int, people: dict[str, Api]
) -> None:
    approve_all(dapp, people, article)
    second = people["editor"].post(
        "/articles",
        {"section": "news", "title": TITLE, "body_html": "<p>It covers 56.39 sq km.</p>"},
    )
    assert second.status_code == 201
    run_jobs(dapp)
    other = int(second.json["id"])
    hans = states(dapp, other, "zh-Hans")
    assert {k: s.origin for k, s in hans.items()} == {
        "title": SegmentOrigin.MEMORY,
        "body.0.0": SegmentOrigin.MEMORY,
    }
    hant = states(dapp, other, "zh-Hant")
    assert {k: (s.origin, s.target) for k, s in hant.items()} == {
        "title": (SegmentOrigin.CONVERTED, "區裡的機器人產業園開園"),
        "body.0.0": (SegmentOrigin.CONVERTED, "佔地56.39平方公里。"),
    }
    feed = etree.fromstring(dapp.test_client().get("/zh-hant/feed.atom", base_url=BASE).data)
    assert len(feed.findall(f"{ATOM}entry")) == 2


# -- the UI catalog and its choice -----------------------------------------------------


def test_zh_hant_catalog_is_complete_and_traditional() -> None:
    path = Path(__file__).resolve().parent.parent / "translations/zh_Hant/LC_MESSAGES/messages.po"
    messages = catalog(path)
    assert set(messages) == extracted()
    assert [m for m, message in messages.items() if not all(translations(message))] == []
    assert [m for m, message in messages.items() if message.fuzzy] == []
    simplified = opencc.OpenCC("s2t")
    assert [
        text
        for message in messages.values()
        for text in translations(message)
        if simplified.convert(text) != text
    ] == [], "no Simplified-only characters"


@pytest.mark.parametrize(
    ("requested", "tag"),
    [
        ("zh-TW", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-MO", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"),
        ("zh-hant", "zh-Hant"),
        ("zh_Hant_HK", "zh-Hant"),
        ("zh-CN", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("zh-Hans-HK", "zh-Hans"),
        ("en-GB", "en"),
        ("fr", None),
    ],
)
def test_browsers_get_the_script_they_read(requested: str, tag: str | None) -> None:
    assert regional_match(requested, ("en", "zh-Hans", "zh-Hant")) == tag


def test_regional_tags_prefer_their_region_and_read_the_script_catalog() -> None:
    tags = ("en", "zh-Hans", "zh-Hant", "zh-Hant-HK")
    assert regional_match("zh-HK", tags) == "zh-Hant-HK"
    assert regional_match("zh-TW", tags) == "zh-Hant"
    assert regional_match("zh-TW", ("en", "zh-Hans")) == "zh-Hans"  # better than English
    assert [ui_locale(t) for t in ("zh-Hant-HK", "zh-Hant", "zh-Hans", "zh", "en")] == [
        "zh_Hant",
        "zh_Hant",
        "zh_Hans",
        "zh_Hans",
        "en",
    ]


@pytest.mark.parametrize(
    ("header", "lang", "words"),
    [
        ("zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7", "zh-Hant", "譯文審校"),
        ("zh-HK,en;q=0.5", "zh-Hant", "譯文審校"),
        ("zh-CN,zh;q=0.9", "zh-Hans", "译文审校"),
        ("en-US,zh-TW;q=0.5", "en", "Translation review"),
    ],
)
def test_the_ui_speaks_the_browsers_chinese(
    dapp: Flask, header: str, lang: str, words: str
) -> None:
    page = html.fromstring(dapp.test_client().get("/", headers={"Accept-Language": header}).data)
    assert page.get("lang") == lang
    assert words in page.text_content()


def test_zh_hant_pages_speak_traditional_chinese(
    dapp: Flask, article: int, people: dict[str, Api]
) -> None:
    approve_all(dapp, people, article)
    page = html.fromstring(dapp.test_client().get("/zh-hant/").data)
    assert page.get("lang") == "zh-Hant"
    text = page.text_content()
    assert "最新消息" in text and "訂閱" in text and "区里" not in text
    hrefs = {link.get("hreflang") for link in page.xpath("//head/link[@hreflang]")}
    assert hrefs == {"en", "zh-Hans", "zh-Hant"}


def test_a_zh_hant_change_made_meanwhile_wins_over_the_rederivation(
    dapp: Flask, article: int, people: dict[str, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a zh-Hant reviewer may commit between the zh-Hans approval's read of
    the zh-Hant segment and its write: the versioned write finds it changed, keeps the
    person's text and does not refuse the zh-Hans translator."""
    approve_all(dapp, people, article)
    seen = states(dapp, article, "zh-Hant")["summary"]  # as the zh-Hans request read it
    write(people["hant"], article, "zh-Hant", "summary", "產業園將有120家企業進駐。", False)
    settings = dapp.extensions["feedsvc.settings"]
    with dapp.app_context(), database().session() as session:
        store = Store(session)
        before = store.segments.get(article, "zh-Hans", "summary")
        after = replace(before, target="产业园可容纳120家企业。")
        monkeypatch.setattr(store.segments, "get", lambda *args: seen)
        followed = derived.follow(
            store, settings.language("zh-Hant"), before, after, "hans person", utcnow()
        )
    assert followed is derived.Followed.KEPT
    assert states(dapp, article, "zh-Hant")["summary"].target == "產業園將有120家企業進駐。"
