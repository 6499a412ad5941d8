"""`feedsvc models`: install from a file or the index, list, remove; the engine interface."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.db.migrate import upgrade
from feedsvc.engine import NoModel
from feedsvc.engine.argos import EngineOptions, Engines
from feedsvc.engine.packages import Packages, argos_code
from tests.argos_fixture import build_argos_package
from tests.conftest import dispose_app, make_config


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    config = make_config(
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        FEEDSVC_ARGOS_PACKAGES_DIR=str(tmp_path / "packages"),
    )
    app = create_app(config)
    with app.app_context():
        upgrade(database().engine)
    yield app
    with app.app_context():
        dispose_app()


def cli(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


def test_install_list_remove_a_package_file(app: Flask, tmp_path: Path) -> None:
    model = build_argos_package(tmp_path, "en", "zh", "1.2")
    assert "no packages installed" in cli(app, "models", "list").output
    installed = cli(app, "models", "install", str(model))
    assert installed.exit_code == 0, installed.output
    assert "argos translate-en_zh 1.2" in installed.output
    assert "en\tzh\t1.2" in cli(app, "models", "list").output
    removed = cli(app, "models", "remove", "en", "zh-Hans")
    assert removed.exit_code == 0 and "removed" in removed.output
    assert "no packages installed" in cli(app, "models", "list").output
    assert cli(app, "models", "remove", "en", "zh-Hans").exit_code == 1


def test_bad_package_files_are_refused(app: Flask, tmp_path: Path) -> None:
    not_zip = tmp_path / "bogus.argosmodel"
    not_zip.write_text("hello")
    result = cli(app, "models", "install", str(not_zip))
    assert result.exit_code == 1 and "not a zip archive" in result.output
    assert cli(app, "models", "install", "a", "b", "c").exit_code == 2


def test_install_from_an_unreachable_index_says_what_to_do(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argostranslate import settings

    # Port 9 on loopback refuses at once: the test never leaves this machine.
    monkeypatch.setattr(settings, "remote_package_index", "http://127.0.0.1:9/index.json")
    result = cli(app, "models", "install", "en", "zh-Hans")
    assert result.exit_code == 1
    assert "cannot reach the Argos package index" in result.output
    assert "feedsvc models install FILE.argosmodel" in result.output


@pytest.mark.parametrize(
    ("tag", "code"),
    [("zh-Hans", "zh"), ("zh-Hant", "zt"), ("fr", "fr"), ("pt-BR", "pb"), ("en", "en")],
)
def test_language_tags_map_to_argos_codes(tag: str, code: str) -> None:
    assert argos_code(tag) == code


def test_engine_translates_batches_and_keeps_placeholders(tmp_path: Path) -> None:
    packages = Packages(tmp_path / "packages")
    packages.install_file(build_argos_package(tmp_path, "en", "zh", "1.0"))
    engines = Engines(packages, EngineOptions(beam_size=2))
    translator = engines.translator("en", "zh-Hans")
    assert engines.translator("en", "zh-Hans") is translator, "loaded once per process"
    sources = ["The district opened a {1}new park{/1}.", "{1}", "Officials said {2} firms came."]
    out = translator.translate(sources)
    assert len(out) == 3
    assert out[1].text == "{1}" and out[1].score == 1.0
    assert out[0].text.count("{1}") == 1 and out[0].text.count("{/1}") == 1
    assert "{2}" in out[2].text
    assert all(0 < t.score <= 1 for t in out)
    assert out[0].text != sources[0], "the model's text, not the source"
    with pytest.raises(NoModel, match="feedsvc models install en fr"):
        engines.translator("en", "fr")
    assert not {"argostranslate.translate", "stanza", "torch"} & set(sys.modules)
