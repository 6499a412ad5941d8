"""What every repository shares: the unit of work's session and its sibling repositories."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from . import Store


class Repository:
    """One aggregate's queries over the unit of work's session (miniflux's storage files)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.session: Session = store.session

    def changed(self, statement: Executable) -> int:
        """The rows an UPDATE or DELETE matched: how a write that carries its condition in SQL
        learns whether the condition held."""
        # Session.execute is typed to return a Result; for DML it is a CursorResult.
        result = cast("CursorResult[*tuple[Any, ...]]", self.session.execute(statement))
        return result.rowcount
