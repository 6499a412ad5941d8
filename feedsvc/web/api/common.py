"""What every resource module of the API shares: the blueprint and its URL vocabulary, the
bearer-token check, request decoding and JSON responses."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, g, request
from pydantic import BaseModel

from ...config import SOURCE_LANGUAGE, Language
from ...db import after_request_session, database, request_session
from ...domain import ApiToken, FieldError, Role
from ...review import Reviewer
from ...schemas import SECTION_PATH_PATTERN, parse_document
from ...tokens import authenticate, record_use
from ..limits import limits
from ..openapi import Parameter, Reply, restricted
from ..params import ascii_int
from ..problems import ApiError
from ..scope import current_settings, current_store

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The URL vocabulary: every variable of an API rule, and how the document describes it.
ARTICLE_ID = "<int(signed=True):article_id>"
TOKEN_ID = "<int(signed=True):token_id>"
TERM_ID = "<int(signed=True):term_id>"
ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": 2147483647}
PATH_PARAMETERS = {
    parameter.name: parameter
    for parameter in (
        Parameter("article_id", "path", ID_SCHEMA, required=True),
        Parameter("token_id", "path", ID_SCHEMA, required=True),
        Parameter("term_id", "path", ID_SCHEMA, required=True),
        Parameter(
            "section_path",
            "path",
            {"type": "string", "pattern": SECTION_PATH_PATTERN},
            required=True,
        ),
        Parameter(
            "lang_tag",
            "path",
            {"type": "string"},
            "A target language tag, e.g. zh-Hans",
            required=True,
        ),
        Parameter("key", "path", {"type": "string"}, "A segment key, e.g. body.0.1", required=True),
        Parameter(
            "fmt",
            "path",
            {"type": "string", "enum": ["po", "xlf"]},
            "po: gettext PO; xlf: XLIFF 2.0",
            required=True,
        ),
    )
}
IF_MATCH = Parameter(
    "If-Match", "header", {"type": "string"}, "The ETag of the last GET", required=True
)
ETAG = {"ETag": "Strong validator of this revision"}
DELETED = Reply(204, "Deleted")

EDITORS = (Role.ADMIN, Role.EDITOR)
WRITES = ("POST", "PUT", "PATCH", "DELETE")

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)


def too_many(wait: int, detail: str) -> ApiError:
    """429 with Retry-After, so a well-behaved client knows when to come back."""
    return ApiError(429, f"{detail} Try again in {wait} s.", headers={"Retry-After": str(wait)})


def authenticated(*roles: Role) -> ApiToken:
    """The request's bearer token: 401 without a valid (live, unexpired) one, 403 with a
    role not in ``roles``, 429 after too many failures from this client IP or too many
    writes with this token (limits.py)."""
    limiter = limits()
    if (wait := limiter.auth_blocked()) is not None:
        raise too_many(wait, "Too many failed authentications from this address.")
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    token = authenticate(current_store(), secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        limiter.auth_failed()
        raise ApiError(
            401,
            "Send a valid API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="feedsvc"'},
        )
    if token.role not in roles:
        raise ApiError(403, f"A {token.role} token may not do this.")
    if request.method in WRITES and (wait := limiter.write(token.id)) is not None:
        raise too_many(wait, "Too many writes with this token.")
    after_request_session(partial(record_use, database(), token))
    g.token = token
    return token


def requires(*roles: Role) -> Callable[[F], F]:
    """Bearer-token check before the view (see ``authenticated``); the OpenAPI document
    reads the roles to describe the operation as needing a token."""

    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            authenticated(*roles)
            return view(*args, **kwargs)

        return cast(F, restricted(checked, [role.value for role in roles]))

    return decorate


def body(model: type[M]) -> M:
    """The request's JSON body as ``model``: 415 for another media type, 400 for broken
    JSON, 422 listing every invalid field."""
    if not request.is_json:
        raise ApiError(415, "Send the body as application/json.")
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "The body is not valid JSON.")
    return parse_document(model, data)


def respond(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The document as JSON, serialized by the same model the OpenAPI schema comes from."""
    response = Response(model.model_dump_json(), status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def out(model: type[M], source: Any, **overrides: Any) -> M:
    """A response document from a domain object with the same field names."""
    fields = {
        name: getattr(source, name)
        for name in model.model_fields
        if name not in overrides and hasattr(source, name)
    }
    return model.model_validate(fields | overrides)


def if_match() -> Callable[[str], bool]:
    """The If-Match check PUT and PATCH need; 428 when the header is missing."""
    if not request.headers.get("If-Match"):
        raise ApiError(428, "Send If-Match with the ETag from your last GET of this article.")
    return request.if_match.contains


def int_parameter(name: str, default: int, low: int, high: int, errors: list[FieldError]) -> int:
    """A bounded integer query parameter; a bad value is added to ``errors``."""
    raw = request.args.get(name)
    if raw is None:
        return default
    number = ascii_int(raw, max_digits=9)
    if number is None or not low <= number <= high:
        errors.append(FieldError(None, f"must be an integer from {low} to {high}", name))
        return default
    return number


def flag_parameter(name: str, errors: list[FieldError]) -> bool:
    """A query parameter ``true`` or ``false`` (the default); another value is added to
    ``errors``."""
    raw = request.args.get(name, "false")
    if raw not in ("true", "false"):
        errors.append(FieldError(None, "must be true or false", name))
    return raw == "true"


def commit() -> None:
    """Commit the request's session before answering: a 2xx means the write is stored."""
    request_session().commit()


def target_language(tag: str) -> Language:
    """The target language ``tag`` names, if the request's token may work on it: 404 for
    English or an unknown tag, 403 for a translator token of other languages."""
    language = current_settings().language(tag)
    if language is None or language.tag == SOURCE_LANGUAGE:
        raise ApiError(404, f"{tag!r} is not a target language of this service.")
    token: ApiToken = g.token
    if token.role is Role.TRANSLATOR and language.tag not in token.languages:
        raise ApiError(403, f"This translator token does not cover {language.tag}.")
    return language


def reviewer(language: Language) -> Reviewer:
    """The review service acting for the request's token, named in the segments' history."""
    token: ApiToken = g.token
    return Reviewer(current_store(), language, f"token:{token.id} {token.name}")
