"""Request and response documents of the API and the JSONL import (pydantic).

The same models validate input, serialize output and produce the OpenAPI schemas,
so the published description cannot drift from what the code accepts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    ValidationError,
)

from .domain import FieldError, GlossaryTerm, Invalid, Role

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SECTION_PATH_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*){0,5}$"
LANGUAGE_TAG_PATTERN = r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$"
# C0 controls but tab/LF/CR, DEL, lone surrogates (JSON's "\ud800"), U+FFFE/U+FFFF: never
# text, and PostgreSQL refuses NUL, the database drivers refuse surrogates.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
CONTROL_MESSAGE = "must not contain control characters (only tab, newline and carriage return)"
# Every stored time stays a time one day either way (local times of any offset, feeds'
# date arithmetic): RFC 3339 allows years 0000-9999, Python's datetime 1-9999.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)


def _refuse_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(CONTROL_MESSAGE)
    return value


# In plain text also C1 controls and bidirectional overrides and isolates: invisible, and
# they reorder what readers see around them (a title that reads backwards).
_NOT_PLAIN = re.compile("[\x80-\x9f\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef]")
NOT_PLAIN_MESSAGE = "must not contain C1 controls or bidirectional overrides"


def _no_control_characters(value: str) -> str:
    value = _refuse_control_characters(value).replace("\r\n", "\n").replace("\r", "\n")
    if _NOT_PLAIN.search(value):
        raise ValueError(NOT_PLAIN_MESSAGE)
    return value.strip()


# Any input string that is not plain text (markup, URLs, translations): as given, but
# without control characters.
NoControl = AfterValidator(_refuse_control_characters)


# ASCII characters an IRI (RFC 3987) never holds unencoded: feeds would carry an invalid link.
_NOT_IN_IRI = frozenset('"<>\\^`{|}')


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError("must be an absolute http or https URL")
    if not _NOT_IN_IRI.isdisjoint(value):
        raise ValueError('must be a valid URL: percent-encode " < > \\ ^ ` { | }')
    return value


def parse_rfc3339(value: Any) -> datetime:
    """RFC 3339 date-time with an explicit offset; numbers and naive times are refused."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(
                "must be an RFC 3339 date-time, e.g. 2026-02-19T09:30:00+08:00"
            ) from exc
    else:
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-02-19T09:30:00+08:00")
    if parsed.tzinfo is None:
        raise ValueError("must include a UTC offset (Z or +08:00)")
    try:
        in_range = EARLIEST <= parsed <= LATEST  # compared in UTC, which may overflow
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValueError("must be between 0001-01-02T00:00:00Z and 9999-12-30T23:59:59Z")
    return parsed


def _text(min_length: int, max_length: int) -> StringConstraints:
    """The bounds of a plain-text type; trimmed first, so a padded value still fits."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


# Plain-text types: trimmed, bounded, no control characters. Each is a literal Annotated[...],
# which a type checker reads as a type alias (a function returning one would not be).
PlainText = AfterValidator(_no_control_characters)


HttpUrl = Annotated[
    str,
    Field(max_length=2000, json_schema_extra={"format": "uri"}),
    NoControl,
    AfterValidator(_http_url),
]
Timestamp = Annotated[datetime, BeforeValidator(parse_rfc3339)]
Slug = Annotated[str, Field(min_length=1, max_length=200, pattern=SLUG_PATTERN)]
SectionPath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=512,
        pattern=SECTION_PATH_PATTERN,
        examples=["news/media-views-of-huangpu"],
    ),
]
LanguageTag = Annotated[str, Field(pattern=LANGUAGE_TAG_PATTERN, max_length=35)]
Tag = Annotated[str, _text(1, 50), PlainText]
Title = Annotated[str, _text(1, 500), PlainText]
Summary = Annotated[str, _text(0, 2000), PlainText]
ShortText = Annotated[str, _text(0, 200), PlainText]
Name = Annotated[str, _text(1, 200), PlainText]
BodyHtml = Annotated[str, Field(min_length=1, max_length=500_000), NoControl]


class Strict(BaseModel):
    """Base of request bodies: unknown fields are rejected and strings stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ArticleIn(Strict):
    """A whole article: POST creates (or updates by external_id), PUT replaces."""

    section: SectionPath
    title: Title
    body_html: BodyHtml
    summary: Summary | None = None
    author: ShortText | None = None
    published_at: Timestamp | None = None
    slug: Slug | None = None
    external_id: Name | None = None
    source_name: ShortText | None = None
    source_url: HttpUrl | None = None
    image_url: HttpUrl | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)


def _not_null_schema(schema: dict[str, Any]) -> None:
    """The JSON schema of a field that may be left out but not set to null."""
    branches = [branch for branch in schema.pop("anyOf", []) if branch.get("type") != "null"]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches
    schema.pop("default", None)


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("cannot be null; leave the field out to keep it")
    return value


