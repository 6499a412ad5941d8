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

from collections.abc import Iterable

from flask import Blueprint, Flask, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request, Response
from flask_wtf.csrf import CSRFProtect


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, opened without a serializer when there is no cookie
    (an empty session, as Flask itself gives then), and not saved when nothing touched it
    (Flask works out the cookie's attributes first, then does nothing)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
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
