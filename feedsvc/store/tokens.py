"""API tokens; only a SHA-256 of the secret is stored."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from ..db.tables import ApiTokenRow
from ..domain import ApiToken, NotFound, Role
from . import rows
from .base import Repository


def token_digest(secret: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Tokens(Repository):
    """API tokens, stored as digests so a database leak exposes no usable secret."""

    def add(
        self,
        name: str,
        secret: str,
        role: Role,
        languages: Sequence[str],
        now: datetime,
        expires_at: datetime | None = None,
    ) -> ApiToken:
        """Stores a new token's digest and display prefix; the secret itself is never kept."""
        row = ApiTokenRow(
            name=name,
            token_hash=token_digest(secret),
            prefix=secret[:12],
            role=role.value,
            languages=list(languages),
            created_at=now,
            expires_at=expires_at,
            session_generation=0,
        )
        self.session.add(row)
        self.session.flush()
        return rows.token(row)

    def by_secret(self, secret: str) -> ApiToken | None:
        """The token of a bearer secret, found by its digest: how API requests authenticate."""
        row = self.session.scalar(
            select(ApiTokenRow).where(ApiTokenRow.token_hash == token_digest(secret))
        )
        return rows.token(row) if row else None

    def record_use(self, token_id: int, now: datetime, every: timedelta) -> None:
        """Note that a token was used, at most once per ``every`` (a no-op otherwise)."""
        self.session.execute(
            update(ApiTokenRow)
            .where(
                ApiTokenRow.id == token_id,
                or_(ApiTokenRow.last_used_at.is_(None), ApiTokenRow.last_used_at < now - every),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )

    def all(self) -> list[ApiToken]:
        """Every token in creation order, for the admin listing (secrets are not stored to list)."""
        found = self.session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))
        return [rows.token(row) for row in found]

    def get(self, token_id: int) -> ApiToken | None:
        """One token, or None for an unknown or unstorable id."""
        row = self.session.get(ApiTokenRow, token_id) if rows.storable_id(token_id) else None
        return rows.token(row) if row else None

    def revoke(self, token_id: int, now: datetime) -> ApiToken:
        """Revokes a token (idempotent: the first revocation time stays), NotFound if unknown."""
        row = self.session.get(ApiTokenRow, token_id) if rows.storable_id(token_id) else None
        if row is None:
            raise NotFound(f"no token with id {token_id}")
        if row.revoked_at is None:
            row.revoked_at = now
        self.session.flush()
        return rows.token(row)

    def end_sessions(self, token_id: int) -> None:
        """Raise the token's session generation: every review session signed in with it
        before now is refused from the next request on."""
        self.session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == token_id)
            .values(session_generation=ApiTokenRow.session_generation + 1)
            .execution_options(synchronize_session=False)
        )
