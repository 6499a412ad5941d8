"""axe-core (npm) on the review screens in headless Chromium (issue 12): the sign-in page,
the queue, the editor (with its dialogs closed and open), the confirmation page of
"approve all unchanged" and the glossary as an admin and as a translator, with the UI in
English and in Simplified Chinese, report no serious or critical violation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page

from tests.axe import blocking, describe, require_axe, violations
from tests.test_review import rapp, secrets  # noqa: F401  (fixtures)
from tests.test_review_editor_browser import LOCALES, app, make_story, open_page, sign_in_page  # noqa: F401


@pytest.mark.parametrize("locale", [locale for locale, _ in LOCALES])
def test_review_screens_have_no_serious_axe_violations(
    rapp: Flask,
    secrets: dict[str, str],
    live_server: str,
    new_page: Callable[..., Page],
    locale: str,
) -> None:
    require_axe()
    story = make_story(rapp, secrets, glossary=True)
    found: list[str] = []
    everything: list[str] = []

    def audit(page: Page, where: str) -> None:
        seen = violations(page)
        everything.append(describe(f"{locale} {where}", seen))
        if bad := blocking(seen):
            found.append(describe(f"{locale} {where}", bad))

    page = open_page(new_page, locale, bypass_csp=True)
    page.goto(f"{live_server}/review/")
    planted = page.evaluate_handle(
        "() => document.body.appendChild(Object.assign(new Image(), {src: 'x.png'}))"
    )
    assert "image-alt" in [v["id"] for v in blocking(violations(page))], "axe runs and reports"
    planted.evaluate("img => img.remove()")
    audit(page, "sign-in")
    page.fill("#token", "not a token")
    page.click("form.sign-in button[type=submit]")
    page.wait_for_selector("#token-error")
    audit(page, "sign-in refused")

    sign_in_page(page, live_server, secrets["zh"])
    audit(page, "queue")
    page.goto(f"{live_server}/review/zh-hans/articles/{story}")
    page.wait_for_selector("html.js")
    audit(page, "editor")
    page.click("#shortcuts-open")
    page.wait_for_selector("dialog#shortcuts-dialog[open]")
    audit(page, "editor, shortcut list")
    page.keyboard.press("Escape")
    page.click("#approve-unchanged")
    page.wait_for_selector("dialog#bulk-dialog[open]")
    audit(page, "editor, approve-all dialog")
    page.goto(f"{live_server}/review/zh-hans/articles/{story}/approve-unchanged")
    audit(page, "approve-all confirmation page")
    page.goto(f"{live_server}/review/glossary/zh-hans")
    audit(page, "glossary (translator)")

    admin = open_page(new_page, locale, bypass_csp=True)
    sign_in_page(admin, live_server, secrets["admin"])
    admin.goto(f"{live_server}/review/glossary/zh-hans")
    assert admin.locator("form#term-new").count() == 1, "the admin's glossary is editable"
    audit(admin, "glossary (admin)")

    print("\n".join(line for line in everything if line))
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)
