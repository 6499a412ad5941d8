"""What every repository shares: the unit of work's session and its sibling repositories."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from . import Store


class Repository:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.session: Session = store.session
