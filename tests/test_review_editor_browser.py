"""The review editor in headless Chromium (issue 12): typed text survives saves, refusals
and conflicts, with and without JavaScript; "approve all unchanged" confirms, skips the
segments with QA issues and can be undone; the keyboard alone gets a translator from the
sign-in page to an approved article; placeables are chips, inserted with Ctrl+digit and
typed full-width. Every test checks the database or the feed, not only the page.
Screenshots of the queue, editor, conflict view, glossary and bulk dialog, in en and
zh_Hans, land in artifacts/screenshots."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from lxml import etree
from playwright.sync_api import Dialog, Page, Response

from feedsvc.db import database
from feedsvc.domain import SegmentOrigin, SegmentStatus, StoredSegment
from feedsvc.jobs import jobs
from feedsvc.review import segment_etag
from feedsvc.store import Store
from tests.browser import screenshot
from tests.conftest import Api
from tests.test_review import rapp, secrets  # noqa: F401  (fixtures)
from tests.test_review_workflow import ATOM, PROVENANCE, clean_target, set_machine_texts

ZH = "zh-Hans"
LOGO = Path(__file__).resolve().parent.parent / "feedsvc" / "static" / "logo.png"
TITLE = "Huangpu opens robotics park"
SUMMARY = "The park will host 120 companies."
BODY = (
    "<p>GUANGZHOU, Feb. 19 -- Huangpu District opened a robotics park on Monday. "
    "It covers 56.39 sq km.</p>"
    "<h2>Companies move in</h2>"
    '<ul><li>Officials said the <a href="https://gdd.example.org/park">park</a> will host '
    "<strong>120 companies</strong>.</li><li>The first robots arrive in March.</li></ul>"
    '<figure><img src="https://img.example.org/park.png" alt="The entrance of the robotics park">'
    "<figcaption>The park opened on Monday.</figcaption></figure>"
)
LINKED = "body.2.0"  # Officials said the {1}park{/1} will host {2}120 companies{/2}.
NUMBERS = "body.0.1"  # It covers 56.39 sq km.
PLAIN = ("body.0.1", "body.3.0", "body.4.0")  # no placeables: any text saves
LOCALES = (("en-US", "en"), ("zh-CN", "zh-Hans"))


# -- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def app(rapp: Flask) -> Flask:
    """The live server's app: the tiny Argos model, zh-Hans published once reviewed."""
    return rapp


def make_story(rapp: Flask, secrets: dict[str, str], glossary: bool = False) -> int:
    """An article with a title, summary, heading, list, link, bold text and an image with
    alt text, machine-translated into zh-Hans; with ``glossary``, two glossary terms first."""
    editor = Api(rapp.test_client(), secrets["editor"])
    editor.post("/sections", {"path": "news", "names": {"en": "News", ZH: "新闻"}})
    if glossary:
        for source, target in (("robotics park", "机器人产业园"), ("Huangpu District", "黄埔区")):
            added = Api(rapp.test_client(), secrets["admin"]).post(  # admins edit glossaries
                f"/glossary/{ZH.lower()}", {"source_term": source, "target_term": target}
            )
            assert added.status_code == 201, added.json
    created = editor.post(
        "/articles", {"section": "news", "title": TITLE, "summary": SUMMARY, "body_html": BODY}
    )
    assert created.status_code == 201, created.json
    with rapp.app_context():
        assert jobs().worker.run_pending() >= 1
    return int(created.json["id"])


@pytest.fixture
def story(rapp: Flask, secrets: dict[str, str]) -> int:
    return make_story(rapp, secrets)


def states(rapp: Flask, article: int) -> dict[str, StoredSegment]:
    with rapp.app_context(), database().session() as session:
        return {s.key: s for s in Store(session).segments.of(article, ZH)}


def feed_provenance(base: str) -> list[str | None]:
    """The provenance term of each entry of the live zh-Hans Atom feed."""
    with urllib.request.urlopen(f"{base}/zh-hans/feed.atom", timeout=10) as response:
        feed = etree.fromstring(response.read())
    return [
        next(
            (c.get("term") for c in e.findall(f"{ATOM}category") if c.get("scheme") == PROVENANCE),
            None,
        )
        for e in feed.findall(f"{ATOM}entry")
    ]


