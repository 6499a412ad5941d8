"""API tokens: random secrets shown once, stored as SHA-256, checked per request."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.exc import SQLAlchemyError

from .articles import Clock, utcnow
from .config import canonical_language_tag
from .db import Database
from .domain import ApiToken, FieldError, Invalid, Role
from .store import Store

TOKEN_PREFIX = "fsv_"
USE_RESOLUTION = timedelta(minutes=1)
log = logging.getLogger(__name__)


_PERIOD = re.compile(r"([0-9]{1,5})([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str, now: datetime) -> datetime:
    """When a token given ``--expires`` stops working: ``30d``, ``12h``, ``2w`` from
    ``now``; a date ``2026-12-31`` (valid through that day, UTC); or an RFC 3339 time.
    ValueError for anything else."""
    text = text.strip()
    if period := _PERIOD.fullmatch(text):
        amount = int(period.group(1))
        if amount == 0:
            raise ValueError("the period must be longer than 0")
        return now + timedelta(**{_UNITS[period.group(2)]: amount})
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        day = date.fromisoformat(text)
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9:.]+([Zz]|[+-][0-9]{2}:[0-9]{2})", text):
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(UTC)
    raise ValueError(
        f"{text!r} is not a period (30d, 12h, 2w), a date (2026-12-31) or an RFC 3339 time"
    )


def issue_token(
    store: Store,
    name: str,
    role: Role,
    languages: Sequence[str] = (),
    clock: Clock = utcnow,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns it and its secret (which is not stored). With
    ``expires_at`` it stops working then (it must be in the future)."""
    canonical = []
    errors = []
    now = clock()
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        errors.append(FieldError("/expires_at", "must be a time in the future, with an offset"))
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
    token = store.tokens.add(
        name,
        secret,
        role,
        list(dict.fromkeys(canonical)),
        now,
        expires_at.astimezone(UTC) if expires_at is not None else None,
    )
    return token, secret


def authenticate(store: Store, secret: str, clock: Clock = utcnow) -> ApiToken | None:
    """The live token for ``secret``, or None if unknown, revoked or expired. Reads only."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = store.tokens.by_secret(secret)
    if token is None or not token.live(clock()):
        return None
    return token


def token_name(secret: str) -> str:
    """The public part of a submitted secret (what listings show as its prefix): the key
    under which failed sign-ins with one token are counted, wherever they come from."""
    return secret.strip()[:12]


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
