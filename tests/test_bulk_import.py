"""`feedsvc import` of 10,000 lines with 1% bad ones: finishes, reports them, stores the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import Api, article_doc

LINES = 10_000


@pytest.mark.slow
def test_ten_thousand_lines_with_one_percent_bad(
    app: Flask, editor: Api, sections: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "bulk.jsonl"
    bad_lines = []
    with path.open("w", encoding="utf-8") as out:
        for n in range(1, LINES + 1):
            if n % 100 == 0:
                bad_lines.append(n)
                line = (
                    "{oops"
                    if n % 200
                    else json.dumps(article_doc(external_id=f"b-{n}", published_at="soon"))
                )
            else:
                line = json.dumps(article_doc(external_id=f"b-{n}", title=f"Bulk story {n}"))
            out.write(line + "\n")

    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 1, result.output
    assert (
        f"created {LINES - len(bad_lines)}, updated 0, unchanged 0, rejected 100" in result.output
    )
    reported = [
        int(line.split(":")[0].removeprefix("line "))
        for line in result.output.splitlines()
        if line.startswith("line ")
    ]
    assert reported == bad_lines
    assert editor.get("/articles?per_page=1").json["total"] == LINES - len(bad_lines)
    slugs = {a["slug"] for a in editor.get("/articles?per_page=100").json["items"]}
    assert len(slugs) == 100, "every article got its own slug"
