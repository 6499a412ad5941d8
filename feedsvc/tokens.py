"""API tokens: random secrets shown once, stored as SHA-256, checked per request."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from .articles import Clock, utcnow
from .config import canonical_language_tag
from .domain import ApiToken, FieldError, Invalid, Role
from .store import Store

TOKEN_PREFIX = "fsv_"


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
    token = store.add_token(name, secret, role, list(dict.fromkeys(canonical)), clock())
    return token, secret


def authenticate(store: Store, secret: str, clock: Clock = utcnow) -> ApiToken | None:
    """The live token for ``secret``, or None if unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = store.token_by_secret(secret)
    if token is None or token.revoked_at is not None:
        return None
    now = clock()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        store.touch_token(token.id, now)  # at most once a minute: reads stay cheap
    return token
