"""What every request pays before and after its view, kept to what it needs.

A cached feed is answered in tens of microseconds; Flask's defaults around it cost more.
Profiling the hit path showed two that do work for requests that cannot use it:

- the session: Flask builds an itsdangerous serializer on every request to open the
  cookie session, and works out the cookie's attributes to save it, though only the
  review screens have one;
- CSRF: Flask-WTF looks up the view's exemptions before it looks at the method, so every
  GET pays for a check that only POST, PUT, PATCH and DELETE need.

Both keep their behaviour for the requests that use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Blueprint, Flask, abort, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request, Response
from flask_wtf.csrf import CSRFProtect

from .params import CONTROL_IN_PATH, CONTROL_IN_TEXT, MAX_JSON_DEPTH, json_depth_exceeds

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
P = ParamSpec("P")
R = TypeVar("R")


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, opened without a serializer when there is no cookie
    (an empty session, as Flask itself gives then), and not saved when nothing touched it
    (Flask works out the cookie's attributes first, then does nothing)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Skips decoding when no session cookie was sent, as most public requests send none."""
        if "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Skips saving a session nothing touched, so public pages set no cookie."""
        if session or session.modified or session.accessed:
            super().save_session(app, session, response)


def protect_forms(app: Flask, exempt: Iterable[Blueprint]) -> CSRFProtect:
    """CSRF checks for unsafe methods, as ``CSRFProtect(app)``; the method is looked at
    first, so a GET is not charged for the exemption lookup."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # the hook below decides instead
    csrf = CSRFProtect(app)
    for blueprint in exempt:
        csrf.exempt(blueprint)
    unsafe = app.config["WTF_CSRF_METHODS"]

    @app.before_request
    def check_csrf() -> None:
        if request.method in unsafe:
            csrf.protect(apply_exemptions=True)

    return csrf


def refuse_hostile_input(app: Flask) -> None:
    """No control character reaches a view or the database (PostgreSQL refuses NUL, and
    none of them is part of an id, a path or a text): in the path the request is for
    nothing (404); in a query value it is a bad request (400); in a form field the field is
    invalid (422; tab, newline and carriage return are text there and in query values).
    A JSON body nested deeper than MAX_JSON_DEPTH is a bad request (400), found by a scan
    before any parser recurses into it."""

    @app.before_request
    def check_input() -> None:
        if CONTROL_IN_PATH.search(request.path):
            abort(404)
        for name, value in request.args.items(multi=True):
            if CONTROL_IN_TEXT.search(name) or CONTROL_IN_TEXT.search(value):
                abort(400, f"The query parameter {name!r} contains a control character.")
        writes = request.method in ("POST", "PUT", "PATCH")
        # Forms of the pages; the API reads its bodies raw (an import may come as any type).
        if writes and request.mimetype in FORM_TYPES and "api" not in request.blueprints:
            for name, value in request.form.items(multi=True):
                if CONTROL_IN_TEXT.search(name) or CONTROL_IN_TEXT.search(value):
                    abort(422, f"The form field {name!r} contains a control character.")
        if writes and request.is_json and json_depth_exceeds(request.get_data(cache=True)):
            abort(400, f"The body nests arrays and objects deeper than {MAX_JSON_DEPTH}.")


# Every HTML page runs only the site's own script and styles (no inline script, style or
# handler: feedsvc/static/); article images may come from anywhere on the web; nothing
# frames a page unless its view says so (``framable``).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)
NO_FRAMING = "'none'"


def framable(ancestors: str = "*") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let other sites frame this view's pages (an embeddable widget):
    ``@framable("https://partner.example")`` or ``@framable()`` for any site. The CSP's
    ``frame-ancestors`` becomes ``ancestors`` and ``X-Frame-Options`` is left out; every
    other view's pages may not be framed at all."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def framed(*args: P.args, **kwargs: P.kwargs) -> R:
            g.frame_ancestors = ancestors
            return view(*args, **kwargs)

        return framed

    return decorate


def secure_pages(app: Flask) -> None:
    """Security headers: on every response ``X-Content-Type-Options: nosniff``; on every
    HTML response also the CSP above, ``Referrer-Policy: same-origin`` and the frame
    policy (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` unless ``framable``).
    A header a view set itself is kept. A 304 has no body to protect and carries only
    what a cache updates (RFC 9110 15.4.5), the same from every path that answers it."""

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        if response.status_code == 304:
            return response
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype != "text/html":
            return response
        ancestors = g.get("frame_ancestors", NO_FRAMING)
        headers.setdefault(
            "Content-Security-Policy", f"{CONTENT_SECURITY_POLICY}; frame-ancestors {ancestors}"
        )
        headers.setdefault("Referrer-Policy", "same-origin")
        if ancestors == NO_FRAMING:
            headers.setdefault("X-Frame-Options", "DENY")
        return response
