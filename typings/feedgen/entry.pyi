from datetime import datetime
from typing import Any

class FeedEntry:
    def id(self, id: str | None = None) -> str | None: ...
    def title(self, title: str | None = None) -> str | None: ...
    def updated(self, updated: datetime | str | None = None) -> datetime | None: ...
    def published(self, published: datetime | str | None = None) -> datetime | None: ...
    def author(
        self,
        author: dict[str, str] | list[dict[str, str]] | None = None,
        replace: bool = False,
        **kwargs: str | None,
    ) -> list[dict[str, str]]: ...
    def content(
        self, content: str | None = None, src: str | None = None, type: str | None = None
    ) -> dict[str, str] | None: ...
    def link(
        self,
        link: dict[str, str] | list[dict[str, str]] | None = None,
        replace: bool = False,
        **kwargs: str | None,
    ) -> list[dict[str, str]]: ...
    def summary(
        self, summary: str | None = None, type: str | None = None
    ) -> dict[str, str] | None: ...
    def category(
        self,
        category: dict[str, str] | list[dict[str, str]] | None = None,
        replace: bool = False,
        **kwargs: str | None,
    ) -> list[dict[str, str]]: ...
    # register_extension() sets each extension as an attribute named after its namespace.
    def __getattr__(self, namespace: str) -> Any: ...
