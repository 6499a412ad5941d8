"""API tokens: random secrets shown once, stored as SHA-256, checked per request."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from .articles import Clock, utcnow
from .config import canonical_language_tag
from .db import Database
from .domain import ApiToken, FieldError, Invalid, Role
from .store import Store

TOKEN_PREFIX = "fsv_"
USE_RESOLUTION = timedelta(minutes=1)
log = logging.getLogger(__name__)


def issue_token(
    store: Store, name: str, role: Role, languages: Sequence[str] = (), clock: Clock = utcnow
) -> tuple[ApiToken, str]:
    """Create a token; returns it and its secret (which is not stored)."""
    canonical = []
    errors = []
    for index, tag in enumerate(languages):
        try:
            canonical.append(canonical_language_tag(tag))
        except ValueError as exc:
            errors.append(FieldError(f"/languages/{index}", str(exc)))
    if role is Role.TRANSLATOR and not languages:
        errors.append(FieldError("/languages", "a translator token needs at least one language"))
    if role is not Role.TRANSLATOR and languages:
        errors.append(FieldError("/languages", "only translator tokens carry languages"))
    if errors:
        raise Invalid(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = store.tokens.add(name, secret, role, list(dict.fromkeys(canonical)), clock())
    return token, secret


def authenticate(store: Store, secret: str) -> ApiToken | None:
    """The live token for ``secret``, or None if unknown or revoked. Reads only."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = store.tokens.by_secret(secret)
    if token is None or token.revoked_at is not None:
        return None
    return token


def record_use(database: Database, token: ApiToken, clock: Clock = utcnow) -> None:
    """Note the token's use in a transaction of its own, at most once per USE_RESOLUTION:
    a read request never turns into a write, and a busy database never fails the request."""
    now = clock()
    if token.last_used_at is not None and now - token.last_used_at < USE_RESOLUTION:
        return
    try:
        with database.session() as session:
            Store(session).tokens.record_use(token.id, now, USE_RESOLUTION)
    except SQLAlchemyError as exc:
        log.warning("token use not recorded token_id=%d error=%s", token.id, exc)
