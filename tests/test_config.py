"""Settings from FEEDSVC_* variables: defaults, parsing, and loud failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config import (
    ConfigError,
    PublishPolicy,
    canonical_language_tag,
    load_settings,
    parse_languages,
)


def test_defaults_use_an_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert settings.database_url == f"sqlite:///{tmp_path / 'feedsvc.sqlite3'}"
    assert settings.language_tags == ("en", "zh-Hans")
    assert len(settings.secret_key) >= 32
    assert load_settings(tmp_path, {}).secret_key == settings.secret_key, "kept across restarts"


def test_values_are_read(tmp_path: Path) -> None:
    settings = load_settings(
        tmp_path,
        {
            "FEEDSVC_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "FEEDSVC_BASE_URL": "https://news.example.org/",
            "FEEDSVC_SITE_NAME": "Huangpu News",
            "FEEDSVC_PUBLISHER": "Huangpu District",
            "FEEDSVC_COPYRIGHT": "Copyright © 2026 Huangpu. All rights reserved.",
            "FEEDSVC_LANGUAGES": "en, zh-hans:reviewed, fr",
            "FEEDSVC_SECRET_KEY": "s" * 32,
            "FEEDSVC_REDIS_URL": "redis://127.0.0.1:6379/0",
            "FEEDSVC_MAX_REQUEST_BYTES": "1000",
            "FEEDSVC_FEED_GRACE_SECONDS": "2.5",
        },
    )
    assert settings.feed_grace_seconds == 2.5
    assert settings.base_url == "https://news.example.org"
    assert settings.site_name == "Huangpu News"
    assert [(lang.tag, lang.policy) for lang in settings.languages] == [
        ("en", PublishPolicy.MACHINE),
        ("zh-Hans", PublishPolicy.REVIEWED),
        ("fr", PublishPolicy.MACHINE),
    ]
    assert settings.language("ZH-HANS").url_tag == "zh-hans"
    assert settings.max_request_bytes == 1000


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FEEDSVC_DATABASE_URL", "mysql://x"),
        ("FEEDSVC_BASE_URL", "news.example.org"),
        ("FEEDSVC_BASE_URL", "ftp://news.example.org"),
        ("FEEDSVC_LANGUAGES", "zh-Hans,en"),
        ("FEEDSVC_LANGUAGES", "en,zh-Hans:sometimes"),
        ("FEEDSVC_LANGUAGES", "en,klingon"),
        ("FEEDSVC_LANGUAGES", "en,fr,fr"),
        ("FEEDSVC_SECRET_KEY", "short"),
        ("FEEDSVC_REDIS_URL", "localhost:6379"),
        ("FEEDSVC_MAX_REQUEST_BYTES", "lots"),
        ("FEEDSVC_MAX_REQUEST_BYTES", "0"),
        ("FEEDSVC_FEED_GRACE_SECONDS", "-1"),
        ("FEEDSVC_FEED_GRACE_SECONDS", "soon"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(tmp_path, {name: value})


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("en", "en"),
        ("zh-hans", "zh-Hans"),
        ("ZH-HANT", "zh-Hant"),
        ("pt-br", "pt-BR"),
        ("zh_Hans", "zh-Hans"),
    ],
)
def test_language_tags_are_canonicalized(given: str, canonical: str) -> None:
    assert canonical_language_tag(given) == canonical


@pytest.mark.parametrize("bad", ["", "e", "english", "zh-", "12", "en--US", "qq-Zzzz"])
def test_unknown_language_tags_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        canonical_language_tag(bad)


def test_languages_need_english_first() -> None:
    with pytest.raises(ConfigError):
        parse_languages("")
    assert parse_languages("en")[0].tag == "en"
