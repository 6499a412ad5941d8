"""The OpenAPI 3.1 description of /api/v1, generated from the API blueprint's routes.

Each view declares what it takes and answers with ``@operation(...)``; the document walks
``app.url_map``, reads those declarations and derives the schemas from the pydantic models
the handlers validate and serialize with (schemas.py). A hand-kept path table drifted from
the routes; here a route without a declaration is missing from the document, which
tests/test_openapi.py compares with the URL map.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from ..schemas import Problem

JSON = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])

REF = "#/components/schemas/{model}"
OPERATION_ATTRIBUTE = "openapi_operation"
ROLES_ATTRIBUTE = "openapi_roles"
DOCUMENTED_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")
# <converter(arguments):name> or <name> in a Werkzeug rule
_RULE_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")

_ERRORS = {
    400: "Malformed JSON or query parameters",
    401: "Missing or unknown token",
    403: "The token's role may not do this",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflicts with a stored resource (slug, path, external_id)",
    410: "Deleted; a tombstone remains",
    412: "If-Match does not match the current ETag",
    413: "Request body too large",
    415: "Body is not application/json",
    422: "Invalid fields; `errors` lists each",
    428: "If-Match is required",
    429: "Too many failed authentications from this address, or writes with this token; "
    "Retry-After says when to try again",
}
AUTH_ERRORS = (401, 403, 429)  # every operation that needs a token may answer these
BODY_ERRORS = (400, 413, 415, 422)  # every operation with a request body may answer these


def _ref(model: type[BaseModel]) -> JSON:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel]) -> JSON:
    return {"application/json": {"schema": _ref(model)}}


def _errors(codes: Iterable[int]) -> JSON:
    return {
        str(code): {
            "description": _ERRORS[code],
            "content": {"application/problem+json": {"schema": _ref(Problem)}},
        }
        for code in codes
    }


@dataclass(frozen=True)
class Reply:
    """A success response: a JSON document of ``model``, or ``content`` by media type."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    content: Mapping[str, JSON] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # name: description

    def document(self) -> JSON:
        """The response object of the document: its schema reference, content and headers."""
        reply: JSON = {"description": self.description}
        if self.model is not None:
            reply["content"] = _json(self.model)
        elif self.content is not None:
            reply["content"] = dict(self.content)
        if self.headers:
            reply["headers"] = {
                name: {"description": description, "schema": {"type": "string"}}
                for name, description in self.headers.items()
            }
        return reply


@dataclass(frozen=True)
class Parameter:
    """A path, query or header parameter as OpenAPI describes it."""

    name: str
    location: Literal["path", "query", "header"]
    schema: JSON
    description: str | None = None
    required: bool = False

    def document(self) -> JSON:
        """The parameter object of the document, its description included only when given."""
        parameter: JSON = {
            "name": self.name,
            "in": self.location,
            "required": self.required,
            "schema": self.schema,
        }
        if self.description is not None:
            parameter["description"] = self.description
        return parameter


def query(name: str, schema: JSON, description: str) -> Parameter:
    """An optional query parameter."""
    return Parameter(name, "query", schema, description)


@dataclass(frozen=True)
class Operation:
    """What one view takes and answers, as ``@operation`` and its docstring declare it."""

    summary: str
    replies: tuple[Reply, ...]
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None  # a JSON request body
    content: Mapping[str, JSON] | None = None  # a request body of other media types
    parameters: tuple[Parameter, ...] = ()
    description: str | None = None

    def document(self, roles: tuple[str, ...] | None) -> JSON:
        """The operation object; ``roles`` None for a view anyone may call."""
        responses = {str(reply.status): reply.document() for reply in self.replies}
        responses |= _errors(self.errors)
        operation: JSON = {"summary": self.summary, "responses": responses}
        if self.description:
            operation["description"] = self.description
        if roles is None:
            operation["security"] = []
        else:
            responses |= _errors(AUTH_ERRORS)
        content = _json(self.body) if self.body is not None else self.content
        if content:
            operation["requestBody"] = {"required": True, "content": dict(content)}
            responses |= _errors(BODY_ERRORS)
        if self.parameters:
            operation["parameters"] = [parameter.document() for parameter in self.parameters]
        return operation

    def models(self) -> Iterable[tuple[type[BaseModel], JsonSchemaMode]]:
        """The models the operation uses, each with the schema mode (input or output) it needs."""
        if self.body is not None:
            yield self.body, "validation"
        for reply in self.replies:
            if reply.model is not None:
                yield reply.model, "serialization"


def operation(
    *replies: Reply,
    errors: Iterable[int] = (),
    body: type[BaseModel] | None = None,
    content: Mapping[str, JSON] | None = None,
    parameters: Iterable[Parameter] = (),
) -> Callable[[F], F]:
    """Declare a view's operation for the document: its success ``replies``, the error
    statuses it may answer besides those its token check and request body bring, its body
    model (or ``content`` by media type) and its query and header ``parameters``. The
    view's docstring is the summary (its first paragraph) and description (the rest), so
    the code and the document say the same."""

    def declare(view: F) -> F:
        summary, _, description = inspect.cleandoc(view.__doc__ or "").partition("\n\n")
        if not summary:
            raise TypeError(f"{view.__qualname__} needs a docstring: its OpenAPI summary")
        declared = Operation(
            " ".join(summary.split()).removesuffix("."),
            replies,
            tuple(errors),
            body,
            content,
            tuple(parameters),
            " ".join(description.split()) or None,
        )
        setattr(view, OPERATION_ATTRIBUTE, declared)
        return view

    return declare


def restricted(view: F, roles: Iterable[str]) -> F:
    """Mark ``view`` as needing a token of one of ``roles`` (the API's ``requires``)."""
    setattr(view, ROLES_ATTRIBUTE, tuple(roles))
    return view


def openapi_path(rule: str, prefix: str) -> str:
    """A rule as the document names its path: ``/api/v1/articles/<int:article_id>`` is
    ``/articles/{article_id}``."""
    return _RULE_VARIABLE.sub(r"{\1}", rule.removeprefix(prefix))


def build_document(
    app: Flask, blueprint: str, prefix: str, path_parameters: Mapping[str, Parameter]
) -> JSON:
    """The document of every route of ``blueprint`` whose view declared its operation.

    Path parameters come from ``path_parameters`` by the rule's variable names, the API's
    URL vocabulary: a rule with a variable not in it raises KeyError.
    """
    paths: dict[str, JSON] = {}
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(Problem, "serialization"): None}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(blueprint + "."):
            continue
        view = app.view_functions[rule.endpoint]
        declared: Operation | None = getattr(view, OPERATION_ATTRIBUTE, None)
        if declared is None:
            continue  # undocumented: tests/test_openapi.py reports it
        item = paths.setdefault(openapi_path(rule.rule, prefix), {})
        variables = _RULE_VARIABLE.findall(rule.rule)
        if variables:
            item["parameters"] = [path_parameters[name].document() for name in variables]
        roles: tuple[str, ...] | None = getattr(view, ROLES_ATTRIBUTE, None)
        for method in sorted(rule.methods or ()):
            if method in DOCUMENTED_METHODS:
                item[method.lower()] = declared.document(roles)
        models |= dict.fromkeys(declared.models())
    _, definitions = models_json_schema(list(models), ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "feedsvc API",
            "version": "1.0.0",
            "description": "Editor, translator and admin API of feedsvc. Errors are "
            "RFC 9457 application/problem+json.",
        },
        "servers": [{"url": prefix}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": definitions["$defs"],
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