def someone_else_edits(
    rapp: Flask, secrets: dict[str, str], article: int, key: str, text: str
) -> None:
    """Another reviewer (the admin) saves ``key`` through the API with its current etag."""
    segment = states(rapp, article)[key]
    admin = Api(rapp.test_client(), secrets["admin"])
    done = admin.patch(
        f"/articles/{article}/translations/{ZH}/segments/{key}",
        {"target": text},
        headers={"If-Match": f'"{segment_etag(segment)}"'},
    )
    assert done.status_code == 200, done.json


def open_page(new_page: Callable[..., Page], locale: str = "en-US", **options: Any) -> Page:
    """A page whose article image comes from a route (no network), failing fast."""
    page = new_page(locale, **options)
    page.set_default_timeout(10_000)
    page.route(
        "https://img.example.org/**",
        lambda route: route.fulfill(path=str(LOGO), content_type="image/png"),
    )
    return page


def sign_in_page(page: Page, base: str, secret: str) -> None:
    page.goto(f"{base}/review/")
    page.fill("#token", secret)
    page.click("form.sign-in button[type=submit]")
    page.wait_for_url(f"{base}/review/zh-hans/")


def open_editor(new_page: Callable[..., Page], base: str, secret: str, article: int) -> Page:
    """A signed-in zh-Hans translator's editor of ``article``, its script running."""
    page = open_page(new_page)
    sign_in_page(page, base, secret)
    page.goto(f"{base}/review/zh-hans/articles/{article}")
    page.wait_for_selector("html.js")
    return page


def seg(key: str) -> str:
    return f'li.segment[data-key="{key}"]'


def area(key: str) -> str:
    return f"{seg(key)} textarea[name=target]"


def wait_saved(page: Page, key: str, text: str) -> None:
    """Until the segment's row, re-rendered from the server, holds ``text`` as saved."""
    page.wait_for_function(
        """([key, text]) => {
            const ta = document.querySelector(`li.segment[data-key="${key}"] textarea`);
            return ta && ta.getAttribute("data-saved") === text
                && !ta.closest("li").hasAttribute("aria-busy");
        }""",
        arg=[key, text],
    )


def active(page: Page) -> dict[str, Any]:
    """What has the focus: its tag, and the key of the segment it is in."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const li = el && el.closest ? el.closest("li.segment") : null;
            return {tag: el ? el.tagName : null, key: li ? li.getAttribute("data-key") : null,
                    id: el ? el.id : null};
        }"""
    )


