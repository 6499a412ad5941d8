from datetime import datetime
from typing import Any, Literal

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension

class FeedGenerator:
    def __init__(self) -> None: ...
    def atom_str(
        self,
        pretty: bool = False,
        extensions: bool = True,
        encoding: str = "UTF-8",
        xml_declaration: bool = True,
    ) -> bytes: ...
    def rss_str(
        self,
        pretty: bool = False,
        extensions: bool = True,
        encoding: str = "UTF-8",
        xml_declaration: bool = True,
    ) -> bytes: ...
    def id(self, id: str | None = None) -> str | None: ...
    def title(self, title: str | None = None) -> str | None: ...
    def subtitle(self, subtitle: str | None = None) -> str | None: ...
    def description(self, description: str | None = None) -> str | None: ...
    def language(self, language: str | None = None) -> str | None: ...
    def updated(self, updated: datetime | str | None = None) -> datetime | None: ...
    def lastBuildDate(self, lastBuildDate: datetime | str | None = None) -> datetime | None: ...
    def author(
        self,
        author: dict[str, str] | list[dict[str, str]] | None = None,
        replace: bool = False,
        **kwargs: str | None,
    ) -> list[dict[str, str]]: ...
    def link(
        self,
        link: dict[str, str] | list[dict[str, str]] | None = None,
        replace: bool = False,
        **kwargs: str | None,
    ) -> list[dict[str, str]]: ...
    def rights(self, rights: str | None = None) -> str | None: ...
    def generator(
        self, generator: str | None = None, version: str | None = None, uri: str | None = None
    ) -> dict[str, str] | None: ...
    def icon(self, icon: str | None = None) -> str | None: ...
    def logo(self, logo: str | None = None) -> str | None: ...
    def image(
        self,
        url: str | None = None,
        title: str | None = None,
        link: str | None = None,
        width: str | None = None,
        height: str | None = None,
        description: str | None = None,
    ) -> dict[str, str] | None: ...
    def docs(self, docs: str | None = None) -> str | None: ...
    def add_entry(
        self, feedEntry: FeedEntry | None = None, order: Literal["prepend", "append"] = "prepend"
    ) -> FeedEntry: ...
    def register_extension(
        self,
        namespace: str,
        extension_class_feed: type[BaseExtension] | None = None,
        extension_class_entry: type[BaseEntryExtension] | None = None,
        atom: bool = True,
        rss: bool = True,
    ) -> None: ...
    # register_extension() sets each extension as an attribute named after its namespace.
    def __getattr__(self, namespace: str) -> Any: ...
