"""The built-in WebSub hub's endpoint (``builtin`` in FEEDSVC_WEBSUB_HUBS): subscription
requests (WebSub 5.1), answered 202 and verified later by the worker (5.3).

Form-encoded, no session and no CSRF token (subscribers are servers); a request that
cannot succeed is refused at once with a 4xx and a plain-text reason, and nothing is
stored for it."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, request

from ..articles import utcnow
from ..db import request_session
from ..feeds.data import BUILTIN_HUB, BUILTIN_HUB_PATH
from ..jobs import jobs
from ..store.websub import Intent
from ..websub import (
    MAX_PENDING_PER_HOST,
    MAX_SECRET_BYTES,
    MAX_SUBSCRIPTIONS_PER_HOST,
    MAX_SUBSCRIPTIONS_PER_TOPIC,
    TopicGroup,
    callback_host,
    callback_problem,
    clamp_lease,
    topic_of,
)
from .scope import current_settings, current_store

bp = Blueprint("websub", __name__)
MODES = ("subscribe", "unsubscribe")


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


@bp.post(BUILTIN_HUB_PATH)
def hub() -> Response:
    """The built-in WebSub hub's subscribe/unsubscribe endpoint (404 when not configured)."""
    settings = current_settings()
    if BUILTIN_HUB not in settings.websub_hubs:
        abort(404)
    form = request.form
    mode = form.get("hub.mode", "")
    if mode not in MODES:
        if mode == "publish":
            return _plain(400, "This hub learns of its feeds' changes by itself.")
        return _plain(400, "hub.mode must be subscribe or unsubscribe.")
    topic, callback = form.get("hub.topic", ""), form.get("hub.callback", "")
    if not topic:
        return _plain(400, "hub.topic is required.")
    if not callback:
        return _plain(400, "hub.callback is required.")
    if (reason := callback_problem(callback)) is not None:
        return _plain(400, reason)
    store = current_store()
    found = topic_of(settings, {s.path for s in store.sections.all()}, topic)
    if not isinstance(found, TopicGroup):
        return _plain(400, found)
    lease = form.get("hub.lease_seconds")
    if lease is not None and not re.fullmatch(r"[0-9]{1,10}", lease):
        return _plain(400, "hub.lease_seconds must be a whole number of seconds.")
    secret = form.get("hub.secret") or None
    if secret is not None and len(secret.encode()) > MAX_SECRET_BYTES:
        return _plain(400, f"hub.secret must be shorter than {MAX_SECRET_BYTES + 1} bytes.")
    host = callback_host(callback)
    websub = store.websub
    if mode == "subscribe" and websub.subscription(topic, callback) is None:
        if websub.count_for_topic(topic) >= MAX_SUBSCRIPTIONS_PER_TOPIC:
            return _plain(429, "This topic has as many subscribers as this hub takes.")
        if websub.count_for_host(host) >= MAX_SUBSCRIPTIONS_PER_HOST:
            return _plain(429, "Callbacks on this host have as many subscriptions as allowed.")
    if websub.pending_for_host(host) >= MAX_PENDING_PER_HOST:
        return _plain(429, "Too many verifications are waiting for this host; try later.")
    websub.request_verification(
        callback,
        topic,
        Intent(
            mode,
            clamp_lease(settings, int(lease) if lease is not None else None),
            secret if mode == "subscribe" else None,
        ),
        utcnow(),
    )
    request_session().commit()
    jobs().dispatcher.scopes_changed()  # the worker's next pass verifies intent
    return _plain(202, "Accepted: the callback will be asked to confirm with hub.challenge.")
