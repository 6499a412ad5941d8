"""Storage: one repository per aggregate over one session (miniflux's internal/storage, one
file per entity). Every write that rests on a read carries its condition in SQL: a revision,
a segment version, a lease owner, or an ``ON CONFLICT`` clause."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .articles import ArticleFilter, Articles
from .feeds import EPOCH, Feeds
from .glossary import Glossary
from .jobs import Jobs, LeaseLost
from .memory import Memory
from .scopes import Scopes
from .sections import Sections
from .tokens import Tokens, token_digest
from .variants import QueueFilter, Segments, Variants
from .websub import WebSub

__all__ = ["EPOCH", "ArticleFilter", "LeaseLost", "QueueFilter", "Store", "token_digest"]


class Store:
    """The repositories of one unit of work; they share its session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sections = Sections(self)
        self.articles = Articles(self)
        self.variants = Variants(self)
        self.segments = Segments(self)
        self.memory = Memory(self)
        self.glossary = Glossary(self)
        self.jobs = Jobs(self)
        self.tokens = Tokens(self)
        self.feeds = Feeds(self)
        self.scopes = Scopes(self)
        self.websub = WebSub(self)