def values(page: Page) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll("li.segment")).map(
            li => [li.getAttribute("data-key"), li.querySelector("textarea").value]))"""
    )


# -- 1. in-place saves, conflicts, the unload guard (JavaScript on) ----------------------


def test_typed_text_survives_saves_and_a_conflict(
    rapp: Flask,
    secrets: dict[str, str],
    story: int,
    live_server: str,
    new_page: Callable[..., Page],
) -> None:
    page = open_editor(new_page, live_server, secrets["zh"], story)
    page.evaluate("window.__marker = 1")
    typed = {key: f"我输入的第{n}段文字" for n, key in enumerate(PLAIN, 1)}
    for key, text in typed.items():
        page.click(area(key))
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(text)
    assert page.locator(f"{seg(PLAIN[0])}.dirty").count() == 1, "an edited segment is marked"

    # Save one with Ctrl+S: in place, no reload, the others keep their typed text.
    page.focus(area(PLAIN[0]))
    page.keyboard.press("Control+s")
    wait_saved(page, PLAIN[0], typed[PLAIN[0]])
    assert page.evaluate("window.__marker") == 1, "the page did not reload"
    saved = states(rapp, story)[PLAIN[0]]
    assert saved.target == typed[PLAIN[0]] and saved.origin is SegmentOrigin.HUMAN
    assert page.input_value(area(PLAIN[1])) == typed[PLAIN[1]]
    assert page.input_value(area(PLAIN[2])) == typed[PLAIN[2]]
    assert active(page)["key"] == PLAIN[0] and active(page)["tag"] == "TEXTAREA", (
        "after Ctrl+S the focus stays in the field, never on the body"
    )

    # Meanwhile the English of PLAIN[1] changes through the API; the worker re-translates it.
    editor = Api(rapp.test_client(), secrets["editor"])
    current = editor.get(f"/articles/{story}")
    changed = editor.patch(
        f"/articles/{story}",
        {"body_html": BODY.replace("March", "April")},
        headers={"If-Match": current.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.json
    with rapp.app_context():
        assert jobs().worker.run_pending() >= 1
    theirs = states(rapp, story)[PLAIN[1]]
    assert theirs.source == "The first robots arrive in April."
    assert theirs.target and theirs.target != typed[PLAIN[1]]

    page.click(f"{seg(PLAIN[1])} button.save")
    view = page.locator(f"{seg(PLAIN[1])} .conflict-view")
    view.wait_for()
    assert view.locator(".mine").inner_text().strip().endswith(typed[PLAIN[1]])
    assert theirs.target in view.locator(".theirs").inner_text(), "their version is shown"
    assert page.input_value(area(PLAIN[1])) == typed[PLAIN[1]], "the typed text is still there"
    assert page.input_value(area(PLAIN[2])) == typed[PLAIN[2]]
    assert states(rapp, story)[PLAIN[1]].target == theirs.target, "the stale save changed nothing"
    assert page.evaluate("window.__marker") == 1

    view.locator("button.keep-mine").click()
    wait_saved(page, PLAIN[1], typed[PLAIN[1]])
    kept = states(rapp, story)[PLAIN[1]]
    assert kept.target == typed[PLAIN[1]] and kept.source == theirs.source
    assert kept.version > theirs.version
    assert page.locator(f"{seg(PLAIN[1])} .conflict-view").count() == 0

    # PLAIN[2] is still unsaved: leaving the page asks first; staying keeps the text.
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.click(".editor-main a[href='/review/zh-hans/']")
    for _ in range(100):
        if asked:
            break
        page.wait_for_timeout(50)
    page.wait_for_timeout(200)  # had the navigation gone on, it would have by now
    assert asked == ["beforeunload"], "a warning before leaving with unsaved text"
    assert page.url.startswith(f"{live_server}/review/zh-hans/articles/{story}")
    assert page.evaluate("window.__marker") == 1
    assert page.input_value(area(PLAIN[2])) == typed[PLAIN[2]]
    assert states(rapp, story)[PLAIN[2]].target != typed[PLAIN[2]]

    # Saved everything: then leaving asks nothing.
    page.focus(area(PLAIN[2]))
    page.keyboard.press("Control+s")
    wait_saved(page, PLAIN[2], typed[PLAIN[2]])
    assert states(rapp, story)[PLAIN[2]].target == typed[PLAIN[2]]
    page.click(".editor-main a[href='/review/zh-hans/']")
    page.wait_for_url(f"{live_server}/review/zh-hans/")
    assert asked == ["beforeunload"]


# -- 2. the same without JavaScript: plain forms -----------------------------------------


def post_form(page: Page, button: str) -> Response:
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.click(button)
    page.wait_for_load_state()
    return info.value


def test_plain_forms_keep_typed_text_without_javascript(
    rapp: Flask,
    secrets: dict[str, str],
    story: int,
    live_server: str,
    new_page: Callable[..., Page],
) -> None:
    page = open_page(new_page, java_script_enabled=False)
    sign_in_page(page, live_server, secrets["zh"])
    editor_url = f"{live_server}/review/zh-hans/articles/{story}"
    page.goto(editor_url)
    assert page.locator("html.js").count() == 0

    page.fill(area(NUMBERS), "它占地56.39平方公里。")
    done = post_form(page, f"{seg(NUMBERS)} button.save")
    assert done.status == 303
    assert page.url == f"{editor_url}#segment-{NUMBERS}"
    assert states(rapp, story)[NUMBERS].target == "它占地56.39平方公里。"
    assert page.input_value(area(NUMBERS)) == "它占地56.39平方公里。"

    # A refused save (the link and bold tags are missing): the page again, the typed text
    # in its field, the reason at that segment.
    before = states(rapp, story)[LINKED]
    page.fill(area(LINKED), "官员说公园将容纳120家企业。")
    refused = post_form(page, f"{seg(LINKED)} button.save")
    assert refused.status == 422
    assert page.input_value(area(LINKED)) == "官员说公园将容纳120家企业。"
    refusal = page.locator(f"{seg(LINKED)} .messages .refusal")
    assert refusal.count() == 1 and refusal.inner_text().strip()
    assert page.locator(".refusal").count() == 1, "the message is at its segment only"
    assert page.get_attribute(area(LINKED), "aria-invalid") == "true"
    assert states(rapp, story)[LINKED].target == before.target

    # A stale plain save: both versions, typed text kept, "keep mine" saves it.
    someone_else_edits(rapp, secrets, story, "body.4.0", "别人的译文")
    page.fill(area("body.4.0"), "我的译文")
    stale = post_form(page, f"{seg('body.4.0')} button.save")
    assert stale.status == 412
    view = page.locator(f"{seg('body.4.0')} .conflict-view")
    assert "别人的译文" in view.locator(".theirs").inner_text()
    assert "我的译文" in view.locator(".mine").inner_text()
    assert page.input_value(area("body.4.0")) == "我的译文"
    assert states(rapp, story)["body.4.0"].target == "别人的译文"
    kept = post_form(page, f"{seg('body.4.0')} button.keep-mine")
    assert kept.status == 303
    assert states(rapp, story)["body.4.0"].target == "我的译文"


# -- 3. approve all unchanged: confirm, skip the flawed, undo, publish -------------------


def test_approve_all_unchanged_confirms_skips_and_undoes(
    rapp: Flask,
    secrets: dict[str, str],
    story: int,
    live_server: str,
    new_page: Callable[..., Page],
) -> None:
    flawed = {NUMBERS: "它占地平方公里。", "title": "Huangpu opens robotics park 开园"}
    set_machine_texts(rapp, story, flawed)
    total = len(states(rapp, story))
    page = open_editor(new_page, live_server, secrets["zh"], story)

    page.click("#approve-unchanged")
    dialog = page.locator("dialog#bulk-dialog")
    dialog.wait_for(state="visible")
    assert dialog.evaluate("d => d.open")
    assert str(total - 2) in dialog.locator(".bulk-count").inner_text()
    skipped = dialog.locator(".bulk-skipped > li")
    assert sorted(skipped.evaluate_all("els => els.map(e => e.dataset.key)")) == sorted(flawed)
    assert all(skipped.nth(i).locator("li").count() >= 1 for i in range(2)), "with reasons"
    assert all(s.status is SegmentStatus.TRANSLATED for s in states(rapp, story).values()), (
        "opening the dialog changes nothing"
    )
    # A viewport as tall as the page: the modal's backdrop covers all of the screenshot.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": height})
    screenshot(page, "review-approve-dialog-en")
    page.set_viewport_size({"width": 1280, "height": 720})

    # Unsaved typing in a row: the bulk form waits and names the row; nothing is lost.
    typed_key = next(k for k in states(rapp, story) if k not in flawed)
    page.click("#bulk-cancel")
    page.fill(area(typed_key), "还没保存的文字")
    page.click("#approve-unchanged")
    dialog.wait_for(state="visible")
    page.click("#bulk-confirm")
    assert dialog.locator(".bulk-unsaved").is_visible()
    assert page.input_value(area(typed_key)) == "还没保存的文字"
    assert all(s.status is SegmentStatus.TRANSLATED for s in states(rapp, story).values())
    page.click("#bulk-cancel")
    page.focus(area(typed_key))
    page.keyboard.press("Escape")  # back to the saved text
    page.click("#approve-unchanged")
    dialog.wait_for(state="visible")

    with page.expect_navigation():
        page.click("#bulk-confirm")
    after = states(rapp, story)
    assert {k for k, s in after.items() if s.status is not SegmentStatus.APPROVED} == set(flawed)
    assert "human-reviewed" not in feed_provenance(live_server)

    with page.expect_navigation():
        page.click("#undo-button")
    assert all(s.status is SegmentStatus.TRANSLATED for s in states(rapp, story).values()), (
        "undo restores the previous state"
    )
    assert feed_provenance(live_server) == []

    # The two by hand, fixed; then the rest in bulk: now the feed says human-reviewed.
    for key in flawed:
        page.fill(area(key), clean_target(states(rapp, story)[key].source))
        page.click(f"{seg(key)} button.approve")
        page.wait_for_selector(f"{seg(key)}.approved")
    assert {k for k, s in states(rapp, story).items() if s.status is SegmentStatus.APPROVED} == set(
        flawed
    )
    assert "human-reviewed" not in feed_provenance(live_server)
    page.click("#approve-unchanged")
    dialog.wait_for(state="visible")
    with page.expect_navigation():
        page.click("#bulk-confirm")
    assert all(s.status is SegmentStatus.APPROVED for s in states(rapp, story).values())
    assert feed_provenance(live_server) == ["human-reviewed"]


# -- 4. the keyboard only, from sign-in to an approved article ---------------------------


def tab_to(page: Page, check: str, limit: int = 60) -> None:
    """Press Tab until ``check`` (a JS expression over `el`, the focused element) holds."""
    for _ in range(limit):
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({check}); }})()"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {check}")


def test_keyboard_only_from_sign_in_to_every_segment_approved(
    rapp: Flask,
    secrets: dict[str, str],
    story: int,
    live_server: str,
    new_page: Callable[..., Page],
) -> None:
    set_machine_texts(rapp, story, {})
    keys = list(states(rapp, story))
    page = open_page(new_page)
    page.goto(f"{live_server}/review/")
    tab_to(page, "el.id === 'token'")
    page.keyboard.type(secrets["zh"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/review/zh-hans/")
    tab_to(page, f"el.getAttribute('href') === '/review/zh-hans/articles/{story}'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/review/zh-hans/articles/{story}")
    page.wait_for_selector("html.js")
    tab_to(page, "el.tagName === 'TEXTAREA'")
    assert active(page) == {"tag": "TEXTAREA", "key": keys[0], "id": f"target-{keys[0]}"}

    # Alt+↓ / Alt+↑ move between segments from inside the textarea.
    page.keyboard.press("Alt+ArrowDown")
    assert active(page)["tag"] == "TEXTAREA" and active(page)["key"] == keys[1]
    page.keyboard.press("Alt+ArrowDown")
    page.keyboard.press("Alt+ArrowUp")
    assert active(page)["key"] == keys[1]
    page.keyboard.press("Alt+ArrowUp")
    assert active(page)["key"] == keys[0]

    # Esc reverts an edited field to its saved text.
    saved = page.input_value(area(keys[0]))
    page.keyboard.type(" extra")
    assert page.input_value(area(keys[0])) == saved + " extra"
    page.keyboard.press("Escape")
    assert page.input_value(area(keys[0])) == saved
    assert active(page)["tag"] == "TEXTAREA"

    # Outside text fields, j moves on and never types; ? opens the shortcut list.
    before = values(page)
    page.keyboard.press("Shift+Tab")
    assert active(page)["tag"] != "TEXTAREA"
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert values(page) == before, "j never types into a textarea"
    assert active(page) == {"tag": "LI", "key": keys[1], "id": f"segment-{keys[1]}"}, (
        "two j land on the second segment, outside its text field"
    )
    page.keyboard.press("?")
    assert page.locator("dialog#shortcuts-dialog").evaluate("d => d.open")
    assert "Ctrl" in page.locator("dialog#shortcuts-dialog").inner_text()
    page.keyboard.press("Escape")
    assert not page.locator("dialog#shortcuts-dialog").evaluate("d => d.open")
    assert values(page) == before
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Alt+ArrowUp")
    assert active(page)["tag"] == "TEXTAREA" and active(page)["key"] == keys[0]

    # Ctrl+Enter approves and moves the focus to the next unapproved textarea.
    for n, key in enumerate(keys):
        assert active(page) == {"tag": "TEXTAREA", "key": key, "id": f"target-{key}"}, n
        page.keyboard.press("Control+Enter")
        page.wait_for_selector(f"{seg(key)}.approved")
        if n + 1 < len(keys):
            page.wait_for_function(
                "k => document.activeElement && document.activeElement.id === 'target-' + k",
                arg=keys[n + 1],
            )
        assert active(page)["tag"] == "TEXTAREA", "the focus never falls to the body"
    assert all(s.status is SegmentStatus.APPROVED for s in states(rapp, story).values())
    assert page.locator("#progress").evaluate("p => p.value") == len(keys)


# -- 5. placeables as chips --------------------------------------------------------------


def test_chips_in_the_source_ctrl_digit_and_full_width_braces(
    rapp: Flask,
    secrets: dict[str, str],
    story: int,
    live_server: str,
    new_page: Callable[..., Page],
) -> None:
    page = open_editor(new_page, live_server, secrets["zh"], story)
    source = page.locator(f"{seg(LINKED)} .source")
    assert source.locator(".chip").count() == 4, "two open and two close chips"
    assert "{1}" not in source.inner_text() and "<a" not in source.inner_text()
    shown = page.locator("body").inner_text()
    assert "<a href" not in shown and "noopener" not in shown, "raw HTML is never shown"
    titles = page.locator(".chip").evaluate_all("els => els.map(e => e.title)")
    assert titles and not any(re.search(r"<a |\w=|</", t) for t in titles), titles
    assert page.locator(f"{seg(LINKED)} .palette .chip-insert").first.is_visible()

    page.fill(area(LINKED), "AB")
    page.focus(area(LINKED))
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Control+1")
    assert page.input_value(area(LINKED)) == "A{1}B", "Ctrl+1 inserts {1} at the caret"
    page.click(f"{seg(LINKED)} .palette .chip-insert >> nth=1")
    assert page.input_value(area(LINKED)) == "A{1}{/1}B", "a click on a chip inserts it"

    full_width = "官员说｛1｝公园｛／1｝将容纳｛2｝120家企业｛／2｝。"
    page.fill(area(LINKED), "")
    page.keyboard.insert_text(full_width)  # what an IME commits
    mirror = page.locator(f"{seg(LINKED)} .mirror")
    typed_chips = mirror.locator(".chip:not(.chip-unknown)").count() if mirror.is_visible() else 0
    page.keyboard.press("Control+s")
    normalized = "官员说{1}公园{/1}将容纳{2}120家企业{/2}。"
    wait_saved(page, LINKED, normalized)
    assert states(rapp, story)[LINKED].target == normalized
    assert page.locator(f"{seg(LINKED)} .refusal").count() == 0
    assert mirror.locator(".chip:not(.chip-unknown)").count() == 4, "saved: the target's chips"
    assert typed_chips == 4, (
        "while typed full-width (｛1｝…｛／1｝), the target shows the chips too"
    )


# -- 7. screenshots of every screen, in en and zh_Hans -----------------------------------


@pytest.fixture
def rich_story(rapp: Flask, secrets: dict[str, str]) -> int:
    return make_story(rapp, secrets, glossary=True)


def test_screenshots_of_queue_editor_conflict_and_glossary(
    rapp: Flask,
    secrets: dict[str, str],
    rich_story: int,
    live_server: str,
    new_page: Callable[..., Page],
) -> None:
    for locale, name in LOCALES:
        page = open_page(new_page, locale, viewport={"width": 1280, "height": 900})
        sign_in_page(page, live_server, secrets["zh"])
        assert page.locator("html").get_attribute("lang") == ("en" if name == "en" else ZH)
        assert page.locator(f"a[href='/review/zh-hans/articles/{rich_story}']").count() == 1
        screenshot(page, f"review-queue-{name}")

        page.goto(f"{live_server}/review/zh-hans/articles/{rich_story}")
        page.wait_for_selector("html.js")
        assert page.locator(f"{seg(LINKED)} .source .chip").first.is_visible()
        assert page.locator("#preview-body h2").count() == 1, "the preview shows the heading"
        assert page.locator("#preview-body li").count() == 2, "and the list"
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('#preview img')).every(i => i.complete)"
        )
        screenshot(page, f"review-editor-{name}")

        mine = "我的版本：第一批机器人三月到达。"
        page.fill(area("body.3.0"), mine)
        someone_else_edits(rapp, secrets, rich_story, "body.3.0", f"别人的版本 {name}")
        page.focus(area("body.3.0"))
        page.keyboard.press("Control+s")
        view = page.locator(f"{seg('body.3.0')} .conflict-view")
        view.wait_for()
        assert f"别人的版本 {name}" in view.inner_text() and mine in view.inner_text()
        view.scroll_into_view_if_needed()
        screenshot(page, f"review-conflict-{name}")
        view.locator("button.keep-mine").click()
        wait_saved(page, "body.3.0", mine)
        assert states(rapp, rich_story)["body.3.0"].target == mine

        page.goto(f"{live_server}/review/glossary/zh-hans")
        assert page.locator("table.glossary").inner_text().count("机器人产业园") == 1
        screenshot(page, f"review-glossary-{name}")
        page.context.close()
