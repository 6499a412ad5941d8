"""schemathesis against /api/v1/openapi.json: no 5xx, every response as documented.

The operations are driven through schemathesis's Python API with hypothesis, valid and
invalid inputs alike, against the real app and database of the ``app`` fixture, with an
admin's, an editor's and a translator's token (fewer examples for the two roles most
operations refuse or that the admin's run already covers, to keep CI's time).
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Api, article_doc

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = {"admin": 40, "editor": 10, "translator": 10}


@pytest.mark.slow
@pytest.mark.parametrize("role", list(EXAMPLES))
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_description(
    app: Flask,
    admin: Api,
    tokens: dict[str, str],
    sections: list[str],
    mode: GenerationMode,
    role: str,
) -> None:
    for n in range(3):  # so that ids 1..3 exist and PUT/PATCH/DELETE reach real rows
        admin.post("/articles", article_doc(external_id=f"fuzz-{n}"))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    auth = {"Authorization": f"Bearer {tokens[role]}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 18

    exercised = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[role],
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            headers = dict(auth)
            if case.method in ("PUT", "PATCH") and "If-Match" not in (case.headers or {}):
                headers["If-Match"] = "*"
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            exercise()
        except Unsatisfiable:
            # No invalid input exists for an operation without parameters or body.
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        exercised.append(operation.label)
    assert len(exercised) >= (18 if mode is GenerationMode.POSITIVE else 14), exercised


def test_document_is_openapi_31(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    paths = set(document["paths"])
    assert {
        "/articles",
        "/articles/{article_id}",
        "/sections",
        "/sections/{section_path}",
        "/tokens",
        "/tokens/{token_id}",
        "/openapi.json",
        "/glossary/{lang_tag}",
        "/glossary/{lang_tag}/{term_id}",
        "/articles/{article_id}/translations/{lang_tag}",
    } == paths
    schemas = document["components"]["schemas"]
    assert set(schemas["ArticleIn"]["required"]) == {"section", "title", "body_html"}
    assert schemas["ArticleIn"]["additionalProperties"] is False
