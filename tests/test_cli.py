"""The feedsvc command: db upgrade, tokens, import/export, demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.store import ArticleFilter, Store
from tests.conftest import Api, article_doc, make_config


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=list(args), input=input, catch_exceptions=False)


def test_help_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "feedsvc.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("db", "tokens", "import", "export", "demo", "serve", "publish"):
        assert f"  {command} " in result.stdout


def test_bad_configuration_stops_with_the_variable_named(tmp_path: Path) -> None:
    env = os.environ | {"FEEDSVC_LANGUAGES": "fr,en", "FEEDSVC_SECRET_KEY": "x" * 20}
    result = subprocess.run(
        [sys.executable, "-m", "feedsvc.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "FEEDSVC_LANGUAGES" in result.stderr
    assert "Traceback" not in result.stderr


def test_tokens_create_prints_the_token_last(app: Flask, client: FlaskClient) -> None:
    result = run(app, "tokens", "create", "--role", "translator", "--lang", "zh-Hans")
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("fsv_")
    api = Api(client, secret)
    assert api.get("/tokens").status_code == 403, "a translator token, recognized"
    assert api.post("/sections", {"path": "x", "names": {"en": "X"}}).status_code == 403
    assert "zh-Hans" in run(app, "tokens", "list").output


def test_tokens_create_refuses_bad_input(app: Flask) -> None:
    assert run(app, "tokens", "create", "--role", "king").exit_code == 2
    assert run(app, "tokens", "create", "--role", "translator").exit_code == 2


def test_tokens_and_glossary_terms_are_revoked_and_removed_by_id(app: Flask) -> None:
    created = run(app, "tokens", "create", "--role", "translator", "--lang", "zh-Hans")
    token_id = created.output.split("id=", 1)[1].split()[0]
    assert run(app, "tokens", "revoke", token_id).output == f"token {token_id} revoked\n"
    assert "\trevoked\t" in run(app, "tokens", "list").output
    unknown = run(app, "tokens", "revoke", "999999")
    assert unknown.exit_code == 1 and unknown.output.startswith("Error: ")
    added = run(app, "glossary", "add", "State Council", "国务院", "--lang", "zh-Hans")
    assert added.exit_code == 0 and "State Council → 国务院" in added.output
    term_id = added.output.split("id=", 1)[1].split(":")[0]
    assert "国务院" in run(app, "glossary", "list", "--lang", "zh-Hans").output
    again = run(app, "glossary", "add", "State Council", "国务院", "--lang", "zh-Hans")
    assert again.exit_code == 1 and again.output.startswith("Error: ")
    assert run(app, "glossary", "remove", term_id).output == f"removed term {term_id}\n"
    assert "国务院" not in run(app, "glossary", "list", "--lang", "zh-Hans").output
    assert run(app, "glossary", "remove", term_id).exit_code == 1


def test_import_reports_bad_lines_and_stores_the_rest(
    app: Flask, editor: Api, sections: list[str], tmp_path: Path
) -> None:
    lines = [json.dumps(article_doc(external_id=f"imp-{n}", title=f"Story {n}")) for n in range(6)]
    lines[2] = "{broken json"
    lines[4] = json.dumps(article_doc(external_id="imp-4", section="nowhere"))
    lines.insert(5, "")
    lines.append(json.dumps(article_doc(title="No external id")))
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(lines) + "\n")

    result = run(app, "import", str(path))
    assert result.exit_code == 1
    assert "created 4, updated 0, unchanged 0, rejected 3" in result.output
    assert "line 3: rejected: /: not valid JSON" in result.output
    assert "line 5: rejected: /section: section 'nowhere' does not exist" in result.output
    assert "line 8: rejected: /external_id: is required" in result.output
    assert editor.get("/articles").json["total"] == 4

    again = run(app, "import", str(path))
    assert "created 0, updated 0, unchanged 4, rejected 3" in again.output
    assert editor.get("/articles").json["total"] == 4


def test_export_then_import_round_trips(
    app: Flask, editor: Api, sections: list[str], tmp_path: Path, database_url: str
) -> None:
    for n in range(3):
        editor.post(
            "/articles",
            article_doc(
                external_id=f"e-{n}", title=f"Story {n}", body_html=f"<p>Body {n} 广州</p>"
            ),
        )
    out = tmp_path / "export.jsonl"
    result = run(app, "export", "--output", str(out))
    assert result.exit_code == 0
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["external_id"] for d in exported] == ["e-0", "e-1", "e-2"]
    assert exported[0]["body_html"] == "<p>Body 0 广州</p>"
    again = run(app, "import", str(out))
    assert "created 0, updated 0, unchanged 3, rejected 0" in again.output


def test_demo_is_idempotent(app: Flask) -> None:
    first = run(app, "demo")
    assert first.exit_code == 0, first.output
    with app.app_context(), database().session() as session:
        store = Store(session)
        page = store.articles.page(ArticleFilter(), 1, 100)
        revisions = {a.external_id: a.revision for a in page.items}
        sections = store.sections.all()
        variants = store.variants.of([a.id for a in page.items])
    assert page.total >= 12
    assert len({s.path for s in sections}) >= 4
    assert any("/" in s.path for s in sections), "two levels"
    assert all("zh-Hans" in s.names for s in sections)
    human = [v for vs in variants.values() for v in vs if v.origin == "human"]
    assert len(human) >= 4 and all(v.lang == "zh-Hans" for v in human)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in v.title) for v in human)

    assert run(app, "demo").exit_code == 0
    with app.app_context(), database().session() as session:
        again = Store(session).articles.page(ArticleFilter(), 1, 100)
    assert {a.external_id: a.revision for a in again.items} == revisions
    assert again.total == page.total


def test_db_upgrade_creates_schema_from_nothing(tmp_path: Path) -> None:
    app = create_app(make_config(f"sqlite:///{tmp_path / 'new.sqlite3'}"))
    result = run(app, "db", "upgrade")
    assert result.exit_code == 0 and "up to date" in result.output
    assert run(app, "demo").exit_code == 0
