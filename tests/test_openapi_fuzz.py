"""schemathesis against /api/v1/openapi.json: no 5xx, every response as documented.

The operations are driven through schemathesis's Python API with hypothesis, valid and
invalid inputs alike, against the real app and database of the ``app`` fixture, with an
admin's, an editor's and a translator's token (fewer examples for the two roles most
operations refuse or that the admin's run already covers, to keep CI's time).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from feedsvc.jobs import jobs
from tests.conftest import Api, article_doc

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = {"admin": 40, "editor": 10, "translator": 10}
# Path parameters that name stored rows: drawn instead of the generated value now and
# then, so that the translation, segment and exchange operations get past their 404s.
STORED: dict[str, list[int | str]] = {
    "article_id": [1, 2, 3],
    "lang_tag": ["zh-Hans", "fr"],
    "key": ["title", "summary", "body.0.0"],
}


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
    with app.app_context():
        jobs().worker.run_pending()  # their segments (pending: the tests have no model)
    exchange_files = {  # real files for POST /exchange/{lang_tag} now and then
        media: admin.get(f"/exchange/zh-Hans/export.{fmt}").data
        for media, fmt in (("text/x-po", "po"), ("application/xliff+xml", "xlf"))
    }
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    auth = {"Authorization": f"Bearer {tokens[role]}"}
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    # Every operation the document describes (and it describes every route: test_openapi.py)
    # but GET /openapi.json, which schemathesis leaves out as the document it reads.
    described = [
        (item, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in ("get", "put", "post", "patch", "delete") and path != "/openapi.json"
    ]
    assert len(operations) == len(described)
    # Negative mode cannot make invalid input for an operation that takes none.
    without_input = sum(
        not (item.get("parameters") or op.get("parameters") or "requestBody" in op)
        for item, op in described
    )

    exercised = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        @settings(
            max_examples=EXAMPLES[role],
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case[Any], data: st.DataObject) -> None:
            for name, values in STORED.items():
                if name in (case.path_parameters or {}):
                    stored = data.draw(st.sampled_from([None, *values]))
                    if stored is not None:
                        case.path_parameters[name] = stored
            if case.operation.path == "/exchange/{lang_tag}" and data.draw(st.booleans()):
                case.media_type = data.draw(st.sampled_from(sorted(exchange_files)))
                case.body = exchange_files[case.media_type]
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
    if mode is GenerationMode.POSITIVE:
        assert len(exercised) == len(operations), exercised
    else:
        assert len(exercised) >= len(operations) - without_input, exercised