# Both on a field ``X | None = None`` that may be left out but not set to null.
NotNull = AfterValidator(_not_null)
NullNotShown = Field(json_schema_extra=_not_null_schema)


class ArticlePatch(Strict):
    """Some fields of an article; leave a field out to keep it. An optional field set to
    null is cleared; section, title, body_html, published_at and tags cannot be null."""

    section: Annotated[SectionPath | None, NotNull, NullNotShown] = None
    title: Annotated[Title | None, NotNull, NullNotShown] = None
    body_html: Annotated[BodyHtml | None, NotNull, NullNotShown] = None
    summary: Summary | None = None
    author: ShortText | None = None
    published_at: Annotated[Timestamp | None, NotNull, NullNotShown] = None
    slug: Slug | None = None
    source_name: ShortText | None = None
    source_url: HttpUrl | None = None
    image_url: HttpUrl | None = None
    tags: Annotated[list[Tag] | None, Field(max_length=20), NotNull, NullNotShown] = None


class SectionIn(Strict):
    """A new section."""

    path: SectionPath
    names: Annotated[
        dict[LanguageTag, Name],
        Field(description="Display names by language tag; 'en' is required."),
    ]


class SectionPatch(Strict):
    """Rename (``names``, merged into the existing ones) and/or move (``path``)."""

    path: SectionPath | None = None
    names: dict[LanguageTag, Name] | None = None


class TokenIn(Strict):
    """A new API token; its secret is shown once, in the response."""

    name: Name
    role: Role
    languages: Annotated[list[LanguageTag], Field(max_length=50)] = Field(default_factory=list)
    expires_at: Timestamp | None = Field(
        None, description="When the token stops working (RFC 3339, in the future); never if absent"
    )


# -- responses ---------------------------------------------------------------


class VariantSummary(BaseModel):
    """The state of an article's translation into one language."""

    lang: str
    origin: str
    status: str
    source_revision: int
    updated_at: datetime


class ArticleOut(BaseModel):
    """An article with the state of each of its translations."""

    id: int = Field(description="The article's number: its URLs and API paths use it")
    external_id: str = Field(
        description="The publishing system's own id, or a urn:uuid the service made when none "
        "was given: POST with it again updates this article"
    )
    section: str = Field(description="The section's path, e.g. news/world")
    slug: str = Field(description="The last part of the article's page URLs")
    title: str = Field(description="Plain text: markup was removed when the article was saved")
    summary: str | None = Field(
        description="Plain text, like the title; feeds show it as the entry summary"
    )
    body_html: str = Field(
        description="The HTML as stored: sanitized (nh3) when the article was saved"
    )
    author: str | None = Field(description="The byline, plain text")
    published_at: datetime = Field(description="When the article was first published")
    source_name: str | None = Field(description="Where the news came from, e.g. an agency")
    source_url: str | None = Field(description="The original's address")
    image_url: str | None = Field(description="A lead image: feeds carry it as an enclosure")
    tags: list[str] = Field(description="Feed categories, in the order given")
    revision: int = Field(
        description="Grows by one with every stored change; the ETag for If-Match is made "
        "from it, and translations record the revision they were made from"
    )
    created_at: datetime = Field(description="When the service first stored the article")
    updated_at: datetime = Field(description="When the service last stored a change")
    deleted_at: datetime | None = Field(
        description="When the article was deleted; its pages and feed entries are gone"
    )
    translations: list[VariantSummary] = Field(
        description="One summary per target language the article has text in"
    )


class ArticleList(BaseModel):
    """One page of articles."""

    items: list[ArticleOut]
    page: int
    per_page: int
    total: int
    pages: int


class SectionOut(BaseModel):
    """A section with its display names."""

    path: str
    parent: str | None
    names: dict[str, str]
    created_at: datetime
    updated_at: datetime


class SectionList(BaseModel):
    """Every section."""

    items: list[SectionOut]


class TokenOut(BaseModel):
    """An API token, without its secret."""

    id: int
    name: str
    role: Role
    languages: list[str]
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None = None


class TokenCreated(TokenOut):
    """A token just created, with its secret."""

    token: str = Field(description="The secret. It is shown only in this response.")


class TokenList(BaseModel):
    """Every API token."""

    items: list[TokenOut]


class GlossaryIn(Strict):
    """A glossary term for one language pair."""

    source_term: Name
    target_term: ShortText | None = Field(None, description="Required unless do_not_translate")
    do_not_translate: bool = False


class GlossaryOut(RootModel[GlossaryTerm]):
    """A glossary term, as stored: the API shows the domain record itself."""


class GlossaryList(BaseModel):
    """The glossary terms of one language pair."""

    items: list[GlossaryOut]


