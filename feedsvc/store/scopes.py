"""Every feed scope's version at once: what a publishing sweep compares its last run with.
(One scope at a time is ``Feeds.scope``, the request path's read.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..db.tables import FeedScopeRow
from .base import Repository


@dataclass(frozen=True)
class ScopeVersion:
    """A feed scope's version and when it changed: the ETag and Last-Modified of its feeds."""

    version: int
    changed_at: datetime


class Scopes(Repository):
    """Feed scope versions, read by the render caches and the publisher to spot stale output."""

    def versions(self) -> dict[str, ScopeVersion]:
        """Section path ('' = the whole site) → its version; a path never touched is absent
        (version 0). Paths of moved or deleted sections stay: their files must go."""
        found = self.session.execute(
            select(FeedScopeRow.path, FeedScopeRow.version, FeedScopeRow.changed_at)
        )
        return {path: ScopeVersion(version, changed_at) for path, version, changed_at in found}
