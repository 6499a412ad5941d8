"""axe-core in a Playwright page: the violations of WCAG rules, serious or critical first.

axe-core comes from npm at the version tests/clients/package-lock.json pins (`npm ci` in
tests/clients, as .ci/run does). Pages are opened in a context with ``bypass_csp=True``:
the review screens' CSP forbids the injected script otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.conftest import skip_or_fail

AXE = Path(__file__).resolve().parent / "clients" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

RUN = """async () => {
    const result = await axe.run(document, {resultTypes: ["violations"]});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target, impact: n.impact, summary: n.failureSummary})),
    }));
}"""


def require_axe() -> Path:
    """The axe.min.js file, or skip (fail under FEEDSVC_REQUIRE_SERVICES=1)."""
    if not AXE.is_file():
        skip_or_fail("axe-core is not installed (cd tests/clients && npm ci)")
    return AXE


def violations(page: Page) -> list[dict[str, Any]]:
    """Every axe violation of the page as it is now (all impacts)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(require_axe()))
    found: list[dict[str, Any]] = page.evaluate(RUN)
    return found


def blocking(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in found if v["impact"] in BLOCKING]


def describe(where: str, found: list[dict[str, Any]]) -> str:
    """Readable lines: the screen, the rule, its impact and help, and each target."""
    lines = []
    for v in found:
        lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:8]:
            summary = " ".join((node.get("summary") or "").split())[:300]
            lines.append(f"    {node['target']} — {summary}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)