class SegmentOut(BaseModel):
    """One translated segment (a sentence or heading) of an article."""

    key: str
    position: int
    source: str
    target: str | None
    origin: str | None = Field(description="model, memory, glossary, human or converted")
    status: str = Field(description="pending, translated or approved")
    score: float | None = Field(description="the model's confidence, 0..1")
    engine: str | None
    placeholders: dict[str, str]
    updated_at: datetime
    words: int = Field(description="English words of the source")
    previous_source: str | None = Field(
        description="the English a person translated before the source changed; while set, "
        "the segment needs review against the new sentence"
    )
    previous_target: str | None = Field(description="that person's translation")


class SegmentPatch(Strict):
    """A translator's change to one segment: new text, a status, back to the model, or a
    QA warning dismissed with a reason."""

    target: Annotated[str, Field(min_length=1, max_length=20_000), NoControl] | None = None
    status: Literal["approved", "translated"] | None = None
    reject: bool = False
    dismiss: Annotated[str, Field(max_length=40), NoControl] | None = Field(
        default=None, description="a QA warning code of the current text to set aside"
    )
    reason: Annotated[str, Field(max_length=500), NoControl] | None = Field(
        default=None, description="why the dismissed warning does not apply (required with it)"
    )


class SegmentIssue(BaseModel):
    """A QA finding on a segment's current translation."""

    code: str
    severity: str
    message: str
    dismissed: bool = Field(default=False, description="set aside by a translator, with a reason")


class SegmentReview(SegmentOut):
    """A segment with its QA findings and the ETag a change must send as If-Match."""

    etag: str
    issues: list[SegmentIssue]


class SegmentList(BaseModel):
    """The segments of one translation, in text order."""

    items: list[SegmentReview]


class ImportRejection(BaseModel):
    """An entry of an imported file that was not applied, and why."""

    location: str
    reason: str


class ImportItemOut(BaseModel):
    """What became of one entry of an imported PO/XLIFF file."""

    code: Literal["applied", "unchanged", "conflict", "source_changed", "unknown", "qa"]
    location: str = Field(description='"line 42" (PO) or "unit title in file article-12" (XLIFF)')
    line: int | None = Field(description="PO: the line of the entry")
    article_id: int | None
    article_title: str | None
    key: str | None = Field(description="the segment key, e.g. body.0.1")
    source: str = Field(description="the English source of the segment")
    reason: str | None = Field(description="why it was not applied (English)")
    params: dict[str, Any] = Field(
        description="details by code: conflict {why: approved|newer|unversioned, revision, "
        "version, current, current_status, file}; source_changed {file_source}; "
        "unknown {why: no_id|not_found}; qa {issues: [{code, params}]}; applied {status}"
    )


class ImportResult(BaseModel):
    """What an import of a PO/XLIFF file did."""

    applied: list[str] = Field(description="locations of the entries applied")
    unchanged: list[str]
    rejected: list[ImportRejection] = Field(
        description="entries not applied (conflicts included), with an English reason"
    )
    conflicts: int = Field(
        description="entries not applied because the segment is approved or changed since "
        "the export; import again with ?overwrite=true to let the file win"
    )
    overwrite: bool
    items: list[ImportItemOut] = Field(description="every entry of the file, in file order")


class JobOut(BaseModel):
    """The translation job of an article revision and language."""

    id: int
    revision: int
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class TranslationOut(BaseModel):
    """An article's translation into one language, with its segments and job."""

    article_id: int
    lang: str
    policy: str
    published: bool
    status: str = Field(description="machine_translated, reviewed, or none yet")
    origin: str | None
    engine: str | None
    source_revision: int | None
    article_revision: int
    updated_at: datetime | None
    title: str | None
    summary: str | None
    body_html: str | None
    job: JobOut | None
    counts: dict[str, int]
    segments: list[SegmentOut]


class ProblemFieldError(BaseModel):
    """One invalid field or query parameter of a request."""

    pointer: str | None = Field(None, description="JSON Pointer (RFC 6901) into the body")
    parameter: str | None = Field(None, description="The query parameter at fault")
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="A URI that names the kind of problem")
    title: str = Field(description="A short summary of the kind of problem, the same each time")
    status: int = Field(description="The HTTP status code of this response")
    detail: str | None = Field(None, description="What went wrong in this request")
    instance: str | None = Field(None, description="The path of the request")
    request_id: str | None = Field(
        None, description="This request's id, as in the X-Request-ID header and the logs"
    )
    errors: list[ProblemFieldError] | None = None


ModelT = TypeVar("ModelT", bound=BaseModel)


def field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    """pydantic's errors as JSON pointers with short human messages."""
    errors = []
    for error in exc.errors(include_url=False):
        pointer = prefix + "".join(f"/{part}" for part in error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing":
            message = "is required"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        errors.append(FieldError(pointer or "/", message))
    return errors


def parse_document(model: type[ModelT], data: object) -> ModelT:
    """Validate a decoded JSON document; raise Invalid with one message per field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from exc
