"""feedsvc: multilingual news syndication. ``create_app()`` wires everything together."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from . import db, derived, i18n, jobs, logs, metrics, publish, web, websub
from .config import load_settings

__all__ = ["create_app"]


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """Build the app from ``FEEDSVC_*`` variables (or from ``config``, a mapping of them)."""
    app = Flask(__name__)
    settings = load_settings(Path(app.instance_path), config)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.extensions["feedsvc.settings"] = settings
    logs.setup(settings.log_format, settings.log_level)

    database = db.init_app(app, settings.database_url)
    web.declare_read_only_requests(app)  # before any hook or view opens a session
    derived.init_app(app, settings)
    metrics.init_app(app)
    i18n.init_app(app, settings)
    extension = jobs.init_app(app, settings, database)
    publish.init_app(app, settings, database, extension)
    websub.init_app(app, settings, database, extension)  # after publish: shares its wake-up

    from .feeds import scopes
    from .feeds.shared import render_cache
    from .web import (
        api,
        embed,
        faults,
        feeds,
        limits,
        ops,
        overhead,
        params,
        problems,
        review,
        scope,
        site,
        sitemaps,
    )
    from .web import websub as websub_hub

    limits.init_app(app, settings)  # rate limits; ProxyFix when PROXY_HOPS is set
    overhead.secure_pages(app)  # CSP, nosniff, Referrer-Policy, frame policy
    scopes.init_app(app, database, settings.scope_poll_seconds)
    app.extensions[feeds.CACHE_KEY] = render_cache(settings)
    app.url_map.converters["lang"] = scope.language_converter(settings)
    app.url_map.converters["section"] = scope.SectionPathConverter
    app.url_map.converters["int"] = params.AsciiIntConverter  # ids in ASCII digits only
    problems.register(app, api.bp.url_prefix or "/api")
    faults.register(app, api.bp.url_prefix or "/api")
    app.register_blueprint(api.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(site.bp)
    app.register_blueprint(sitemaps.bp)  # sitemaps and robots.txt for search engines
    app.register_blueprint(embed.bp)  # widgets for partner sites
    app.register_blueprint(review.bp)
    app.register_blueprint(websub_hub.bp)  # the built-in WebSub hub
    feeds.serve_hits_first(app)  # a cached feed is answered before Flask routes
    logs.tag_requests(app)  # outermost: every response, a cached feed's too, has an id
    # The API authenticates each request with a bearer token: no CSRF there.
    overhead.refuse_hostile_input(app)  # before CSRF: a NUL in a path is a 404 for all
    overhead.protect_forms(app, exempt=[api.bp, websub_hub.bp])  # the hub: servers post
    app.session_interface = overhead.CookieSessions()

    from .cli import register_commands

    register_commands(app)
    return app
