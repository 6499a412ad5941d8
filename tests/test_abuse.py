"""Abuse limits and access rules (issue 13, acceptance 4): rate limits on failed sign-ins
(per client IP and per token name), failed bearer authentication (per IP) and API writes
(per token), each a 429 with Retry-After; sign-out ends the session on the server; tokens
that expire; deleted articles' text only for editors; glossary roles the same in the API
and on the review screens. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import secrets as random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from feedsvc.articles import utcnow
from feedsvc.db import database
from feedsvc.db.tables import ApiTokenRow
from feedsvc.domain import Role
from feedsvc.store import Store
from feedsvc.tokens import TOKEN_PREFIX, issue_token, parse_expiry
from tests.conftest import Api, article_doc, running_app

ATTACKER = "203.0.113.9"
FRIEND = "198.51.100.7"


def client_from(app: Flask, ip: str, **environ: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    client.environ_base.update(environ)
    return client


def csrf_of(html: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', html)
    assert match, "the sign-in form carries a CSRF token"
    return match.group(1).decode()


def sign_in_attempt(client: FlaskClient, secret: str, **kwargs: object) -> object:
    token = csrf_of(client.get("/review/").data)
    return client.post("/review/", data={"token": secret, "csrf_token": token}, **kwargs)


def wrong_secret() -> str:
    return TOKEN_PREFIX + random.token_urlsafe(32)  # a new name (prefix) every time


def retry_after(response: object) -> int:
    value = response.headers.get("Retry-After")  # type: ignore[attr-defined]
    assert value is not None and value.isdigit(), "429 says when to try again"
    return int(value)


def issue(app: Flask, role: Role, languages: tuple[str, ...] = (), **kwargs: object) -> str:
    with app.app_context(), database().session() as session:
        _, secret = issue_token(Store(session), f"{role} person", role, languages, **kwargs)
    return secret


@pytest.fixture
def limited(database_url: str) -> Iterator[Flask]:
    """An app with small API limits, so a test reaches them in a few requests."""
    with running_app(
        database_url,
        FEEDSVC_RATE_LIMIT_AUTH_FAILURES="5/minute",
        FEEDSVC_RATE_LIMIT_WRITES="3/minute",
    ) as app:
        yield app


# -- sign-in ------------------------------------------------------------------------


def test_fifty_bad_sign_ins_from_one_ip_get_429_and_a_good_token_works_elsewhere(
    app: Flask,
) -> None:
    """Acceptance 4, with the default limits (10 failures per minute per IP)."""
    good = issue(app, Role.TRANSLATOR, ("zh-Hans",))
    attacker = client_from(app, ATTACKER)
    started = datetime.now(UTC)
    statuses = []
    for _ in range(50):
        response = sign_in_attempt(attacker, wrong_secret())
        statuses.append(response.status_code)  # type: ignore[attr-defined]
        if response.status_code == 429:  # type: ignore[attr-defined]
            assert 1 <= retry_after(response) <= 60
            assert response.mimetype == "text/html"  # type: ignore[attr-defined]
            assert b"Too many failed sign-ins" in response.data  # type: ignore[attr-defined]
            assert b'name="token"' in response.data, "the form is still there"  # type: ignore[attr-defined]
    assert datetime.now(UTC) - started < timedelta(seconds=10)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429] * 40
    # Past the limit, even a good token is refused from that address (no oracle)…
    assert sign_in_attempt(attacker, good).status_code == 429  # type: ignore[attr-defined]
    assert attacker.get("/review/zh-hans/").status_code == 302, "not signed in"
    # …script callers get problem+json…
    scripted = sign_in_attempt(attacker, wrong_secret(), headers={"Accept": "application/json"})
    assert scripted.status_code == 429  # type: ignore[attr-defined]
    assert scripted.mimetype == "application/problem+json"  # type: ignore[attr-defined]
    assert scripted.json["status"] == 429 and retry_after(scripted) >= 1  # type: ignore[attr-defined]
    # …and from another address the good token signs in.
    friend = client_from(app, FRIEND)
    assert sign_in_attempt(friend, good).status_code == 302  # type: ignore[attr-defined]
    assert friend.get("/review/zh-hans/").status_code == 200


def test_failed_sign_ins_are_counted_per_token_name_across_addresses(app: Flask) -> None:
    good = issue(app, Role.TRANSLATOR, ("zh-Hans",))
    # Guesses at one token (same name, its listed prefix) from many addresses.
    guess = good[:12] + random.token_urlsafe(32)
    statuses = [
        sign_in_attempt(client_from(app, f"192.0.2.{n}"), guess).status_code  # type: ignore[attr-defined]
        for n in range(1, 8)
    ]
    assert statuses == [401] * 5 + [429] * 2, "default: 5 failures per name per minute"
    # The real token's name is now locked for a while; other tokens are not.
    assert sign_in_attempt(client_from(app, "192.0.2.50"), good).status_code == 429  # type: ignore[attr-defined]
    other = issue(app, Role.ADMIN)
    assert sign_in_attempt(client_from(app, "192.0.2.51"), other).status_code == 302  # type: ignore[attr-defined]


def test_good_sign_ins_are_not_counted(app: Flask) -> None:
    good = issue(app, Role.TRANSLATOR, ("zh-Hans",))
    for _ in range(15):
        client = client_from(app, ATTACKER)
        assert sign_in_attempt(client, good).status_code == 302  # type: ignore[attr-defined]


# -- the API ------------------------------------------------------------------------


def test_bearer_failures_per_ip_then_429_with_retry_after(limited: Flask) -> None:
    editor = issue(limited, Role.EDITOR)
    attacker = Api(client_from(limited, ATTACKER), wrong_secret())
    statuses = [attacker.post("/sections", {"path": "x", "names": {"en": "X"}}).status_code]
    statuses += [attacker.get("/tokens").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429] * 2
    refused = attacker.get("/tokens")
    assert refused.mimetype == "application/problem+json"
    assert refused.json["status"] == 429 and "Too many" in refused.json["detail"]
    assert 1 <= retry_after(refused) <= 60
    # The address is blocked for every token, but public reads are not counted.
    same_ip = Api(attacker.client, editor)
    assert same_ip.post("/sections", {"path": "x", "names": {"en": "X"}}).status_code == 429
    assert Api(attacker.client, None).get("/sections").status_code == 200
    with limited.app_context(), database().session() as session:
        assert Store(session).sections.all() == []
    # Another address with the same good token works.
    friend = Api(client_from(limited, FRIEND), editor)
    assert friend.post("/sections", {"path": "x", "names": {"en": "X"}}).status_code == 201


def test_writes_per_token(limited: Flask) -> None:
    first = Api(client_from(limited, FRIEND), issue(limited, Role.EDITOR))
    codes = [
        first.post("/sections", {"path": f"s{n}", "names": {"en": f"S{n}"}}).status_code
        for n in range(5)
    ]
    assert codes == [201, 201, 201, 429, 429]
    refused = first.post("/sections", {"path": "s9", "names": {"en": "S9"}})
    assert refused.json["type"].endswith("/too-many-requests") and retry_after(refused) >= 1
    assert all(first.get("/sections").status_code == 200 for _ in range(5)), "reads are free"
    second = Api(client_from(limited, FRIEND), issue(limited, Role.EDITOR))
    assert second.post("/sections", {"path": "t", "names": {"en": "T"}}).status_code == 201
    with limited.app_context(), database().session() as session:
        assert sorted(s.path for s in Store(session).sections.all()) == ["s0", "s1", "s2", "t"]


def test_limits_can_be_turned_off(database_url: str) -> None:
    with running_app(
        database_url, FEEDSVC_RATE_LIMITS="off", FEEDSVC_RATE_LIMIT_AUTH_FAILURES="2/minute"
    ) as app:
        attacker = Api(client_from(app, ATTACKER), wrong_secret())
        assert {attacker.get("/tokens").status_code for _ in range(10)} == {401}


def test_rate_limit_settings_are_checked(database_url: str) -> None:
    from feedsvc.config import ConfigError

    with pytest.raises(ConfigError, match="FEEDSVC_RATE_LIMIT_WRITES"):
        with running_app(database_url, FEEDSVC_RATE_LIMIT_WRITES="lots"):
            pass


def test_client_ip_comes_from_x_forwarded_for_only_behind_trusted_proxies(
    database_url: str,
) -> None:
    spoofed = {"HTTP_X_FORWARDED_FOR": "192.0.2.200"}
    for hops, blocked_for_neighbour in (("0", True), ("1", False)):
        with running_app(
            database_url,
            FEEDSVC_PROXY_HOPS=hops,
            FEEDSVC_RATE_LIMIT_AUTH_FAILURES="2/minute",
        ) as app:
            # Two failures from one client, each with a different forwarded address.
            for n in range(2):
                client = client_from(app, "10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
                assert Api(client, wrong_secret()).get("/tokens").status_code == 401
            neighbour = Api(client_from(app, "10.0.0.1", **spoofed), wrong_secret())
            expected = 429 if blocked_for_neighbour else 401
            assert neighbour.get("/tokens").status_code == expected, hops


# -- sessions -----------------------------------------------------------------------


def test_sign_out_ends_the_session_on_the_server(app: Flask) -> None:
    secret = issue(app, Role.TRANSLATOR, ("zh-Hans",))
    browser = client_from(app, FRIEND)
    assert sign_in_attempt(browser, secret).status_code == 302  # type: ignore[attr-defined]
    assert browser.get("/review/zh-hans/").status_code == 200
    stolen = browser.get_cookie("session")
    assert stolen is not None
    token = csrf_of(browser.get("/review/zh-hans/").data)
    assert browser.post("/review/sign-out", data={"csrf_token": token}).status_code == 302
    # Replaying the cookie copied before sign-out signs no one in.
    replay = client_from(app, ATTACKER)
    replay.set_cookie("session", stolen.value)
    response = replay.get("/review/zh-hans/")
    assert response.status_code == 302 and "/review/?next=" in response.headers["Location"]
    with app.app_context(), database().session() as session:
        (found,) = [t for t in Store(session).tokens.all() if t.name.startswith("translator")]
        assert found.session_generation == 1
    # Signing in again works, with a session of the new generation.
    assert sign_in_attempt(browser, secret).status_code == 302  # type: ignore[attr-defined]
    assert browser.get("/review/zh-hans/").status_code == 200


# -- token expiry ---------------------------------------------------------------------


def test_expired_tokens_are_refused_in_the_api_and_on_the_screens(app: Flask) -> None:
    past = utcnow() - timedelta(days=2)
    expired = issue(app, Role.ADMIN, clock=lambda: past, expires_at=past + timedelta(days=1))
    live = issue(app, Role.TRANSLATOR, ("zh-Hans",), expires_at=utcnow() + timedelta(days=1))
    assert Api(app.test_client(), expired).get("/tokens").status_code == 401
    assert sign_in_attempt(client_from(app, FRIEND), expired).status_code == 401  # type: ignore[attr-defined]
    # A session whose token expires while signed in ends at the next request.
    browser = client_from(app, FRIEND)
    assert sign_in_attempt(browser, live).status_code == 302  # type: ignore[attr-defined]
    assert browser.get("/review/zh-hans/").status_code == 200
    with app.app_context(), database().session() as session:
        session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.prefix == live[:12])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    assert browser.get("/review/zh-hans/").status_code == 302


def test_token_expiry_through_the_api_and_the_cli(app: Flask) -> None:
    admin = Api(app.test_client(), issue(app, Role.ADMIN))
    when = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    created = admin.post(
        "/tokens", {"name": "temp", "role": "editor", "expires_at": when.isoformat()}
    )
    assert created.status_code == 201, created.json
    assert datetime.fromisoformat(created.json["expires_at"]) == when
    assert (
        Api(app.test_client(), created.json["token"])
        .post("/sections", {"path": "n", "names": {"en": "N"}})
        .status_code
        == 201
    )
    past = admin.post(
        "/tokens", {"name": "old", "role": "editor", "expires_at": "2020-01-01T00:00:00Z"}
    )
    assert past.status_code == 422 and past.json["errors"][0]["pointer"] == "/expires_at"
    listing = {t["name"]: t for t in admin.get("/tokens").json["items"]}
    assert (
        listing["temp"]["expires_at"] is not None and listing["admin person"]["expires_at"] is None
    )

    runner = app.test_cli_runner()
    made = runner.invoke(args=["tokens", "create", "--role", "editor", "--expires", "30d"])
    assert made.exit_code == 0, made.output
    assert "expires=" in made.output
    bad = runner.invoke(args=["tokens", "create", "--role", "editor", "--expires", "soon"])
    assert bad.exit_code != 0 and "--expires" in bad.output
    with app.app_context(), database().session() as session:
        session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.name == "temp")
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        session.commit()
    lines = runner.invoke(args=["tokens", "list"]).output.splitlines()
    temp = next(line for line in lines if "\ttemp\t" in line)
    assert "\texpired\t" in temp and "expires=" in temp
    assert Api(app.test_client(), created.json["token"]).get("/tokens").status_code == 401


def test_parse_expiry() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert parse_expiry("30d", now) == now + timedelta(days=30)
    assert parse_expiry("12h", now) == now + timedelta(hours=12)
    assert parse_expiry("2w", now) == now + timedelta(weeks=2)
    assert parse_expiry("2026-12-31", now) == datetime(2027, 1, 1, tzinfo=UTC), "through the day"
    assert parse_expiry("2026-12-31T10:00:00+08:00", now) == datetime(2026, 12, 31, 2, tzinfo=UTC)
    for bad in ("0d", "soon", "30", "2026-13-01", "٣d"):
        with pytest.raises(ValueError):
            parse_expiry(bad, now)


# -- deleted articles ---------------------------------------------------------------


def test_deleted_articles_text_only_for_editors(app: Flask, tokens: dict[str, str]) -> None:
    editor = Api(app.test_client(), tokens["editor"])
    editor.post("/sections", {"path": "news", "names": {"en": "News"}})
    article = editor.post("/articles", article_doc(section="news", title="Secret draft")).json
    assert editor.delete(f"/articles/{article['id']}").status_code == 204
    anonymous = Api(app.test_client(), None)
    assert anonymous.get(f"/articles/{article['id']}").status_code == 410
    refused = anonymous.get("/articles?include_deleted=true")
    assert refused.status_code == 401 and b"Secret draft" not in refused.data
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    translator = Api(app.test_client(), tokens["translator"])
    assert translator.get("/articles?include_deleted=true").status_code == 403
    assert anonymous.get("/articles").json["total"] == 0
    listed = editor.get("/articles?include_deleted=true").json
    assert [a["title"] for a in listed["items"]] == ["Secret draft"]
    admin = Api(app.test_client(), tokens["admin"])
    assert admin.get("/articles?include_deleted=true").json["total"] == 1


# -- glossary -------------------------------------------------------------------------


def test_glossary_roles_are_the_same_in_the_api_and_on_the_screens(
    app: Flask, tokens: dict[str, str]
) -> None:
    term = {"source_term": "robotics park", "target_term": "机器人产业园"}
    editor = Api(app.test_client(), tokens["editor"])
    translator = Api(app.test_client(), tokens["translator"])
    admin = Api(app.test_client(), tokens["admin"])
    assert editor.post("/glossary/zh-Hans", term).status_code == 403
    assert translator.post("/glossary/zh-Hans", term).status_code == 403
    created = admin.post("/glossary/zh-Hans", term)
    assert created.status_code == 201
    term_id = created.json["id"]
    changed = term | {"target_term": "机器人园区"}
    assert editor.put(f"/glossary/zh-Hans/{term_id}", changed).status_code == 403
    assert translator.request("DELETE", f"/glossary/zh-Hans/{term_id}").status_code == 403
    # Reads: a translator only the languages of the token.
    assert translator.get("/glossary/zh-Hans").json["items"][0]["target_term"] == "机器人产业园"
    assert translator.get("/glossary/fr").status_code == 403
    assert admin.get("/glossary/fr").status_code == 200

    # The screens: the same translator reads zh-Hans, not fr, and cannot change it.
    screen = client_from(app, FRIEND)
    assert sign_in_attempt(screen, tokens["translator"]).status_code == 302  # type: ignore[attr-defined]
    page = screen.get("/review/glossary/zh-hans")
    assert page.status_code == 200 and "机器人产业园" in page.get_data(as_text=True)
    assert screen.get("/review/glossary/fr").status_code == 403
    posted = screen.post(
        "/review/glossary/zh-hans",
        data=term | {"source_term": "new term", "csrf_token": csrf_of(page.data)},
    )
    assert posted.status_code == 403
    with app.app_context(), database().session() as session:
        stored = Store(session).glossary.terms("en", "zh-Hans")
    assert [(t.source_term, t.target_term) for t in stored] == [("robotics park", "机器人产业园")]
